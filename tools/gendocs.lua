--- Generate docs/reference.md from the resource catalog.
-- Usage: lua5.4 tools/gendocs.lua > docs/reference.md

package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local resources = require("gitlab.resources.compile")

local out = {}
local function w(s) out[#out + 1] = s or "" end

w("# lua-gitlab API reference")
w()
w("Generated from the resource catalog (`lua/gitlab/resources/kinds/*.lua`) by")
w("`make docs`; do not edit by hand. Every REST path is relative to `/api/v4`;")
w("`:name` is a path parameter (encoded as one segment, so `group/proj` and")
w("`feature/x` work as is), `*name` a parameter whose slashes are kept.")
w()
w("## Conventions")
w()
w([[
- **Managers** (`gl.projects`, `project.issues`, ...) stand for a collection:
  - `mgr:list(query)` returns a lazy list: `for x in mgr:list{...} do`,
    `mgr:list():all()`, `mgr:list():first(n)`, `mgr:list():pages()`; it pages
    through every item (never just the first page) and raises the error
    object if a page fails.
  - `mgr:get(id, query)`, `mgr:create(attrs)`, `mgr:update(id, attrs)`,
    `mgr:delete(id, params)` return `object, resp` (or `true, resp`), and
    `nil, err` on failure (`err.status`, `err.message`, `tostring(err)`).
  - `mgr:lazy(id)` makes an object without a request, to reach its
    sub-resources and actions: `gl.projects:lazy("group/proj").issues:list()`.
  - Single resources (no id: `settings`, `push_rule`, `repository`) take no id:
    `p.push_rule:get()`, `gl.settings:update{...}`, `p.repository:tree()`.
- **Objects** are the decoded JSON tables: fields are plain fields
  (`mr.title`, `mr.author.username`, `pairs(mr)`). Methods come from the
  metatable:
  - `obj:save(extra)` sends only the fields changed since the object was
    loaded (deep comparison, so `table.insert(issue.labels, "bug")` counts),
    plus `extra`; it sends nothing when nothing changed.
  - `obj:delete(params)`, `obj:refresh(query)`, `obj:changed()` (what save would send), `obj:rest_path()`,
    `obj:totable()`.
  - A data field shadows a method of the same name (a loaded job has an
    `artifacts` array; an issue has `time_stats`). The method stays reachable
    with `obj:call("artifacts", {...})`, `require("gitlab.resources").call(obj,
    "artifacts", ...)` or `getmetatable(obj).methods.artifacts(obj, ...)`, and
    a sub-resource with `obj:manager("name")`.
- **Actions** take one positional argument per path parameter, then a params
  table (query string for GET/HEAD/DELETE, JSON body otherwise), then client
  options. `list` actions return a lazy list; `download` actions return the
  body, or stream it to a file with `{ output = "file" }`; `upload` actions
  take `{ file = "path" }`.
]])

-- group routes by section, keeping the walk order
local sections, order = {}, {}
for _, r in ipairs(resources.routes()) do
  local key = r.section .. "\0" .. r.section_path
  local s = sections[key]
  if not s then
    s = { name = r.section, path = r.section_path, kind = r.kind, doc = r.doc, routes = {} }
    sections[key] = s
    order[#order + 1] = s
  end
  s.routes[#s.routes + 1] = r
end

w("## Index")
w()
for _, s in ipairs(order) do
  if s.name == "gl" then w("- [client methods](#client-methods)")
  else
    local anchor = (s.name .. " " .. s.path):lower():gsub("[^%w_ %-]", ""):gsub(" ", "-")
    w(("- [%s](#%s) `%s`"):format(s.name, anchor, s.path))
  end
end
w()

for _, s in ipairs(order) do
  if s.name == "gl" then
    w("## Client methods")
    w()
    w("Top-level actions are client methods (`gl:markdown{ text = \"*x*\" }`). The client")
    w("also has `gl:user()` and `gl:version()` (plain tables; `gl.current_user:get()` gives")
    w("the user as an object) and `gl:graphql(query, variables)`; `gl:search(scope, search,")
    w("query)`, or `gl:search{ scope =, search =, ... }`, is a lazy list over `GET /search`.")
  else
    w(("## %s `%s`"):format(s.name, s.path))
    w()
    local note
    for _, r in ipairs(s.routes) do note = note or r.note end
    w(("Kind `%s`.%s%s"):format(s.kind, s.doc and (" " .. s.doc) or "",
      note and (" Listed " .. note .. ".") or ""))
  end
  w()
  w("| call | REST | returns |")
  w("|---|---|---|")
  for _, r in ipairs(s.routes) do
    w(("| `%s` | `%s %s` | %s |"):format(r.call:gsub("|", "\\|"), r.method, r.path, r.returns or ""))
  end
  w()
end

io.write(table.concat(out, "\n"))
