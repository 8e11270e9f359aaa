-- The resource catalog itself: it compiles, names follow GitLab's
-- snake_case, every REST path it produces is well formed, the endpoint
-- coverage target holds, and the generated reference is up to date.
local resources = require("gitlab.resources")
local helpers = require("helpers")

local ROOT = helpers.root

-- Runs cmd in the repository; returns its output and whether it exited 0.
-- The status comes back through the shell: LuaJIT's pipe close does not
-- report it.
local function run(cmd)
  local p = assert(io.popen("cd " .. helpers.shell_quote(ROOT) .. " && " .. helpers.child_env() .. cmd
    .. " 2>&1; printf '\\n__exit=%d\\n' $?"))
  local all = p:read("*a")
  p:close()
  local out, code = all:match("^(.*)\n__exit=(%d+)\n$")
  assert(out, all)
  return out, code == "0"
end

local lua_interpreter = helpers.lua_interpreter

describe("resource catalog", function()
  local routes

  setup(function()
    routes = resources.routes()
  end)

  it("reaches well over a thousand REST routes", function()
    assert.is_true(#routes > 1000)
  end)

  it("uses snake_case names and well-formed paths", function()
    for name, kind in pairs(resources.kinds) do
      assert.matches("^[a-z][a-z0-9_]*$", name)
      for sub in pairs(kind.subs) do assert.matches("^[a-z][a-z0-9_]*$", sub) end
      for a in pairs(kind.actions) do assert.matches("^[a-z][a-z0-9_]*$", a) end
      for a in pairs(kind.collection) do assert.matches("^[a-z][a-z0-9_]*$", a) end
    end
    local methods = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, HEAD = true }
    for _, r in ipairs(routes) do
      assert.is_true(methods[r.method], r.method)
      assert.matches("^/", r.path)
      assert.not_matches("//", r.path)
      assert.not_matches("/$", r.path)
    end
  end)

  it("names each route once per manager", function()
    local seen = {}
    for _, r in ipairs(routes) do
      local key = r.section_path .. " " .. r.section .. " " .. r.call
      assert.is_nil(seen[key], key)
      seen[key] = true
    end
  end)

  it("encodes path ids as one segment", function()
    assert.equal("group%2Fsub%2Fproj", resources.encode("group/sub/proj"))
    assert.equal("feature%2Fx", resources.encode("feature/x"))
    assert.equal("lib%2Fa%2Erb", resources.encode("lib/a.rb"))
    assert.equal("42", resources.encode(42))
    assert.equal("42", resources.encode(42.0))
  end)

  -- the tools (make coverage, make docs) read the catalog without a build:
  -- gitlab.resources.compile needs no C core; gitlab.resources, which
  -- talks to a client, requires it plainly (no Lua stand-in)
  it("compiles the catalog without the C core; the resource layer requires it", function()
    local script = [[package.preload["gitlab.core"] = function() error("no core here") end
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local c = require("gitlab.resources.compile")
local n = #c.routes()
local ok, err = pcall(require, "gitlab.resources")
io.write(tostring(n > 1000), " ", tostring(ok), " ", tostring(err):match("no core here") or tostring(err))]]
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "w"))
    f:write(script)
    f:close()
    local out, ok = run(lua_interpreter() .. " " .. helpers.shell_quote(tmp))
    os.remove(tmp)
    assert.is_true(ok, out)
    assert.equal("true false no core here", out)
    assert.equal("a%20b~c_d-e", resources.encode("a b~c_d-e"))
  end)

  -- A kind's collection actions belong to its own collection (the one at
  -- its home): a listing of the kind elsewhere has none of them, GitLab
  -- has no /pipelines/:id/jobs/artifacts/... nor
  -- /merge_requests/:iid/pipelines/latest (doc/api/job_artifacts.md,
  -- doc/api/pipelines.md, doc/api/merge_requests.md)
  it("gives a sub-resource only the collection actions that exist at its path", function()
    local gl = setmetatable({}, { __index = function(t, k) return resources.manager(t, k) end })
    local p = gl.projects:lazy(1)
    assert.is_function(p.pipelines.latest)
    assert.is_function(p.jobs.artifacts_archive)
    assert.is_function(p.jobs.artifact_file)
    local pipeline = p.pipelines:lazy(5)
    for _, name in ipairs{ "artifacts_archive", "artifact_file" } do
      assert.is_nil(pipeline.jobs[name], "pipeline.jobs." .. name)
      assert.is_nil(pipeline.bridges[name], "pipeline.bridges." .. name)
    end
    assert.is_nil(p.merge_requests:lazy(3).pipelines.latest)
    assert.is_nil(p.pipeline_schedules:lazy(2).pipelines.latest)
    for _, r in ipairs(routes) do
      assert.is_nil(r.path:match("/pipelines/:[%w_]+/jobs/artifacts/"), r.path)
      assert.is_nil(r.path:match("/pipelines/:[%w_]+/bridges/artifacts/"), r.path)
      assert.is_nil(r.path:match("/merge_requests/:[%w_]+/pipelines/latest"), r.path)
      assert.is_nil(r.path:match("/pipeline_schedules/:[%w_]+/pipelines/latest"), r.path)
    end
  end)

  -- a made-up kind, compiled as the catalog's kinds are: an action named
  -- like a built-in object method (or a collection action named like a
  -- manager method) would make that method unreachable, so it is refused
  it("refuses an action that would hide a built-in method", function()
    local function kind(actions, collection)
      return { path = "widgets", ops = "LGCUD", actions = actions, collection = collection }
    end
    local ok = resources._compile_kind("widget", kind({ spin = "POST spin" }, { spin_all = "POST spin" }))
    assert.equal("POST", ok.actions.spin.method)
    assert.is_nil(resources.kinds.widget)                 -- not added to the catalog
    for _, builtin in ipairs{ "save", "delete", "refresh", "changed", "call", "manager",
                              "rest_path", "client", "totable" } do
      assert.has_error(function()
        resources._compile_kind("widget", kind({ [builtin] = "POST " .. builtin }))
      end, ("catalog: action widget.%s hides a built-in method"):format(builtin))
    end
    for _, builtin in ipairs{ "list", "get", "create", "update", "delete", "lazy", "call" } do
      assert.has_error(function()
        resources._compile_kind("widget", kind(nil, { [builtin] = "POST " .. builtin }))
      end, ("catalog: collection action %s hides a manager method"):format(builtin))
    end
  end)

  -- docs/reference/gitlab-endpoints.tsv is vendored: a clean clone runs this
  -- check, and nothing outside the repository is read.
  it("keeps the vendored endpoint reference with its provenance line", function()
    local f = assert(io.open(ROOT .. "/docs/reference/gitlab-endpoints.tsv", "rb"))
    local first, header = f:read("*l"), f:read("*l")
    f:close()
    assert.matches("^# GitLab REST v4 endpoints covered by the established clients: "
      .. "python%-gitlab [%d.]+, go%-gitlab [%d.]+ .*gitbeaker [%d.]+", first)
    assert.equal("method\tpath\tshape\tarea\tgo_gitlab\tpython_gitlab\tgitbeaker", header)
  end)

  it("reaches 98% of the reference, reachable or excluded with a reason (make coverage)", function()
    local out, ok = run(lua_interpreter() .. " tools/coverage.lua")
    assert.is_true(ok, out)
    local covered, total, excluded =
      out:match("(%d+)/(%d+) endpoints reachable %([%d.]+%%%), (%d+) excluded with a reason")
    assert.truthy(covered, out)
    covered, total, excluded = tonumber(covered), tonumber(total), tonumber(excluded)
    assert.is_true(total > 1200, out)
    assert.is_true((covered + excluded) / total >= 0.98, out)
    assert.is_true(covered / total >= 0.92, out)
    assert.matches(", 0 missing", out)
    assert.not_matches("coverage: exclusion", out)
    assert.not_matches("excluded but covered", out)
    -- the 40 doc pages' inventory (docs/inventory): every endpoint reachable
    local got, all, pages = out:match("inventory: (%d+)/(%d+) endpoints of (%d+) doc pages reachable")
    assert.truthy(got, out)
    assert.equal("40", pages, out)
    assert.equal(all, got, out)
    assert.is_true(tonumber(all) > 400, out)
  end)

  it("refuses a doc page's inventory without its provenance, and reports what it lacks", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(os.execute("mkdir " .. helpers.shell_quote(dir)) ~= false)
    local function write(name, text)
      local f = assert(io.open(dir .. "/" .. name, "wb"))
      f:write(text)
      f:close()
    end
    write("pages.tsv", "page\tdoc\nmade_up\tdoc/api/made_up.md\nother\tdoc/api/other.md\n")
    write("made_up.tsv", "# doc/api/made_up.md at gitlabhq/gitlabhq " .. ("0"):rep(40) .. "\n"
      .. "method\tpath\tsection\nGET\t/projects/:id/issues\tList project issues\n"
      .. "POST\t/projects/:id/made_up/:thing_id/frobnicate\tFrobnicate\n")
    write("other.tsv", "method\tpath\tsection\nGET\t/issues\tList issues\n")
    local out, ok = run(lua_interpreter() .. " tools/coverage.lua --missing --inventory="
      .. helpers.shell_quote(dir) .. " 2>&1")
    assert.is_false(ok, out)
    assert.matches("other.tsv: the first line must be '# doc/api/other.md at gitlabhq/gitlabhq <commit>'", out, 1, true)
    out, ok = run(lua_interpreter() .. " tools/coverage.lua --missing --page=made_up --inventory="
      .. helpers.shell_quote(dir) .. " 2>&1")
    os.execute("rm -rf " .. helpers.shell_quote(dir))
    assert.is_false(ok, out)
    assert.matches("inventory: 1/2 endpoints of 1 doc pages reachable", out, 1, true)
    assert.matches("missing (docs)\tmade_up\tPOST\t/projects/:id/made_up/:thing_id/frobnicate", out, 1, true)
  end)

  it("refuses an exclusion the catalog reaches or the reference lacks", function()
    local src = assert(io.open(ROOT .. "/lua/gitlab/resources/exclusions.tsv", "rb"))
    local rows = src:read("*a")
    src:close()
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb"))
    f:write(rows, "GET\t/projects/:id/issues\tcovered, so refused\n",
      "GET\t/no/such/route\tnot in the reference, so refused\n")
    f:close()
    local out, ok = run(lua_interpreter() .. " tools/coverage.lua --exclusions=" .. helpers.shell_quote(tmp))
    os.remove(tmp)
    assert.is_false(ok, out)
    assert.matches("excluded but covered %(drop the exclusion%): GET /projects/:id/issues", out)
    assert.matches("exclusion names no reference row: GET /no/such/route", out)
  end)

  it("keeps docs/reference.md in step with the catalog (make docs)", function()
    local out, ok = run(lua_interpreter() .. " tools/gendocs.lua")
    assert.is_true(ok, out)
    local f = assert(io.open(ROOT .. "/docs/reference.md", "rb"))
    local committed = f:read("*a")
    f:close()
    assert.is_true(committed == out, "docs/reference.md is stale: run `make docs`")
  end)
end)
