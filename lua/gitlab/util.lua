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

return M
