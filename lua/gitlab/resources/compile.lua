--- Catalog compilation: the kinds of `gitlab.resources.catalog` (plain
-- data) become compiled kinds, placements and actions, with the checks
-- the catalog must pass; plus the introspection that reads them (routes
-- for `make coverage` and `make docs`, path templates for `gitlab.files`).
--
-- Pure data work: no client and no C core, so the tools read the catalog
-- without a build.
-- @module gitlab.resources.compile

local catalog = require("gitlab.resources.catalog")
local sorted_keys = require("gitlab.util").sorted_keys

local M = {}

local pairs, ipairs, type, error, tostring = pairs, ipairs, type, error, tostring
local concat = table.concat

------------------------------------------------------------------------
-- Path templates
------------------------------------------------------------------------

--- `sub` under `base` ("" or "." is base itself, a leading "/" is absolute).
-- @tparam string base
-- @tparam[opt] string sub
-- @treturn string
function M.join(base, sub)
  if sub == nil or sub == "" or sub == "." then return base end
  if sub:sub(1, 1) == "/" then return sub end
  if base == "" then return "/" .. sub end
  return base .. "/" .. sub
end
local join = M.join

--- Normalise a path template for comparison: every parameter becomes `:_`.
function M.shape(path)
  return (path:gsub("[:*][%a_][%w_]*", ":_"))
end

-- A home template ("/projects/{pipeline.project_id}/jobs") as a pattern
-- matching the manager paths there, templates (`:id`) or filled (`42`,
-- `group%2Fproj`): a placeholder segment matches any one segment.
local function home_pattern(home)
  return "^" .. home:gsub("[^/]+", function(seg)
    if seg:find("{", 1, true) then return "[^/]+" end
    return (seg:gsub("%p", "%%%0"))
  end) .. "$"
end

local function count_params(path)
  local n = 0
  for _ in path:gmatch("[:*][%a_][%w_]*") do n = n + 1 end
  return n
end

------------------------------------------------------------------------
-- Kinds, placements, actions
------------------------------------------------------------------------

local OPS = { L = "list", G = "get", C = "create", U = "update", D = "delete" }

local function parse_ops(s)
  local ops = {}
  for ch in (s or ""):gmatch("%a") do
    local op = OPS[ch]
    if not op then error("unknown op letter '" .. ch .. "'") end
    ops[op] = true
  end
  return ops
end

local FLAGS = { list = true, kind = true, self = true, raw = true, download = true, upload = true }

-- "METHOD path [flag,flag]" -> action record.
local function parse_action(name, spec)
  local method, path, flags = spec:match("^(%u+)%s+(%S+)%s*(%S*)$")
  if not method then error(("bad action spec %s = %q"):format(name, spec)) end
  if path == "." then path = "" end
  local a = { name = name, method = method, path = path, nparams = count_params(path) }
  for f in flags:gmatch("[^,]+") do
    local k, v = f:match("^(%w+)=(.+)$")
    if not k then k, v = f, true end
    if not FLAGS[k] then error(("bad action flag %s in %s = %q"):format(k, name, spec)) end
    a[k] = v
  end
  return a
end

local kinds = {}   -- compiled kinds by name

-- Built-in object methods (gitlab.resources.object): no action may take these names.
local BUILTIN = { save = true, delete = true, refresh = true, changed = true, call = true,
                  manager = true, rest_path = true, client = true, totable = true }

-- Manager methods (gitlab.resources.manager): no collection action may take these names.
local MANAGER_BUILTIN = { list = true, get = true, create = true, update = true,
                          delete = true, lazy = true, call = true }

local function compile_actions(tbl, reserved)
  local out = {}
  for name, spec in pairs(tbl or {}) do
    if reserved and reserved[name] then
      error(("catalog: collection action %s hides a manager method"):format(name))
    end
    out[name] = parse_action(name, spec)
  end
  return out
end

local compile_kind

--- A placement: where a kind hangs under its parent, with overrides.
-- Also makes the placements of action results (`list=kind`, `kind=k`).
-- @tparam string name
-- @tparam string|table p `"kind"` or `{ "kind", path =, ops =, ... }`
-- @treturn table
function M.placement(name, p)
  if type(p) == "string" then p = { p } end
  local kind = compile_kind(p[1])
  local pl = {
    name = name,
    kind = kind,
    path = p.path or kind.path or name,
    ops = p.ops and parse_ops(p.ops) or kind.ops,
    home = p.home or kind.home,
    id = p.id or kind.id,
    create_path = kind.create_path,
    bare = p.bare or false,
    -- the attribute of the parent object this sub-resource hangs under,
    -- instead of the parent's own address: { "note", via = "id" } under
    -- epic (notes.md: "The epics notes API uses the epic ID instead of
    -- epic IID")
    via = p.via,
    doc = p.doc,
    -- collection actions declared here; the kind's own join them only at
    -- the kind's home (see collection_at)
    own_collection = p.collection and compile_actions(p.collection, MANAGER_BUILTIN) or {},
  }
  if p.create_path ~= nil then pl.create_path = p.create_path or nil end
  if p.via ~= nil and (type(p.via) ~= "string" or not p.via:match("^[%a_][%w_]*$")) then
    error(("catalog: placement %s: via must name an attribute"):format(name))
  end
  return pl
end

-- Is a manager at mpath (a template or a filled path) the collection of
-- the kind of pl: at its home, or anywhere for a kind without one?
local function at_home(pl, mpath)
  if pl.bare then return false end
  local pat = pl.kind.home_pattern
  return pat == nil or mpath:match(pat) ~= nil
end

--- Collection action `name` of placement `pl` for a manager at `mpath`
-- (a template or a filled path): one declared on the placement, or one of
-- the kind's own where the manager is the kind's collection, at its home
-- (or anywhere for a kind without one). Elsewhere a manager lists the
-- kind's items without its collection actions: `merge_request.pipelines`
-- has no `latest`, `pipeline.jobs` no `artifacts_archive` (GitLab has
-- neither route).
-- @tparam table pl placement
-- @tparam string mpath
-- @tparam string name
-- @treturn table|nil the action
function M.collection_action(pl, mpath, name)
  local a = pl.own_collection[name]
  if a then return a end
  a = pl.kind.collection[name]
  if a and at_home(pl, mpath) then return a end
  return nil
end

--- Every collection action of placement `pl` at `mpath` (see
-- `collection_action`).
-- @treturn table name -> action
function M.collection_at(pl, mpath)
  local c = {}
  if at_home(pl, mpath) then
    for k, v in pairs(pl.kind.collection) do c[k] = v end
  end
  for k, v in pairs(pl.own_collection) do c[k] = v end
  return c
end

local raw_kinds = catalog.kinds

-- def: a definition outside the catalog (M._compile_kind); it is compiled
-- with the catalog's checks and not added to `kinds`.
compile_kind = function(name, def)
  local k = not def and kinds[name]
  if k then return k end
  local outside = def ~= nil
  def = def or raw_kinds[name]
  if not def then error("catalog: unknown kind '" .. tostring(name) .. "'") end
  k = {
    name = name,
    path = def.path,
    id = def.id or "id",
    single = def.single or false,
    ops = parse_ops(def.ops),
    update_method = def.update_method or "PUT",
    create_in_path = def.create_in_path or false,
    create_path = def.create_path,
    create_upload = def.create_upload or false,
    home = def.home,
    home_pattern = def.home and home_pattern(def.home) or nil,
    actions = compile_actions(def.actions),
    collection = compile_actions(def.collection, MANAGER_BUILTIN),
    aliases = def.aliases or {},
    doc = def.doc,
    subs = {},
  }
  for aname in pairs(k.actions) do
    if BUILTIN[aname] then
      error(("catalog: action %s.%s hides a built-in method"):format(name, aname))
    end
  end
  if not outside then kinds[name] = k end  -- before subs: kinds may nest each other
  for sname, p in pairs(def.subs or {}) do
    local pl = M.placement(sname, p)
    if pl.via and k.single then
      error(("catalog: %s.%s: a single resource has no attribute to hang it under (via)"):format(name, sname))
    end
    k.subs[sname] = pl
  end
  return k
end

--- Compiles a kind definition that is not in the catalog, with the checks
-- the catalog's kinds pass (an action named like a built-in method raises);
-- its subs name kinds of the catalog. For specs and catalog tools.
-- @tparam string name
-- @tparam table def a kind as in `gitlab.resources.catalog`
-- @treturn table the compiled kind
function M._compile_kind(name, def)
  if type(def) ~= "table" then error("resources._compile_kind: def must be a table", 2) end
  return compile_kind(name, def)
end

--- The home of a kind (`home` of its definition), for placements made on
-- the fly.
function M.home_of(kind_name)
  local def = raw_kinds[kind_name]
  return def and def.home
end

local root = compile_kind("root")
M.root = root
M.kinds = kinds

-- Compile every kind even if unreachable, so errors surface early, and
-- check that actions name kinds that exist.
for name in pairs(raw_kinds) do compile_kind(name) end
for name, k in pairs(kinds) do
  for _, set in ipairs{ k.actions, k.collection } do
    for aname, a in pairs(set) do
      for _, ref in ipairs{ a.list, a.kind } do
        if type(ref) == "string" and not raw_kinds[ref] then
          error(("catalog: %s.%s names unknown kind '%s'"):format(name, aname, ref))
        end
      end
    end
  end
end

------------------------------------------------------------------------
-- Templates of single routes (gitlab.files builds its paths from these)
------------------------------------------------------------------------

-- The path template of one item of placement pl at manager path mpath.
local function item_template(pl, mpath)
  if pl.kind.single then return mpath end
  return mpath .. "/:" .. pl.id
end

-- The template sub-resource placement `sub` hangs under, for items of pl
-- at mpath: the item's own, or the one by the attribute `sub.via` names.
local function sub_base(pl, mpath, sub)
  if sub.via and not pl.kind.single then return mpath .. "/:" .. sub.via end
  return item_template(pl, mpath)
end

--- The path template of one catalog route, walked from the root by names.
-- A plain name is a sub-resource (of the root, then of the items of the
-- collection before it); `":name"` is a collection action there, `".name"`
-- an item action of its items (of the resource itself when single), `"."`
-- the item itself. Without a final action step, the collection's path.
--
--     template("projects", "jobs", ":artifacts_archive")
--     --> "/projects/:id/jobs/artifacts/:ref_name/download", action
--
-- Raises on a name the catalog does not have.
-- @tparam string ... steps
-- @treturn string the template (`:name` one segment, `*name` slashes kept)
-- @treturn[opt] table the action, for an action step
function M.template(...)
  local steps = { ... }
  local pl, mpath = nil, ""
  local function fail(i, what)
    error(("catalog: no %s '%s' in %s"):format(what, steps[i], concat(steps, " ", 1, i)), 3)
  end
  for i, step in ipairs(steps) do
    local sigil, name = step:match("^([:.]?)(.*)$")
    if sigil == "" then
      local kind = pl and pl.kind or root
      local p = not (pl and pl.bare) and kind.subs[name] or nil
      if not p then fail(i, "sub-resource") end
      mpath = join(pl and sub_base(pl, mpath, p) or "", p.path)
      pl = p
    elseif i ~= #steps or not pl then
      fail(i, "step")
    elseif sigil == ":" then
      local a = M.collection_action(pl, mpath, name)
      if not a then fail(i, "collection action") end
      return join(mpath, a.path), a
    elseif name == "" then
      return item_template(pl, mpath)
    else
      local a = not pl.bare and pl.kind.actions[name] or nil
      if not a then fail(i, "item action") end
      return join(item_template(pl, mpath), a.path), a
    end
  end
  return mpath
end

------------------------------------------------------------------------
-- Introspection (coverage, docs)
------------------------------------------------------------------------

--- Every REST route the catalog reaches, depth first, in a stable order.
-- Each route: `{ method, path, call, kind }` where `call` is how a user
-- reaches it (`gl.projects:get(id)`, `project:archive()`).
-- @tparam[opt=8] integer max_depth kinds nest (notes under notes...)
-- @treturn table array of routes
function M.routes(max_depth)
  max_depth = max_depth or 8
  local out = {}
  local section, section_path, section_doc
  -- a route reached two ways under the same names (epic.notes and
  -- epic_by_id.notes both lead to discussion.notes) is listed once
  local known = {}
  local function add(method, path, how, kind, returns)
    local key = method .. " " .. path .. " " .. how .. " " .. section
    if known[key] then return end
    known[key] = true
    out[#out + 1] = { method = method, path = path, call = how, kind = kind,
                      section = section, section_path = section_path,
                      doc = section_doc, returns = returns }
  end
  local function action_sig(a)
    local args = {}
    for p in a.path:gmatch("[:*]([%a_][%w_]*)") do args[#args + 1] = p end
    args[#args + 1] = a.upload and "{ file = }" or "params"
    return "(" .. concat(args, ", ") .. ")"
  end
  local function returns_of(a)
    if a.list == true then return "lazy list"
    elseif a.list then return "lazy list of `" .. a.list .. "`"
    elseif a.kind then return "`" .. a.kind .. "` object"
    elseif a.self then return "the object, reloaded"
    elseif a.download then return "body, or file with `output`"
    elseif a.raw then return "body (string)"
    elseif a.method == "HEAD" then return "headers"
    end
    return "data"
  end
  local ORDER = { "list", "get", "create", "update", "delete" }
  local function walk(pl, base, who, depth, seen)
    local kind = pl.kind
    local mpath = join(base, pl.path)
    local mgr = who .. "." .. pl.name
    local item = item_template(pl, mpath)
    local oname = kind.name
    section, section_path, section_doc = mgr, mpath, pl.doc or kind.doc
    for _, op in ipairs(ORDER) do
      if pl.ops[op] then
        local obj = "`" .. kind.name .. "`"
        if op == "list" then add("GET", mpath, mgr .. ":list(query)", kind.name, "lazy list of " .. obj)
        elseif op == "get" then
          add("GET", item, mgr .. (kind.single and ":get(query)" or ":get(id, query)"), kind.name, obj)
        elseif op == "create" then
          local cpath = mpath
          if kind.create_in_path then cpath = item
          elseif pl.create_path then cpath = join(base, pl.create_path) end
          add("POST", cpath, mgr .. ":create(attrs)", kind.name, obj)
        elseif op == "update" then
          add(kind.update_method, item, mgr .. (kind.single and ":update(attrs)" or ":update(id, attrs)") ..
            " / " .. oname .. ":save()", kind.name, obj)
        elseif op == "delete" then
          add("DELETE", item, mgr .. (kind.single and ":delete()" or ":delete(id)") ..
            " / " .. oname .. ":delete()", kind.name, "true")
        end
      end
    end
    local collection = M.collection_at(pl, mpath)
    for _, aname in ipairs(sorted_keys(collection)) do
      local a = collection[aname]
      add(a.method, join(mpath, a.path), mgr .. ":" .. aname .. action_sig(a), kind.name, returns_of(a))
    end
    if pl.bare then return end
    if pl.home and not kind.single then
      local home = pl.home:gsub("{([%w_.]+)}", function(e) return ":" .. e:gsub("%.", "_") end)
      if M.shape(home) ~= M.shape(mpath) then
        -- items are canonical objects documented where they live
        local last = out[#out]
        if last and last.section == mgr then
          last.note = ("items are `%s` objects at `%s/:%s`"):format(kind.name, home, pl.id)
        end
        return
      end
    end
    for _, aname in ipairs(sorted_keys(kind.actions)) do
      local a = kind.actions[aname]
      add(a.method, join(item, a.path), oname .. ":" .. aname .. action_sig(a), kind.name, returns_of(a))
    end
    if depth >= max_depth or seen[kind.name] then return end
    seen[kind.name] = true
    for _, sname in ipairs(sorted_keys(kind.subs)) do
      local sub = kind.subs[sname]
      walk(sub, sub_base(pl, mpath, sub), oname, depth + 1, seen)
    end
    seen[kind.name] = nil
  end
  section, section_path = "gl", ""
  for _, aname in ipairs(sorted_keys(root.actions)) do
    local a = root.actions[aname]
    add(a.method, join("", a.path), "gl:" .. aname .. action_sig(a), "root", returns_of(a))
  end
  for _, sname in ipairs(sorted_keys(root.subs)) do
    walk(root.subs[sname], "", "gl", 1, {})
  end
  return out
end

return M
