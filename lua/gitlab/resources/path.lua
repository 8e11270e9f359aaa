--- Request paths: the one path-segment encoder of the Lua layer and the
-- filling of catalog templates (`:name` one segment, `*name` slashes kept).
-- The resource layer and `gitlab.files` both build their paths here.
-- @module gitlab.resources.path

local core = require("gitlab.core")
local util = require("gitlab.util")
local int_string = util.int_string

local M = {}

local tostring, error, type = tostring, error, type
local concat = table.concat
local core_encode = core.encode

--- Percent-encode one path segment: everything but `[A-Za-z0-9_~-]`, so
-- "group/proj" stays one segment and a "." never reads as a format suffix
-- (doc/api/repository_files.md: "lib%2Fclass%2Erb"); an integral float
-- 42.0 is "42".
-- @tparam string|number s
-- @treturn string
function M.encode(s)
  return core_encode(int_string(s) or tostring(s))
end
local encode = M.encode

--- Whether `v` is a "." or ".." segment, literal or percent-encoded: a
-- path never gets one (the client refuses such paths too). The test is
-- gitlab.util's (`is_dot_segment`), shared with the client and gitlab.files.
M.dot = util.is_dot_segment
local dot = M.dot

--- Raises the error for a dot segment `v`, at `level` above the caller.
function M.dot_error(v, level)
  error(("%q cannot be a path segment (a '.' or '..' segment reaches another endpoint)")
    :format(tostring(v)), level + 1)
end
local dot_error = M.dot_error

--- Whether `v` is, or has between its slashes, a dot segment
-- (gitlab.util's `has_dot_segment`).
M.has_dot = util.has_dot_segment

-- Encode a `*name` argument: slashes stay, each segment is encoded.
local function encode_keep_slashes(s, level)
  local parts = {}
  for seg in (tostring(s) .. "/"):gmatch("(.-)/") do
    if dot(seg) then dot_error(s, level + 1) end
    parts[#parts + 1] = encode(seg)
  end
  return concat(parts, "/")
end

--- Substitute the `:name` / `*name` placeholders of `tpl` with `args` in
-- order. Raises, `level` above the caller, on a missing argument or a dot
-- segment, and on a count that is not `n` (when given).
-- @tparam string tpl
-- @tparam table args
-- @tparam[opt] integer n
-- @tparam[opt=1] integer level
-- @treturn string
function M.fill(tpl, args, n, level)
  level = level or 1
  local lv = level + 3    -- from the gsub callback: callback, gsub, fill, caller
  local i = 0
  local out = tpl:gsub("([:*])([%a_][%w_]*)", function(sigil, name)
    i = i + 1
    local v = args[i]
    if v == nil then
      error(("missing argument %d (%s) for path '%s'"):format(i, name, tpl), lv)
    end
    if sigil == "*" then return encode_keep_slashes(v, lv) end
    if dot(v) then dot_error(v, lv) end
    return encode(v)
  end)
  if n and i ~= n then error("placeholder count mismatch in " .. tpl, level + 1) end
  return out
end

--- Resolve the "{a.b}" placeholders of a home template from an item's
-- fields; nil when one is missing, not a scalar, or a dot segment.
-- @tparam string tpl e.g. "/projects/{project_id}/issues"
-- @tparam table data
-- @treturn string|nil
function M.home(tpl, data)
  local ok = true
  local path = tpl:gsub("{([%w_.]+)}", function(expr)
    local v = data
    for part in expr:gmatch("[^.]+") do
      if type(v) ~= "table" then v = nil break end
      v = v[part]
    end
    if v == nil or type(v) == "table" or dot(v) then ok = false return "" end
    return encode(v)
  end)
  if ok then return path end
  return nil
end

return M
