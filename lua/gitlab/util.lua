--- Small helpers shared by the Lua modules (internal).
-- @module gitlab.util
local M = {}

--- The keys of `t`, sorted by their string form (stable output for
-- queries, form fields and messages).
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

--- "%d" of an integral number (a computed float 42.0, or a number of
-- another JSON decoder, must not print as "42.0" in a URL or a form), else nil.
function M.int_string(v)
  if type(v) == "number" and v == math.floor(v) and v > -2^53 and v < 2^53 then
    return ("%d"):format(v)
  end
  return nil
end

--- `s` with every plain (not pattern) occurrence of `secret` replaced by
-- "[REDACTED]"; `s` itself when there is none, or when `secret` is too
-- short (under 4 bytes) to be told from ordinary text.
function M.redact_secret(s, secret)
  if type(s) ~= "string" or type(secret) ~= "string" or #secret < 4 then return s end
  local out, i = {}, 1
  while true do
    local a, b = s:find(secret, i, true)
    if not a then break end
    out[#out + 1] = s:sub(i, a - 1)
    out[#out + 1] = "[REDACTED]"
    i = b + 1
  end
  if i == 1 then return s end
  out[#out + 1] = s:sub(i)
  return table.concat(out)
end

-- gitlab.core on first use of the two tests below: the catalog compiler
-- (gitlab.resources.compile) loads this module where no C core is built
local core
local function c_core()
  core = core or require("gitlab.core")
  return core
end

--- Is `s` a "." or ".." path segment, literal or percent-encoded in any
-- mix of cases ("%2e", ".%2E", "%2E%2e")? libcurl and servers remove dot
-- segments (RFC 3986 section 5.2.4), some only after percent-decoding, so
-- "/projects/1/../../user" reaches another endpoint with the credential.
-- The one test of the Lua layer: raw request paths and next-page links
-- (gitlab.client.request), catalog paths and ids (gitlab.resources.path),
-- and the names gitlab.files puts into paths all use it. A name that is
-- an encoded dot segment is refused too, although it is sent encoded once
-- more: a server or proxy that decodes twice would resolve it. In C
-- (`core.is_dot_segment`, src/http.c), with `has_dot_segment`.
-- @param s a segment (anything but a string is not one)
-- @treturn boolean
function M.is_dot_segment(s)
  return c_core().is_dot_segment(s)
end

--- Has `s` a dot segment (`is_dot_segment`) between its slashes, the
-- first and the last segment included? With `url`, only its path counts
-- (what precedes "?" and "#"); a name is tested whole (a "?" in it is
-- sent encoded). In C (`core.has_dot_segment`): it runs on every request
-- (gitlab.client.request calls the core's directly), where two plain
-- searches in Lua cost more than the rest of building it.
-- @param s (anything but a string has none)
-- @tparam[opt] boolean url `s` is a URL
-- @treturn boolean
function M.has_dot_segment(s, url)
  return c_core().has_dot_segment(s, url)
end

--- A shallow copy of `t` (a new empty table for nil).
-- @tparam[opt] table t
-- @treturn table
--- Checks the `max_items` and `max_pages` of a list call's options:
-- integers >= 0 (0: nothing at all; NaN is none). Raises
-- "`where`: max_items must be an integer >= 0, got ..." at `level`, counted
-- as `error` counts from the function calling `check_limits`.
-- @tparam table|nil opts
-- @tparam string where the public function's name, for the message
-- @tparam integer level
function M.check_limits(opts, where, level)
  if type(opts) ~= "table" then return end
  for _, k in ipairs{ "max_pages", "max_items" } do
    local v = opts[k]
    if v ~= nil and (type(v) ~= "number" or v ~= math.floor(v) or v < 0) then
      error(("%s: %s must be an integer >= 0, got %s"):format(where, k,
        type(v) == "string" and ("%q"):format(v) or tostring(v)), level + 1)
    end
  end
end

function M.copy(t)
  local c = {}
  if t then for k, v in pairs(t) do c[k] = v end end
  return c
end

--- A new table with the fields of `a`, then those of `b` over them
-- (either may be nil).
-- @tparam[opt] table a
-- @tparam[opt] table b
-- @treturn table
function M.merge(a, b)
  local c = M.copy(a)
  if b then for k, v in pairs(b) do c[k] = v end end
  return c
end

--- A deep copy of `v`: tables are copied all the way down (keys as they
-- are, metatables not), a table reached twice is copied once, so cycles
-- hold; other values are returned as they are.
-- @param v
-- @tparam[opt] table seen copies made so far (internal)
function M.deepcopy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local c = {}
  seen[v] = c
  for k, x in pairs(v) do c[k] = M.deepcopy(x, seen) end
  return c
end

--- The API base and the instance root of a configured URL: trailing
-- slashes dropped, then "/api/v4" appended unless it ends the URL
-- ("https://h/" and "https://h/api/v4/" both give "https://h/api/v4",
-- "https://h"). The one rule for `gitlab.new` and the OAuth endpoints.
-- @tparam string url
-- @treturn string base (ends in "/api/v4")
-- @treturn string root (the instance, where /oauth/... lives)
function M.api_urls(url)
  url = url:gsub("/+$", "")
  if url:sub(-7) == "/api/v4" then return url, url:sub(1, -8) end
  return url .. "/api/v4", url
end

return M
