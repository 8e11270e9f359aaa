--- Lists a project's issues and merge requests through GitLab's GraphQL
-- API, following each connection's cursor from page to page
-- (gl:graphql_nodes), the two lists side by side in coroutines
-- (gitlab.async.run).
--
--   GITLAB_URL=https://gitlab.example.com GITLAB_TOKEN=glpat-... \
--     lua5.4 examples/graphql_nodes.lua group/project [page size]
--
-- The page size is GraphQL's `first` (100 by default and at most).

-- Run from a checkout: find the library next to this script.
do
  local dir = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
  local build = jit and "build/jit" or "build/5.4"
  package.path = dir .. "/lua/?.lua;" .. dir .. "/lua/?/init.lua;" .. package.path
  package.cpath = dir .. "/" .. build .. "/?.so;" .. package.cpath
end

local gitlab = require("gitlab")

local project = arg[1] or os.getenv("GITLAB_PROJECT") or "group/proj"
local first = tonumber(arg[2]) or 100
local gl = gitlab.from_env()

-- The connection takes $after; graphql_nodes sets it to the endCursor of
-- the page before until pageInfo.hasNextPage is false.
local ISSUES = [[
query($path: ID!, $first: Int, $after: String) {
  project(fullPath: $path) {
    issues(first: $first, after: $after) {
      nodes { iid title state }
      pageInfo { hasNextPage endCursor }
    }
  }
}]]

-- the edges { node } form works as well
local MERGE_REQUESTS = [[
query($path: ID!, $first: Int, $after: String) {
  project(fullPath: $path) {
    mergeRequests(first: $first, after: $after) {
      edges { node { iid title sourceBranch targetBranch } }
      pageInfo { hasNextPage endCursor }
    }
  }
}]]

local vars = { path = project, first = first }

print(("Issues of %s, %d per request:"):format(project, first))
local n = 0
-- a failed page raises the error object (GraphQL errors included)
local ok, err = pcall(function()
  for issue in gl:graphql_nodes(ISSUES, vars, "project.issues") do
    n = n + 1
    print(("  #%-5s %-8s %s"):format(issue.iid, issue.state or "", issue.title))
  end
end)
if not ok then
  io.stderr:write("listing the issues failed: ", tostring(err), "\n")
  os.exit(1)
end
print(("%d issue(s)"):format(n))

-- Inside gitlab.async.run each page request yields instead of blocking:
-- both lists are fetched at the same time, gl:wait() drives them.
local results = {}
for name, spec in pairs{ issues = { ISSUES, "project.issues" },
                         merge_requests = { MERGE_REQUESTS, "project.mergeRequests" } } do
  gitlab.async.run(function()
    local list, lerr = gl:graphql_nodes_all(spec[1], vars, spec[2])
    results[name] = list or { error = lerr }
  end)
end
gl:wait()
for _, name in ipairs{ "issues", "merge_requests" } do
  local r = results[name]
  if r.error then
    io.stderr:write(name, ": ", tostring(r.error), "\n")
    os.exit(1)
  end
  print(("%s: %d"):format(name, #r))
end
for _, mr in ipairs(results.merge_requests) do
  print(("  !%-4s %s (%s -> %s)"):format(mr.iid, mr.title, mr.sourceBranch or "?", mr.targetBranch or "?"))
end
