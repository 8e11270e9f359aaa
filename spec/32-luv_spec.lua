-- libuv (luv) attachment: handle lifetime and holding the loop.
--
-- A standalone luv script must end cleanly: luv before 1.46 (Debian 12
-- ships 1.44) frees a handle that is still closing in the handle's
-- finaliser and then walks it in the loop's finaliser, so a handle closed
-- where no loop iteration follows crashes the interpreter at exit (139).
-- The scripts run as child processes under lua5.4 and luajit, against the
-- fake server: the README's example as it stands, then the same shape
-- with no request, one and two requests, with and without gl:close().
local helpers = require("helpers")

local has_luv = pcall(require, "luv")

-- The interpreters a child can be: each with its plain build and luv.
local function interpreters()
  local list = {}
  for _, it in ipairs{ { "lua5.4", "build/5.4" }, { "luajit", "build/jit" } } do
    local probe = "command -v %s >/dev/null && test -f %s/gitlab/core.so && %s -e 'require(\"luv\")' 2>/dev/null"
    local _, code = helpers.exec(probe:format(it[1], helpers.shell_quote(helpers.root .. "/" .. it[2]), it[1]))
    if code == 0 then list[#list + 1] = { interp = it[1], build = it[2] } end
  end
  return list
end

-- Runs `script` (Lua source; arg[1] is the server's URL) with `it`;
-- returns its output (stdout and stderr) and exit status.
local function run_script(it, script, ...)
  local dir = helpers.tmpdir()
  local path = dir .. "/s.lua"
  local f = assert(io.open(path, "w"))
  f:write(script)
  f:close()
  local args = { helpers.shell_quote(helpers.server().http) }
  for _, a in ipairs{ ... } do args[#args + 1] = helpers.shell_quote(a) end
  local root = helpers.root
  -- child_env() unsets the sanitizer preload; the LUA_CPATH after it picks
  -- the plain build of the interpreter being run, which may not be ours
  local cmd = ("cd %s && %senv LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH=%s %s %s %s 2>&1")
    :format(helpers.shell_quote(root), helpers.child_env(),
      helpers.shell_quote(root .. "/" .. it.build .. "/?.so;;"), it.interp,
      helpers.shell_quote(path), table.concat(args, " "))
  local out, code = helpers.exec(cmd)
  os.execute("rm -rf " .. helpers.shell_quote(dir))
  return out, code
end

-- The first ```lua block of the README section about gl:attach(uv).
local function readme_example()
  local f = assert(io.open(helpers.root .. "/README.md", "r"))
  local text = f:read("*a")
  f:close()
  local at = assert(text:find("### libuv (luv) and Neovim: `gl:attach(uv)`", 1, true), "README section not found")
  local code = text:match("```lua\n(.-)```", at)
  return assert(code, "no lua block in the README section")
end

-- `n` requests from the loop, then the end of the script (after
-- gl:close() when `close` is "close").
local VARIANT = [[
local uv = require("luv")
local gitlab = require("gitlab")
local gl = gitlab.new{ url = arg[1], token = "glpat-root" }
local n, close = tonumber(arg[2]), arg[3] == "close"
gl:attach(uv)
local got = 0
for _ = 1, n do
  gl:request_async("GET", "/version", nil, function(err, v)
    assert(not err, tostring(err))
    assert(v.version)
    got = got + 1
  end)
end
uv.run()
print("callbacks " .. got .. ", in flight " .. gl:running())
if close then gl:close() end
]]

local describe_luv = has_luv and describe or pending
describe_luv("a standalone luv script", function()
  local its = interpreters()
  setup(function() helpers.reset() end)

  it("has an interpreter with luv to run", function()
    assert.truthy(#its > 0, "neither lua5.4 nor luajit can load luv and the build")
  end)

  for _, it_ in ipairs(its) do
    it("runs the README's example and exits 0 (" .. it_.interp .. ")", function()
      local script = "local gl = require('gitlab').new{ url = arg[1], token = 'glpat-root' }\n" .. readme_example()
      local out, code = run_script(it_, script)
      assert.equal(0, code, out)
      assert.truthy(out:find("18.5.0-ee", 1, true), out)
    end)

    for _, n in ipairs{ 0, 1, 2 } do
      for _, close in ipairs{ "", "close" } do
        local name = ("exits 0 after %d request%s%s (%s)"):format(n, n == 1 and "" or "s",
          close == "close" and " and gl:close()" or "", it_.interp)
        it(name, function()
          local out, code = run_script(it_, VARIANT, tostring(n), close)
          assert.equal(0, code, out)
          assert.truthy(out:find(("callbacks %d, in flight 0"):format(n), 1, true), out)
        end)
      end
    end
  end
end)

describe_luv("luv handles of an attachment", function()
  local luv = has_luv and require("luv")

  -- Every handle in the loop, as { h = handle, closing = bool, active = bool }.
  local function handles()
    local list = {}
    luv.walk(function(h)
      list[#list + 1] = { h = h, closing = h:is_closing(), active = h:is_active() }
    end)
    return list
  end

  setup(function() helpers.reset() end)

  it("are never left closing outside the loop, and go with its next run", function()
    local before = #handles()
    local gl = helpers.client()
    gl:attach(luv)
    local got
    gl:request_async("GET", "/projects/1", nil, function(_, data) got = data end)
    luv.run()
    assert.equal(1, got and got.id)
    gl:close()                               -- outside the loop
    for _, e in ipairs(handles()) do
      assert.is_false(e.closing, tostring(e.h) .. " is closing with no loop to finish it")
    end
    luv.run()                                -- the reaper closes what close() stopped
    assert.equal(before, #handles())
  end)

  it("are closed at once from inside the loop", function()
    local before = #handles()
    local gl = helpers.client()
    gl:attach(luv)
    local t = luv.new_timer()
    t:start(0, 0, function() t:close(); gl:close() end)
    luv.run()
    assert.equal(before, #handles())
  end)
end)

describe_luv("an attached client holds the loop", function()
  local luv = has_luv and require("luv")
  local gl
  setup(function() helpers.reset() end)
  before_each(function()
    helpers.admin("DELETE", "/faults")
    gl = helpers.client{ retry_base = 0.05 }
  end)
  after_each(function()
    gl:close()
    luv.run("nowait")
  end)

  -- Runs `n` GETs of /projects/1 from the loop with plain uv.run(), and
  -- checks at every turn that while any is in flight an active, referenced
  -- handle keeps the loop: a loop left without one ends early.
  local function run_checked(n)
    gl:attach(luv)
    local calls, bare = 0, 0
    for _ = 1, n do
      gl:request_async("GET", "/projects/1", nil, function(err, data)
        assert(not err, tostring(err))
        assert(data.id == 1)
        calls = calls + 1
      end)
    end
    local check = luv.new_check()
    check:start(function()
      if gl:running() == 0 then return end
      local held = false
      luv.walk(function(h)
        if h ~= check and h:is_active() and h:has_ref() then held = true end
      end)
      if not held then bare = bare + 1 end
    end)
    check:unref()
    local guard = luv.new_timer()              -- a failing run ends, too
    luv.update_time()
    guard:start(20000, 0, function() luv.stop() end)
    guard:unref()
    luv.run()
    guard:close(); check:close()
    luv.run("nowait")
    assert.equal(0, bare, "loop turns with requests in flight and nothing holding the loop")
    assert.equal(n, calls)
    assert.equal(0, gl:running())
  end

  it("while the server delays the answer", function()
    helpers.fault{ path = "/api/v4/projects/1", delay_ms = 300, times = -1 }
    run_checked(5)
  end)

  it("between attempts, when no socket is open (reset, then backoff)", function()
    helpers.fault{ path = "/api/v4/projects/1", action = "reset_before_headers", times = 6 }
    run_checked(3)
  end)

  it("while a 429 is waited out", function()
    helpers.fault{ path = "/api/v4/projects/1", status = 429, retry_after = 1, times = 2 }
    run_checked(2)
  end)
end)
