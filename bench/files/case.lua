--- One case of the 1 GiB streaming benchmark (bench/files/run.sh): runs a
-- transfer and prints one tab-separated line:
--   case  bytes  seconds  rss_before_kib  peak_rss_kib  check
-- Peak RSS is the kernel's high-water mark of this process (VmHWM), so it
-- counts everything: interpreter, libcurl, TLS, buffers.
--
--   lua5.4 bench/files/case.lua CASE HTTP_URL OTHER_URL SIZE WORKDIR [SHA256]
-- CASE: download_file | download_sink | upload_multipart | upload_put

local name, http, other, size, work, want = ...
size = tonumber(size)
if not (name and http and other and size and work) then
  io.stderr:write("usage: case.lua CASE HTTP_URL OTHER_URL SIZE WORKDIR [SHA256]\n")
  os.exit(2)
end

local gitlab = require("gitlab")
local core = require("gitlab.core")

local function status_kib(field)
  local f = assert(io.open("/proc/self/status", "r"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+)")) or -1
end

local function sha256_file(path)
  local p = assert(io.popen("sha256sum '" .. path .. "'"))
  local out = p:read("*a")
  p:close()
  return out:match("^(%x+)")
end

local gl = gitlab.new{ url = http, token = "glpat-root", timeout = 60 }
-- a warm-up request loads the TLS/HTTP machinery before the baseline
assert(gl:get("/version"))
collectgarbage()
local before = status_kib("VmRSS")

-- The object storage blob the API redirects to, like a job's artifacts.
local object = other .. "/objects/bench/blob.bin?size=" .. ("%d"):format(size) .. "&seed=bench"

local t0 = core.now()
local ok, res, check, secs
local function stop() secs = core.now() - t0 end
if name == "download_file" then
  local out = work .. "/download.bin"
  ok, res = gl:download("/__redirect", { query = { to = object }, output = out })
  stop()
  if ok then
    local d = assert(gl:request("GET", object .. "&digest=1"))
    check = (sha256_file(out) == d.sha256) and "sha256 ok" or "SHA256 MISMATCH"
    os.remove(out)
  end
elseif name == "download_sink" then
  local n = 0
  ok, res = gl:download("/__redirect", { query = { to = object }, sink = function(chunk)
    n = n + #chunk
  end })
  stop()
  if ok then check = (n == size) and "bytes ok" or ("GOT " .. n .. " BYTES") end
elseif name == "upload_multipart" then
  ok, res = gl:upload(other .. "/bench/multipart", { file = work .. "/upload.bin" })
  stop()
  if ok then
    local f = ok.files and ok.files[1]
    check = (f and f.size == size and f.sha256 == want) and "sha256 ok" or "SHA256 MISMATCH"
  end
elseif name == "upload_put" then
  ok, res = gl:request("PUT", other .. "/bench/raw", { file = work .. "/upload.bin" })
  stop()
  if ok then check = (ok.size == size and ok.sha256 == want) and "sha256 ok" or "SHA256 MISMATCH" end
else
  io.stderr:write("unknown case ", name, "\n")
  os.exit(2)
end
if not ok then
  io.stderr:write(name, ": ", tostring(res), "\n")
  check = "FAILED"
end
gl:close()
print(table.concat({ name, ("%d"):format(size), ("%.2f"):format(secs), before,
  status_kib("VmHWM"), check }, "\t"))
