--- Resource objects: a decoded JSON object of a kind, with its methods
-- (`save`, `delete`, `refresh`, `changed`, the kind's actions) and
-- sub-resources in its metatable. Its fields stay plain raw fields (no
-- proxy, so `pairs` works on LuaJIT too); a data field shadows a method of
-- the same name, which stays reachable through `obj:call(name, ...)`, and
-- a sub-resource through `obj:manager(name)`.
--
-- Also runs actions (`run_action`), for objects and managers alike.
-- Talks to the client only through its raw API:
-- `gl:request(method, path, {query=, body=, raw=, expect=})`,
-- `gl:download`, `gl:upload`; each returns `data, resp` (data never nil:
-- `true` for no content) or `nil, err`.
-- @module gitlab.resources.object

local core = require("gitlab.core")
local compile = require("gitlab.resources.compile")
local path = require("gitlab.resources.path")
local list = require("gitlab.resources.list")
local util = require("gitlab.util")
local ARG_SLOT = require("gitlab.options").ARG_SLOT

local M = {}

local pairs, ipairs, type, next, select, error, tostring = pairs, ipairs, type, next, select, error, tostring
local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local concat = table.concat

local json_null, array_mt = core.null, core.array_mt
local join = compile.join
local encode, dot, fill = path.encode, path.dot, path.fill
local new_list, copy = list.new, util.copy

-- Managers hand out objects and objects hand out managers (sub-resources):
-- gitlab.resources.manager requires this module and sets the constructor
-- here, so that requires go one way.
local new_manager
function M.set_manager_constructor(f) new_manager = f end

------------------------------------------------------------------------
-- Raw calls (the client contract)
------------------------------------------------------------------------

-- `expect` ("object"): the client turns a 2xx answer of another shape
-- (an HTML sign-in page, an array) into an error of kind "decode" instead
-- of letting it pass for an object.
local function call(gl, method, p, query, body, extra, expect)
  local opts = { query = query, body = body, expect = expect }
  if extra then for k, v in pairs(extra) do opts[k] = v end end
  return gl:request(method, p, opts)
end
M.call = call

------------------------------------------------------------------------
-- Object state, snapshots and deep comparison
------------------------------------------------------------------------

-- Per-object state lives outside the object so that fields stay raw:
-- ctx[obj] = { gl =, path =, placement =, kind =, query =, ops = },
-- snap[obj] = deep copy at load. `ops` are those GitLab serves at the
-- object's address (see wrap).
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
local is_object = M.is_object

local function deepcopy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local c = {}
  seen[v] = c
  for k, x in pairs(v) do c[k] = deepcopy(x, seen) end
  local mt = getmetatable(v)
  if mt and not is_object(v) then setmetatable(c, mt) end
  return c
end

--- Deep equality of two values (tables by content).
function M.deepeq(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not M.deepeq(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
local deepeq = M.deepeq

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

------------------------------------------------------------------------
-- Ops: what GitLab serves for a placement's items
------------------------------------------------------------------------

local OP_ORDER = { "list", "get", "create", "update", "delete" }

--- The ops of `ops` (a set) in words: "list, get", or "none of list, get,
-- create, update, delete".
-- @tparam table ops
-- @treturn string
function M.served(ops)
  local have = {}
  for _, op in ipairs(OP_ORDER) do
    if ops[op] then have[#have + 1] = op end
  end
  if #have == 0 then return "none of " .. concat(OP_ORDER, ", ") end
  return concat(have, ", ")
end
local served = M.served

-- The object method of each op, and the op a method needs.
local OP_OF = { save = "update", delete = "delete", refresh = "get" }

-- Raises, `level` above the caller, unless the object's placement serves
-- the op of method `name`: a to-do item has no delete (todos.md), an epic
-- issue no save (epic_issues.md). Nothing is sent.
local function check_method(c, name, level)
  local op = OP_OF[name]
  if c.ops[op] then return end
  error(("%s %s: %s() is not available: GitLab serves no %s for it (its placement serves: %s)")
    :format(c.kind.name, c.path or "(no address)", name, op, served(c.ops)), level + 1)
end

--- The REST path of object `obj` (raises for a non-object or one without
-- an address).
function M.path_of(obj) return obj_path(obj) end

--- The REST path of object `obj` as it is known, or nil.
function M.known_path(obj) return ctx[obj] and ctx[obj].path end

--- Set the REST path of object `obj` (a manager knows it from the id it
-- was asked for when the answer lacks the id field).
function M.set_path(obj, p) ctx[obj].path = p end

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
  if type(v) ~= "table" or type(old) ~= "table" or seen[v] or is_object(v) then return end
  seen[v] = true
  local mt = getmetatable(v)
  if mt == nil and next(v) == nil and getmetatable(old) == array_mt then
    setmetatable(v, array_mt)
    return
  end
  if mt ~= nil and mt ~= array_mt then return end
  for k, x in pairs(v) do keep_lists(x, old[k], seen) end
end

------------------------------------------------------------------------
-- Methods every object has
------------------------------------------------------------------------

local Object = {}
M.Object = Object

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
    if self[k] == nil then diff[k] = json_null end
  end
  return diff
end

-- An answer to save() with another value of the addressing attribute
-- moved the object: a wiki page renamed through its title answers its new
-- slug (wikis.md, group_wikis.md), a feature flag renamed answers its new
-- name (feature_flags.md), and the old address then 404s. The object
-- follows: its last path segment becomes the answer's id.
local function readdress(c, data)
  if c.kind.single or not c.path or type(data) ~= "table" or data[1] ~= nil then return end
  local id = data[c.placement.id]
  if id == nil or type(id) == "table" or id == json_null or dot(id) then return end
  local dir, last = c.path:match("^(.*)/([^/]*)$")
  local seg = encode(id)
  if dir and last ~= seg then c.path = dir .. "/" .. seg end
end

--- Send the changed fields (and `extra`, e.g. a commit message) with the
-- kind's update method. Does nothing when nothing changed and no extra.
-- When the answer names the object by another id (a renamed wiki page's
-- slug, a renamed feature flag), the object takes that address.
-- Raises, sending nothing, when there is something to send and GitLab
-- serves no update for the object (its placement's ops: an epic issue,
-- epic_issues.md).
-- @tparam[opt] table extra fields always sent
-- @return self, resp; or self, nil when nothing was sent; or nil, err
function Object:save(extra)
  local c = octx(self)
  local body = Object.changed(self)
  if extra then for k, v in pairs(extra) do body[k] = v end end
  if next(body) == nil then return self, nil end
  check_method(c, "save", 2)
  local data, r = call(c.gl, c.kind.update_method, obj_path(self), nil, body, nil, "object")
  if data == nil then return nil, r end
  load_into(self, data, body)
  readdress(c, data)
  return self, r
end

--- Delete the object on the server. Raises, sending nothing, where GitLab
-- serves no delete for it (a to-do item: todos.md).
-- @tparam[opt] table params query parameters (e.g. `branch`, `commit_message`)
-- @return true, resp; or nil, err
function Object:delete(params)
  local c = octx(self)
  check_method(c, "delete", 2)
  local data, r = call(c.gl, "DELETE", obj_path(self), params)
  if data == nil then return nil, r end
  return true, r
end

--- Reload the fields from the server. Raises, sending nothing, where
-- GitLab serves no single get for the object.
-- @tparam[opt] table query
-- @return self, resp; or nil, err
function Object:refresh(query)
  local c = octx(self)
  check_method(c, "refresh", 2)
  if c.query and query == nil then query = c.query end
  local data, r = call(c.gl, "GET", obj_path(self), query, nil, nil, "object")
  if data == nil then return nil, r end
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

--- Sub-resource `name` of an object or manager, bypassing shadowing fields.
function M.sub(parent, name)
  if is_object(parent) then return Object.manager(parent, name) end
  return parent[name]
end

-- The base of a sub-resource whose placement addresses its parent by
-- another attribute (`via`): the epic notes API "uses the epic ID instead
-- of epic IID" (notes.md), so epic.notes hangs under
-- /groups/:id/epics/<epic.id>, not the epic's own /groups/:id/epics/<iid>.
-- An object without that attribute (a lazy epic: only its iid) cannot
-- address it: raises, nothing is sent.
local function via_base(obj, c, own, p, name)
  local v = rawget(obj, p.via)
  if v == nil or type(v) == "table" or v == json_null or dot(v) then
    error(("%s %s: %s hangs under the %s's '%s', which this object lacks "
      .. "(load it first, e.g. with get)"):format(c.kind.name, own, name, c.kind.name, p.via), 3)
  end
  local dir = own:match("^(.*)/[^/]*$") or ""
  return dir .. "/" .. encode(v)
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
  local base = obj_path(self)
  if p.via then base = via_base(self, c, base, p, name) end
  return new_manager(c.gl, base, p, self)
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

------------------------------------------------------------------------
-- Actions
------------------------------------------------------------------------

local DOWNLOAD_KEYS = { output = true, progress = true, sink = true, resume = true }

-- Options of gl:upload: the client's own keys stay, every other parameter
-- becomes a form field next to the file.
local UPLOAD_KEYS = { file = true, field = true, filename = true, content_type = true,
                      progress = true, query = true }

--- The options of `gl:upload` for `params` (the file and form fields) and
-- client `opts`.
function M.upload_opts(method, params, opts)
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
local upload_opts = M.upload_opts

local wrap

--- Run action `a` at `base` (object or manager path). Arguments: one per
-- placeholder of the action path, then a params table (query for GET, HEAD
-- and DELETE, JSON body otherwise), then an options table passed to the
-- client (`headers`, ...).
-- @param gl client
-- @tparam string base
-- @tparam table a compiled action
-- @param obj the object it runs on (reloaded by `self` actions), or nil
function M.run_action(gl, base, a, obj, ...)
  local nargs = select("#", ...)
  local args = { ... }
  if nargs < a.nparams then
    error(("%s: expected %d argument(s) before the parameters"):format(a.name, a.nparams), 3)
  end
  local p = join(base, fill(a.path, args, a.nparams))
  local params = args[a.nparams + 1]
  local opts = args[a.nparams + 2]
  if params ~= nil and type(params) ~= "table" then
    error(a.name .. ": parameters must be a table", 3)
  end
  local is_query = ARG_SLOT[a.method] == "query"

  if a.list then
    local wrapper
    if a.list ~= true then
      local pl = compile.placement(a.name, { a.list, home = compile.home_of(a.list) })
      wrapper = function(item) return wrap(gl, pl, p, item) end
    end
    return new_list(gl, p, params, opts, wrapper)
  end

  if a.download then
    local o = copy(opts)
    local q = {}
    for k, v in pairs(params or {}) do
      if DOWNLOAD_KEYS[k] then o[k] = v else q[k] = v end
    end
    if o.output or o.sink then
      if next(q) then o.query = q end
      return gl:download(p, o)
    end
    o.raw = true
    return call(gl, a.method, p, q, nil, o)
  end

  if a.upload then
    local uo = upload_opts(a.method, params, opts)
    -- `upload=name`: the file's form field, unless the caller names one
    if type(a.upload) == "string" and a.upload ~= "raw" and uo.field == nil then
      uo.field = a.upload
    end
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
    return gl:upload(p, uo)
  end

  local extra = opts and copy(opts) or nil
  if a.raw then
    extra = extra or {}
    extra.raw = true
  end
  -- an action documented to answer with an object (the object itself,
  -- or one of a kind) must get one; other actions answer what they like
  local expect = (a.self or a.kind) and not a.raw and "object" or nil
  local data, r
  if is_query then
    data, r = call(gl, a.method, p, params, nil, extra, expect)
  else
    data, r = call(gl, a.method, p, nil, params, extra, expect)
  end
  if data == nil then return nil, r end
  if a.method == "HEAD" then return r.headers, r end
  if a.self and obj and type(data) == "table" and data[1] == nil and next(data) then
    load_into(obj, data, {})
    return obj, r
  end
  if a.kind and type(data) == "table" then
    local pl = compile.placement(a.name, { a.kind })
    return wrap(gl, pl, join(base, pl.path), data), r
  end
  return data, r
end
local run_action = M.run_action

------------------------------------------------------------------------
-- Classes and wrapping
------------------------------------------------------------------------

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

--- Make `data` (a decoded JSON object) an object of placement `pl` under
-- the manager path `base`. Arrays and scalars are returned unchanged.
-- @param gl client
-- @tparam table pl placement
-- @tparam string base
-- @param data
-- @tparam[opt] table query the query it was fetched with (refresh reuses it)
wrap = function(gl, pl, base, data, query)
  if type(data) ~= "table" then return data end
  if data[1] ~= nil then return data end
  local kind = pl.kind
  local p
  -- what GitLab serves at the object's address: the placement's ops, but
  -- an item listed elsewhere and addressed at its kind's home (group.issues:
  -- issues at /projects/:id/issues) has the ops of its home
  local ops = pl.ops
  if kind.single then
    p = base
  else
    -- an id that is a dot segment leaves the object without an address
    local id = data[pl.id]
    if dot(id) then id = nil end
    if pl.home then
      local h = path.home(pl.home, data)
      if h and id ~= nil then
        p = h .. "/" .. encode(id)
        if not (kind.home_pattern and base:match(kind.home_pattern)) then ops = kind.ops end
      end
    end
    if not p and id ~= nil then p = base .. "/" .. encode(id) end
  end
  setmetatable(data, class_for(kind, pl.bare))
  ctx[data] = { gl = gl, path = p, placement = pl, kind = kind, query = query, ops = ops }
  snap[data] = deepcopy(data)
  return data
end
M.wrap = wrap

--- The methods table of an object's class (`methods(job).artifacts(job, {...})`).
function M.methods(obj)
  local mt = getmetatable(obj)
  return mt and mt.methods
end

return M
