-- The catalog against GitLab's docs (gitlabhq/gitlabhq doc/api/**), for
-- packages.md and container_registry.md: a group lists the packages and
-- container repositories of its projects, and each item is addressed at
-- its project (DELETE /projects/:id/packages/:package_id,
-- DELETE /projects/:id/registry/repositories/:repository_id); GitLab has
-- no such route under the group. The fake (spec/fake/routes/docs_inv5.js)
-- answers the group listings as the docs show them, with project_id, and
-- refuses the group-level item paths with 404.
--
-- Then endpoints of runners.md, job_artifacts.md and environments.md that
-- the catalog already sent right but the fake did not answer as the docs
-- show (runners/all, enabling and disabling a project's runner, keeping
-- artifacts, stopping and cleaning up environments): the documented
-- method, path and answer, through the resource layer.
--
-- Last, what runners.md documents and the catalog lacked: a runner's
-- managers (GET /runners/:id/managers, one array) and resetting a runner's
-- authentication token by that token (POST /runners/reset_authentication_token);
-- and a doc path written with a trailing slash (container_registry.md,
-- "PUT /projects/:id/") counted as the route it is.
local helpers = require("helpers")
local resources = require("gitlab.resources")
local gitlab = require("gitlab")

local gl

local int = helpers.int

local sends = helpers.sends

local function refused(method, path, status) return helpers.raw_reaches(gl, method, path, status) end

describe("catalog against GitLab's docs: packages, container registry", function()
  local g

  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
    g = gl.groups:lazy(1)
  end)

  it("group packages are deleted at their project (packages.md)", function()
    -- project 1 is in group 1, project 2 in its subgroup group/sub
    helpers.seed{ path = "/projects/1/packages",
                  items = { { name = "com/mycompany/my-app", version = "1.0", package_type = "maven" } } }
    helpers.seed{ path = "/projects/2/packages",
                  items = { { name = "@foo/bar", version = "1.0.3", package_type = "npm" } } }

    local lazy = g.packages:list()
    assert.equal(resources.List, getmetatable(lazy))
    local items = sends("GET /groups/1/packages", function() return lazy:all() end)
    assert.equal(2, #items)
    assert.is_true(resources.is_object(items[1]))
    assert.equal(1, items[1].project_id)
    assert.equal(2, items[2].project_id)

    for _, pkg in ipairs(items) do
      local where = "/projects/" .. int(pkg.project_id) .. "/packages/" .. int(pkg.id)
      assert.equal(where, pkg:rest_path())
      refused("DELETE", "/groups/1/packages/" .. int(pkg.id), 404)
      assert.is_true(sends("DELETE " .. where, function() return pkg:delete() end))
      refused("GET", where, 404)
    end
    assert.same({}, g.packages:list():all())
  end)

  it("group container repositories are deleted at their project (container_registry.md)", function()
    helpers.seed{ path = "/projects/1/registry/repositories",
                  items = { { name = "", path = "group/proj", location = "registry.example.com/group/proj" } } }
    helpers.seed{ path = "/projects/2/registry/repositories",
                  items = { { name = "releases", path = "group/sub/proj2/releases" } } }

    local lazy = g.registry_repositories:list()
    assert.equal(resources.List, getmetatable(lazy))
    local repos = sends("GET /groups/1/registry/repositories", function() return lazy:all() end)
    assert.equal(2, #repos)
    assert.is_true(resources.is_object(repos[1]))
    assert.equal(1, repos[1].project_id)
    assert.equal(2, repos[2].project_id)

    for _, repo in ipairs(repos) do
      local where = "/projects/" .. int(repo.project_id) .. "/registry/repositories/" .. int(repo.id)
      assert.equal(where, repo:rest_path())
      refused("DELETE", "/groups/1/registry/repositories/" .. int(repo.id), 404)
      assert.is_true(sends("DELETE " .. where, function() return repo:delete() end))
    end
    assert.same({}, g.registry_repositories:list():all())
  end)

  it("a project's packages and repositories keep their paths", function()
    helpers.seed{ path = "/projects/1/packages", items = { { name = "p", version = "1", package_type = "generic" } } }
    local p = gl.projects:lazy(1)
    local pkg = sends("GET /projects/1/packages", function() return p.packages:list():all() end)[1]
    assert.equal("/projects/1/packages/" .. int(pkg.id), pkg:rest_path())
    local one = sends("GET /projects/1/packages/" .. int(pkg.id), function() return p.packages:get(pkg.id) end)
    assert.is_true(resources.is_object(one))
    sends("GET /projects/1/packages/" .. int(pkg.id) .. "/package_files",
      function() return one.package_files:list():all() end)
    sends("DELETE /projects/1/packages/" .. int(pkg.id), function() return one:delete() end)
  end)
end)

-- an ISO 8601 UTC time `days` from now
local function iso(days)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + math.floor(days * 86400))
end

describe("catalog against GitLab's docs: runners, job artifacts, environments", function()
  local p

  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
    p = gl.projects:lazy(1)
  end)

  it("runners: all of them, enabled in and disabled from projects (runners.md)", function()
    local made = helpers.seed{ path = "/runners", items = {
      { description = "test-1", is_shared = false, active = true, online = true },
      { description = "shared-1", is_shared = true, active = true, online = false },
    } }.items
    local specific, shared = made[1], made[2]

    local lazy = gl.runners:list_all()
    assert.equal(resources.List, getmetatable(lazy))
    local all = sends("GET /runners/all", function() return lazy:all() end)
    assert.equal(2, #all)
    assert.equal("test-1", all[1].description)
    local online = sends("GET /runners/all", function() return gl.runners:list_all{ scope = "online" }:all() end)
    assert.same({ specific.id }, { online[1].id })
    assert.equal(1, #online)
    local alice = helpers.client{ token = "glpat-alice" }
    local none, err = alice.runners:list_all():all()
    assert.is_nil(none)
    assert.equal(403, err.status)

    -- "Enable a runner in project" answers the runner itself
    local enabled = sends("POST /projects/1/runners", function() return p.runners:create{ runner_id = specific.id } end)
    assert.is_true(resources.is_object(enabled))
    assert.equal(specific.id, enabled.id)
    assert.equal("/projects/1/runners/" .. int(specific.id), enabled:rest_path())
    local listed = sends("GET /projects/1/runners", function() return p.runners:list():all() end)
    local ids = {}
    for _, r in ipairs(listed) do ids[#ids + 1] = r.id end
    table.sort(ids)
    assert.same({ specific.id, shared.id }, ids)
    assert(gl.projects:lazy(2).runners:create{ runner_id = specific.id })

    -- "Disable a runner from project": DELETE .../runners/:runner_id, refused
    -- for the runner's last project
    assert.is_true(sends("DELETE /projects/1/runners/" .. int(specific.id),
      function() return p.runners:delete(specific.id) end))
    local gone, why = gl.projects:lazy(2).runners:delete(specific.id)
    assert.is_nil(gone)
    assert.equal(403, why.status)
    assert.equal(1, #p.runners:list():all())
  end)

  it("keeping a job's artifacts answers the job (job_artifacts.md)", function()
    assert(p.pipelines:create{ ref = "main" })
    local job = p.jobs:list():all()[1]
    assert.is_nil(job.artifacts_expire_at)
    local kept = sends("POST /projects/1/jobs/" .. int(job.id) .. "/artifacts/keep",
      function() return job:keep_artifacts() end)
    -- the job itself, reloaded from the answer
    assert.equal(job, kept)
    assert.equal(gitlab.null, kept.artifacts_expire_at)
    assert.same({}, kept:changed())
  end)

  it("environments: stop one, stop the stale ones, clean up review apps (environments.md)", function()
    local env = assert(p.environments:create{ name = "review/fix-foo" })
    assert.equal("available", env.state)
    assert.equal("review-fix-foo", env.slug)
    -- "The environment must be stopped first, otherwise the request returns 403"
    local gone, why = p.environments:delete(env.id)
    assert.is_nil(gone)
    assert.equal(403, why.status)

    local stopped = sends("POST /projects/1/environments/" .. int(env.id) .. "/stop",
      function() return env:stop() end)
    assert.equal(env, stopped)
    assert.equal("stopped", env.state)
    assert.equal("review/fix-foo", env.name)

    local old = helpers.seed{ path = "/projects/1/environments", items = {
      { name = "staging", slug = "staging", state = "available", updated_at = "2020-01-01T00:00:00Z" },
    } }.items[1]
    local answer = sends("POST /projects/1/environments/stop_stale",
      function() return p.environments:stop_stale{ before = iso(-8) } end)
    assert.equal("Successfully requested stop for all stale environments", answer.message)
    assert.equal("stopped", assert(p.environments:get(old.id)).state)

    local scheduled = sends("DELETE /projects/1/environments/review_apps",
      function() return p.environments:delete_review_apps{ before = iso(1) } end)
    assert.equal(1, #scheduled.scheduled_entries)
    assert.equal("review/fix-foo", scheduled.scheduled_entries[1].name)
    assert.same({}, scheduled.unprocessable_entries)
    -- a DELETE's parameters travel in the query
    assert.matches("^before=", helpers.last_request{ method = "DELETE" }.query)

    assert.is_true(sends("DELETE /projects/1/environments/" .. int(env.id), function() return env:delete() end))
    assert.equal(1, #p.environments:list():all())
  end)
end)

-- Runs cmd in the repository; returns its output and whether it exited 0
-- (the status through the shell: LuaJIT's pipe close does not report it).
local function run(cmd)
  local p = assert(io.popen("cd " .. helpers.shell_quote(helpers.root) .. " && " .. helpers.child_env() .. cmd
    .. " 2>&1; printf '\\n__exit=%d\\n' $?"))
  local all = p:read("*a")
  p:close()
  local out, code = all:match("^(.*)\n__exit=(%d+)\n$")
  assert(out, all)
  return out, code == "0"
end

describe("catalog against GitLab's docs: runner managers and tokens (runners.md)", function()
  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
  end)

  it("lists a runner's managers as one array, not a paginated list", function()
    local runner = helpers.seed{ path = "/runners", items = { { description = "test-1", is_shared = false } } }.items[1]
    local where = "/runners/" .. int(runner.id) .. "/managers"
    -- more than a default page (20): GitLab answers them all at once
    local seeded = {}
    for i = 1, 25 do
      seeded[i] = { system_id = "runner-" .. i, version = "17.0." .. i, platform = "linux", status = "offline" }
    end
    helpers.seed{ path = where, items = seeded }

    local r = assert(gl.runners:get(runner.id))
    local managers = sends("GET " .. where, function() return r:managers() end)
    -- the decoded JSON array itself: no lazy list, no resource object
    assert.not_equal(resources.List, getmetatable(managers))
    assert.is_false(resources.is_object(managers))
    assert.equal(25, #managers)
    assert.equal("runner-1", managers[1].system_id)
    assert.equal("runner-25", managers[25].system_id)
    -- a lazy runner reaches them too, without loading it first
    local lazy = sends("GET " .. where, function() return gl.runners:lazy(runner.id):managers() end)
    assert.equal(25, #lazy)

    local none, err = gl.runners:lazy(999999):managers()
    assert.is_nil(none)
    assert.equal(404, err.status)
  end)

  it("resets a runner's authentication token by that token", function()
    helpers.seed{ path = "/runners", items = { { description = "test-1", token = "glrt-old-token" } } }

    local answer = sends("POST /runners/reset_authentication_token",
      function() return gl.runners:reset_authentication_token{ token = "glrt-old-token" } end)
    assert.is_false(resources.is_object(answer))
    assert.is_string(answer.token)
    assert.matches("^glrt%-", answer.token)
    assert.not_equal("glrt-old-token", answer.token)
    assert.is_string(answer.token_expires_at)
    -- the token travels in the body, never in the URL
    local req = helpers.last_request{ method = "POST" }
    assert.not_matches("glrt", req.query or "")

    -- the old token is no longer the runner's; the new one is
    local gone, err = gl.runners:reset_authentication_token{ token = "glrt-old-token" }
    assert.is_nil(gone)
    assert.equal(403, err.status)
    assert.not_matches("glrt%-old%-token", tostring(err))
    assert(gl.runners:reset_authentication_token{ token = answer.token })
  end)

  it("counts a doc path written with a trailing slash as the route (container_registry.md)", function()
    -- "Change the visibility of the container registry": PUT /projects/:id/
    local p = sends("PUT /projects/1", function()
      return gl.projects:update(1, { container_registry_access_level = "private" })
    end)
    assert.equal("private", p.container_registry_access_level)

    local out, ok = run(helpers.lua_interpreter() .. " tools/coverage.lua --page=container_registry --missing")
    assert.is_true(ok, out)
    assert.matches("inventory: 9/9 endpoints of 1 doc pages reachable", out, 1, true)
  end)
end)
