--- Soak run (a benchmark, not a test): one client against the fake GitLab
-- server for a long series of requests, sampling resident memory, the Lua
-- heap and open file descriptors, then many concurrent async requests.
--
--     make soak                                    -- 100,000 + 1,000
--     make soak SOAK_ARGS="--requests 20000 --concurrent 500"
--
-- "Flat" means: after warm-up (the first sample) RSS grows by less than
-- --max-growth MiB over the rest of the run and the descriptor count does
-- not grow. Exit status 1 when not flat or any request failed.

local function opt(name, default)
  for i = 1, #arg - 1 do
    if arg[i] == "--" .. name then return tonumber(arg[i + 1]) or arg[i + 1] end
  end
  return default
end

local N = opt("requests", 100000)
local CONC = opt("concurrent", 1000)
local SAMPLES = opt("samples", 10)
local MAX_GROWTH = opt("max-growth", 4)   -- MiB

do   -- spec/helpers.lua starts the fake server
  local src = debug.getinfo(1, "S").source
  local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/[^/]*$") or "bench/soak"
  local root = dir:match("^(.*)/bench/soak$") or "."
  package.path = root .. "/spec/?.lua;" .. root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
end
local helpers = require("helpers")

local function status()
  local f = assert(io.open("/proc/self/status", "r"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")), tonumber(s:match("VmHWM:%s*(%d+)"))
end

local PID = helpers.exec("echo $PPID"):match("%d+")   -- the shell's parent: us

local function fds()
  local p = io.popen("ls /proc/" .. PID .. "/fd | wc -l")
  local n = tonumber(p:read("*a"))
  p:close()
  return n
end

local function now()
  local f = io.open("/proc/uptime", "r")
  local t = f:read("*n")
  f:close()
  return t
end

local function mib(kib) return kib / 1024 end

local srv = helpers.server()
helpers.reset()
local gl = helpers.client{ url = srv.http, retries = 2 }

io.write(("soak: lua-gitlab on %s, %d requests on one client, then %d concurrent async\n\n")
  :format(jit and jit.version or _VERSION, N, CONC))
io.write(("%10s %10s %10s %10s %6s %10s\n"):format("requests", "RSS MiB", "peak MiB", "Lua KiB", "fds", "req/s"))

local every = math.max(1, math.floor(N / SAMPLES))
local rows, errors = {}, 0
local t0, tlast = now(), now()
for i = 1, N do
  local data, err = gl:get("/user")
  if not data or data.username ~= "root" then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("request ", i, ": ", tostring(err), "\n") end
  end
  if i % every == 0 then
    local rss, hwm = status()
    local t = now()
    local row = { i = i, rss = rss, hwm = hwm, lua = collectgarbage("count"), fds = fds(),
                  rate = every / math.max(t - tlast, 1e-3) }
    tlast = t
    rows[#rows + 1] = row
    io.write(("%10d %10.1f %10.1f %10.0f %6d %10.0f\n"):format(row.i, mib(row.rss), mib(row.hwm),
      row.lua, row.fds, row.rate))
    io.flush()
  end
end
local elapsed = now() - t0
local first, last = rows[1], rows[#rows]
local growth = mib(last.rss - first.rss)
local fd_growth = last.fds - first.fds
local flat = growth < MAX_GROWTH and fd_growth <= 0
io.write(("\nsequential: %d requests in %.1f s (%.0f req/s), %d errors; RSS %.1f -> %.1f MiB "
  .. "(%+.1f after warm-up), fds %d -> %d: %s\n"):format(N, elapsed, N / elapsed, errors,
  mib(first.rss), mib(last.rss), growth, first.fds, last.fds, flat and "flat" or "NOT FLAT"))

-- 1,000 requests in flight at once on the same client
local done, aerr, peak_fds = 0, 0, 0
local t1 = now()
for i = 1, CONC do
  gl:request_async("GET", "/projects/1", nil, function(err, data)
    done = done + 1
    if err or type(data) ~= "table" then
      aerr = aerr + 1
      if aerr <= 3 then io.stderr:write("async ", i, ": ", tostring(err), "\n") end
    end
  end)
end
local started = now() - t1
while gl:running() > 0 do
  gl:poll(0.05)
  local n = fds()
  if n > peak_fds then peak_fds = n end
end
local aelapsed = now() - t1
local rss, hwm = status()
io.write(("concurrent: %d async requests (queued in %.2f s) done in %.2f s (%.0f req/s), "
  .. "%d completed, %d errors; peak fds %d, RSS %.1f MiB (peak %.1f)\n"):format(CONC, started,
  aelapsed, CONC / aelapsed, done, aerr, peak_fds, mib(rss), mib(hwm)))
gl:close()
collectgarbage()
io.write(("after close: fds %d\n"):format(fds()))
os.exit((flat and errors == 0 and aerr == 0 and done == CONC) and 0 or 1)
