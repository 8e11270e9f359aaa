#!/usr/bin/env lua5.4
-- Lists a project's open issues with their labels, oldest first.
--
--   GITLAB_URL=https://gitlab.example.com GITLAB_TOKEN=glpat-... \
--     lua5.4 examples/issues.lua group/project [label]
local gitlab = require("gitlab")

local project = arg[1] or os.getenv("GITLAB_PROJECT") or "group/proj"
local label = arg[2]

local gl = gitlab.from_env()
local p, err = gl.projects:get(project)
if not p then
  io.stderr:write("cannot read ", project, ": ", tostring(err), "\n")
  os.exit(1)
end

print(("Open issues of %s (%s)"):format(p.path_with_namespace, p.web_url or gl.url))
local n = 0
-- list() pages through everything: no silent 20-item first page
for issue in p.issues:list{ state = "opened", labels = label, order_by = "created_at", sort = "asc" } do
  n = n + 1
  local labels = type(issue.labels) == "table" and table.concat(issue.labels, ", ") or ""
  print(("#%-5s %-50s %s"):format(issue.iid, issue.title, labels ~= "" and "[" .. labels .. "]" or ""))
end
print(("%d open issue(s)"):format(n))
