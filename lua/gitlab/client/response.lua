--- Response shaping: the core's answer for one request becomes
-- `data, resp` or `nil, err` (a `gitlab.errors` object, the credential
-- taken out of every text it carries), with `opts.expect` checked.
-- @module gitlab.client.response

local core = require("gitlab.core")
local errors = require("gitlab.errors")

local M = {}

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

-- A copy of a decoded JSON value with the credential taken out of every
-- string, keys included (a server may echo what it was sent).
local function redact_tree(v, redact, depth)
  if type(v) == "string" then return redact(v) end
  if type(v) ~= "table" or depth > 100 then return v end
  local c = {}
  for k, x in pairs(v) do c[redact_tree(k, redact, depth + 1)] = redact_tree(x, redact, depth + 1) end
  return setmetatable(c, getmetatable(v))
end

-- The error of a 2xx answer whose body is a service's failure hash.
local function service_error(ctx, method, shown, resp, body)
  local json = redact_tree(body, ctx.redact, 0)
  local ok, text = pcall(core.json_encode, json)
  return errors.new{
    kind = "service", status = resp.status, method = method, url = resp.url,
    path = core.redact_url(shown), headers = error_headers(ctx, resp.headers), response = resp,
    message = ctx.redact(errors.service_message(json.message)),
    json = json, details = errors.details(json), body = ok and text or nil,
  }
end

--- Turns the core's answer into (data, resp) or (nil, err). The core hands
-- over resp (status, page numbers, next_url, rate_limit; headers built on
-- first use), then the body: a string, the decoded JSON when `decoded` is
-- true, or the raw string when `decoded` is the decoder's complaint; then
-- `service`, true when the decoded 2xx body is a service's failure hash
-- (src/result.c: is_service_error).
-- @tparam table ctx the client's context (`redact`)
-- @tparam string method in upper case
-- @tparam string shown the path as given (redacted when an error is built)
-- @tparam table opts the request's options (`expect`, `raw`, `follow`)
-- @return data, resp; or nil, err
function M.finish(ctx, method, shown, opts, resp, body, decoded, service)
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
    -- read from the redacted body: neither the message (cut at 500
    -- bytes) nor the decoded table can keep a piece of the credential
    local rbody = body and redact(body)
    local msg, json = errors.http_message(st, rbody, error_headers(ctx, resp.headers))
    if st == 405 and msg:lower():find("offset", 1, true) and
       msg:lower():find("pagination", 1, true) and not msg:find("keyset", 1, true) then
      msg = msg .. OFFSET_HINT
    end
    return nil, errors.new{
      status = st,
      kind = st == 401 and "auth" or st == 429 and "rate_limit" or "http",
      message = redact(msg), body = rbody, headers = resp.headers,
      json = json, details = errors.details(json),
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
  if decoded == true then
    -- a 2xx answer that reports a failure (GitLab's services: the core
    -- tells, see is_service_error in src/result.c for the endpoints) is an
    -- error here, in the client, so that the raw API (gl:post) and the
    -- resource layer alike never take it for success
    if service then return nil, service_error(ctx, method, shown, resp, body) end
    return body, resp
  end
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

return M
