--- The client: raw REST calls, pagination, transfers of files, GraphQL,
-- and the non-blocking API. Made by `gitlab.new`.
--
-- Every call returns `data, resp` on success and `nil, err` on failure
-- (see `gitlab.errors`); iterators raise `err` instead, so a failed page
-- never ends a loop silently.
-- @classmod gitlab.client

local core = require("gitlab.core")
local errors = require("gitlab.errors")
local async = require("gitlab.async")
local util = require("gitlab.util")
local sorted_keys, int_string = util.sorted_keys, util.int_string

local Client = {}
-- gitlab.resources, loaded on first use (it costs about 7 ms, which a
-- script of raw calls does not pay); a hard dependency all the same: an
-- error loading it is raised to whoever asked for a manager.
local resources_mod

Client.__index = function(self, k)
  local v = Client[k]
  if v ~= nil then return v end
  if type(k) ~= "string" or k:sub(1, 1) == "_" then return nil end
  if resources_mod == nil then resources_mod = require("gitlab.resources") end
  local m = resources_mod.manager(self, k)
  if m ~= nil then rawset(self, k, m) end
  return m
end

Client.__tostring = function(self)
  return "gitlab client (" .. self.url .. ")"
end

-------------------------------------------------------------------------------
-- responses and errors
-------------------------------------------------------------------------------

local OFFSET_HINT = " (use keyset pagination: pagination = \"keyset\" with order_by)"

local array_mt = core.array_mt

-- What a decoded JSON value is, in the words of an error message.
local function json_shape(v)
  local t = type(v)
  if t == "table" then return getmetatable(v) == array_mt and "array" or "object" end
  if t == "string" then return "string" end
  if t == "number" then return "number" end
  if t == "boolean" then return "boolean" end
  return "null"
end
local SHAPE_WORDS = { object = "a JSON object", array = "a JSON array", string = "a JSON string",
                      number = "a JSON number", boolean = "a JSON boolean", null = "JSON null" }

-- The first bytes of a body for a message: one line, printable ASCII.
local function first_bytes(body, redact)
  local line = redact(body:sub(1, 200)):gsub("%s+", " ")
  local s = line:sub(1, 40):gsub("[^\32-\126]", function(c) return ("\\x%02X"):format(c:byte()) end)
  return '("' .. s .. ((#line > 40 or #body > 200) and '..."' or '"') .. " first bytes)"
end

-- opts.expect ("object" or "array") against a 2xx answer that is not an
-- error already: nil when it fits, else what came instead. A 204, 205 or
-- an empty body is no content, fine for a method that changes something
-- (delete, actions) but not for a GET, which asked for the thing itself.
-- JSON null passes for an object: GitLab answers it for a singleton that
-- does not exist (Grape's `present nil`, GET /projects/:id/push_rule in
-- ee/lib/api/project_push_rule.rb).
local function shape_mismatch(want, method, st, body, decoded, resp, redact)
  if decoded == true then
    local got = json_shape(body)
    if got == want or (got == "null" and want == "object") then return nil end
    return SHAPE_WORDS[got]
  end
  if st == 204 or st == 205 or body == "" then
    if method ~= "GET" then return nil end
    return st == 204 and "204 No Content" or st == 205 and "205 Reset Content" or "an empty body"
  end
  if decoded then return nil end   -- invalid JSON: reported as such below
  local ctype = resp.headers["content-type"]
  ctype = ctype and ctype:match("^%s*([^;%s]+)")
  return (ctype and ctype:lower() or "a body without a Content-Type") .. " " .. first_bytes(body, redact)
end

-- Turns the core's answer into (data, resp) or (nil, err). The core hands
-- over resp (status, page numbers, next_url, rate_limit; headers built on
-- first use), then the body: a string, the decoded JSON when `decoded` is
-- true, or the raw string when `decoded` is the decoder's complaint.
-- The headers of an answer that becomes an error, with the credential
-- taken out of every value (a server or proxy may echo it; the core has
-- already blanked the credential headers and cookies themselves).
local function error_headers(ctx, h)
  if h then
    local redact = ctx.redact
    for k, v in pairs(h) do
      local r = redact(v)
      if r ~= v then h[k] = r end
    end
  end
  return h
end

local function finish(ctx, method, shown, opts, resp, body, decoded)
  if not resp then
    local e, redact = body, ctx.redact
    return nil, errors.new{
      kind = e.kind, message = redact(e.message), method = method,
      url = e.url, path = shown and core.redact_url(shown), status = e.status, code = e.code,
      headers = error_headers(ctx, e.headers), cause = e.cause, attempts = e.attempts,
    }
  end
  local st = resp.status
  if st >= 400 then
    local redact = ctx.redact
    local msg = errors.http_message(st, body, error_headers(ctx, resp.headers))
    if st == 405 and msg:lower():find("offset", 1, true) and
       msg:lower():find("pagination", 1, true) and not msg:find("keyset", 1, true) then
      msg = msg .. OFFSET_HINT
    end
    return nil, errors.new{
      status = st,
      kind = st == 401 and "auth" or st == 429 and "rate_limit" or "http",
      message = redact(msg), body = body and redact(body), headers = resp.headers,
      method = method, url = resp.url, path = shown and core.redact_url(shown), response = resp,
      truncated = resp.truncated, attempts = resp.attempts,
    }
  end
  local want = opts.expect
  if want and st >= 200 and st < 300 and body ~= nil and method ~= "HEAD" and not opts.raw then
    local got = shape_mismatch(want, method, st, body, decoded, resp, ctx.redact)
    if got then
      return nil, errors.new{
        kind = "decode", status = st, method = method, url = resp.url,
        path = core.redact_url(shown), headers = resp.headers, response = resp,
        message = "expected " .. SHAPE_WORDS[want] .. ", got " .. got,
        body = decoded ~= true and ctx.redact(body:sub(1, 4096)) or nil,
      }
    end
  end
  if decoded == true then return body, resp end
  if st < 200 or (st >= 300 and st ~= 304 and opts.follow ~= false) then
    -- a final 1xx, or a 3xx the core did not follow (no Location): never
    -- taken for success (a download would keep a stale part file)
    return nil, errors.new{
      status = st, kind = "redirect", method = method, url = resp.url,
      path = core.redact_url(shown), headers = error_headers(ctx, resp.headers), response = resp,
      message = st >= 300 and ("the server answered %d without a Location to follow"):format(st)
        or ("unexpected final status %d"):format(st),
    }
  end
  if body == nil or method == "HEAD" then return true, resp end   -- streamed
  if opts.raw then return body, resp end
  if body == "" or st == 204 then return true, resp end
  if decoded then
    return nil, errors.new{
      kind = "decode", status = st, method = method, url = resp.url,
      path = core.redact_url(shown),
      message = "the response is " .. decoded,   -- "invalid JSON at byte N: ..."
      body = ctx.redact(body:sub(1, 4096)), headers = error_headers(ctx, resp.headers), response = resp,
    }
  end
  return body, resp
end

-------------------------------------------------------------------------------
-- building requests
-------------------------------------------------------------------------------

local REQUEST_OPTS = {
  query = "table", body = true, form = "table", multipart = "table",
  headers = "table", raw = "boolean", root = "boolean", file = "string",
  output = "string", sink = "function", progress = "function",
  follow = "boolean", retries = "number", resume_from = "number", timeout = "number",
  auth = "boolean", max_body = "number", expect = "string",
}
local EXPECT = { object = true, array = true }

-- What a call without options sees; never written to.
local EMPTY = setmetatable({}, { __newindex = function() error("internal: EMPTY is read-only", 2) end })

local function check_opts(fname, opts)
  if opts == nil then return EMPTY end
  if type(opts) ~= "table" then
    error(fname .. ": options must be a table, got " .. type(opts), 3)
  end
  for k, v in pairs(opts) do
    local want = REQUEST_OPTS[k]
    if want == nil then error(fname .. ": unknown option '" .. tostring(k) .. "'", 3) end
    if want ~= true and type(v) ~= want then
      error(("%s: option '%s' must be a %s, got %s"):format(fname, k, want, type(v)), 3)
    end
  end
  if opts.expect ~= nil and not EXPECT[opts.expect] then
    error(fname .. ": option 'expect' must be \"object\" or \"array\"", 3)
  end
  return opts
end

-- request options handed to the core as they are
local PASSED = { "file", "output", "sink", "progress", "follow", "retries",
                 "resume_from", "timeout", "auth", "max_body" }

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true,
                  HEAD = true, OPTIONS = true }

-- A "." or ".." segment in the path of `url` (before "?" or "#"), literal
-- or percent-encoded ("%2E%2E"): libcurl and servers remove dot segments
-- (RFC 3986 section 5.2.4), some only after decoding them, so
-- "/projects/../user" would reach another endpoint with the credential.
-- The first test keeps the common path (no segment starting with "." or
-- "%") to two plain searches.
local function has_dot_segment(url)
  if not (url:find("/.", 1, true) or url:find("/%", 1, true)) then return false end
  local p = url:match("^[^?#]*")
  for s in p:gmatch("/([^/]*)") do
    local c = s:byte(1)
    if c == 46 or c == 37 then   -- "." or "%"
      local d = s:gsub("%%2[eE]", ".")
      if d == "." or d == ".." then return true end
    end
  end
  return false
end

-- Returns the core request table, the path shown in errors (redacted when
-- an error is built) and the method in upper case.
local function build(self, method, path, opts, fname)
  if not METHODS[method] then
    if type(method) ~= "string" or not method:match("^%a+$") then
      error(fname .. ": method must be a word such as \"GET\"", 3)
    end
    method = method:upper()
  end
  if type(path) ~= "string" or path == "" then
    error(fname .. ": path must be a non-empty string", 3)
  end
  local url
  local c1 = path:byte(1)
  if c1 == 47 then        -- "/"
    url = (opts.root and self._ctx.root or self._ctx.base) .. path
  elseif (c1 == 104 or c1 == 72) and path:find("^[hH][tT][tT][pP][sS]?://") then
    url = path
  else
    path = "/" .. path
    url = (opts.root and self._ctx.root or self._ctx.base) .. path
  end
  if has_dot_segment(url) then
    error(("%s: the path must not have a '.' or '..' segment (it would reach another"
      .. " endpoint): %s"):format(fname, core.redact_url(path)), 3)
  end
  local shown = path
  local q = opts.query
  if q and next(q) ~= nil then
    url = url .. (url:find("?", 1, true) and "&" or "?") .. core.query(q)
  end
  local headers, has_ctype = nil, false
  if opts.headers then
    headers = {}
    for k, v in pairs(opts.headers) do
      if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number") then
        error(fname .. ": headers must map names to strings", 3)
      end
      if k:lower() == "content-type" then has_ctype = true end
      headers[#headers + 1] = k .. ": " .. tostring(v)
    end
  end
  local req = { method = method, url = url, headers = headers, decode = not opts.raw }
  if opts ~= EMPTY then
    for i = 1, #PASSED do
      local k = PASSED[i]
      local v = opts[k]
      if v ~= nil then req[k] = v end
    end
  end
  local nbody = (opts.body ~= nil and 1 or 0) + (opts.form and 1 or 0) +
                (opts.multipart and 1 or 0) + (opts.file and 1 or 0)
  if nbody > 1 then error(fname .. ": give only one of body, form, multipart and file", 3) end
  local ctype
  if opts.body ~= nil then
    local b = opts.body
    if type(b) == "table" then
      -- the decoder's own encoder: [] stays [], null stays null, integers
      -- keep every digit (core.json_encode in src/json.c)
      local ok, s = pcall(core.json_encode, b)
      if not ok then error(fname .. ": body cannot be encoded as JSON: " .. tostring(s), 3) end
      req.body = s
      ctype = "application/json"
    elseif type(b) == "string" then
      req.body = b
    else
      error(fname .. ": body must be a table (JSON) or a string", 3)
    end
  elseif opts.form then
    req.body = core.query(opts.form)
    ctype = "application/x-www-form-urlencoded"
  elseif opts.multipart then
    req.form = opts.multipart
  elseif opts.file then
    ctype = "application/octet-stream"
  end
  if ctype and not has_ctype then
    headers = headers or {}
    headers[#headers + 1] = "Content-Type: " .. ctype
    req.headers = headers
  end
  return req, shown, method
end

-- One request, blocking or (inside gitlab.async.run) yielding.
local function perform(self, req, method, shown, opts)
  local r, e, decoded
  if async.current() then
    local c = self._core
    -- coroutines waiting on this client: close() wakes them with an error
    local waiters = self._waiters
    if not waiters then
      waiters = {}
      self._waiters = waiters
    end
    r, e, decoded = async.await(function(resume)
      local function done(...)
        waiters[done] = nil
        return resume(...)
      end
      waiters[done] = true
      c:start(req, done)
    end)
  else
    r, e, decoded = self._core:request(req)
  end
  return finish(self._ctx, method, shown, opts, r, e, decoded)
end

-------------------------------------------------------------------------------
-- raw API
-------------------------------------------------------------------------------

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
  opts = check_opts("request", opts)
  local req, shown
  req, shown, method = build(self, method, path, opts, "request")
  local hooks = opts.auth ~= false and self._hooks
  if hooks then hooks.before_request(self) end
  local data, resp = perform(self, req, method, shown, opts)
  if data == nil and hooks and resp.status == 401 and hooks.on_401(self, resp) then
    data, resp = perform(self, req, method, shown, opts)
  end
  return data, resp
end

--- Shortcuts over `request`; each returns `data, resp` or `nil, err`.
-- `gl:get(path, query, opts)`, `gl:delete(path, query, opts)`,
-- `gl:head(path, query, opts)` (true, resp: headers only);
-- `gl:post(path, body, opts)`, `gl:put(path, body, opts)`,
-- `gl:patch(path, body, opts)` (body: a table sent as JSON, or a string).
-- The second argument fills `query` or `body` of a copy of `opts`: the
-- caller's table is never changed.
-- @function get
for name, slot in pairs{ get = "query", delete = "query", head = "query",
                         post = "body", put = "body", patch = "body" } do
  local method = name:upper()
  Client[name] = function(self, path, arg, opts)
    opts = check_opts(name, opts)
    if arg ~= nil then
      local o = { [slot] = arg }
      for k, v in pairs(opts) do
        if k ~= slot then o[k] = v end
      end
      opts = o
    end
    return self:request(method, path, opts)
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
-- @tparam string query
-- @tparam[opt] table variables
function Client:graphql(query, variables)
  if type(query) ~= "string" then error("graphql: query must be a string", 2) end
  local data, resp = self:request("POST", "/api/graphql",
    { root = true, body = { query = query, variables = variables } })
  if data == nil then return nil, resp end
  if type(data) == "table" and type(data.errors) == "table" and #data.errors > 0 then
    local msgs = {}
    for _, e in ipairs(data.errors) do msgs[#msgs + 1] = errors.flatten(e.message or e) end
    return nil, errors.new{ kind = "graphql", method = "POST", path = "/api/graphql",
      message = table.concat(msgs, "; "), errors = data.errors, data = data.data,
      response = resp, status = resp.status }
  end
  return type(data) == "table" and data.data or data, resp
end

-------------------------------------------------------------------------------
-- pagination
-------------------------------------------------------------------------------

local function copy(t)
  local c = {}
  if t then for k, v in pairs(t) do c[k] = v end end
  return c
end

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
-- @tparam string path
-- @tparam[opt] table query
-- @tparam[opt] table opts `max_pages`, `concurrency`, `per_page`
function Client:pages(path, query, opts)
  if type(path) ~= "string" then error("pages: path must be a string", 2) end
  if query ~= nil and type(query) ~= "table" then error("pages: query must be a table", 2) end
  opts = opts or {}
  local q = copy(query)
  if q.per_page == nil then q.per_page = opts.per_page or self.per_page end
  local keyset = q.pagination == "keyset"
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
      pending[#pending + 1] = { page = last_scheduled, url = req.url, h = batch:add(req) }
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

  return function()
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
      data, resp = check_page(finish(ctx, "GET", path, EXPECT_ARRAY, r, e, decoded))
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

-------------------------------------------------------------------------------
-- files
-------------------------------------------------------------------------------

local function file_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local size = f:seek("end")
  f:close()
  return size
end

-- io.open succeeds on a directory: reading tells it apart from a file.
local function readable(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data, rerr = f:read(1)
  f:close()
  if data == nil and rerr then return nil, path .. ": " .. tostring(rerr) end
  return true
end

local function io_error(method, path, message)
  return errors.new{ kind = "io", method = method, path = core.redact_url(path),
    message = message }
end

-- Options checked like gl:request's: unknown keys and wrong types raise.
local function check_table_opts(fname, opts, known)
  if type(opts) ~= "table" then
    error(fname .. ": options table required", 3)
  end
  for k, v in pairs(opts) do
    local want = known[k]
    if want == nil then error(fname .. ": unknown option '" .. tostring(k) .. "'", 3) end
    if want ~= true and type(v) ~= want then
      error(("%s: option '%s' must be a %s, got %s"):format(fname, k, want, type(v)), 3)
    end
  end
end

local DOWNLOAD_OPTS = {
  output = true, sink = "function", progress = "function", query = "table",
  resume = "boolean", headers = "table", retries = "number",
}

-- After a resumed request answered 416: is the part file already whole?
-- ("Content-Range: bytes */SIZE" with SIZE the bytes we have.)
local function part_complete(err, have)
  local resp = err.response
  if err.status ~= 416 or not resp then return false end
  local total = tonumber(((resp.headers["content-range"] or ""):match("^bytes %*/(%d+)")))
  return total == have
end

--- Streams a response body to a file, a file handle or a sink function
-- with flat memory (the body never sits in a Lua string). Redirects to
-- another host (object storage) are followed without the credentials.
-- Writing to a file name is atomic: the body goes to `NAME.part`, renamed
-- to `NAME` on success and removed on failure; with `resume = true` a
-- failed download keeps `NAME.part` and the next call asks only for the
-- missing bytes (`Range`), starting over when the server ignores it.
-- @tparam string path relative to `/api/v4`, or an absolute URL
-- @tparam table opts `output` (file name or file handle) or `sink(chunk)`;
--   `progress(done, total)` (total is nil when unknown; counts resumed
--   bytes too), `query`, `headers`, `resume`, `retries`. A sink or progress
--   function that raises stops the download: kind `"callback"`, the raised
--   value (with its stack) in `err.cause`.
-- @return true, resp (`resp.size`: bytes written); or nil, err (kind
--   `"io"` when the file cannot be written)
function Client:download(path, opts)
  check_table_opts("download", opts, DOWNLOAD_OPTS)
  local output, sink = opts.output, opts.sink
  if output ~= nil and sink ~= nil then error("download: give only one of output and sink", 2) end
  local ropts = { query = opts.query, progress = opts.progress, headers = opts.headers,
                  retries = opts.retries }
  if type(output) == "string" then
    if output == "" then error("download: output must be a non-empty file name", 2) end
    local part = output .. ".part"
    local have = 0
    if opts.resume then
      -- lstat, not open: a symbolic link planted at NAME.part must not be
      -- followed (its target would be appended to), a FIFO would block
      local kind, size = core.file_kind(part)
      if kind and kind ~= "file" then
        return nil, io_error("GET", path, ("cannot resume into %s: it is %s, not a regular file")
          :format(part, kind == "link" and "a symbolic link" or "a " .. kind))
      end
      have = kind and size or 0
    else
      os.remove(part)      -- removes a link itself; the core refuses one made since
    end
    ropts.output = part
    if have > 0 then ropts.resume_from = have end
    local ok, resp = self:request("GET", path, ropts)
    if not ok and have > 0 and resp.status == 416 and not part_complete(resp, have) then
      -- the part is longer than the file now is: it belongs to another
      -- version of it, so start over
      os.remove(part)
      ropts.resume_from, have = nil, 0
      ok, resp = self:request("GET", path, ropts)
    end
    if not ok then
      if have > 0 and part_complete(resp, have) then
        resp = resp.response          -- nothing was missing
      else
        local kind, size = core.file_kind(part)
        -- only a file of ours: a link or FIFO the core refused stays
        if kind == "file" and (not opts.resume or size == 0) then os.remove(part) end
        return nil, resp
      end
    end
    local rok, rerr = os.rename(part, output)
    if not rok then
      os.remove(part)
      return nil, io_error("GET", path, "cannot move the download into place: " .. tostring(rerr))
    end
    resp.size = file_size(output)
    return true, resp
  end
  local size, werr = 0, nil
  if io.type(output) == "file" then
    ropts.sink = function(chunk)
      local ok, e = output:write(chunk)
      if not ok then
        werr = e
        error(e, 0)
      end
      size = size + #chunk
    end
  elseif type(sink) == "function" then
    ropts.sink = function(chunk)
      size = size + #chunk
      return sink(chunk)
    end
  elseif output ~= nil then
    error("download: output must be a file name or an open file handle", 2)
  else
    error("download: give output (file name or handle) or sink (function)", 2)
  end
  local ok, resp = self:request("GET", path, ropts)
  if not ok then
    if werr then return nil, io_error("GET", path, "cannot write the output: " .. tostring(werr)) end
    return nil, resp
  end
  resp.size = size
  return true, resp
end

local UPLOAD_OPTS = {
  file = "string", field = "string", fields = "table", filename = "string",
  content_type = "string", method = "string", raw = "boolean", progress = "function",
  query = "table", headers = "table", retries = "number",
}

local function field_value(v)
  return int_string(v) or tostring(v)   -- a computed float 42.0 is sent as 42
end

-- Form fields in GitLab's bracket style: {a = {b = 1}} -> a[b]=1,
-- {l = {"x", "y"}} -> l[]=x, l[]=y.
local function add_fields(parts, name, v)
  if type(v) == "table" then
    if #v > 0 then
      for _, x in ipairs(v) do add_fields(parts, name .. "[]", x) end
    else
      for _, k in ipairs(sorted_keys(v)) do add_fields(parts, name .. "[" .. tostring(k) .. "]", v[k]) end
    end
  else
    parts[#parts + 1] = { name = name, value = field_value(v) }
  end
end

--- Uploads a file streamed from disk (never read into memory): as
-- multipart form data (the default: project uploads, avatars, imports),
-- or as the raw request body with `raw = true` (generic packages).
-- @tparam string path e.g. "/projects/42/uploads"
-- @tparam table opts `file` (path, required); multipart: `field`
--   ("file"), `filename` (the file's base name), `content_type`, `fields`
--   (other form fields; tables become `a[b]` and `a[]` fields); raw:
--   `raw = true`, `content_type` ("application/octet-stream"); both:
--   `method` ("POST", or "PUT" when raw), `query`, `headers`,
--   `progress(done, total)` (bytes of the request body), `retries`
-- @return data (decoded JSON reply), resp; or nil, err
function Client:upload(path, opts)
  if type(opts) ~= "table" or type(opts.file) ~= "string" then
    error("upload: opts.file (a file name) is required", 2)
  end
  check_table_opts("upload", opts, UPLOAD_OPTS)
  local method = (opts.method or (opts.raw and "PUT" or "POST")):upper()
  local ok, rerr = readable(opts.file)
  if not ok then
    return nil, io_error(method, path, "cannot read the file to upload: " .. tostring(rerr))
  end
  local ropts = { progress = opts.progress, query = opts.query, retries = opts.retries }
  if opts.raw then
    if opts.field or opts.fields or opts.filename then
      error("upload: a raw upload takes no field, fields or filename", 2)
    end
    local headers = {}
    for k, v in pairs(opts.headers or {}) do headers[k] = v end
    if opts.content_type then headers["Content-Type"] = opts.content_type end
    ropts.headers, ropts.file = headers, opts.file
    return self:request(method, path, ropts)
  end
  local parts = {}
  if opts.fields then
    for _, k in ipairs(sorted_keys(opts.fields)) do add_fields(parts, tostring(k), opts.fields[k]) end
  end
  parts[#parts + 1] = { name = opts.field or "file", file = opts.file,
    filename = opts.filename or opts.file:match("[^/]+$"), type = opts.content_type }
  ropts.multipart, ropts.headers = parts, opts.headers
  return self:request(method, path, ropts)
end

-------------------------------------------------------------------------------
-- non-blocking
-------------------------------------------------------------------------------

-- (data, resp) or (nil, err) from finish -> callback(err, data, resp)
local function reply(callback, data, resp)
  if data == nil then callback(resp, nil, resp.response) else callback(nil, data, resp) end
end

--- Starts a request and returns a handle at once; `callback(err, data,
-- resp)` runs exactly once (never after `handle:cancel()`), from
-- `gl:poll()`, `gl:wait()` or the event loop after `gl:attach(uv)`.
-- An error the callback raises is raised from there, with the stack where
-- it was raised (a string gains "stack traceback:", a table a `traceback`
-- field). Callable from inside any callback, sinks and progress included
-- (the transfer then starts once libcurl has returned).
function Client:request_async(method, path, opts, callback)
  if type(callback) ~= "function" then error("request_async: callback must be a function", 2) end
  opts = check_opts("request_async", opts)
  local req, shown
  req, shown, method = build(self, method, path, opts, "request_async")
  local ctx = self._ctx   -- not self: a busy client may still be collected
  local uvst = self._uv
  if uvst and uvst.opts.schedule then callback = uvst.opts.schedule(callback) end
  local hooks = opts.auth ~= false and self._hooks
  if not hooks then
    return self._core:start(req, function(r, e, decoded)
      reply(callback, finish(ctx, method, shown, opts, r, e, decoded))
    end)
  end
  -- OAuth: refresh before expiry, and once after a 401 invalid_token, as
  -- the blocking API does, but on the client's engine: nothing here
  -- blocks. The handle follows the stage in flight (refresh, request,
  -- refresh, retry).
  local core_client = self._core
  local handle = { retried = false, finished = false, canceled = false }
  local function deliver(data, resp)
    handle.finished = true
    reply(callback, data, resp)
  end
  local function start()
    local done
    done = function(r, e, decoded)
      local data, resp = finish(ctx, method, shown, opts, r, e, decoded)
      if data == nil and not handle.retried and resp.status == 401 and hooks.is_invalid_token(resp) then
        handle.retried = true
        handle.h = hooks.refresh_async(function(ok, rerr)
          if handle.canceled then return end
          if ok then
            handle.h = core_client:start(req, done)
          else
            pcall(function() resp.refresh_error = rerr end)
            deliver(nil, resp)
          end
        end)
        return
      end
      deliver(data, resp)
    end
    handle.h = core_client:start(req, done)
  end
  if hooks.needs_refresh() then
    -- a failed refresh still sends the request: GitLab's 401 says why
    handle.h = hooks.refresh_async(function()
      if not handle.canceled then start() end
    end)
  else
    start()
  end
  function handle.cancel()
    if handle.finished or handle.canceled then return false end
    handle.canceled = true
    return handle.h:cancel()
  end
  function handle.done() return handle.finished or handle.canceled end
  return handle
end

--- Runs ready transfers and callbacks, waiting at most `timeout` seconds.
-- @return number of transfers still in flight
function Client:poll(timeout)
  return self._core:poll(timeout or 0)
end

--- Runs until no transfer is in flight.
function Client:wait()
  return self._core:wait()
end

--- Number of transfers in flight.
function Client:running()
  return self._core:running()
end

--- Lets libuv drive this client's transfers (Neovim: `gl:attach(vim.uv or
-- vim.loop)`). @param uv the luv module @tparam[opt] table opts `schedule`
function Client:attach(uv, opts)
  return async.attach(self, uv, opts)
end

--- Replaces the credential (used by OAuth refresh).
-- @tparam string kind "token", "oauth_token" or "job_token"
-- @tparam string token
function Client:_set_token(kind, token)
  local header = ({ token = "PRIVATE-TOKEN", oauth_token = "Authorization",
                    job_token = "JOB-TOKEN" })[kind]
  if not header then error("_set_token: unknown credential kind " .. tostring(kind), 2) end
  self._core:set_token(header, token)
  self._ctx.set_secret(token)
end

--- Closes the client: transfers in flight are cancelled, connections
-- closed. Idempotent; also run by the garbage collector. Safe from any
-- callback (sink, progress, log, request callback, OAuth hook): the client
-- refuses further use at once, and what libcurl is still using is freed
-- as soon as it has returned; the request that was running then fails
-- with kind `"canceled"` ("the client was closed").
function Client:close()
  async.detach(self)
  self._core:close()
  -- a coroutine of gitlab.async.run waiting on a transfer of this client
  -- gets a "canceled" error instead of waiting forever
  local waiters = self._waiters
  if waiters and next(waiters) then
    self._waiters = nil
    local first
    for done in pairs(waiters) do
      local ok, err = pcall(done, nil, { kind = "canceled", message = "the client was closed" })
      if not ok and first == nil then first = err end
    end
    if first ~= nil then error(first, 0) end
  end
end
Client.__close = Client.close

return Client
