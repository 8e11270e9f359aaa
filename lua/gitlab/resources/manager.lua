--- Managers: a collection (`gl.projects`, `project.issues`) with `list`,
-- `get`, `create`, `update`, `delete`, `lazy`, plus the collection actions
-- that exist at its path (for single resources, the item's actions and
-- sub-resources too); and the client's entry point to them.
-- @module gitlab.resources.manager

local compile = require("gitlab.resources.compile")
local path = require("gitlab.resources.path")
local list = require("gitlab.resources.list")
local object = require("gitlab.resources.object")
local util = require("gitlab.util")

local M = {}

local type, error, tostring, rawget = type, error, tostring, rawget
local setmetatable = setmetatable

local root, join, collection_action = compile.root, compile.join, compile.collection_action
local encode, dot, dot_error = path.encode, path.dot, path.dot_error
local call, wrap, run_action = object.call, object.wrap, object.run_action
local is_object = object.is_object
local new_list = list.new

local Manager = {}   -- built-in manager methods
M.Manager = Manager

-- Raises at the caller of the manager method unless the placement serves
-- `op`: gl.todos:delete(1) (todos.md has no DELETE /todos/:id). Nothing is
-- sent.
local function check_op(self, op)
  local pl = self.placement
  if not pl.ops[op] then
    error(("%s at %s: GitLab serves no %s here (this collection serves: %s)")
      :format(pl.kind.name, self.path, op, object.served(pl.ops)), 3)
  end
end

local function item_path(self, id)
  if id == nil then
    if self.placement.kind.single then return self.path end
    error("missing id", 3)
  end
  if type(id) == "table" and is_object(id) then
    return object.path_of(id)
  end
  if dot(id) then dot_error(id, 3) end
  return self.path .. "/" .. encode(id)
end

-- The id and table of `mgr:update(id, attrs)` and `mgr:delete(id,
-- params)`: a single resource has no id, so its table may come first.
local function shift_id(self, id, t)
  if self.placement.kind.single and t == nil and type(id) == "table" then return nil, id end
  return id, t
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
  if data == nil then return nil, r end
  local obj = wrap(self.gl, self.placement, self.path, data, query)
  if is_object(obj) and object.known_path(obj) == nil and id ~= nil then
    object.set_path(obj, item_path(self, id))
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
  local p = self.path
  if kind.create_in_path then
    local id = attrs and attrs[self.placement.id]
    if id == nil then error("create needs '" .. self.placement.id .. "'", 2) end
    p = item_path(self, id)
  elseif self.placement.create_path then
    p = join(self.base, self.placement.create_path)
  end
  local data, r
  if kind.create_upload then
    data, r = self.gl:upload(p, object.upload_opts("POST", attrs, opts))
  else
    data, r = call(self.gl, "POST", p, nil, attrs, opts, "object")
  end
  if data == nil then return nil, r end
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
  id, attrs = shift_id(self, id, attrs)
  local data, r = call(self.gl, self.placement.kind.update_method, item_path(self, id), nil, attrs,
                       nil, "object")
  if data == nil then return nil, r end
  return wrap(self.gl, self.placement, self.path, data), r
end

--- Delete an item by id.
-- @param id (omitted for single resources)
-- @tparam[opt] table params query parameters
-- @return true, resp; or nil, err
function Manager:delete(id, params)
  check_op(self, "delete")
  id, params = shift_id(self, id, params)
  local data, r = call(self.gl, "DELETE", item_path(self, id), params)
  if data == nil then return nil, r end
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
  object.set_path(obj, item_path(self, id))
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
  local a = collection_action(pl, self.path, key)
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
    if p then return M.new(self.gl, self.path, p, nil) end
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

--- The manager of placement `placement` under path `base` (an object's
-- path, or "" at the top).
-- @param gl client
-- @tparam string base
-- @tparam table placement
-- @param[opt] parent the object it hangs under
function M.new(gl, base, placement, parent)
  return setmetatable({ gl = gl, base = base, path = join(base, placement.path),
                        placement = placement, parent = parent }, ManagerMT)
end
object.set_manager_constructor(M.new)

--- `gl:search(scope, search, query)`: `GET /search` as a lazy list of the
-- results of `scope` ("projects", "issues", "blobs", ...) matching `search`.
-- `gl:search{ scope =, search =, ... }` is the same call in the form of
-- `group:search(params)` and `project:search(params)` (search.md: both
-- parameters are required).
-- @param gl client
-- @tparam string|table scope the scope, or every parameter
-- @tparam[opt] string search
-- @tparam[opt] table query more filters
function M.search(gl, scope, search, query)
  local q
  if type(scope) == "table" and search == nil and query == nil then
    q = util.copy(scope)
  else
    q = util.copy(query)
    q.scope, q.search = scope, search
  end
  if type(q.scope) ~= "string" or type(q.search) ~= "string" then
    error("search{ scope =, search = } or search(scope, search, query): "
      .. "scope and search must be strings", 2)
  end
  return new_list(gl, "/search", q, nil, nil)
end

--- The top-level manager `name` for client `gl` (`projects`, `groups`, ...),
-- a top-level action (`markdown`) or `search` as a method, or nil when the
-- catalog has none. Called from the client's `__index`.
-- @param gl client
-- @tparam string name
function M.top(gl, name)
  local p = root.subs[name]
  if p then return M.new(gl, "", p, nil) end
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

return M
