--- GraphQL pagination (methods of `gitlab.client`): `graphql_nodes`
-- follows a connection's `pageInfo` through the `$after` variable and
-- `graphql_nodes_all` collects it. `gl:graphql` itself (one request) is
-- in `gitlab.client.api`.
--
-- GitLab pages its GraphQL connections by cursor (doc/api/graphql/
-- getting_started.md, "Pagination"): a connection takes `first` (100 by
-- default and at most, doc/api/graphql/_index.md, "Limits") and `after`,
-- and answers `pageInfo { hasNextPage endCursor }` with `nodes { ... }`
-- or `edges { node { ... } }`.
-- @module gitlab.client.graphql

local core = require("gitlab.core")
local errors = require("gitlab.errors")
local util = require("gitlab.util")

local null, array_mt = core.null, core.array_mt

local Client = {}

local GRAPHQL = "/api/graphql"

-- A cursor in a message: cursors are no secrets, but may be long.
local function shown(c)
  c = tostring(c)
  if #c > 60 then c = c:sub(1, 57) .. "..." end
  return (c:gsub("[%c\128-\255]", "?"))
end

-- An answer without the connection, its nodes or its pageInfo: kind
-- "decode" (the answer's shape), never an empty list.
local function shape_error(resp, msg)
  return errors.new{ kind = "decode", method = "POST", path = GRAPHQL, message = msg,
    status = resp and resp.status, response = resp }
end

-- A next page that would not advance: kind "pagination", as `pages` says.
local function loop_error(resp, msg)
  return errors.new{ kind = "pagination", method = "POST", path = GRAPHQL, message = msg,
    status = resp and resp.status, response = resp }
end

-- The connection at `path` (names split on dots) in `data`, or nil, err.
local function find_connection(data, names, path, resp)
  if data == null then
    return nil, shape_error(resp, ("the answer has data = null: no connection %s to page"):format(path))
  end
  local v, where = data, "data"
  for _, name in ipairs(names) do
    if type(v) ~= "table" then break end
    if getmetatable(v) == array_mt then
      -- connections side by side (one per node of a list) are pages of
      -- no single list
      return nil, shape_error(resp, ("%s is a list: the path %s cannot go through it (page one"
        .. " connection: select it by a field that gives one, like project(fullPath:))"):format(where, path))
    end
    v, where = v[name], where .. "." .. name
    if v == nil then
      return nil, shape_error(resp, ("the answer has no %s: no connection %s to page"
        .. " (is the path right?)"):format(where, path))
    elseif v == null then
      return nil, shape_error(resp, ("the answer has %s = null: no connection %s to page")
        :format(where, path))
    end
  end
  if type(v) ~= "table" then
    return nil, shape_error(resp, ("%s is a %s, not a connection"):format(where, type(v)))
  end
  return v
end

-- A list of the answer (nodes, edges) that is an object instead: no
-- nodes to take, never an empty page.
local function not_a_list(resp, what, path)
  return shape_error(resp, ("%s of the connection %s is a JSON object, not a list"):format(what, path))
end

-- The nodes of one page of connection `conn` (`nodes`, or `edges { node }`).
local function page_nodes(conn, path, resp)
  local list = conn.nodes
  if type(list) == "table" then
    if getmetatable(list) ~= array_mt then return nil, not_a_list(resp, "nodes", path) end
    return list
  end
  local edges = conn.edges
  if type(edges) ~= "table" then
    return nil, shape_error(resp, ("the connection %s has neither nodes nor edges"
      .. " (select nodes { ... } or edges { node { ... } })"):format(path))
  end
  if getmetatable(edges) ~= array_mt then return nil, not_a_list(resp, "edges", path) end
  list = {}
  for i = 1, #edges do
    local e = edges[i]
    if type(e) ~= "table" or e.node == nil then
      return nil, shape_error(resp, ("edge %d of the connection %s has no node"
        .. " (select edges { node { ... } })"):format(i, path))
    end
    list[i] = e.node
  end
  return list
end

-- The iterator of `graphql_nodes`; fname names the caller in errors,
-- raised at the position of whoever called that public function.
local function nodes_iterator(self, fname, query, variables, path, opts)
  local function bad(msg) error(fname .. ": " .. msg, 4) end
  if type(query) ~= "string" then bad("query must be a string") end
  if variables ~= nil and type(variables) ~= "table" then bad("variables must be a table") end
  local names = {}
  if type(path) == "string" then
    for name in (path .. "."):gmatch("(.-)%.") do
      if not name:find("^[%a_][%w_]*$") then names = nil break end
      names[#names + 1] = name
    end
  end
  if not names or #names == 0 then
    bad("path must name the connection in data, like \"project.mergeRequests\"")
  end
  if opts ~= nil and type(opts) ~= "table" then bad("opts must be a table") end
  util.check_limits(opts, fname, 3)
  if not (query .. " "):find("%$after[^%w_]") then
    bad("the query must take $after (query($after: String) { ... (after: $after) ... }):"
      .. " each page starts after the last one's endCursor")
  end
  local vars = {}
  for k, v in pairs(variables or {}) do vars[k] = v end
  local max_pages = opts and opts.max_pages
  local max_items = opts and opts.max_items

  local nodes, i, pages, count, done = nil, 0, 0, 0, false
  -- cursors followed already: page n starts after seen[cursor] = n - 1
  local seen = {}
  if vars.after ~= nil then seen[vars.after] = 0 end
  -- why the page just read cannot be followed: raised once its nodes
  -- (which are good) were yielded, as `pages` does
  local broken

  local function fail(e)
    done = true
    error(e, 0)
  end

  -- Why the connection cannot be followed past page n (info its
  -- pageInfo), or nil; sets vars.after to the next page's cursor. A
  -- second value true: page n itself did not advance (it ends where a
  -- page before it started), its nodes are not to be yielded.
  local function follow(info, n, resp)
    if type(info) ~= "table" or type(info.hasNextPage) ~= "boolean" then
      return shape_error(resp, ("page %d of the connection %s has no pageInfo.hasNextPage"
        .. " (select pageInfo { hasNextPage endCursor }): the list cannot be followed")
        :format(n, path))
    end
    if not info.hasNextPage or (max_pages and n >= max_pages) then
      done = true
      return nil
    end
    local c = info.endCursor
    if type(c) ~= "string" or c == "" then
      return loop_error(resp, ("page %d of the connection %s says hasNextPage but gives no"
        .. " endCursor (select pageInfo { hasNextPage endCursor })"):format(n, path))
    elseif seen[c] then
      return loop_error(resp, ("page %d of the connection %s gives endCursor \"%s\", where page %d"
        .. " started already: the next page would not advance"):format(n, path, shown(c), seen[c] + 1)), true
    end
    seen[c] = n
    vars.after = c
  end

  local function fetch()
    if broken then fail(broken) end
    local data, resp = self:graphql(query, vars)
    if data == nil then fail(resp) end
    pages = pages + 1
    local conn, err = find_connection(data, names, path, resp)
    if not conn then fail(err) end
    local list
    list, err = page_nodes(conn, path, resp)
    if not list then fail(err) end
    local again
    broken, again = follow(conn.pageInfo, pages, resp)
    if again then fail(broken) end
    return list
  end

  return function()
    if max_items and count >= max_items then return nil end
    -- max_pages = 0, as `pages` takes it: no page at all
    if max_pages and pages >= max_pages and not nodes then done = true end
    while true do
      if nodes then
        i = i + 1
        if i <= #nodes then
          count = count + 1
          return nodes[i]
        end
      end
      if done then return nil end
      nodes, i = fetch(), 0
    end
  end
end

--- Iterates over the nodes of a GraphQL connection across its pages:
-- `for mr in gl:graphql_nodes(query, { path = "group/proj" },
-- "project.mergeRequests") do ... end`.
--
-- `path` names the connection in the answer's `data`, its fields joined by
-- dots (aliases as the query gives them). The query declares
-- `$after: String` and passes it to that connection, and selects
-- `pageInfo { hasNextPage endCursor }` with `nodes { ... }` or
-- `edges { node { ... } }`:
--
--     query($path: ID!, $after: String) {
--       project(fullPath: $path) {
--         mergeRequests(first: 100, after: $after) {
--           nodes { iid title }
--           pageInfo { hasNextPage endCursor }
--         }
--       }
--     }
--
-- Each page is one `gl:graphql` request with `variables` and `after` set
-- to the endCursor of the page before (`variables.after`, when given, is
-- where the first page starts). Inside `gitlab.async.run` each request
-- yields instead of blocking, as every request does. A failed page
-- raises the error object from the loop: GraphQL errors (kind
-- "graphql", `err.errors` GitLab's list, the messages in `err.message`)
-- and HTTP failures as `gl:graphql` gives them; an answer without the
-- connection or its nodes, `nodes` or `edges` that are no list, a path
-- through a list (kind "decode"). A page whose `pageInfo` cannot be
-- followed raises after its nodes were yielded: no `pageInfo` or
-- `hasNextPage` (kind "decode"), `hasNextPage` true without an endCursor
-- (kind "pagination"). A page that ends at a cursor already followed did
-- not advance (the connection did not take `$after`, or went back): it
-- raises kind "pagination" before its nodes, which came already. A null
-- node is yielded as `gitlab.null`.
-- @tparam string query
-- @tparam[opt] table variables
-- @tparam string path e.g. "project.mergeRequests"
-- @tparam[opt] table opts `max_pages` (pages at most; 0: none, as
--   `gl:pages`), `max_items` (nodes at most): integers >= 0
-- @return an iterator over the nodes
function Client:graphql_nodes(query, variables, path, opts)
  local it = nodes_iterator(self, "graphql_nodes", query, variables, path, opts)
  return it
end

--- Collects every node of a GraphQL connection:
-- `local mrs, err = gl:graphql_nodes_all(query, variables, "project.mergeRequests")`.
-- @tparam string query
-- @tparam[opt] table variables
-- @tparam string path
-- @tparam[opt] table opts `max_items`, `max_pages`
-- @return list or nil, err (the error `graphql_nodes` would raise)
function Client:graphql_nodes_all(query, variables, path, opts)
  local it = nodes_iterator(self, "graphql_nodes_all", query, variables, path, opts)
  return errors.collect(function() return it end)
end

return Client
