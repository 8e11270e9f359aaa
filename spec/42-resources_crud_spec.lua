-- The same life cycle for every everyday resource: list through several
-- pages, get by id (and by path or name where GitLab allows it), create,
-- save only the changed fields, delete, and a 404 error object after.
local helpers = require("helpers")
local resources = require("gitlab.resources")
local cjson = require("cjson")

local gl

local traced = helpers.traced

local function sent_keys(e)
  local body = e.body and e.body ~= "" and cjson.decode(e.body) or {}
  local ks = {}
  for k in pairs(body) do ks[#ks + 1] = k end
  table.sort(ks)
  return table.concat(ks, ",")
end

-- name, manager(gl), seed collection + template, create attrs, an edit,
-- the id attribute, and optionally a second way to address an item
local CASES = {
  { name = "projects", mgr = function() return gl.projects end,
    seed = { "/projects", { name = "p{n}", path = "p{n}", namespace_id = 1 } },
    create = { name = "crud" }, edit = { description = "edited" },
    alt = function(obj) return obj.path_with_namespace end },
  { name = "groups", mgr = function() return gl.groups end,
    seed = { "/groups", { name = "g{n}", path = "g{n}" } },
    create = { name = "crud", path = "crud" }, edit = { description = "edited" },
    alt = function(obj) return obj.full_path end },
  { name = "users", mgr = function() return gl.users end,
    seed = { "/users", { username = "u{n}", name = "User {n}", email = "u{n}@example.com" } },
    create = { username = "crud", name = "Crud", email = "crud@example.com" }, edit = { name = "Edited" } },
  { name = "issues", mgr = function() return gl.projects:lazy("group/proj").issues end,
    seed = { "/projects/1/issues", { title = "issue {n}" } },
    create = { title = "crud" }, edit = { title = "edited", labels = { "a", "b" } }, id = "iid" },
  { name = "merge requests", mgr = function() return gl.projects:lazy("group/proj").merge_requests end,
    seed = { "/projects/1/merge_requests", { title = "mr {n}", source_branch = "s{n}", target_branch = "main" } },
    create = { title = "crud", source_branch = "feature", target_branch = "main" },
    edit = { title = "edited" }, id = "iid" },
  { name = "issue notes", mgr = function() return gl.projects:lazy(1).issues:lazy(1).notes end,
    seed = { "/projects/1/issues/1/notes", { body = "note {n}" } },
    create = { body = "crud" }, edit = { body = "edited" } },
  { name = "merge request discussions",
    mgr = function() return gl.projects:lazy(1).merge_requests:lazy(1).discussions end,
    seed = { "/projects/1/merge_requests/1/discussions", { body = "d {n}" } },
    create = { body = "crud" }, edit = { resolved = true }, no_delete = true },
  { name = "pipelines", mgr = function() return gl.projects:lazy(1).pipelines end,
    seed = { "/projects/1/pipelines", { ref = "main", status = "success" } },
    create = { ref = "main" } },
  { name = "jobs", mgr = function() return gl.projects:lazy(1).jobs end,
    seed = { "/projects/1/jobs", { name = "job {n}", status = "success",
                                   pipeline = { id = 1, project_id = 1 } } },
    no_delete = true },
  { name = "branches", mgr = function() return gl.projects:lazy(1).repository.branches end,
    seed = { "/projects/1/repository/branches", { name = "b{n}", ref = "main" } },
    create = { branch = "feature/crud", ref = "main" }, id = "name" },
  { name = "tags", mgr = function() return gl.projects:lazy(1).repository.tags end,
    seed = { "/projects/1/repository/tags", { name = "t{n}", ref = "main" } },
    create = { tag_name = "release/1.0", ref = "main" }, id = "name" },
  { name = "commits", mgr = function() return gl.projects:lazy(1).repository.commits end,
    seed = { "/projects/1/repository/commits", { id = "c0ffee{n}", title = "commit {n}" } },
    no_delete = true },
  { name = "releases", mgr = function() return gl.projects:lazy(1).releases end,
    seed = { "/projects/1/releases", { tag_name = "v0.{n}", name = "r{n}" } },
    create = { tag_name = "v1.2.3", name = "crud" }, edit = { description = "edited" }, id = "tag_name" },
  { name = "project labels", mgr = function() return gl.projects:lazy(1).labels end,
    seed = { "/projects/1/labels", { name = "l{n}", color = "#FFFFFF" } },
    create = { name = "crud", color = "#000000" }, edit = { color = "#FF00FF" },
    alt = function(obj) return obj.name end },
  { name = "group labels", mgr = function() return gl.groups:lazy("group").labels end,
    seed = { "/groups/1/labels", { name = "gl{n}", color = "#FFFFFF" } },
    create = { name = "crud", color = "#000000" }, edit = { description = "edited" } },
  { name = "milestones", mgr = function() return gl.projects:lazy(1).milestones end,
    seed = { "/projects/1/milestones", { title = "m{n}" } },
    create = { title = "crud" }, edit = { due_date = "2030-01-01" } },
  { name = "project members", mgr = function() return gl.projects:lazy(1).members end,
    seed = { "/projects/1/members", { username = "m{n}", access_level = 10 } },
    create = { user_id = 2, access_level = 30 }, created_id = 2, edit = { access_level = 40 },
    before = function() gl.projects:lazy(1).members:delete(2) end },
  { name = "project variables", mgr = function() return gl.projects:lazy(1).variables end,
    seed = { "/projects/1/variables", { key = "V{n}", value = "x" } },
    create = { key = "CRUD", value = "1" }, edit = { value = "2" }, id = "key" },
  { name = "group variables", mgr = function() return gl.groups:lazy("group").variables end,
    seed = { "/groups/1/variables", { key = "G{n}", value = "x" } },
    create = { key = "CRUD", value = "1" }, edit = { protected = true }, id = "key" },
}

describe("every everyday resource", function()
  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function() helpers.reset() end)

  for _, case in ipairs(CASES) do
    describe(case.name, function()
      local idattr = case.id or "id"

      it("lists through several pages", function()
        local base = #assert(case.mgr():list():all())
        helpers.seed{ path = case.seed[1], count = 25, template = case.seed[2] }
        local n, pages = 0, 0
        local reqs = traced(function()
          for item in case.mgr():list{ per_page = 10 } do
            assert.is_true(resources.is_object(item))
            n = n + 1
          end
        end)
        for _, e in ipairs(reqs) do
          if e.method == "GET" then pages = pages + 1 end
        end
        assert.equal(base + 25, n)
        assert.is_true(pages >= 3)
      end)

      it("gets an item by its id" .. (case.alt and " and by path or name" or ""), function()
        local seeded = helpers.seed{ path = case.seed[1], count = 1, template = case.seed[2] }.items[1]
        local id = seeded[idattr]
        local obj = assert(case.mgr():get(id))
        assert.equal(id, obj[idattr])
        if case.alt then
          local again = assert(case.mgr():get(case.alt(obj)))
          assert.equal(obj.id, again.id)
        end
      end)

      if case.create then
        it("creates, saves only what changed, deletes, then answers 404", function()
          if case.before then case.before() end
          local obj = assert(case.mgr():create(case.create))
          assert.is_true(resources.is_object(obj))
          local id = obj[idattr]
          if case.created_id then assert.equal(case.created_id, id) end
          assert.equal(0, #traced(function() assert(obj:save()) end))
          if case.edit then
            local want = {}
            for k, v in pairs(case.edit) do
              obj[k] = v
              want[#want + 1] = k
            end
            table.sort(want)
            local reqs = traced(function() assert(obj:save()) end)
            assert.equal(1, #reqs)
            assert.equal(table.concat(want, ","), sent_keys(reqs[1]))
            local fresh = assert(case.mgr():get(id))
            for k, v in pairs(case.edit) do assert.same(v, fresh[k]) end
          end
          if not case.no_delete then
            assert.is_true(assert(obj:delete()))
            local none, err = case.mgr():get(id)
            assert.is_nil(none)
            assert.equal(404, err.status)
            assert.equal("http", err.kind)
            assert.matches("404", tostring(err))
          end
        end)
      end

      it("answers 404 with an error object for an unknown item", function()
        local none, err = case.mgr():get(idattr == "id" and 987654 or "no-such-thing")
        assert.is_nil(none)
        assert.equal(404, err.status)
        assert.is_string(err.message)
      end)
    end)
  end
end)
