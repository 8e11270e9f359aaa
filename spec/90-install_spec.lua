-- `luarocks make` installs a working module for Lua 5.4 and for LuaJIT
-- (as Lua 5.1), offline (--deps-mode none). Run once, from the lua5.4
-- pass of the suite: it builds the C core twice.
local helpers = require("helpers")

local core = require("gitlab.core")
local skip = type(jit) == "table" or core.sanitized
  or select(2, helpers.exec("command -v luarocks >/dev/null")) ~= 0

describe("luarocks make", function()
  local root = helpers.exec("cd " .. helpers.shell_quote(helpers.root or ".") .. " && pwd"):gsub("%s+$", "")

  local function install(version, extra, lua)
    local tree = helpers.tmpdir()
    local out, code = helpers.exec(("cd %s && env -u LD_PRELOAD luarocks --lua-version %s --tree %s make "
      .. "--deps-mode none %s 2>&1"):format(helpers.shell_quote(root), version,
      helpers.shell_quote(tree), extra))
    assert.equal(0, code, out)
    local lpath = ("%s/share/lua/%s/?.lua;%s/share/lua/%s/?/init.lua;;"):format(tree, version, tree, version)
    local cpath = ("%s/lib/lua/%s/?.so;;"):format(tree, version)
    local srv = helpers.server()
    local script = ([[local g = require("gitlab"); local gl = g.new{ url = %q, token = "glpat-root" };
      local u = assert(gl:user()); io.write(u.username, " ", g.encode("a/b"))]]):format(srv.http)
    out, code = helpers.exec(("cd /tmp && env -u LD_PRELOAD LUA_PATH=%s LUA_CPATH=%s %s -e %s 2>&1"):format(
      helpers.shell_quote(lpath), helpers.shell_quote(cpath), lua, helpers.shell_quote(script)))
    helpers.exec("rm -rf " .. helpers.shell_quote(tree))
    return out, code
  end

  it("installs for Lua 5.4", function()
    if skip then return pending("runs once, in the lua5.4 pass") end
    local out, code = install("5.4", "", "lua5.4")
    assert.equal(0, code, out)
    assert.equal("root a%2Fb", out)
  end)

  it("installs for LuaJIT", function()
    if skip then return pending("runs once, in the lua5.4 pass") end
    local out, code = install("5.1", "LUA_INCDIR=/usr/include/luajit-2.1", "luajit")
    assert.equal(0, code, out)
    assert.equal("root a%2Fb", out)
  end)
end)
