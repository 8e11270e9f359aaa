--- Error objects returned (or raised by iterators) on failure.
--
-- Fields: `status` (HTTP status, nil for transport failures), `kind`
-- (`"http"`, `"auth"`, `"rate_limit"`, `"transport"`, `"timeout"`, `"tls"`,
-- `"dns"`, `"redirect"`, `"decode"` (invalid JSON, or a 2xx answer of
-- the wrong shape: an HTML page where an object belongs), `"pagination"`
-- (a next page that does not advance), `"callback"`, `"canceled"`, `"io"`,
-- `"too_large"`, `"graphql"`, `"oauth"` (an OAuth flow's own failure;
-- `code` is GitLab's error code or ours, e.g. `"invalid_state"`),
-- `"service"` (a 2xx answer whose body reports a failure, as GitLab's
-- services answer it: `{"status": "error", "message": ...}`)),
-- `message` (GitLab's message flattened to one line), `body`, `headers`, `method`, `url` and `path` (credentials
-- removed). `tostring(err)` gives `"GET /projects/42: 404 Project Not Found"`.
-- An answer with a JSON body also gives `json` (the decoded body) and,
-- when GitLab's message is structured, `details` (that table: validation
-- errors `{ title = { "can't be blank" } }`, invitation failures
-- `{ ["a@example.com"] = "Invite email has already been taken" }`); both
-- with the credential taken out like every other text.
-- Kind `"callback"`: a sink, progress or log function raised; `cause` is
-- the raised value, with the stack where it was raised (a string ends in
-- "stack traceback: ...", a table has a `traceback` field).
-- @module gitlab.errors

-- the decoder of successful answers reads error bodies too: an integer
-- stays an integer ("limit 3", not "limit 3.0")
local json_decode = require("gitlab.core").json_decode

local M = {}

local Error = {}
Error.__index = Error
M.Error = Error

local REASONS = {
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed", [406] = "Not Acceptable",
  [409] = "Conflict", [410] = "Gone", [412] = "Precondition Failed",
  [413] = "Payload Too Large", [414] = "URI Too Long", [415] = "Unsupported Media Type",
  [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout",
}
M.REASONS = REASONS

function Error.__tostring(e)
  local msg = e.message or e.kind or "error"
  -- an error of no request (an OAuth flow's own): "oauth: message (code)"
  if e.method == nil and e.path == nil and e.url == nil then
    local code = e.code
    if type(code) == "string" and tostring(msg):find(code, 1, true) == nil then
      msg = tostring(msg) .. " (" .. code .. ")"
    end
    return tostring(e.kind or "error") .. ": " .. tostring(msg)
  end
  local where = (e.method or "?") .. " " .. (e.path or e.url or "?")
  -- a 2xx status is no news: "GET /user: expected a JSON object, got ..."
  local st = e.status
  if type(st) == "number" and (st < 200 or st >= 300) and not msg:find("^" .. st) then
    msg = st .. " " .. msg
  end
  return where .. ": " .. msg
end

--- Is `v` an error object of this library?
function M.is_error(v)
  return getmetatable(v) == Error
end

--- Makes an iterator (`make()`), runs it to its end and collects what it
-- yields: the list, or `nil, err` when either raised an error object of
-- this library (anything else raised is raised again, as it was).
-- @tparam function make returns an iterator that raises error objects on failure
-- @return list or nil, err
function M.collect(make)
  local list = {}
  local ok, err = pcall(function()
    for v in make() do list[#list + 1] = v end
  end)
  if not ok then
    if M.is_error(err) then return nil, err end
    error(err, 0)
  end
  return list
end

local sorted_keys = require("gitlab.util").sorted_keys

-- GitLab's message shapes, flattened to one line:
--   "404 Project Not Found"; {"title": ["can't be blank"]};
--   ["a", "b"]; {"error": "..."}; nested tables.
local function flatten(v, depth)
  depth = depth or 0
  if depth > 8 then return "..." end
  local t = type(v)
  if t == "string" then return v end
  if t == "number" or t == "boolean" then return tostring(v) end
  if t ~= "table" then return nil end
  local parts = {}
  if #v > 0 then
    for _, x in ipairs(v) do parts[#parts + 1] = flatten(x, depth + 1) end
    return table.concat(parts, ", ")
  end
  for _, k in ipairs(sorted_keys(v)) do
    local s = flatten(v[k], depth + 1)
    if s then
      if k == "base" or k == "error" or k == "message" or type(k) ~= "string" then
        parts[#parts + 1] = s
      else
        parts[#parts + 1] = k .. " " .. s
      end
    end
  end
  return table.concat(parts, "; ")
end
M.flatten = flatten

local function one_line(s, max)
  s = s:gsub("[\r\n\t]+", " "):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  if #s > max then s = s:sub(1, max) .. "..." end
  return s
end

--- Message of an HTTP error answer, from whatever body it has; and the
-- body decoded, when it is JSON.
-- GitLab's shapes (doc/api/rest/troubleshooting.md, "Status code 400"):
-- `{"error": "title is missing"}` (Grape's `requires`), `{"message":
-- "400 Bad request - \"title\" not given"}` (with an `error` beside it
-- on the package endpoints), `{"message": {"bio": ["is too long ..."]}}`
-- (validation errors, nested for an embedded entity), OAuth's `{"error",
-- "error_description"}`.
-- @tparam number status
-- @tparam string body
-- @tparam table headers (lower-case keys)
-- @treturn string the message
-- @treturn[opt] table the decoded JSON body
function M.http_message(status, body, headers)
  local reason = REASONS[status] or "HTTP error"
  if body == nil or body:match("^%s*$") then return reason end
  local ctype = (headers and headers["content-type"] or ""):lower()
  local first = body:match("^%s*(.)")
  if first == "{" or first == "[" or ctype:find("json", 1, true) then
    local data = json_decode(body)
    if type(data) == "table" then
      local msg
      if data.error and data.error_description then
        msg = flatten(data.error) .. ": " .. flatten(data.error_description)
      elseif data.message ~= nil then
        msg = flatten(data.message)
      elseif data.error ~= nil then
        msg = flatten(data.error)
      elseif data.errors ~= nil then
        msg = flatten(data.errors)
      else
        msg = flatten(data)
      end
      if msg and msg ~= "" then return one_line(msg, 500), data end
      return reason, data
    end
  end
  if ctype:find("html", 1, true) or body:find("^%s*<") then
    local title = body:match("<[Tt][Ii][Tt][Ll][Ee]>(.-)</[Tt][Ii][Tt][Ll][Ee]>")
      or body:match("<[Hh]1>(.-)</[Hh]1>")
    title = title and one_line(title:gsub("<[^>]*>", ""), 120)
    if title and title ~= "" then
      return reason .. " (HTML error page: " .. title .. ")"
    end
    return reason .. " (HTML error page)"
  end
  return one_line(body, 300)
end

--- The structured part of a decoded error body: its `message` (or
-- `error`, or `errors`) when that is a table, else nil.
-- @param data the decoded body
-- @treturn table|nil
function M.details(data)
  if type(data) ~= "table" then return nil end
  for _, k in ipairs{ "message", "error", "errors" } do
    local v = data[k]
    if v ~= nil then
      if type(v) == "table" then return v end
      return nil
    end
  end
  return nil
end

--- The message of a service's failure hash: `{email = reason}` reads
-- "email: reason; ..." (keys sorted); text as it is.
-- @param m the `message` of the hash
-- @treturn string
function M.service_message(m)
  if type(m) == "table" and #m == 0 then
    local parts = {}
    for _, k in ipairs(sorted_keys(m)) do
      local s = flatten(m[k])
      if s and s ~= "" then parts[#parts + 1] = tostring(k) .. ": " .. s end
    end
    if #parts > 0 then return one_line(table.concat(parts, "; "), 500) end
  end
  local s = flatten(m)
  if s and s ~= "" then return one_line(s, 500) end
  return "the request failed"
end

--- Builds an error object.
-- @tparam table fields
function M.new(fields)
  return setmetatable(fields, Error)
end

return M
