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

--- "%d" of an integral number (cjson decodes 42 as 42.0, which must not
-- print as "42.0" in a URL or a form), else nil.
function M.int_string(v)
  if type(v) == "number" and v == math.floor(v) and v > -2^53 and v < 2^53 then
    return ("%d"):format(v)
  end
  return nil
end

return M
