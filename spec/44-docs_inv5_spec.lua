-- The catalog against GitLab's docs (gitlabhq/gitlabhq doc/api/**), for
-- packages.md and container_registry.md: a group lists the packages and
-- container repositories of its projects, and each item is addressed at
-- its project (DELETE /projects/:id/packages/:package_id,
-- DELETE /projects/:id/registry/repositories/:repository_id); GitLab has
-- no such route under the group. The fake (spec/fake/routes/docs_inv5.js)
-- answers the group listings as the docs show them, with project_id, and
-- refuses the group-level item paths with 404.
local helpers = require("helpers")
local resources = require("gitlab.resources")

local gl

-- an integer as path text, under Lua 5.4 (42.0 from JSON) and LuaJIT alike
local function int(n) return ("%d"):format(n) end

-- "METHOD /api/v4/path" of every API request fn makes
local function sent(fn)
  local out = {}
  for _, e in ipairs(helpers.traced(fn)) do out[#out + 1] = e.method .. " " .. e.path end
  return out
end

-- fn makes exactly the one request `want` ("METHOD /path" under /api/v4)
-- and succeeds; returns its first result
local function sends(want, fn)
  local result
  local reqs = sent(function() result = { fn() } end)
  assert.same({ (want:gsub(" /", " /api/v4/", 1)) }, reqs)
  assert.is_truthy(result[1], tostring(result[2]))
  return result[1]
end

-- the raw API reaches `path` and GitLab (the fake) answers `status`
local function refused(method, path, status)
  local data, err
  local reqs = sent(function() data, err = gl:request(method, path) end)
  assert.same({ method .. " /api/v4" .. path }, reqs)
  assert.is_nil(data)
  assert.equal(status, err.status)
end

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
