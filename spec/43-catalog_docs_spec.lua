-- The catalog against GitLab's docs (gitlabhq/gitlabhq doc/api/**): each
-- endpoint a review found sent with the wrong verb or path is called
-- through the resource layer and the fake (spec/fake/routes/catalog.js,
-- which answers as the docs say and refuses the wrong verb or path as
-- GitLab does) must see the documented method and path; each endpoint
-- GitLab removed is gone from the resource layer while the raw API still
-- sends it; endpoints the docs dropped but GitLab 18 still serves stay and
-- docs/reference.md marks them deprecated.
local helpers = require("helpers")
local resources = require("gitlab.resources")

local gl

local int = helpers.int

local sent = helpers.sent

local sends = helpers.sends

local function raw_reaches(method, path, status) return helpers.raw_reaches(gl, method, path, status) end

local function refuses(mgr, op, arg)
  local reqs = sent(function()
    assert.has_error(function() mgr[op](mgr, arg) end)
  end)
  assert.same({}, reqs)
end

describe("catalog against GitLab's docs", function()
  local p, g, mr

  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
    p = gl.projects:lazy(1)
    g = gl.groups:lazy(1)
    mr = p.merge_requests:lazy(1)
  end)

  describe("documented verbs and paths", function()
    it("group members: approve_all is POST (members.md)", function()
      sends("POST /groups/1/members/approve_all", function() return g.members:approve_all() end)
    end)

    it("group relations export status is GET .../export_relations/status (group_relations_export.md)", function()
      sends("GET /groups/1/export_relations/status", function() return g:export_relations_status() end)
    end)

    it("Conan ping is GET, instance and project level (packages/conan_v1.md)", function()
      sends("GET /packages/conan/v1/ping", function() return gl.conan_packages:ping() end)
      sends("GET /projects/1/packages/conan/v1/ping", function() return p.conan_packages:ping() end)
    end)

    it("every Geo site's status is GET /geo_sites/status (geo_sites.md)", function()
      assert.is_nil(gl.geo_sites.statuses)
      sends("GET /geo_sites/status", function() return gl.geo_sites:all_status():all() end)
    end)

    it("product analytics meta stays GET, as product_analytics.md documents it", function()
      sends("GET /projects/1/product_analytics/request/meta", function() return p.product_analytics:meta() end)
    end)

    it("one container repository is GET /registry/repositories/:id (container_registry.md)", function()
      sends("GET /registry/repositories/5", function() return gl.registry_repositories:get(5) end)
      refuses(p.registry_repositories, "get", 5)
      raw_reaches("GET", "/projects/1/registry/repositories/5", 405)
    end)
  end)

  describe("epics", function()
    local epic

    before_each(function()
      epic = helpers.epic_apart(gl)
    end)

    it("to-do item: POST .../epics/:epic_iid/todo, singular (epics.md)", function()
      sends("POST /groups/1/epics/1/todo", function() return epic:todo() end)
    end)

    it("notes and discussions address the epic by its id (notes.md, discussions.md)", function()
      -- epic.notes and epic.discussions hang under the id too (spec/46)
      assert.equal("/groups/1/epics/2/notes", epic.notes.path)
      assert.equal("/groups/1/epics/2/discussions", epic.discussions.path)
      local byid = g.epics_by_id:lazy(epic.id)
      local note = sends("POST /groups/1/epics/2/notes", function() return byid.notes:create{ body = "hi" } end)
      local list = sends("GET /groups/1/epics/2/notes", function() return byid.notes:list():all() end)
      assert.equal(1, #list)
      assert.equal(note.id, list[1].id)
      note.body = "edited"
      sends("PUT /groups/1/epics/2/notes/" .. int(note.id), function() return note:save() end)
      sends("POST /groups/1/epics/2/discussions", function() return byid.discussions:create{ body = "why?" } end)
      sends("GET /groups/1/epics/2/discussions", function() return byid.discussions:list():all() end)
      -- the iid reaches no epic of this group
      raw_reaches("GET", "/groups/1/epics/1/notes", 404)
    end)

    it("issues: assign by the issue's id, reorder and remove by epic_issue_id (epic_issues.md)", function()
      sends("POST /groups/1/epics/1/issues/3", function() return epic.issues:assign(3) end)
      local items = sends("GET /groups/1/epics/1/issues", function() return epic.issues:list():all() end)
      assert.equal(1, #items)
      local item = items[1]
      assert.equal(3, item.id)
      local link = int(item.epic_issue_id)
      assert.not_equal("3", link)
      local order = sends("PUT /groups/1/epics/1/issues/" .. link,
        function() return item:move{ move_before_id = 7 } end)
      assert.equal(link, int(order[1].epic_issue_id))
      sends("DELETE /groups/1/epics/1/issues/" .. link, function() return item:delete() end)
      -- the issue id is not the association id
      raw_reaches("DELETE", "/groups/1/epics/1/issues/3", 404)
    end)
  end)

  describe("routes GitLab does not serve are gone, the raw API still reaches them", function()
    it("project approvers and dashboards (merge_request_approvals.md; removed in 16.0)", function()
      assert.is_nil(p.set_approvers)
      raw_reaches("PUT", "/projects/1/approvers", 404)
      assert.is_nil(p.starred_dashboards)
      assert.is_nil(p.unstar_dashboards)
      raw_reaches("GET", "/projects/1/metrics/user_starred_dashboards", 404)
      raw_reaches("DELETE", "/projects/1/metrics/user_starred_dashboards", 404)
    end)

    it("managed licenses (removed in GitLab 17.0)", function()
      assert.is_nil(p.managed_licenses)
      assert.is_nil(resources.kinds.managed_license)
      raw_reaches("GET", "/projects/1/managed_licenses", 404)
    end)

    it("merge request approvals set through /approvals and /approvers, and PUT merge_ref", function()
      assert.is_nil(mr.set_approvals)
      assert.is_nil(mr.set_approvers)
      assert.is_nil(mr.merge_to_ref)
      raw_reaches("POST", "/projects/1/merge_requests/1/approvals", 405)
      raw_reaches("PUT", "/projects/1/merge_requests/1/approvers", 404)
      raw_reaches("PUT", "/projects/1/merge_requests/1/merge_ref", 405)
      sends("GET /projects/1/merge_requests/1/merge_ref", function() return mr:merge_ref() end)
    end)

    it("releases through the tags API (tags.md has none; releases.md)", function()
      local tag = p.repository.tags:lazy("v1")
      assert.is_nil(tag.create_release)
      assert.is_nil(tag.update_release)
      raw_reaches("POST", "/projects/1/repository/tags/v1/release", 404)
      raw_reaches("PUT", "/projects/1/repository/tags/v1/release", 404)
    end)

    it("instance CI lint (removed in GitLab 16.0; ci/lint.md lints per project)", function()
      assert.is_nil(gl.ci_lint)
      raw_reaches("POST", "/ci/lint", 404)
      assert.is_not_nil(p.ci_lint)
    end)

    it("to-do items are marked done, not deleted (todos.md)", function()
      refuses(gl.todos, "delete", 1)
      raw_reaches("DELETE", "/todos/1", 404)
    end)

    it("a user's single email is GET /user/emails/:email_id only (users.md)", function()
      refuses(gl.users:lazy(1).emails, "get", 1)
      raw_reaches("GET", "/users/1/emails/1", 405)
      local email = assert(gl.current_user.emails:create{ email = "x@example.com" })
      sends("GET /user/emails/" .. int(email.id),
        function() return gl.current_user.emails:get(email.id) end)
    end)

    it("invitations have no single get (invitations.md)", function()
      refuses(p.invitations, "get", "a@example.com")
      refuses(g.invitations, "get", "a@example.com")
      raw_reaches("GET", "/projects/1/invitations/a%40example.com", 405)
      raw_reaches("GET", "/groups/1/invitations/a%40example.com", 405)
    end)

    it("pipeline schedule variables are not listed (pipeline_schedules.md)", function()
      refuses(p.pipeline_schedules:lazy(1).variables, "list")
      raw_reaches("GET", "/projects/1/pipeline_schedules/1/variables", 405)
    end)

    it("group import status, PUT avatar, milestone promote (groups.md, group_milestones.md)", function()
      assert.is_nil(g.import_status)
      assert.is_nil(g.set_avatar)
      assert.is_not_nil(g.avatar)
      raw_reaches("GET", "/groups/1/import", 404)
      raw_reaches("PUT", "/groups/1/avatar", 405)
      assert.is_nil(g.milestones:lazy(1).promote)
      assert.is_not_nil(p.milestones:lazy(1).promote)
      raw_reaches("POST", "/groups/1/milestones/1/promote", 404)
    end)
  end)

  describe("served but no longer documented: kept, marked deprecated in docs/reference.md", function()
    local section = helpers.reference_section

    it("project.services, discussion notes' get, branch protect, terraform state get", function()
      assert.matches("Deprecated alias", section("project.services `/projects/:id/services`"))
      assert.matches("`get` is deprecated",
        section("discussion.notes `/projects/:id/issues/:iid/discussions/:id/notes`"))
      assert.matches("are deprecated", section("repository.branches `/projects/:id/repository/branches`"))
      assert.matches("does not list",
        section("project.terraform_states `/projects/:id/terraform/state`"))
      assert.matches("`changes` is deprecated",
        section("project.merge_requests `/projects/:id/merge_requests`"))
      assert.is_function(p.repository.branches:lazy("main").protect)
    end)
  end)
end)
