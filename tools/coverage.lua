--- Endpoint coverage of the resource catalog.
-- Usage: lua5.4 tools/coverage.lua [endpoints.tsv] [--missing] [--routes]
-- Reads ../shared/reference/gitlab-endpoints.tsv (relative to the repository
-- root) unless a path is given, and lua/gitlab/resources/exclusions.tsv.
-- Prints "covered/total" and exits non-zero below the 95% target.

package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local resources = require("gitlab.resources")

local TARGET = 0.95
local tsv_path = "../shared/reference/gitlab-endpoints.tsv"
local show_missing, show_routes = false, false
for _, a in ipairs(arg) do
  if a == "--missing" then show_missing = true
  elseif a == "--routes" then show_routes = true
  else tsv_path = a end
end

local function read_tsv(path)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local rows, header = {}, nil
  for line in f:lines() do
    if line ~= "" and line:sub(1, 1) ~= "#" then
      local cols = {}
      for c in (line .. "\t"):gmatch("(.-)\t") do cols[#cols + 1] = c end
      if not header then header = cols
      else
        local row = {}
        for i, h in ipairs(header) do row[h] = cols[i] end
        rows[#rows + 1] = row
      end
    end
  end
  f:close()
  return rows
end

local endpoints, err = read_tsv(tsv_path)
if not endpoints then
  io.stderr:write("coverage: cannot read ", tsv_path, ": ", tostring(err), "\n")
  os.exit(2)
end
local exclusions = read_tsv("lua/gitlab/resources/exclusions.tsv") or {}

local reached = {}
for _, r in ipairs(resources.routes()) do
  local key = r.method .. " " .. resources.shape(r.path)
  reached[key] = reached[key] or r
end

local excluded = {}
for _, e in ipairs(exclusions) do
  if not e.reason or e.reason == "" then
    io.stderr:write("coverage: exclusion without a reason: ", e.method, " ", e.path, "\n")
    os.exit(2)
  end
  excluded[e.method .. " " .. resources.shape(e.path)] = e.reason
end

local covered, excl, missing = 0, 0, {}
local stale = {}
for _, row in ipairs(endpoints) do
  local key = row.method .. " " .. resources.shape(row.path)
  if reached[key] then
    covered = covered + 1
    if show_routes then print(("%-7s %-70s %s"):format(row.method, row.path, reached[key].call)) end
    if excluded[key] then stale[#stale + 1] = key end
  elseif excluded[key] then
    excl = excl + 1
  else
    missing[#missing + 1] = row.method .. "\t" .. row.path
  end
end

local total = #endpoints
if show_missing then
  for _, m in ipairs(missing) do print("missing", m) end
end
for _, s in ipairs(stale) do
  io.stderr:write("coverage: excluded but covered (drop the exclusion): ", s, "\n")
end
local ratio = covered / total
print(("coverage: %d/%d endpoints reachable (%.1f%%), %d excluded with a reason, %d missing")
  :format(covered, total, ratio * 100, excl, #missing))
if ratio < TARGET then
  print(("coverage: below the %.0f%% target"):format(TARGET * 100))
  os.exit(1)
end
