#!/usr/bin/env lua5.4
-- A CI-style automation: label unlabelled open issues "needs-triage" and
-- leave a note on each, then report what changed. Uses the raw API for the
-- search, the resource layer for the edits, and shows error handling.
--
--   GITLAB_TOKEN=glpat-... lua5.4 examples/triage.lua group/project
local gitlab = require("gitlab")

local project = arg[1] or os.getenv("GITLAB_PROJECT") or "group/proj"
local gl = gitlab.from_env{ retries = 3 }

-- raw layer: path ids are encoded as one segment
local path = "/projects/" .. gitlab.encode(project) .. "/issues"
local issues, err = gl:all(path, { state = "opened" }, { max_items = 500 })
if not issues then
  io.stderr:write("listing failed: ", tostring(err), "\n")
  os.exit(1)
end

local changed = 0
for _, raw in ipairs(issues) do
  if type(raw.labels) ~= "table" or #raw.labels == 0 then
    local issue = gl.projects:lazy(project).issues:get(raw.iid)
    issue.labels = { "needs-triage" }
    local ok, serr = issue:save()            -- sends only the changed field
    if not ok then
      io.stderr:write("could not label #", tostring(raw.iid), ": ", tostring(serr), "\n")
    else
      issue.notes:create{ body = "Labelled `needs-triage` by the triage bot." }
      changed = changed + 1
      print(("labelled #%s %s"):format(raw.iid, raw.title))
    end
  end
end
print(("%d of %d open issue(s) labelled"):format(changed, #issues))
