--- Resource layer: one generic builder that turns the declarative catalog
-- (`gitlab.resources.catalog`) into managers and objects.
--
-- A *manager* stands for a collection (`gl.projects`, `project.issues`):
-- `list`, `get`, `create`, `update`, `delete`, `lazy`, plus the collection
-- actions of its kind. An *object* is the decoded JSON table itself: its
-- fields are plain raw fields (no proxy, so `pairs` works on LuaJIT too), its
-- methods and sub-resources come from the metatable. A data field shadows a
-- method of the same name; the method stays reachable through
-- `obj:call(name, ...)` or `resources.call(obj, name, ...)`, and a
-- sub-resource through `obj:manager(name)`.
--
-- The builder talks to the client only through its raw API:
-- `gl:request(method, path, {query=, body=, raw=})`, `gl:paginate`,
-- `gl:all`, `gl:download`, `gl:upload`; each returns `data, resp` or
-- `nil, err`.
-- @module gitlab.resources

local catalog = require("gitlab.resources.catalog")
local int_string = require("gitlab.util").int_string

local M = {}

local pairs, ipairs, type, next = pairs, ipairs, type, next
local setmetatable, getmetatable = setmetatable, getmetatable
local tostring, select, error = tostring, select, error
local concat = table.concat

------------------------------------------------------------------------
-- Encoding
------------------------------------------------------------------------

-- gitlab.core is optional here, and only here: tools/gendocs.lua and
-- tools/coverage.lua read the catalog without a build. A client always has
-- it (gitlab/init.lua requires it plainly).
local core
do
  local ok, c = pcall(require, "gitlab.core")
  if ok and type(c) == "table" then core = c end
end

--- Percent-encode one path segment (everything but `[A-Za-z0-9_~-]`).
-- Uses the C core when it is built, a Lua fallback otherwise.
-- @tparam string|number s
-- @treturn string
local function encode(s)
  s = int_string(s) or tostring(s)
  if core and core.encode then return core.encode(s) end
  return (s:gsub("[^A-Za-z0-9_~%-]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end
M.encode = encode

local sorted_keys = require("gitlab.util").sorted_keys

-- "." and "..": encoded they still read as dot segments to a server that
-- decodes before it resolves them, so a path never gets one (the client
-- refuses such paths too).
local function dot(v)
  return v == "." or v == ".."
end

local function dot_error(v, level)
  error(("%q cannot be a path segment (a '.' or '..' segment reaches another endpoint)")
    :format(tostring(v)), level + 1)
end

-- Encode a `*name` argument: slashes stay, each segment is encoded.
local function encode_keep_slashes(s)
  local parts = {}
  for seg in (tostring(s) .. "/"):gmatch("(.-)/") do
    if dot(seg) then dot_error(s, 5) end
    parts[#parts + 1] = encode(seg)
  end
  return concat(parts, "/")
end

-- Substitute `:name` / `*name` placeholders of `tpl` with `args` in order.
local function fill(tpl, args, n)
  local i = 0
  local out = tpl:gsub("([:*])([%a_][%w_]*)", function(sigil, name)
    i = i + 1
    local v = args[i]
    if v == nil then
      error(("missing argument %d (%s) for path '%s'"):format(i, name, tpl), 4)
    end
    if sigil == "*" then return encode_keep_slashes(v) end
    if dot(v) then dot_error(v, 4) end
    return encode(v)
  end)
  if n and i ~= n then error("placeholder count mismatch in " .. tpl, 4) end
  return out
end

local function join(base, sub)
  if sub == nil or sub == "" or sub == "." then return base end
  if sub:sub(1, 1) == "/" then return sub end
  if base == "" then return "/" .. sub end
  return base .. "/" .. sub
end

------------------------------------------------------------------------
-- Raw-call helpers (the client contract)
------------------------------------------------------------------------

-- A failed call returns `nil, err`; a 204 may also return `nil, resp`, so
-- tell them apart by the shape of the second value.
local function failed(data, r)
  if data ~= nil then return false end
  if r == nil then return true end
  if type(r) ~= "table" then return true end
  if r.kind ~= nil then return true end
  if r.status and r.status >= 400 then return true end
  return false
end

-- `expect` ("object"): the client turns a 2xx answer of another shape
-- (an HTML sign-in page, an array) into an error of kind "decode" instead
-- of letting it pass for an object.
local function call(gl, method, path, query, body, extra, expect)
  local opts = { query = query, body = body, expect = expect }
  if extra then for k, v in pairs(extra) do opts[k] = v end end
  return gl:request(method, path, opts)
end

------------------------------------------------------------------------
-- Snapshots and deep comparison
------------------------------------------------------------------------

local function deepcopy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local c = {}
  seen[v] = c
  for k, x in pairs(v) do c[k] = deepcopy(x, seen) end
  local mt = getmetatable(v)
  if mt and not M.is_object(v) then setmetatable(c, mt) end
  return c
end

local function deepeq(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not deepeq(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
M.deepeq = deepeq

local json_null = core and core.null

------------------------------------------------------------------------
-- Catalog compilation
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

local function count_params(path)
  local n = 0
  for _ in path:gmatch("[:*][%a_][%w_]*") do n = n + 1 end
  return n
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

-- Built-in object methods (see Object below): no action may take these names.
local BUILTIN = { save = true, delete = true, refresh = true, changed = true, call = true,
                  manager = true, rest_path = true, client = true, totable = true }

-- Manager methods: no collection action may take these names.
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

-- A placement: where a kind hangs under its parent, with overrides.
local function compile_placement(name, p)
  if type(p) == "string" then p = { p } end
  local kind = compile_kind(p[1])
  local pl = {
    name = name,
    kind = kind,
    path = p.path or kind.path or name,
    ops = p.ops and parse_ops(p.ops) or kind.ops,
    home = p.home or kind.home,
    id = p.id or kind.id,
    collection = kind.collection,
    create_path = kind.create_path,
    bare = p.bare or false,
    doc = p.doc,
  }
  if pl.bare then pl.collection = {} end
  if p.create_path ~= nil then pl.create_path = p.create_path or nil end
  if p.collection then
    local base = pl.collection
    pl.collection = {}
    for k, v in pairs(base) do pl.collection[k] = v end
    for k, v in pairs(compile_actions(p.collection, MANAGER_BUILTIN)) do pl.collection[k] = v end
  end
  return pl
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
  for sname, p in pairs(def.subs or {}) do k.subs[sname] = compile_placement(sname, p) end
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
-- Objects
------------------------------------------------------------------------

-- Per-object state lives outside the object so that fields stay raw:
-- ctx[obj] = { gl =, path =, placement = }, snap[obj] = deep copy at load.
local ctx = setmetatable({}, { __mode = "k" })
local snap = setmetatable({}, { __mode = "k" })

local classes = {}       -- kind name -> metatable
local class_kind = {}    -- metatable -> kind

--- Is `v` a resource object?
-- @param v any value
-- @treturn boolean
function M.is_object(v)
  local mt = getmetatable(v)
  return mt ~= nil and class_kind[mt] ~= nil
end

local new_manager, run_action, wrap

local Object = {}  -- methods shared by every object

local function octx(obj)
  local c = ctx[obj]
  if not c then error("not a resource object", 3) end
  return c
end

local function obj_path(obj)
  local c = octx(obj)
  if not c.path then
    error(("%s object has no '%s' to address it"):format(c.kind.name, c.placement.id), 3)
  end
  return c.path
end

-- Take the server's answer into obj and re-snapshot. `sent` (save) lists
-- the fields just sent: those the answer leaves out were write-only
-- parameters (`state_event`, `commit_message`) and are dropped; other
-- fields the answer leaves out stay (the files API answers with two fields).
-- Without `sent` (refresh) the object becomes exactly the answer.
local function load_into(obj, data, sent)
  if type(data) == "table" and data[1] == nil and next(data) ~= nil then
    if sent then
      for k in pairs(sent) do
        if data[k] == nil then obj[k] = nil end
      end
    else
      for k in pairs(obj) do
        if data[k] == nil then obj[k] = nil end
      end
    end
    for k, v in pairs(data) do obj[k] = v end
  elseif sent then
    for k, v in pairs(sent) do
      if v == json_null then obj[k] = nil end
    end
  end
  snap[obj] = deepcopy(obj)
end

-- An empty plain table where the loaded value was a list: the program
-- cleared the list (`issue.labels = {}`), which must go out as [] (the
-- encoder sends an empty plain table as {}). Marks it like a decoded list,
-- in place, at any depth.
local function keep_lists(v, old, seen)
  if type(v) ~= "table" or type(old) ~= "table" or seen[v] or M.is_object(v) then return end
  seen[v] = true
  local mt = getmetatable(v)
  if mt == nil and next(v) == nil and core and getmetatable(old) == core.array_mt then
    setmetatable(v, core.array_mt)
    return
  end
  if mt ~= nil and mt ~= (core and core.array_mt) then return end
  for k, x in pairs(v) do keep_lists(x, old[k], seen) end
end

--- Fields changed since the object was loaded (deep comparison).
-- Removed fields map to JSON null; a list emptied as `{}` is sent as `[]`.
-- @treturn table field -> new value (empty when nothing changed)
function Object:changed()
  local old = snap[self] or {}
  local diff = {}
  for k, v in pairs(self) do
    if not deepeq(v, old[k]) then
      keep_lists(v, old[k], {})
      diff[k] = v
    end
  end
  for k in pairs(old) do
    if self[k] == nil and json_null ~= nil then diff[k] = json_null end
  end
  return diff
end

--- Send the changed fields (and `extra`, e.g. a commit message) with the
-- kind's update method. Does nothing when nothing changed and no extra.
-- @tparam[opt] table extra fields always sent
-- @return self, resp; or self, nil when nothing was sent; or nil, err
function Object:save(extra)
  local c = octx(self)
  local body = Object.changed(self)
  if extra then for k, v in pairs(extra) do body[k] = v end end
  if next(body) == nil then return self, nil end
  local data, r = call(c.gl, c.kind.update_method, obj_path(self), nil, body, nil, "object")
  if failed(data, r) then return nil, r end
  load_into(self, data, body)
  return self, r
end

--- Delete the object on the server.
-- @tparam[opt] table params query parameters (e.g. `branch`, `commit_message`)
-- @return true, resp; or nil, err
function Object:delete(params)
  local c = octx(self)
  local data, r = call(c.gl, "DELETE", obj_path(self), params)
  if failed(data, r) then return nil, r end
  return true, r
end

--- Reload the fields from the server.
-- @tparam[opt] table query
-- @return self, resp; or nil, err
function Object:refresh(query)
  local c = octx(self)
  if c.query and query == nil then query = c.query end
  local data, r = call(c.gl, "GET", obj_path(self), query, nil, nil, "object")
  if failed(data, r) then return nil, r end
  load_into(self, data)
  return self, r
end

--- Call a method (built-in or action) by name, even when a data field of
-- the same name shadows it.
-- @tparam string name
-- @return whatever the method returns
function Object:call(name, ...)
  local mt = getmetatable(self)
  local m = mt.methods[name]
  if not m then error(("%s has no method '%s'"):format(mt.kind.name, tostring(name)), 2) end
  return m(self, ...)
end

--- The manager of a sub-resource by name, even when shadowed by a field.
-- @tparam string name
-- @return manager
function Object:manager(name)
  local c = octx(self)
  local p = not c.placement.bare and c.kind.subs[name] or nil
  if not p then
    local alias = not c.placement.bare and c.kind.aliases[name] or nil
    if alias then
      local cur = self
      for part in alias:gmatch("[^.]+") do cur = M.sub(cur, part) end
      return cur
    end
    error(("%s has no sub-resource '%s'"):format(c.kind.name, tostring(name)), 2)
  end
  return new_manager(c.gl, obj_path(self), p, self)
end

--- The REST path of this object (relative to /api/v4). Named so because
-- projects and groups have a `path` field.
function Object:rest_path() return obj_path(self) end

--- The client this object belongs to.
function Object:client() return octx(self).gl end

--- A plain copy of the fields (no metatable), e.g. for JSON encoding.
function Object:totable()
  local t = {}
  for k, v in pairs(self) do t[k] = deepcopy(v) end
  return t
end

-- One metatable per kind; a "bare" one (no actions, no sub-resources) for
-- items listed where the kind's actions do not apply (project.runners).
local NO_SUBS = {}

local function class_for(kind, bare)
  local ckey = bare and (kind.name .. "#bare") or kind.name
  local cls = classes[ckey]
  if cls then return cls end
  local methods = {}
  for k, f in pairs(Object) do methods[k] = f end
  local subs, aliases = kind.subs, kind.aliases
  if bare then subs, aliases = NO_SUBS, NO_SUBS end
  for aname, a in pairs(bare and NO_SUBS or kind.actions) do
    methods[aname] = function(self, ...)
      return run_action(octx(self).gl, obj_path(self), a, self, ...)
    end
  end
  cls = {
    __name = "gitlab." .. kind.name,
    kind = kind,
    methods = methods,
  }
  cls.__index = function(obj, key)
    local m = methods[key]
    if m then return m end
    if subs[key] or aliases[key] then return Object.manager(obj, key) end
    return nil
  end
  cls.__tostring = function(obj)
    local c = ctx[obj]
    return ("<%s %s>"):format(cls.__name, c and c.path or "?")
  end
  classes[ckey] = cls
  class_kind[cls] = kind
  return cls
end

-- Resolve "{a.b}" placeholders of a home template from the item's fields.
local function home_path(tpl, data)
  local ok = true
  local path = tpl:gsub("{([%w_.]+)}", function(expr)
    local v = data
    for part in expr:gmatch("[^.]+") do
      if type(v) ~= "table" then v = nil break end
      v = v[part]
    end
    if v == nil or type(v) == "table" or dot(v) then ok = false return "" end
    return encode(v)
  end)
  if ok then return path end
  return nil
end

-- Make `data` (a decoded JSON object) an object of placement `pl` under the
-- manager path `base`. Arrays and scalars are returned unchanged.
wrap = function(gl, pl, base, data, query)
  if type(data) ~= "table" then return data end
  if data[1] ~= nil then return data end
  local kind = pl.kind
  local path
  if kind.single then
    path = base
  else
    -- an id that is a dot segment leaves the object without an address
    local id = data[pl.id]
    if dot(id) then id = nil end
    if pl.home then
      local h = home_path(pl.home, data)
      if h and id ~= nil then path = h .. "/" .. encode(id) end
    end
    if not path and id ~= nil then path = base .. "/" .. encode(id) end
  end
  setmetatable(data, class_for(kind, pl.bare))
  ctx[data] = { gl = gl, path = path, placement = pl, kind = kind, query = query }
  snap[data] = deepcopy(data)
  return data
end
M.wrap = wrap

------------------------------------------------------------------------
-- Lists: lazy iterables over every page
------------------------------------------------------------------------

local List = {}
List.__index = List
List.__name = "gitlab.list"

local function new_list(gl, path, query, opts, wrapper)
  return setmetatable({ gl = gl, path = path, query = query, opts = opts,
                        wrapper = wrapper }, List)
end

-- One step of `for x in list do`. A generic `for` passes a nil control
-- value on its first call only, so each loop over the same list starts
-- from the first item again, even after a `break`.
function List.__call(self, _, control)
  local it = self._it
  if control == nil or not it then
    local f, s, c = self.gl:paginate(self.path, self.query, self.opts)
    it = { f = f, s = s, c = c }
    self._it = it
  end
  local item = it.f(it.s, it.c)
  it.c = item
  if item == nil then
    self._it = nil
    return nil
  end
  if self.wrapper then return self.wrapper(item) end
  return item
end

--- A plain iterator function over every item, for stepping by hand:
-- `local next_item = list:iter(); local a, b = next_item(), next_item()`.
function List:iter()
  local fresh = new_list(self.gl, self.path, self.query, self.opts, self.wrapper)
  local last
  return function()
    if last == false then return nil end
    local item = List.__call(fresh, nil, last == nil and nil or true)
    last = item == nil and false or item
    return item
  end
end

local function merged_opts(opts, extra)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

--- Every item of every page as an array.
-- @tparam[opt] table opts e.g. `{ max_items = 500 }`
-- @return array of items; or nil, err
function List:all(opts)
  local items, r = self.gl:all(self.path, self.query, merged_opts(self.opts, opts))
  if items == nil then return nil, r end
  if self.wrapper then
    for i = 1, #items do items[i] = self.wrapper(items[i]) end
  end
  return items, r
end

--- The first `n` items (fetches only the pages needed).
-- @tparam integer n
-- @return array; or nil, err
function List:first(n)
  n = n or 1
  local q = {}
  for k, v in pairs(self.query or {}) do q[k] = v end
  if q.per_page == nil then q.per_page = math.min(n, 100) end
  -- bound the pages too, so that prefetching never asks for more
  local max_pages = math.ceil(n / math.max(1, tonumber(q.per_page) or 100))
  local items, r = self.gl:all(self.path, q,
    merged_opts(self.opts, { max_items = n, max_pages = max_pages }))
  if items == nil then return nil, r end
  for i = #items, n + 1, -1 do items[i] = nil end
  if self.wrapper then
    for i = 1, #items do items[i] = self.wrapper(items[i]) end
  end
  return items, r
end

--- Pages as arrays, with each page's response (`for page, resp in l:pages()`).
function List:pages()
  local f, s, c = self.gl:pages(self.path, self.query, self.opts)
  local wrapper = self.wrapper
  return function()
    local page, r = f(s, c)
    c = page
    if page == nil then return nil end
    if wrapper then
      for i = 1, #page do page[i] = wrapper(page[i]) end
    end
    return page, r
  end
end

M.List = List

------------------------------------------------------------------------
-- Actions
------------------------------------------------------------------------

local DOWNLOAD_KEYS = { output = true, progress = true, sink = true, resume = true }

-- Options of gl:upload: the client's own keys stay, every other parameter
-- becomes a form field next to the file.
local UPLOAD_KEYS = { file = true, field = true, filename = true, content_type = true,
                      progress = true, query = true }

local function upload_opts(method, params, opts)
  local o = { method = method }
  local fields
  for k, v in pairs(params or {}) do
    if UPLOAD_KEYS[k] then o[k] = v
    else
      fields = fields or {}
      fields[k] = v
    end
  end
  for k, v in pairs(opts or {}) do o[k] = v end
  if fields then
    o.fields = o.fields or {}
    for k, v in pairs(fields) do o.fields[k] = v end
  end
  if type(o.file) ~= "string" then error("upload needs { file = \"path\" }", 4) end
  return o
end

-- Run action `a` at `base` (object or manager path). Arguments: one per
-- placeholder of the action path, then a params table (query for GET, HEAD
-- and DELETE, JSON body otherwise), then an options table passed to the
-- client (`headers`, ...).
run_action = function(gl, base, a, obj, ...)
  local nargs = select("#", ...)
  local args = { ... }
  if nargs < a.nparams then
    error(("%s: expected %d argument(s) before the parameters"):format(a.name, a.nparams), 3)
  end
  local path = join(base, fill(a.path, args, a.nparams))
  local params = args[a.nparams + 1]
  local opts = args[a.nparams + 2]
  if params ~= nil and type(params) ~= "table" then
    error(a.name .. ": parameters must be a table", 3)
  end
  local is_query = a.method == "GET" or a.method == "HEAD" or a.method == "DELETE"

  if a.list then
    local wrapper
    if a.list ~= true then
      local pl = compile_placement(a.name, { a.list, home = raw_kinds[a.list].home })
      wrapper = function(item) return wrap(gl, pl, path, item) end
    end
    return new_list(gl, path, params, opts, wrapper)
  end

  if a.download then
    local o = merged_opts(opts)
    local q = {}
    for k, v in pairs(params or {}) do
      if DOWNLOAD_KEYS[k] then o[k] = v else q[k] = v end
    end
    if o.output or o.sink then
      if next(q) then o.query = q end
      return gl:download(path, o)
    end
    o.raw = true
    local data, r = call(gl, a.method, path, q, nil, o)
    if failed(data, r) then return nil, r end
    return data, r
  end

  if a.upload then
    local uo = upload_opts(a.method, params, opts)
    if a.upload == "raw" then
      -- the file is the whole body; other parameters go in the query
      uo.raw = true
      if uo.fields then
        local q = uo.query or {}
        for k, v in pairs(uo.fields) do q[k] = v end
        uo.query, uo.fields = q, nil
      end
      uo.field, uo.filename = nil, nil
    end
    local data, r = gl:upload(path, uo)
    if failed(data, r) then return nil, r end
    return data, r
  end

  local extra = opts and merged_opts(opts) or nil
  if a.raw then
    extra = extra or {}
    extra.raw = true
  end
  -- an action documented to answer with an object (the object itself,
  -- or one of a kind) must get one; other actions answer what they like
  local expect = (a.self or a.kind) and not a.raw and "object" or nil
  local data, r
  if is_query then
    data, r = call(gl, a.method, path, params, nil, extra, expect)
  else
    data, r = call(gl, a.method, path, nil, params, extra, expect)
  end
  if failed(data, r) then return nil, r end
  if a.method == "HEAD" then return r.headers, r end
  if a.self and obj and type(data) == "table" and data[1] == nil and next(data) then
    load_into(obj, data, {})
    return obj, r
  end
  if a.kind and type(data) == "table" then
    local pl = compile_placement(a.name, { a.kind })
    return wrap(gl, pl, join(base, pl.path), data), r
  end
  if data == nil then data = true end
  return data, r
end

------------------------------------------------------------------------
-- Managers
------------------------------------------------------------------------

local Manager = {}   -- built-in manager methods

local function check_op(self, op)
  if not self.placement.ops[op] then
    error(("%s does not support %s"):format(self.path, op), 3)
  end
end

local function item_path(self, id)
  if id == nil then
    if self.placement.kind.single then return self.path end
    error("missing id", 3)
  end
  if type(id) == "table" and M.is_object(id) then
    return obj_path(id)
  end
  if dot(id) then dot_error(id, 3) end
  return self.path .. "/" .. encode(id)
end

--- A lazy iterable over every item, page after page.
-- `for x in mgr:list{...} do`, `mgr:list():all()`, `mgr:list():first(5)`.
-- @tparam[opt] table query filters
-- @tparam[opt] table opts paginate options (`pagination="keyset"`, `max_items`)
function Manager:list(query, opts)
  check_op(self, "list")
  local gl, pl, base = self.gl, self.placement, self.path
  return new_list(gl, base, query, opts, function(item) return wrap(gl, pl, base, item) end)
end

--- Fetch one item by id (numeric id, path, name, iid...).
-- @param id
-- @tparam[opt] table query
-- @return object, resp; or nil, err
function Manager:get(id, query)
  check_op(self, "get")
  if self.placement.kind.single and type(id) == "table" then id, query = nil, id end
  local data, r = call(self.gl, "GET", item_path(self, id), query, nil, nil, "object")
  if failed(data, r) then return nil, r end
  local obj = wrap(self.gl, self.placement, self.path, data, query)
  if type(obj) == "table" and ctx[obj] and ctx[obj].path == nil and id ~= nil then
    ctx[obj].path = item_path(self, id)
  end
  return obj, r
end

--- Create an item.
-- @tparam table attrs
-- @tparam[opt] table opts client request options
-- @return object, resp; or nil, err
function Manager:create(attrs, opts)
  check_op(self, "create")
  local kind = self.placement.kind
  local path = self.path
  if kind.create_in_path then
    local id = attrs and attrs[self.placement.id]
    if id == nil then error("create needs '" .. self.placement.id .. "'", 2) end
    path = item_path(self, id)
  elseif self.placement.create_path then
    path = join(self.base, self.placement.create_path)
  end
  local data, r
  if kind.create_upload then
    data, r = self.gl:upload(path, upload_opts("POST", attrs, opts))
  else
    data, r = call(self.gl, "POST", path, nil, attrs, opts, "object")
  end
  if failed(data, r) then return nil, r end
  if type(data) == "table" and kind.create_in_path and data[self.placement.id] == nil
     and data[1] == nil then
    data[self.placement.id] = attrs[self.placement.id]
  end
  return wrap(self.gl, self.placement, self.path, data), r
end

--- Update an item by id with the given fields.
-- @param id (omitted for single resources)
-- @tparam table attrs
-- @return object, resp; or nil, err
function Manager:update(id, attrs)
  check_op(self, "update")
  if self.placement.kind.single and attrs == nil and type(id) == "table" then
    id, attrs = nil, id
  end
  local data, r = call(self.gl, self.placement.kind.update_method, item_path(self, id), nil, attrs,
                       nil, "object")
  if failed(data, r) then return nil, r end
  return wrap(self.gl, self.placement, self.path, data), r
end

--- Delete an item by id.
-- @param id (omitted for single resources)
-- @tparam[opt] table params query parameters
-- @return true, resp; or nil, err
function Manager:delete(id, params)
  check_op(self, "delete")
  if self.placement.kind.single and params == nil and type(id) == "table" then
    id, params = nil, id
  end
  local data, r = call(self.gl, "DELETE", item_path(self, id), params)
  if failed(data, r) then return nil, r end
  return true, r
end

--- An object for `id` without any request, to reach sub-resources and
-- actions: `gl.projects:lazy("group/proj").issues:list()`.
-- @param id
-- @return object
function Manager:lazy(id)
  local pl = self.placement
  local data = {}
  if not pl.kind.single then
    if id == nil then error("lazy needs an id", 2) end
    data[pl.id] = id
  end
  local obj = wrap(self.gl, pl, self.path, data)
  ctx[obj].path = item_path(self, id)
  return obj
end

--- Call a collection action (or, for single resources, an item action) by
-- name.
function Manager:call(name, ...)
  local f = self[name]
  if type(f) ~= "function" then error("no action '" .. tostring(name) .. "'", 2) end
  return f(self, ...)
end

local ManagerMT = { __name = "gitlab.manager" }

ManagerMT.__index = function(self, key)
  local m = Manager[key]
  if m then return m end
  local pl = rawget(self, "placement")
  local a = pl.collection[key]
  if a then
    return function(mgr, ...) return run_action(mgr.gl, mgr.path, a, nil, ...) end
  end
  local kind = pl.kind
  if kind.single then
    a = kind.actions[key]
    if a then
      return function(mgr, ...) return run_action(mgr.gl, mgr.path, a, nil, ...) end
    end
    local p = kind.subs[key]
    if p then return new_manager(self.gl, self.path, p, nil) end
    local alias = kind.aliases[key]
    if alias then
      local cur = self
      for part in alias:gmatch("[^.]+") do cur = cur[part] end
      return cur
    end
  end
  return nil
end

ManagerMT.__tostring = function(self)
  return ("<gitlab.manager %s %s>"):format(self.placement.kind.name, self.path)
end

new_manager = function(gl, base, placement, parent)
  return setmetatable({ gl = gl, base = base, path = join(base, placement.path),
                        placement = placement, parent = parent }, ManagerMT)
end

M.Manager = Manager

------------------------------------------------------------------------
-- Entry points used by the client
------------------------------------------------------------------------

--- The top-level manager `name` for client `gl` (`projects`, `groups`, ...),
-- or nil when the catalog has none. Called from the client's `__index`.
-- @param gl client
-- @tparam string name
function M.manager(gl, name)
  local p = root.subs[name]
  if p then return new_manager(gl, "", p, nil) end
  if name == "search" then return M.search end
  local a = root.actions[name]
  if a then
    return function(self, ...) return run_action(self, "", a, nil, ...) end
  end
  local alias = root.aliases[name]
  if alias then
    local cur = gl
    for part in alias:gmatch("[^.]+") do cur = cur[part] end
    return cur
  end
  return nil
end

--- Sub-resource `name` of an object or manager, bypassing shadowing fields.
function M.sub(parent, name)
  if M.is_object(parent) then return Object.manager(parent, name) end
  return parent[name]
end

--- Call method `name` of an object even if a field shadows it.
function M.call(obj, name, ...)
  return Object.call(obj, name, ...)
end

--- The methods table of an object's class (`methods(job).artifacts(job, {...})`).
function M.methods(obj)
  local mt = getmetatable(obj)
  return mt and mt.methods
end

--- Top-level action `name` (e.g. `markdown`) run against client `gl`.
function M.root_action(gl, name)
  local a = root.actions[name]
  if not a then return nil end
  return function(_, ...) return run_action(gl, "", a, nil, ...) end
end

--- Attach managers to a client instance eagerly-lazily: sets a metatable
-- fallback only when the instance has none of its own. Prefer calling
-- `manager` from the client's own `__index`.
function M.attach(gl)
  local mt = getmetatable(gl)
  if mt and rawget(mt, "__gitlab_resources") then return gl end
  if mt == nil then
    setmetatable(gl, { __index = function(t, k) return M.manager(t, k) end })
    return gl
  end
  local old = mt.__index
  if type(old) == "function" or type(old) == "table" then
    -- leave the client's own lookup first; managers are the fallback
    mt.__index = function(t, k)
      local v
      if type(old) == "function" then v = old(t, k) else v = old[k] end
      if v ~= nil then return v end
      return M.manager(t, k) or M.root_action(t, k)
    end
  else
    mt.__index = function(t, k) return M.manager(t, k) or M.root_action(t, k) end
  end
  rawset(mt, "__gitlab_resources", true)
  return gl
end

--- `gl:search(scope, search, query)`: `GET /search` as a lazy list of the
-- results of `scope` ("projects", "issues", "blobs", ...) matching `search`.
-- @param gl client
-- @tparam string scope
-- @tparam string search
-- @tparam[opt] table query more filters
function M.search(gl, scope, search, query)
  if type(scope) ~= "string" or type(search) ~= "string" then
    error("search(scope, search, query): scope and search must be strings", 2)
  end
  local q = {}
  for k, v in pairs(query or {}) do q[k] = v end
  q.scope, q.search = scope, search
  return new_list(gl, "/search", q, nil, nil)
end

--- Add `user`, `version`, `search` and the catalog's top-level actions as
-- methods of the client class. Existing methods are never replaced.
-- @tparam table Client the client method table
function M.install(Client)
  local function add(name, f)
    if rawget(Client, name) == nil then Client[name] = f end
  end
  --- The current user (`GET /user`) as an object.
  add("user", function(gl, query)
    return M.manager(gl, "current_user"):get(query)
  end)
  --- `GET /version`: `{ version =, revision = }`.
  add("version", function(gl)
    local data, r = gl:request("GET", "/version", {})
    if failed(data, r) then return nil, r end
    return data, r
  end)
  add("search", M.search)
  for name, a in pairs(root.actions) do
    add(name, function(gl, ...) return run_action(gl, "", a, nil, ...) end)
  end
  return Client
end

------------------------------------------------------------------------
-- Introspection (coverage, docs)
------------------------------------------------------------------------

--- Every REST route the catalog reaches, depth first, in a stable order.
-- Each route: `{ method, path, call, kind }` where `call` is how a user
-- reaches it (`gl.projects:get(id)`, `project:archive()`).
-- @tparam[opt=6] integer max_depth kinds nest (notes under notes...)
-- @treturn table array of routes
function M.routes(max_depth)
  max_depth = max_depth or 8
  local out = {}
  local section, section_path, section_doc
  local function add(method, path, how, kind, returns)
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
    local item = kind.single and mpath or (mpath .. "/:" .. pl.id)
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
    for _, aname in ipairs(sorted_keys(pl.collection)) do
      local a = pl.collection[aname]
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
      walk(kind.subs[sname], item, oname, depth + 1, seen)
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

--- Normalise a path template for comparison: every parameter becomes `:_`.
function M.shape(path)
  return (path:gsub("[:*][%a_][%w_]*", ":_"))
end

return M
