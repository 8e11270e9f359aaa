--- The raw API (methods of `gitlab.client`): `request`, the shortcuts
-- `get`, `post`, `put`, `patch`, `delete`, `head`, and `user`, `version`,
-- `graphql`.
-- @module gitlab.client.api

local core = require("gitlab.core")
local errors = require("gitlab.errors")
local options = require("gitlab.options")
local request = require("gitlab.client.request")
local send = require("gitlab.client.send")

local check_opts, build, EMPTY = request.check_opts, request.build, request.EMPTY
local null = core.null

local Client = {}

-- The request of checked options: what `request` and the shortcuts share.
-- Called in a tail position only, so that `build` raises at the line of
-- whoever called `fname`.
local function send_checked(self, method, path, opts, fname)
  local req, shown
  req, shown, method = build(self, method, path, opts, fname)
  return send.request(self, req, method, shown, opts)
end

--- Sends a request. `path` is relative to `/api/v4` (or to the instance
-- root with `root = true`), or an absolute URL.
-- @tparam string method "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"
-- @tparam string path e.g. "/projects/42"
-- @tparam[opt] table opts `query`, `body` (table sent as JSON, or string),
--   `form` (urlencoded), `multipart` (list of `{name=, value=|file=}`),
--   `file` (raw body streamed from disk), `headers`, `raw` (return the body
--   as a string), `output`/`sink`/`progress` (streaming), `follow`, `retries`,
--   `timeout`, `auth` (false: send neither the credential nor the client's
--   extra headers, and skip OAuth refresh), `max_body` (bytes; the
--   client's by default), `expect` ("object" or "array":
--   a 2xx answer of another shape, an HTML page say, is an error of kind
--   "decode"; no content is fine except for GET, JSON null for an object)
-- @return data (decoded JSON, string, or true), resp; or nil, err
function Client:request(method, path, opts)
  return send_checked(self, method, path, check_opts("request", opts), "request")
end

--- Shortcuts over `request`; each returns `data, resp` or `nil, err`.
-- `gl:get(path, query, opts)`, `gl:delete(path, query, opts)`,
-- `gl:head(path, query, opts)` (true, resp: headers only);
-- `gl:post(path, body, opts)`, `gl:put(path, body, opts)`,
-- `gl:patch(path, body, opts)` (body: a table sent as JSON, or a string).
-- The second argument fills `query` or `body` of a copy of `opts`: the
-- caller's table is never changed. Errors in the arguments name the
-- shortcut ("get: ...").
-- @function get
for method, slot in pairs(options.ARG_SLOT) do
  local name = method:lower()
  Client[name] = function(self, path, arg, opts)
    if opts == nil then opts = EMPTY else opts = check_opts(name, opts) end
    if arg ~= nil then
      local o = check_opts(name, { [slot] = arg })
      for k, v in pairs(opts) do
        if k ~= slot then o[k] = v end
      end
      opts = o
    end
    return send_checked(self, method, path, opts, name)
  end
end

--- The current user (`GET /user`).
function Client:user()
  return self:request("GET", "/user", { expect = "object" })
end

--- GitLab's version (`GET /version`).
function Client:version()
  return self:get("/version")
end

--- GraphQL (`POST /api/graphql`); GraphQL errors become an error object
-- of kind "graphql" with `err.errors` holding GitLab's list.
-- The answer is a JSON object with `data`, or `errors` (the GraphQL
-- specification, "Response"); a 2xx that is neither (an HTML sign-in
-- page, a proxy's JSON) is an error of kind "decode", never data.
-- @tparam string query
-- @tparam[opt] table variables
-- @return data, resp; or nil, err
function Client:graphql(query, variables)
  if type(query) ~= "string" then error("graphql: query must be a string", 2) end
  local data, resp = self:request("POST", "/api/graphql",
    { root = true, expect = "object", body = { query = query, variables = variables } })
  if data == nil then return nil, resp end
  local list = type(data) == "table" and data.errors
  if list ~= nil and list ~= null and not (type(list) == "table" and next(list) == nil) then
    -- a list of error objects as GitLab sends it; one error, or a
    -- message alone, as something else may
    if type(list) ~= "table" or getmetatable(list) ~= core.array_mt then list = { list } end
    local msgs = {}
    for _, e in ipairs(list) do
      msgs[#msgs + 1] = errors.flatten(type(e) == "table" and e.message or e) or "GraphQL error"
    end
    return nil, errors.new{ kind = "graphql", method = "POST", path = "/api/graphql",
      message = table.concat(msgs, "; "), errors = list, data = data.data,
      response = resp, status = resp.status }
  end
  if type(data) ~= "table" or data.data == nil then
    return nil, errors.new{ kind = "decode", method = "POST", path = "/api/graphql",
      message = "the answer has neither data nor errors: not a GraphQL answer",
      response = resp, status = resp.status, headers = resp.headers }
  end
  return data.data, resp
end

-------------------------------------------------------------------------------

return Client
