#!/usr/bin/env lua5.4
-- Downloads CI job artifacts with a progress bar on the terminal. The
-- archive streams to disk (memory stays flat whatever its size), follows
-- GitLab's redirect to object storage without sending the token there,
-- and lands under its final name only once complete.
--
--   GITLAB_TOKEN=glpat-... lua5.4 examples/artifacts.lua group/proj 1234 [out.zip]
--   GITLAB_TOKEN=glpat-... lua5.4 examples/artifacts.lua group/proj main:build [out.zip]
--
-- The second argument is a job id, or REF:JOB_NAME for the latest
-- successful job of that name on a branch or tag. With --resume an
-- interrupted download carries on from out.zip.part next time.
--
-- Against the fake server of the test suite:
--   node spec/fake/server.js     # prints {"http":"http://127.0.0.1:PORT",...}
--   curl -X POST http://127.0.0.1:PORT/__admin/files/artifact \
--     -d '{"project":1,"job":7,"size":300000000}'
--   GITLAB_URL=http://127.0.0.1:PORT GITLAB_TOKEN=glpat-root \
--     lua5.4 examples/artifacts.lua 1 7 /tmp/artifacts.zip

-- Run from a checkout: find the library next to this script.
do
  local dir = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
  local build = jit and "build/jit" or "build/5.4"
  package.path = dir .. "/lua/?.lua;" .. dir .. "/lua/?/init.lua;" .. package.path
  package.cpath = dir .. "/" .. build .. "/?.so;" .. package.cpath
end

local gitlab = require("gitlab")
local files = require("gitlab.files")

local args, resume = {}, false
for _, a in ipairs(arg) do
  if a == "--resume" then resume = true else args[#args + 1] = a end
end
local project, which, out = args[1], args[2], args[3] or "artifacts.zip"
if not project or not which then
  io.stderr:write("usage: artifacts.lua PROJECT JOB_ID|REF:JOB_NAME [OUTPUT] [--resume]\n")
  os.exit(2)
end

-------------------------------------------------------------------------------
-- a progress bar on stderr, redrawn at most ten times a second
-------------------------------------------------------------------------------

local function human(n)
  local units = { "B", "KiB", "MiB", "GiB", "TiB" }
  local i = 1
  while n >= 1024 and i < #units do
    n = n / 1024
    i = i + 1
  end
  return i == 1 and ("%d %s"):format(n, units[i]) or ("%.1f %s"):format(n, units[i])
end

local function progress_bar(width)
  local clock = require("gitlab.core").now   -- monotonic seconds
  local started, last_draw, first_done = nil, -1, nil
  local spin = { "|", "/", "-", "\\" }
  local frames = 0
  local function draw(done, total, final)
    local now = clock()
    started = started or now
    first_done = first_done or done   -- bytes already there when resuming
    if not final and now - last_draw < 0.1 then return end
    last_draw = now
    local elapsed = now - started
    local rate = elapsed > 0 and (done - first_done) / elapsed or 0
    local line
    if total and total > 0 then
      local frac = math.min(done / total, 1)
      local fill = math.floor(frac * width + 0.5)
      local eta = rate > 0 and (total - done) / rate or nil
      line = ("[%s%s] %5.1f%%  %s / %s  %s/s%s"):format(("#"):rep(fill), ("."):rep(width - fill),
        frac * 100, human(done), human(total), human(rate),
        eta and not final and ("  eta %ds"):format(math.floor(eta + 0.5)) or "")
    else
      frames = frames + 1
      line = ("[%s] %s  %s/s"):format(spin[frames % #spin + 1], human(done), human(rate))
    end
    io.stderr:write("\r", line, "\027[K", final and "\n" or "")
    io.stderr:flush()
  end
  return draw
end

-------------------------------------------------------------------------------
-- download
-------------------------------------------------------------------------------

local gl = gitlab.from_env()
local draw = progress_bar(30)
local last_done, last_total = 0, nil
local opts = {
  output = out, resume = resume,
  progress = function(done, total)
    last_done, last_total = done, total
    draw(done, total, false)
  end,
}

local ok, resp
local ref, job_name = which:match("^(.+):([^:]+)$")
if ref then
  ok, resp = files.ref_artifacts(gl, project, ref, job_name, opts)
else
  local job = tonumber(which)
  if not job then
    io.stderr:write("the job must be a number or REF:JOB_NAME, got ", which, "\n")
    os.exit(2)
  end
  ok, resp = files.job_artifacts(gl, project, job, opts)
end

if last_done > 0 then draw(last_done, last_total, true) end
if not ok then
  io.stderr:write("download failed: ", tostring(resp), "\n")
  if resume then io.stderr:write("run again with --resume to carry on\n") end
  os.exit(1)
end
print(("saved %s (%s%s)"):format(out, human(resp.size or 0),
  resp.redirects and resp.redirects > 0 and ", served by object storage" or ""))
