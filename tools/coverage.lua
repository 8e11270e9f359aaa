--- Endpoint coverage of the resource catalog.
-- Usage: lua5.4 tools/coverage.lua [endpoints.tsv] [--missing] [--routes]
--                                   [--exclusions=exclusions.tsv]
--                                   [--pages] [--page=NAME] [--inventory=DIR]
--
-- Compares the catalog against docs/reference/gitlab-endpoints.tsv (the
-- endpoints python-gitlab, go-gitlab and gitbeaker cover; vendored, its first
-- line says where it comes from) unless another path is given, and reads
-- lua/gitlab/resources/exclusions.tsv: rows of the reference that the catalog
-- deliberately does not reach, each with its reason (GitLab's docs have no
-- such route, or document another verb or path for it).
--
-- Prints "covered/total endpoints reachable" and fails (exit 1) when
--   * reachable + excluded-with-a-reason falls below 98% of the reference,
--   * or reachable alone falls below 92% of it (exclusions cannot stand in
--     for a catalog that stopped growing). The reference is what the
--     clients cover, dead routes included: once the catalog follows GitLab's
--     docs, the routes GitLab removed or never had (a few percent of the
--     reference) are exclusions, and 92% is what the rest leaves reachable.
-- An exclusion without a reason, one the catalog now reaches, or one that
-- names no reference row is an error too (exit 2): exclusions stay exact.
--
-- The second figure is GitLab's docs themselves: docs/inventory/pages.tsv
-- names the 40 most used pages of doc/api, and docs/inventory/<page>.tsv
-- lists every endpoint one page documents (method, path as the page spells
-- it, the page's heading), under a first line naming the page and the
-- gitlabhq/gitlabhq commit it was read at. Every one must be reachable
-- (100%, exit 1 otherwise); a page without its inventory, or an inventory
-- without its provenance line, is an error (exit 2). --pages prints each
-- page's figure, --page=NAME checks one page only, --missing lists what is
-- left.

local ROOT = (arg and arg[0] or ""):match("^(.*)/tools/[^/]*$") or "."
package.path = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. package.path
local resources = require("gitlab.resources.compile")

local TARGET_ACCOUNTED = 0.98  -- reachable or excluded with a reason
local TARGET_REACHED = 0.92    -- reachable

local tsv_path = ROOT .. "/docs/reference/gitlab-endpoints.tsv"
local inventory_dir = ROOT .. "/docs/inventory"
local show_pages, only_page = false, nil
local exclusions_path = ROOT .. "/lua/gitlab/resources/exclusions.tsv"
local show_missing, show_routes = false, false
for _, a in ipairs(arg) do
  if a == "--missing" then show_missing = true
  elseif a == "--routes" then show_routes = true
  elseif a:match("^%-%-exclusions=") then exclusions_path = a:match("=(.*)$")
  elseif a == "--pages" then show_pages = true
  elseif a:match("^%-%-page=") then only_page = a:match("=(.*)$")
  elseif a:match("^%-%-inventory=") then inventory_dir = a:match("=(.*)$")
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

local function fail(code, ...)
  io.stderr:write("coverage: ", ...)
  io.stderr:write("\n")
  os.exit(code)
end

local endpoints, err = read_tsv(tsv_path)
if not endpoints then fail(2, "cannot read ", tsv_path, ": ", tostring(err)) end
local exclusions, xerr = read_tsv(exclusions_path)
if not exclusions then fail(2, "cannot read ", exclusions_path, ": ", tostring(xerr)) end

-- A doc path with a trailing slash ("PUT /projects/:id/", container_registry.md)
-- is the route without it.
local function key_of(row)
  return row.method .. " " .. resources.shape((row.path:gsub("(.)/+$", "%1")))
end

local reached = {}
for _, r in ipairs(resources.routes()) do
  local key = key_of(r)
  reached[key] = reached[key] or r
end

local excluded, in_reference = {}, {}
for _, row in ipairs(endpoints) do in_reference[key_of(row)] = true end
local bad = 0
for _, e in ipairs(exclusions) do
  local key = key_of(e)
  if not e.reason or e.reason == "" then
    io.stderr:write("coverage: exclusion without a reason: ", e.method, " ", e.path, "\n")
    bad = bad + 1
  elseif excluded[key] then
    io.stderr:write("coverage: exclusion listed twice: ", e.method, " ", e.path, "\n")
    bad = bad + 1
  elseif not in_reference[key] then
    io.stderr:write("coverage: exclusion names no reference row: ", e.method, " ", e.path, "\n")
    bad = bad + 1
  elseif reached[key] then
    io.stderr:write("coverage: excluded but covered (drop the exclusion): ",
      e.method, " ", e.path, " (", reached[key].call, ")\n")
    bad = bad + 1
  end
  excluded[key] = e.reason
end

local covered, excl, missing = 0, 0, {}
for _, row in ipairs(endpoints) do
  local key = key_of(row)
  if reached[key] then
    covered = covered + 1
    if show_routes then print(("%-7s %-70s %s"):format(row.method, row.path, reached[key].call)) end
  elseif excluded[key] then
    excl = excl + 1
  else
    missing[#missing + 1] = row.method .. "\t" .. row.path
  end
end

if show_missing then
  for _, m in ipairs(missing) do print("missing", m) end
end
local total = #endpoints
local reach, accounted = covered / total, (covered + excl) / total
print(("coverage: %d/%d endpoints reachable (%.1f%%), %d excluded with a reason "
  .. "(%.1f%% accounted for), %d missing")
  :format(covered, total, reach * 100, excl, accounted * 100, #missing))

-- The inventory of the 40 doc pages.
local inv_total, inv_reached, inv_missing, inv_pages = 0, 0, {}, 0
local pages, perr = read_tsv(inventory_dir .. "/pages.tsv")
if not pages then
  io.stderr:write("coverage: cannot read ", inventory_dir, "/pages.tsv: ", tostring(perr), "\n")
  bad = bad + 1
  pages = {}
end
for _, pg in ipairs(pages) do
  if not only_page or only_page == pg.page then
    local path = inventory_dir .. "/" .. pg.page .. ".tsv"
    local f = io.open(path, "r")
    local first = f and f:read("*l")
    if f then f:close() end
    local rows = f and read_tsv(path)
    if not rows then
      io.stderr:write("coverage: no inventory for ", pg.doc, " (", path, ")\n")
      bad = bad + 1
    elseif not (first and first:find("# " .. pg.doc .. " at gitlabhq/gitlabhq ", 1, true) == 1
                and first:match(" (%x+)$") and #first:match(" (%x+)$") == 40) then
      io.stderr:write("coverage: ", path, ": the first line must be '# ", pg.doc,
        " at gitlabhq/gitlabhq <commit>'\n")
      bad = bad + 1
    elseif #rows == 0 then
      io.stderr:write("coverage: ", path, " lists no endpoint\n")
      bad = bad + 1
    else
      inv_pages = inv_pages + 1
      local n, got = 0, 0
      for _, row in ipairs(rows) do
        n = n + 1
        if reached[key_of(row)] then got = got + 1
        else inv_missing[#inv_missing + 1] = pg.page .. "\t" .. row.method .. "\t" .. row.path end
      end
      inv_total, inv_reached = inv_total + n, inv_reached + got
      if show_pages then
        print(("inventory %-24s %3d/%-3d %s"):format(pg.page, got, n, first:match(" (%x+)$")))
      end
    end
  end
end
if show_missing then
  for _, m in ipairs(inv_missing) do print("missing (docs)", m) end
end
print(("inventory: %d/%d endpoints of %d doc pages reachable (%.1f%%), %d missing")
  :format(inv_reached, inv_total, inv_pages,
          inv_total > 0 and inv_reached / inv_total * 100 or 0, #inv_missing))
if only_page then os.exit(bad > 0 and 2 or (#inv_missing > 0 and 1 or 0)) end

if bad > 0 then os.exit(2) end
local below = false
if #inv_missing > 0 then
  print("coverage: the doc pages' inventory is not all reachable (--missing lists it)")
  below = true
end
if accounted < TARGET_ACCOUNTED then
  print(("coverage: below the %.0f%% target (reachable or excluded with a reason)")
    :format(TARGET_ACCOUNTED * 100))
  below = true
end
if reach < TARGET_REACHED then
  print(("coverage: below the %.0f%% floor of reachable endpoints"):format(TARGET_REACHED * 100))
  below = true
end
if below then os.exit(1) end
