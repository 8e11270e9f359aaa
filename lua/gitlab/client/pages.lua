--- Pagination (methods of `gitlab.client`): `pages` follows Link and
-- X-Next-Page (offset) or Link (keyset) and fetches ahead in parallel
-- when the first page gives the total; `paginate` and `all` over it.
-- @module gitlab.client.pages

local core = require("gitlab.core")
local errors = require("gitlab.errors")
local async = require("gitlab.async")
local request = require("gitlab.client.request")
local finish = require("gitlab.client.response").finish
local send = require("gitlab.client.send")
local util = require("gitlab.util")
local int_string, copy = util.int_string, util.copy

local build, EMPTY, has_dot_segment = request.build, request.EMPTY, request.has_dot_segment

local Client = {}


local EXPECT_ARRAY = { expect = "array" }

local function page_error(resp, path, msg)
  return errors.new{ kind = "decode", method = "GET", path = path, message = msg,
    status = resp and resp.status, response = resp }
end

-- A next page that would not advance: a loop, never more items.
local function loop_error(resp, path, msg)
  return errors.new{ kind = "pagination", method = "GET", path = path, message = msg,
    status = resp.status, url = resp.url, response = resp }
end

local function link_page(url)
  return tonumber(url:match("[?&]page=(%d+)"))
end

------------------------------------------------------------------------
-- Keyset pagination as GitLab documents it
------------------------------------------------------------------------

-- doc/api/rest/_index.md, "Keyset-based pagination": "`order_by` and
-- `sort` are both mandatory"; its "Supported resources" table says which
-- options each list takes. `order_by`/`sort` here are what is sent when
-- the caller gives none: the resource's documented default where that
-- one is keyset-capable (doc/api/users.md, doc/api/issues.md: `id`
-- resp. `created_at`, `desc`; doc/api/projects.md: `sort` `desc`), else
-- the only one listed. `sorts`/`orders`: the only ones listed, refused
-- here before anything is sent. `only`: the list pages by keyset alone
-- (doc/api/repositories.md, "List repository tree": "This endpoint
-- changed to keyset-based pagination in GitLab 15.0. Iterating pages of
-- results with a number (`?page=2`) is unsupported."; its options are
-- "N/A": no order_by or sort).
local SEG = "[^/]+"
local DESC_ONLY = { order_by = "id", sort = "desc", sorts = { desc = true }, orders = { id = true },
                    what = "`order_by=id`, `sort=desc` only" }
local KEYSET_RULES = {
  { "^/projects/" .. SEG .. "/repository/tree$", only = true },
  { "^/groups$", order_by = "name", sort = "asc", sorts = { asc = true }, orders = { name = true },
    what = "`order_by=name`, `sort=asc` only" },
  { "^/projects/" .. SEG .. "/jobs$", DESC_ONLY },
  { "^/audit_events$", DESC_ONLY },
  { "^/groups/" .. SEG .. "/audit_events$", DESC_ONLY },
  { "^/projects/" .. SEG .. "/audit_events$", DESC_ONLY },
  { "^/projects/" .. SEG .. "/packages/" .. SEG .. "/pipelines$", DESC_ONLY },
  { "^/projects$", order_by = "id", sort = "desc", orders = { id = true }, what = "`order_by=id` only" },
  { "^/users$", order_by = "id", sort = "desc" },
  { "^/projects/" .. SEG .. "/issues$", order_by = "created_at", sort = "desc" },
  { "^/projects/" .. SEG .. "/registry/repositories/" .. SEG .. "/tags$", order_by = "name", sort = "asc" },
}

-- The rule for a list path (relative to the API, or a URL).
local function keyset_rule(path)
  local p = path:match("^[%a][%w+.-]*://[^/]*(/.*)$")
  if p then p = p:match("/api/v4(/.*)$") or p else p = path end
  p = p:gsub("[?#].*$", "")
  if p:byte(1) ~= 47 then p = "/" .. p end
  p = p:gsub("/+$", "")
  for _, r in ipairs(KEYSET_RULES) do
    if p:find(r[1]) then return r[2] or r, p end
  end
end

-- Fills q for keyset (opts.pagination, keyset-only lists, the mandatory
-- order_by and sort) and refuses what GitLab documents it refuses.
local function keyset_query(q, path, opts)
  if q.pagination == nil and opts.pagination ~= nil then q.pagination = opts.pagination end
  local rule, p = keyset_rule(path)
  if not rule then return q.pagination == "keyset" end
  if rule.only then
    -- a page number asked for by name goes as asked (and GitLab refuses it)
    if q.pagination == nil and q.page == nil then q.pagination = "keyset" end
    return q.pagination == "keyset", rule
  end
  if q.pagination ~= "keyset" then return false end
  if q.order_by == nil then q.order_by = rule.order_by end
  if q.sort == nil then q.sort = rule.sort end
  local order, sort = tostring(q.order_by), tostring(q.sort):lower()
  if (rule.orders and not rule.orders[order]) or (rule.sorts and not rule.sorts[sort]) then
    error(("pages: keyset pagination of %s takes %s (doc/api/rest/_index.md, \"Supported"
      .. " resources\"), not order_by=%s, sort=%s"):format(p, rule.what, order, sort), 3)
  end
  return true, rule
end

--- Iterates over pages: `for items, resp in gl:pages(path, query) do`.
-- Offset pagination follows `Link`/`X-Next-Page`; keyset (`pagination =
-- "keyset"`) follows `Link` only, each with the link's own query. When the
-- first page gives the number of pages, the following ones are fetched up
-- to `concurrency` at a time (the next link with its page number changed)
-- and still yielded in order; a page that says it is the last ends the
-- iteration, whatever the total said. A failed page raises the error
-- object; so does a page that is not a JSON array (kind "decode") and a
-- next page that does not advance (kind "pagination": X-Next-Page not
-- after the page, a Link back to a page or cursor already fetched, a
-- prefetched page answering for another page number).
--
-- Keyset as GitLab documents it (doc/api/rest/_index.md, "Keyset-based
-- pagination"): `pagination = "keyset"` (in the query or in opts) on a
-- list of its "Supported resources" sends the mandatory `order_by` and
-- `sort` (the caller's, else the list's documented default), and an
-- order the list does not take (`sort=asc` on the `sort=desc`-only jobs
-- and audit events, groups other than `order_by=name`, `sort=asc`) raises
-- before anything is sent. The repository tree is keyset only
-- (doc/api/repositories.md): it is always paged by keyset, never by page
-- number. Keyset pages are never fetched ahead: each comes from the Link
-- of the one before. The empty array that ends a keyset list is not
-- yielded after its first page; `resp.next_cursor`/`resp.prev_cursor` are
-- the `X-Next-Cursor`/`X-Prev-Cursor` headers where GitLab sends them.
-- @tparam string path
-- @tparam[opt] table query
-- @tparam[opt] table opts `max_pages`, `concurrency`, `per_page`, `pagination`
function Client:pages(path, query, opts)
  if type(path) ~= "string" then error("pages: path must be a string", 2) end
  if query ~= nil and type(query) ~= "table" then error("pages: query must be a table", 2) end
  opts = opts or {}
  local q = copy(query)
  if q.per_page == nil then q.per_page = opts.per_page or self.per_page end
  local keyset = keyset_query(q, path, opts)
  local concurrency = opts.concurrency or self.concurrency
  local max_pages = opts.max_pages
  local n, done = 0, false
  -- what comes next: a URL (Link; next_no its page number when it has
  -- one) or only a page number (X-Next-Page)
  local next_url, next_no
  -- URLs and page numbers asked for: the next page may not be one of them
  local seen = {}
  -- a next page that does not advance: raised on the call after its page
  -- (whose items are good) was yielded
  local broken
  local batch, pending, last_scheduled, total_pages, template   -- prefetch state
  local ctx = self._ctx

  local function fail(e)
    if batch then batch:close(); batch = nil end
    done = true
    error(e, 0)
  end

  local function check_page(data, resp)
    if data == nil then fail(resp) end
    if type(data) ~= "table" then
      fail(page_error(resp, path, "expected a JSON array for a page of " .. path))
    end
    return data, resp
  end

  -- Reads what follows resp, the answer for page number `asked` (nil when
  -- unknown); sets `broken` instead when that would not advance.
  local function advance(resp, asked)
    next_url, next_no = nil, nil
    local here = resp.page or asked
    local name = here and ("page " .. int_string(here)) or ("page " .. n .. " of the list")
    -- _next_url: the link as given, when the shown one lost a credential
    -- of the query to redaction
    local u = resp._next_url or resp.next_url
    if u then
      local p = not keyset and link_page(u) or nil
      if p and here and p <= here then
        broken = loop_error(resp, path, ('%s links to page %d as the next one (Link rel="next"): %s')
          :format(name, p, core.redact_url(u)))
      elseif seen[u] or (p and seen[p]) then
        broken = loop_error(resp, path, ('the Link rel="next" of %s leads back to a page already fetched: %s')
          :format(name, core.redact_url(u)))
      elseif has_dot_segment(u) then
        broken = loop_error(resp, path, ('the Link rel="next" of %s has a \'.\' or \'..\' segment'
          .. ' (it would reach another endpoint): %s'):format(name, core.redact_url(u)))
      end
      if broken then return end
      next_url, next_no = u, p
    elseif not keyset and resp.next_page then
      local p = resp.next_page
      if (here and p <= here) or seen[p] then
        broken = loop_error(resp, path, ("%s answered X-Next-Page: %s; the next page must come after it")
          :format(name, int_string(p) or tostring(p)))
        return
      end
      next_no = p
    elseif resp.link_error and not resp.next_page then
      fail(page_error(resp, path, resp.link_error))
    end
  end

  -- URL of page p when fetching ahead: the first page's next link with
  -- its page number changed (its query kept, as GitLab asks), else path,
  -- query and page.
  local function page_url(p)
    if template then return (template:gsub("([?&]page=)%d+", "%1" .. p, 1)) end
    local pq = copy(q)
    pq.page = p
    return (build(self, "GET", path, { query = pq }, "pages")).url
  end

  local function schedule()
    while last_scheduled < total_pages and #pending < concurrency do
      last_scheduled = last_scheduled + 1
      local req = build(self, "GET", page_url(last_scheduled), EMPTY, "pages")
      pending[#pending + 1] = { page = last_scheduled, url = req.url, h = batch:add(req),
                                gen = self._hooks and self._hooks.generation }
    end
  end

  local function start_prefetch(first_resp, first_no)
    if keyset or concurrency <= 1 or async.current() or max_pages then return end
    total_pages = first_resp.total_pages
    local cur = first_resp.page or first_no
    -- by number only when the next page is the following number
    if not total_pages or total_pages <= cur + 1 or next_no ~= cur + 1 then return end
    template = next_url
    batch = self._core:batch()
    pending = {}
    last_scheduled = cur
    schedule()
  end

  local function request_next()
    local u, p = next_url, next_no
    if p then seen[p] = true end
    if u then
      seen[u] = true
      return check_page(self:request("GET", u, EXPECT_ARRAY))
    end
    local pq = copy(q)
    pq.page = p
    return check_page(self:request("GET", path, { query = pq, expect = "array" }))
  end

  local function step()
    if done then return nil end
    if max_pages and n >= max_pages then done = true return nil end
    if broken then fail(broken) end
    local data, resp
    if n == 0 then
      local first_no = not keyset and (tonumber(q.page) or 1) or nil
      if first_no then seen[first_no] = true end
      seen[(build(self, "GET", path, { query = q }, "pages")).url] = true
      data, resp = check_page(self:request("GET", path, { query = q, expect = "array" }))
      n = 1
      advance(resp, first_no)
      if next_url or next_no then start_prefetch(resp, first_no) elseif not broken then done = true end
      return data, resp
    end
    if batch then
      local item = table.remove(pending, 1)
      local r, e, decoded = batch:await(item.h)
      data, resp = finish(ctx, "GET", path, EXPECT_ARRAY, r, e, decoded)
      if data == nil and resp.status == 401 and self._hooks then
        -- sent with the pair of its time: the credential refresh decides
        -- (refresh, unless another page did already) and asks again
        data, resp = send.request(self, build(self, "GET", item.url, EMPTY, "pages"), "GET", path,
          EXPECT_ARRAY, { gen = item.gen, data = data, resp = resp })
      end
      data, resp = check_page(data, resp)
      if resp.page and resp.page ~= item.page then
        fail(loop_error(resp, path, ("asked for page %d, the server answered for page %s (X-Page)")
          :format(item.page, int_string(resp.page) or tostring(resp.page))))
      end
      seen[item.page], seen[item.url] = true, true
      n = n + 1
      advance(resp, item.page)
      if broken then
        batch:close()
        batch = nil
      elseif not (next_url or next_no) then
        -- the last page, whatever the total said: what was fetched
        -- ahead beyond it is dropped
        batch:close()
        batch = nil
        done = true
      elseif last_scheduled < total_pages then
        schedule()
      elseif #pending == 0 then
        -- past the total: pages may have been added while we listed, so
        -- carry on from this page's links
        batch:close()
        batch = nil
      end
      return data, resp
    end
    if not (next_url or next_no) then
      done = true
      return nil
    end
    data, resp = request_next()
    local asked = next_no
    n = n + 1
    advance(resp, asked)
    if not (next_url or next_no or broken) then done = true end
    return data, resp
  end

  return function()
    local data, resp = step()
    if data == nil then return nil end
    -- doc/api/rest/_index.md: "The `X-NEXT-CURSOR` header contains the
    -- cursor value for retrieving the next page's records, while the
    -- `X-PREV-CURSOR` header contains the cursor value for retrieving the
    -- previous page's, when available." Shown, never followed: Link is.
    local h = resp.headers
    if h then resp.next_cursor, resp.prev_cursor = h["x-next-cursor"], h["x-prev-cursor"] end
    -- "When the end of the collection is reached [...] the `Link` header
    -- is absent and the resulting array is empty": that empty end of a
    -- list of several pages is not a page of it
    if done and n > 1 and next(data) == nil then return nil end
    return data, resp
  end
end

--- Iterates over items across pages: `for issue in gl:paginate(path, q) do`.
-- @tparam string path
-- @tparam[opt] table query
-- @tparam[opt] table opts `max_items`, `max_pages`, `concurrency`
function Client:paginate(path, query, opts)
  local next_page = self:pages(path, query, opts)
  local items, i, count = nil, 0, 0
  local max_items = opts and opts.max_items
  return function()
    if max_items and count >= max_items then return nil end
    while true do
      if items then
        i = i + 1
        local v = items[i]
        if v ~= nil then
          count = count + 1
          return v
        end
      end
      items, i = next_page(), 0
      if items == nil then return nil end
    end
  end
end

--- Collects every item: `local list, err = gl:all(path, query, opts)`.
-- @tparam[opt] table opts `max_items`, `max_pages`
-- @return list or nil, err
function Client:all(path, query, opts)
  local list = {}
  local ok, err = pcall(function()
    for item in self:paginate(path, query, opts) do list[#list + 1] = item end
  end)
  if not ok then
    if errors.is_error(err) then return nil, err end
    error(err, 0)
  end
  return list
end

return Client
