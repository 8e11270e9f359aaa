--- Benchmark client: this library, through its public API only.
--
-- usage: lua5.4 bench/ours.lua w1|w2|w3 http://127.0.0.1:PORT
--        luajit bench/ours.lua w1|w2|w3 http://127.0.0.1:PORT
-- Loads lua/ from the source tree and gitlab/core.so from build/5.4 or
-- build/jit (matching the interpreter), uses the default configuration
-- (so W3 runs with the default prefetch concurrency) and prints
-- "<seconds> <count> <checksum>" (checksum: sum of ids or iids).
-- Exits with status 3 when the library cannot be loaded, so the runner
-- reports it as not available rather than as a failure.

local root = (arg and arg[0] or ""):match("^(.*)/bench/[^/]*$") or "."
local flavour = (type(jit) == "table") and "jit" or "5.4"
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath

local workload, url = arg[1], arg[2]
if not workload or not url then
  io.stderr:write("usage: ours.lua w1|w2|w3 URL\n")
  os.exit(2)
end

local clock = dofile(((arg and arg[0] or ""):match("^(.*)/[^/]*$") or ".") .. "/clock.lua")
local ok, gitlab = pcall(require, "gitlab")
if not ok or type(gitlab) ~= "table" or type(gitlab.new) ~= "function" then
  io.stderr:write("ours.lua: library not available: ", tostring(gitlab), "\n")
  os.exit(3)
end

local start = clock()
local gl = gitlab.new{ url = url, token = "glpat-bench" }
local count, sum = 0, 0
if workload == "w1" then
  for _ = 1, 2000 do
    local project, err = gl:get("/projects/1")
    if not project then
      io.stderr:write("ours.lua: ", tostring(err), "\n")
      os.exit(1)
    end
    count = count + 1
    sum = sum + project.id
  end
else
  for issue in gl:paginate("/projects/1/issues", { per_page = 100 }) do
    count = count + 1
    sum = sum + issue.iid
  end
end
io.write(string.format("%.6f %d %d\n", clock() - start, count, sum))
