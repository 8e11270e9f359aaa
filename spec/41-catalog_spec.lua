-- The resource catalog itself: it compiles, names follow GitLab's
-- snake_case, every REST path it produces is well formed, the endpoint
-- coverage target holds, and the generated reference is up to date.
local resources = require("gitlab.resources")
local helpers = require("helpers")

local ROOT = helpers.root

local function run(cmd)
  local p = assert(io.popen("cd " .. helpers.shell_quote(ROOT) .. " && " .. helpers.child_env() .. cmd .. " 2>&1"))
  local out = p:read("*a")
  local ok, _, code = p:close()
  if type(ok) == "number" then code = ok end   -- LuaJIT: close returns the status
  return out, ok == true or code == 0
end

local function lua_interpreter()
  local i = -1
  while arg and arg[i - 1] do i = i - 1 end
  return arg and arg[i] or "lua5.4"
end

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

  it("encodes the same without the C core (Lua fallback)", function()
    local script = [[package.preload["gitlab.core"] = function() error("no core") end
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local r = require("gitlab.resources")
io.write(r.encode("group/sub/proj"), " ", r.encode("lib/a.rb"), " ", r.encode(7.0), " ",
  r.encode("a b~c_d-e"))]]
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "w"))
    f:write(script)
    f:close()
    local out, ok = run(lua_interpreter() .. " " .. helpers.shell_quote(tmp))
    os.remove(tmp)
    assert.is_true(ok, out)
    assert.equal("group%2Fsub%2Fproj lib%2Fa%2Erb 7 a%20b~c_d-e", out)
    assert.equal("a%20b~c_d-e", resources.encode("a b~c_d-e"))
  end)

  it("refuses an action that would hide a built-in method", function()
    assert.is_nil(resources.kinds.merge_request.actions.save)
    for _, kind in pairs(resources.kinds) do
      for _, builtin in ipairs{ "save", "delete", "refresh", "changed", "call", "manager", "rest_path" } do
        assert.is_nil(kind.actions[builtin])
      end
    end
  end)

  it("reaches at least 95% of the endpoint catalog (make coverage)", function()
    local f = io.open(ROOT .. "/../shared/reference/gitlab-endpoints.tsv")
    if not f then
      pending("../shared/reference/gitlab-endpoints.tsv is not available")
      return
    end
    f:close()
    local out, ok = run(lua_interpreter() .. " tools/coverage.lua")
    assert.is_true(ok, out)
    local covered, total = out:match("(%d+)/(%d+) endpoints reachable")
    assert.truthy(covered, out)
    assert.is_true(tonumber(covered) / tonumber(total) >= 0.95, out)
    assert.matches(", 0 missing", out)
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
