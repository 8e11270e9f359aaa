--- The resource catalog: plain data merged from `gitlab.resources.kinds.*`.
--
-- A *kind* describes one resource type:
--
--   path            segment(s) under the parent (default: the placement name)
--   id              attribute addressing one item (`id`, `iid`, `name`, ...)
--   ops             letters: L list, G get, C create, U update, D delete
--   single          true for a resource without ids (`push_rule`, `settings`)
--   update_method   "PUT" (default), "PATCH" or "POST"
--   create_in_path  create POSTs to `path/:id` (repository files, features)
--   create_path     create POSTs to this path under the parent instead
--   create_upload   create is a multipart upload (secure files, imports)
--   home            canonical path template of items, `{field}` from the item
--                   (`/projects/{project_id}/issues`): objects listed from
--                   elsewhere (`group.issues`) still save/delete correctly
--   actions         item actions:       name = "METHOD subpath [flags]"
--   collection      collection actions: name = "METHOD subpath [flags]"
--   subs            sub-resources: name = "kind" or { "kind", path =, ops = };
--                   `via = "id"` hangs one under that attribute of the parent
--                   instead of the parent's address (epic notes: the epic's id)
--   aliases         name = "dotted.path" to another sub-resource
--
-- In action paths `.` is the item itself, `:name` a positional argument
-- encoded as one segment, `*name` an argument whose slashes are kept.
-- Flags: `list` (lazy paginated list), `list=kind` (list of objects),
-- `kind=k` (result wrapped as an object), `self` (result reloads the object),
-- `raw` (body returned as a string), `download` (raw, or streamed to
-- `output=`), `upload` (multipart, the file in the `file` field;
-- `upload=name` puts it in field `name`, `upload=raw` makes it the body).
-- @module gitlab.resources.catalog

local PARTS = { "shared", "projects", "repository", "ci", "groups", "users",
                "instance", "packages" }

local kinds = {}
for _, part in ipairs(PARTS) do
  local defs = require("gitlab.resources.kinds." .. part)
  for name, def in pairs(defs) do
    if kinds[name] then error("catalog: kind '" .. name .. "' defined twice") end
    kinds[name] = def
  end
end

return { kinds = kinds, parts = PARTS }
