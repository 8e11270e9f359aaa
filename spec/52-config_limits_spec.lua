-- The configuration file runs in a sandbox with limits: a hostile or
-- broken file fails fast with an error naming the file, never hangs
-- gitlab.from_config and never takes gigabytes; string methods (string.dump
-- included) are out of its reach.
--
-- The attacks on the file run in a child interpreter under `timeout` and
-- a 2 GiB address-space limit, so that without the limits a run ends in a
-- failed spec, not a hung or swapping machine.
local helpers = require("helpers")
local config = require("gitlab.config")
local core = require("gitlab.core")
local q = helpers.shell_quote

local LUA = type(jit) == "table" and "luajit" or "lua5.4"
local BUILD = type(jit) == "table" and "build/jit" or "build/5.4"

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- config.load("w") of `text` in a child process; returns its report line
-- ("ok <url>" or "err <message>") and the exit status (124: timed out).
local function load_in_child(dir, text)
  local path = dir .. "/config.lua"
  write(path, text)
  local script = ([[
    local config = require("gitlab.config")
    local o, e = config.load("w", { path = %q, credentials_path = %q, warn = function() end })
    io.write(o and ("ok " .. tostring(o.url)) or ("err " .. tostring(e)))
  ]]):format(path, path .. ".none")
  local cmd = ("ulimit -v 2097152; exec timeout -k 2 60 env LUA_PATH=%s LUA_CPATH=%s %s -e %s 2>&1")
    :format(q(helpers.root .. "/lua/?.lua;" .. helpers.root .. "/lua/?/init.lua;;"),
            q(helpers.root .. "/" .. BUILD .. "/?.so;;"), LUA, q(script))
  local out, status = helpers.exec(cmd)
  return out, status, path
end

describe("config file limits", function()
  local dir
  before_each(function() dir = helpers.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  local function big_concat()
    -- 32 bytes, then x100 four times: 3.2 GB after three lines
    return 's = "' .. ("x"):rep(32) .. '"\nfor i = 1, 4 do s = ' .. ("s .. "):rep(99) .. 's end\n'
      .. 'w = { url = "https://a.example" }\n'
  end

  -- { what, file text, pattern the message must have besides the path }
  local attacks = {
    { "string.dump through (\"\").dump",
      'w = { url = "https://a.example", token = ("").dump and "string.dump is reachable" }\n', "index a string" },
    { "a string method through (\"x\"):rep", 'w = { url = "https://a.example", token = ("x"):rep(3) }\n',
      "index a string" },
    { "(\"x\"):rep(1e9)", 'w = { url = "https://a.example" }\nx = ("x"):rep(1e9)\n', "index a string" },
    { "while true do end", 'w = { url = "https://a.example" }\nwhile true do end\n', "instructions" },
    { "endless tail calls", 'local function f() return f() end\nf()\n', "instructions" },
    { "a huge table build", 't = {}\nfor i = 1, 1e9 do t[i] = { i, i, i, i, i, i, i, i } end\n', "memory" },
    { "three lines of concatenation", big_concat(), "memory" },
    { "a table that contains itself", 'w = { url = "https://a.example" }\nw.w = w\n', "nested deeper" },
  }
  for _, a in ipairs(attacks) do
    it("stops " .. a[1] .. " with an error naming the file", function()
      local out, status, path = load_in_child(dir, a[2])
      assert.equal(0, status, "the child did not finish: " .. out)
      assert.equal("err ", out:sub(1, 4), out)
      assert.truthy(out:find(path, 1, true), "the message does not name the file: " .. out)
      assert.matches(a[3], out)
    end)
  end

  it("still loads the normal files in a child", function()
    local out, status = load_in_child(dir, 'default = "w"\nw = { url = "https://a.example", token = "t" }\n')
    assert.equal(0, status, out)
    assert.equal("ok https://a.example", out)
  end)

  describe("in this process (the sandbox with small limits)", function()
    local KiB = 1024
    it("reports memory, instructions, nesting and string methods", function()
      -- { source, instruction limit, why, message pattern }
      local cases = {
        { 's = "xxxxxxxx" for i = 1, 30 do s = s .. s end', 1e6, "memory", "^f%.lua: .*256 KiB" },
        { "while true do end", 1e5, "instructions", "^f%.lua: .*instructions" },
        { "a = {} a[1] = a", 1e5, "nesting", "^f%.lua: tables nested" },
        { "a = ('').dump", 1e5, "error", "^f%.lua:1: .*index a string" },
        { "a = = 1", 1e5, "syntax", "^f%.lua:1:" },
        { string.dump(function() end), 1e5, "syntax", "mode" },
      }
      for _, c in ipairs(cases) do
        local ok, msg, why = core.sandbox(c[1], "f.lua", 256 * KiB, c[2])
        assert.is_nil(ok, c[1])
        assert.equal(c[3], why, c[1])
        assert.matches(c[4], msg)
      end
      -- a big table just under the limit still loads
      local ok, g = core.sandbox("t = {} for i = 1, 1000 do t[i] = 'v' .. i end", "f.lua", 256 * KiB, 1e6)
      assert.is_true(ok, g)
      assert.equal("v1000", g.t[1000])
    end)

    it("gives config.parse errors that name the file", function()
      local t, err = config.parse("x = ('').rep", "/etc/x/config.lua")
      assert.is_nil(t)
      assert.matches("^/etc/x/config%.lua:1: ", err)
      t, err = config.parse("local function f() return 1 + f() end f()", "/etc/x/config.lua")
      assert.is_nil(t)
      assert.matches("^/etc/x/config%.lua:", err)
      t, err = config.parse("return 5", "/etc/x/config.lua")
      assert.is_nil(t)
      assert.matches("must return a table", err)
    end)

    it("loads the normal files: locals, helper functions, expressions, nested tables", function()
      local t = assert(config.parse([[
        -- comment
        local host = "gitlab.example.com"
        local function inst(path, token)
          local r = { url = "https://" .. host .. path, timeout = 10 * 3, per_page = 100 }
          for i = 1, 2 do r.per_page = r.per_page + i end
          r.token, r.headers = token, { ["X-A"] = "1" }
          return r
        end
        default = "work"
        work = inst("", "glpat-" .. "x")
        sso = { url = "https://b.example", oauth = { client_id = "id", expires_at = 1700000000 } }
        ratio = 0.5
        list = { "a", "b", [10] = true }
      ]], "config.lua"))
      assert.equal("work", t.default)
      assert.equal("https://gitlab.example.com", t.work.url)
      assert.equal(30, t.work.timeout)
      assert.equal(103, t.work.per_page)
      assert.equal("glpat-x", t.work.token)
      assert.equal("1", t.work.headers["X-A"])
      assert.equal(1700000000, t.sso.oauth.expires_at)
      if math.type then
        assert.equal("integer", math.type(t.work.timeout))
        assert.equal("float", math.type(t.ratio))
      end
      assert.same({ "a", "b", [10] = true }, t.list)
      assert.is_nil(t.inst)               -- functions are not settings
      assert.is_nil(t.pairs)              -- nor reachable (pairs is nil there)
    end)
  end)
end)
