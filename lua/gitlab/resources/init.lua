--- Resource layer: the catalog (`gitlab.resources.catalog`, plain data)
-- made into managers and objects. This module only assembles the parts;
-- requires go one way, each part needing only those after it:
--
--   manager   collections: list, get, create, update, delete, lazy,
--             collection actions; the client's entry point (`manager`)
--   object    resource objects: fields, save, delete, refresh, actions
--   list      lazy lists over every page
--   path      the path-segment encoder and template filling
--   compile   catalog kinds -> compiled kinds, placements, actions;
--             routes (coverage, docs) and templates (gitlab.files)
--
-- A *manager* stands for a collection (`gl.projects`, `project.issues`).
-- An *object* is the decoded JSON table itself: its fields are plain raw
-- fields, its methods and sub-resources come from the metatable. A data
-- field shadows a method of the same name; the method stays reachable
-- through `obj:call(name, ...)` or `resources.call(obj, name, ...)`, and a
-- sub-resource through `obj:manager(name)`.
-- @module gitlab.resources

local compile = require("gitlab.resources.compile")
local path = require("gitlab.resources.path")
local list = require("gitlab.resources.list")
local object = require("gitlab.resources.object")
local manager = require("gitlab.resources.manager")

local M = {}

--- Percent-encode one path segment (everything but `[A-Za-z0-9_~-]`).
-- @function encode
M.encode = path.encode

--- The top-level manager `name` for client `gl`, a top-level action, or
-- `search`; nil when the catalog has none. Called from the client's `__index`.
-- @function manager
M.manager = manager.top

--- `gl:search(scope, search, query)` or `gl:search{ scope =, search =, ... }`
-- (`GET /search`) as a lazy list.
-- @function search
M.search = manager.search

--- Is `v` a resource object?
-- @function is_object
M.is_object = object.is_object

--- Sub-resource `name` of an object or manager, bypassing shadowing fields.
-- @function sub
M.sub = object.sub

--- Call method `name` of an object even if a field shadows it.
function M.call(obj, name, ...)
  return object.Object.call(obj, name, ...)
end

--- The methods table of an object's class (`methods(job).artifacts(job, {...})`).
-- @function methods
M.methods = object.methods

M.wrap = object.wrap
M.deepeq = object.deepeq
M.Manager = manager.Manager
M.List = list.List

-- the compiled catalog and its introspection
M.root = compile.root
M.kinds = compile.kinds
M.routes = compile.routes
M.shape = compile.shape
M._compile_kind = compile._compile_kind

return M
