-- The catalog against GitLab's docs (gitlabhq/gitlabhq doc/api/**) for
-- repositories.md, repository_files.md, commits.md, branches.md, tags.md,
-- releases/_index.md, protected_branches.md, wikis.md and
-- project_webhooks.md (docs/inventory/<page>.tsv lists what each
-- documents). Each endpoint the catalog gained is called through the
-- resource layer; the fake (spec/fake/routes/docs_inv4.js answers these as
-- the docs say) must see the documented method and path, and the result
-- must have the documented shape.
local helpers = require("helpers")

local gl

local int = helpers.int

local function sent(fn) return helpers.sent(fn) end

local sends = helpers.sends

-- a decoded JSON object: a table with keys and no array part
local function is_object(v)
  assert.is_table(v)
  assert.is_nil(v[1])
  assert.is_not_nil(next(v))
end

-- the raw API's answer to a route the resource layer must not send
local function raw_status(method, path)
  local data, err = gl:request(method, path)
  assert.is_nil(data)
  return err.status
end

describe("repositories, files, branches, releases, webhooks against GitLab's docs", function()
  local p, repo

  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
    p = gl.projects:lazy(1)
    repo = p.repository
  end)

  describe("added", function()
    it("repository health: GET .../repository/health, 404 until generated (repositories.md \"Health\")", function()
      local data, err
      assert.same({ "GET /api/v4/projects/1/repository/health" },
        sent(function() data, err = repo:health() end))
      assert.is_nil(data)
      assert.equal(404, err.status)
      local report = sends("GET /projects/1/repository/health", function() return repo:health{ generate = true } end)
      is_object(report)
      assert.is_number(report.size)
      assert.is_table(report.objects)
      is_object(sends("GET /projects/1/repository/health", function() return repo:health() end))
    end)

    it("file blame metadata: HEAD .../files/:file_path/blame (repository_files.md)", function()
      local file = repo.files:lazy("README.md")
      local headers = sends("HEAD /projects/1/repository/files/README%2Emd/blame",
        function() return file:head_blame{ ref = "main" } end)
      assert.equal("README.md", headers["x-gitlab-file-path"])
      assert.equal("main", headers["x-gitlab-ref"])
      -- headers only: the blame itself stays GET with its ranges
      local ranges = sends("GET /projects/1/repository/files/README%2Emd/blame",
        function() return file:blame{ ref = "main" } end)
      assert.is_table(ranges[1])
      assert.same({ "# proj" }, ranges[1].lines)
    end)

    it("webhook events: GET .../hooks/:hook_id/events, POST .../events/:hook_event_id/resend "
      .. "(project_webhooks.md)", function()
      local hook = assert(p.hooks:create{ url = "https://example.com/hook" })
      local base = "/projects/1/hooks/" .. int(hook.id)
      sends("POST " .. base .. "/test/push_events", function() return hook:test("push_events") end)
      local list
      assert.same({}, sent(function() list = hook.events:list() end))   -- a lazy list
      assert.is_function(list.all)
      local items = sends("GET " .. base .. "/events", function() return list:all() end)
      assert.equal(1, #items)
      assert.equal("push_hooks", items[1].trigger)
      assert.equal(0, #assert(hook.events:list{ status = "server_failure" }:all()))
      assert.equal(1, #assert(hook.events:list{ status = 200 }:all()))
      local ev = items[1]
      local r = sends("POST " .. base .. "/events/" .. int(ev.id) .. "/resend", function() return ev:resend() end)
      is_object(r)
      assert.equal(200, r.response_status)
      assert.equal(2, #assert(hook.events:list():all()))
      -- an event reached lazily by its id
      sends("POST " .. base .. "/events/" .. int(ev.id) .. "/resend",
        function() return hook.events:lazy(ev.id):resend() end)
    end)

    it("group webhook events share the hook kind (group_webhooks.md)", function()
      local hook = assert(gl.groups:lazy(1).hooks:create{ url = "https://example.com/hook" })
      local base = "/groups/1/hooks/" .. int(hook.id)
      sends("POST " .. base .. "/test/tag_push_events", function() return hook:test("tag_push_events") end)
      local items = assert(sends("GET " .. base .. "/events", function() return hook.events:list():all() end))
      assert.equal("tag_push_hooks", items[1].trigger)
      sends("POST " .. base .. "/events/" .. int(items[1].id) .. "/resend", function() return items[1]:resend() end)
    end)
  end)

  describe("checked against the docs (the fake answers as they say)", function()
    it("delete merged branches answers 202 Accepted (branches.md)", function()
      local data = sends("DELETE /projects/1/repository/merged_branches",
        function() return repo:delete_merged_branches() end)
      assert.same({ message = "202 Accepted" }, data)
    end)

    it("a protected branch is updated with PATCH, never PUT (protected_branches.md)", function()
      local pb = assert(p.protected_branches:create{ name = "release-*" })
      pb.allow_force_push = true
      sends("PATCH /projects/1/protected_branches/release-%2A", function() return pb:save() end)
      assert.equal(405, raw_status("PUT", "/projects/1/protected_branches/release-%2A"))
    end)

    it("a release is deleted with DELETE .../releases/:tag_name, answered with the release "
      .. "(releases/_index.md)", function()
      assert(p.releases:create{ tag_name = "v1.0", name = "one", ref = "main" })
      assert.is_true(sends("DELETE /projects/1/releases/v1%2E0", function() return p.releases:delete("v1.0") end))
      assert.equal(404, raw_status("GET", "/projects/1/releases/v1%2E0"))
    end)
  end)
end)
