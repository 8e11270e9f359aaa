--- Benchmark client: this library, through its public API only.
--
-- usage: lua5.4 bench/ours.lua WORKLOAD URL [CA_FILE]
--        luajit bench/ours.lua WORKLOAD URL [CA_FILE]
-- Loads lua/ from the source tree (or BENCH_LIB_ROOT) and gitlab/core.so
-- from its build/5.4 or build/jit (matching the interpreter) and uses the default configuration
-- (so W3 runs with the default prefetch concurrency, HTTPS with HTTP/2
-- through ALPN). CA_FILE, for https URLs, is given as the `ca_file` option.
--
--   w0              one GET of /projects/1, then exit (cold start)
--   w1, w1s         2,000 sequential `gl:get("/projects/1")`
--   w2, w2s, w3     `gl:paginate` over the 10,000 issues, per_page=100
--   w4              `gl:request_async` GET /projects/1 .. /1000, 16 in
--                   flight (each callback starts the next), run by `gl:wait()`
--   s-get           2,000 `gl:get("/projects/1/issues/1")`
--   s-get-unbounded the same with `max_body = math.huge` (no body bound)
--   s-post          2,000 `gl:post("/projects/1/issues", body)`: a request
--                   that is not idempotent, so libcurl calls the core's
--                   prerequest callback that refuses a second send
--   s-put           2,000 `gl:put("/projects/1/issues/1", body)`: the same
--                   body, idempotent, no prerequest callback
--   (BENCH_REQUESTS=N: N requests instead of 2,000 in the s-* workloads, for
--   runs under callgrind)
--
-- Prints "<seconds> <count> <checksum> <HTTP version>" (checksum: sum of ids
-- or iids; the HTTP version is `resp.http_version` of the answers, "mixed"
-- if they differ). Exits with status 3 when the library cannot be loaded, so
-- the runner reports it as not available rather than as a failure.

-- BENCH_LIB_ROOT: another source tree of the library (the runner's
-- BENCH_BASE), so the same workloads run against an older build
local root = os.getenv("BENCH_LIB_ROOT") or (arg and arg[0] or ""):match("^(.*)/bench/[^/]*$") or "."
local flavour = (type(jit) == "table") and "jit" or "5.4"
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath

local workload, url, ca_file = arg[1], arg[2], arg[3]
if not workload or not url then
  io.stderr:write("usage: ours.lua WORKLOAD URL [CA_FILE]\n")
  os.exit(2)
end

local clock = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/clock.lua")
local ok, gitlab = pcall(require, "gitlab")
if not ok or type(gitlab) ~= "table" or type(gitlab.new) ~= "function" then
  io.stderr:write("ours.lua: library not available: ", tostring(gitlab), "\n")
  os.exit(3)
end

local function fail(err)
  io.stderr:write("ours.lua: ", tostring(err), "\n")
  os.exit(1)
end

local start = clock()
local gl = gitlab.new{ url = url, token = "glpat-bench", ca_file = ca_file,
  max_body = workload == "s-get-unbounded" and math.huge or nil }
local count, sum, version = 0, 0, nil
local function seen(resp)
  local v = resp and resp.http_version
  if version == nil then version = v elseif version ~= v then version = "mixed" end
end

local function repeat_get(path, n)
  for _ = 1, n do
    local doc, resp = gl:get(path)
    if not doc then fail(resp) end
    count = count + 1
    sum = sum + (doc.iid or doc.id)
    seen(resp)
  end
end

local S_REQUESTS = tonumber(os.getenv("BENCH_REQUESTS")) or 2000
local ISSUE = { title = "Crash on start", description = "Steps: run `app --start`.",
  labels = "bug,priority::2" }

if workload == "w0" then
  repeat_get("/projects/1", 1)
elseif workload == "w1" or workload == "w1s" then
  repeat_get("/projects/1", 2000)
elseif workload == "w2" or workload == "w2s" or workload == "w3" then
  for issue in gl:paginate("/projects/1/issues", { per_page = 100 }) do
    count = count + 1
    sum = sum + issue.iid
  end
elseif workload == "w4" then
  local N, IN_FLIGHT, issued = 1000, 16, 0
  local function start_next()
    issued = issued + 1
    gl:request_async("GET", "/projects/" .. issued, nil, function(err, doc, resp)
      if err then fail(err) end
      count = count + 1
      sum = sum + doc.id
      seen(resp)
      if issued < N then start_next() end
    end)
  end
  for _ = 1, IN_FLIGHT do start_next() end
  gl:wait()
elseif workload == "s-get" or workload == "s-get-unbounded" then
  repeat_get("/projects/1/issues/1", S_REQUESTS)
elseif workload == "s-post" or workload == "s-put" then
  local method = workload == "s-post" and gl.post or gl.put
  local path = workload == "s-post" and "/projects/1/issues" or "/projects/1/issues/1"
  for _ = 1, S_REQUESTS do
    local doc, resp = method(gl, path, ISSUE)
    if not doc then fail(resp) end
    count = count + 1
    sum = sum + doc.iid
    seen(resp)
  end
else
  fail("unknown workload " .. workload)
end
local secs = clock() - start
if version == nil then   -- paginate hides its responses: ask once more, untimed
  local _, resp = gl:get("/projects/1")
  seen(resp)
end
io.write(string.format("%.6f %d %d %s\n", secs, count, sum,
  version == 2 and "2" or version == 1 and "1.1" or tostring(version)))
