#!/usr/bin/env lua5.4
-- Shows the latest pipelines of a project and their jobs, fetching the job
-- lists of all pipelines concurrently with the non-blocking API.
--
--   GITLAB_TOKEN=glpat-... lua5.4 examples/pipelines.lua group/project
local gitlab = require("gitlab")

local project = arg[1] or os.getenv("GITLAB_PROJECT") or "group/proj"
local gl = gitlab.from_env()
local id = gitlab.encode(project)

local pipelines, err = gl:get("/projects/" .. id .. "/pipelines", { per_page = 5 })
if not pipelines then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end

local jobs = {}
for _, pl in ipairs(pipelines) do
  gl:request_async("GET", ("/projects/%s/pipelines/%s/jobs"):format(id, pl.id), nil,
    function(jerr, list)
      jobs[pl.id] = jerr and { error = tostring(jerr) } or list
    end)
end
gl:wait()   -- every callback has run

for _, pl in ipairs(pipelines) do
  print(("pipeline %s on %s: %s"):format(pl.id, pl.ref or "?", pl.status or "?"))
  local list = jobs[pl.id]
  if list.error then
    print("  jobs: " .. list.error)
  else
    for _, job in ipairs(list) do
      print(("  %-20s %-10s %s"):format(job.name or "?", job.stage or "", job.status or ""))
    end
  end
end
