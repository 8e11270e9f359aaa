--- Request building: checks a call's options and path and turns them into
-- the table the core sends (URL, query, headers, body).
-- @module gitlab.client.request

local core = require("gitlab.core")
local options = require("gitlab.options")
-- gitlab.util's test, from the core itself: it runs on every request
local has_dot_segment = core.has_dot_segment

local M = {}

-- the request options, their types and words: gitlab.options.request
local REQUEST_OPTS = options.request_by_name

-- What a call without options sees; never written to.
local EMPTY = setmetatable({}, { __newindex = function() error("internal: EMPTY is read-only", 2) end })

M.EMPTY = EMPTY

--- Checks the options of a request (unknown keys and wrong types raise at
-- the position of whoever called `fname`).
-- @tparam string fname the public function, for the message
-- @tparam[opt] table opts
-- @treturn table opts, or a shared empty table
function M.check_opts(fname, opts)
  if opts == nil then return EMPTY end
  if type(opts) ~= "table" then
    error(fname .. ": options must be a table, got " .. type(opts), 3)
  end
  options.check(fname, opts, REQUEST_OPTS, 3)   -- not a tail call: the level counts this frame
  return opts
end

-- request options handed to the core as they are
local PASSED = options.REQUEST_CORE

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true,
                  HEAD = true, OPTIONS = true }

--- A "." or ".." segment, literal or percent-encoded ("%2E%2E"), in the
-- path of `url` (before "?" or "#"): the test is gitlab.util's
-- (`has_dot_segment`, `is_dot_segment`), for raw paths and next-page links.
-- @tparam string url
-- @treturn boolean
function M.has_dot_segment(url)
  return has_dot_segment(url, true)
end

local byte = string.byte

--- Builds a request: the core request table, the path shown in errors
-- (redacted when an error is built) and the method in upper case.
-- Invalid arguments raise at the position of whoever called `fname`.
-- @param self the client
-- @tparam string method
-- @tparam string path relative to the API (or the root), or a URL
-- @tparam table opts checked by `check_opts`
-- @tparam string fname the public function, for the message
-- @return req, shown, method
function M.build(self, method, path, opts, fname)
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
  local c1 = byte(path, 1)
  if (c1 == 104 or c1 == 72) and path:find("^[hH][tT][tT][pP][sS]?://") then
    url = path
  else
    if c1 ~= 47 then path = "/" .. path end   -- "/" optional
    url = (opts.root and self._ctx.root or self._ctx.base) .. path
  end
  if has_dot_segment(url, true) then
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
  if opts == EMPTY then return req, shown, method end   -- no body, nothing passed
  for i = 1, #PASSED do
    local k = PASSED[i]
    local v = opts[k]
    if v ~= nil then req[k] = v end
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

return M
