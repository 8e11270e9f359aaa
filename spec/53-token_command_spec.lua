-- token_command runs with a deadline (token_command_timeout, 30 s by
-- default) in a process group of its own, and only the shell is waited
-- for: a command that sleeps, or leaves a background child holding its
-- stdout, cannot block gitlab.from_config. Errors say how the command
-- ended (exit status, signal, timeout), never what it printed.
local helpers = require("helpers")
local config = require("gitlab.config")
local core = require("gitlab.core")
local q = helpers.shell_quote

local read = helpers.read_file

describe("token_command limits", function()
  local dir, lopts
  before_each(function()
    dir = helpers.tmpdir()
    lopts = { path = dir .. "/config.lua", credentials_path = dir .. "/none.lua", warn = function() end }
  end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  -- A zombie is not alive: an orphan is reparented to PID 1, which in a
  -- container may never reap it, and kill -0 succeeds on a zombie. Read
  -- from /proc (ps is not on a minimal Debian).
  local function alive(pid)
    local stat = read("/proc/" .. pid .. "/stat")
    local state = stat and stat:match("^%d+ %b() (%a)")
    return state ~= nil and state ~= "Z" and state ~= "X"
  end

  local function save(inst)
    inst.url = inst.url or "https://g.example"
    assert(config.save({ w = inst }, lopts))
  end

  it("kills a command that does not answer within token_command_timeout", function()
    local pidfile = dir .. "/pid"
    save{ token_command = "echo glpat-leak; echo $$ > " .. q(pidfile) .. "; sleep 100",
          token_command_timeout = 1 }
    local opts, err = config.load("w", lopts)
    assert.is_nil(opts)
    assert.matches("token_command of instance 'w' failed: no answer within 1 s", err)
    assert.is_nil(err:find("glpat-leak", 1, true))
    local pid = assert(read(pidfile)):match("%d+")
    assert.is_false(alive(pid), "the command still runs")
  end)

  it("does not wait for a background child that keeps stdout open", function()
    local pidfile = dir .. "/pid"
    save{ token_command = "sleep 100 & echo $! > " .. q(pidfile) .. "; echo glpat-from-cmd" }
    local opts, err = config.load("w", lopts)
    local pid = assert(read(pidfile)):match("%d+")
    -- returned while the child holding stdout still lives
    local still = alive(pid)
    os.execute("kill " .. pid .. " 2>/dev/null")
    assert.truthy(opts, err)
    assert.equal("glpat-from-cmd", opts.token)
    assert.is_true(still, "load waited for the background child")
  end)

  it("says how the command ended: exit status or signal", function()
    save{ token_command = "kill -9 $$" }
    local opts, err = config.load("w", lopts)
    assert.is_nil(opts)
    assert.matches("killed by signal 9", err)
    save{ token_command = "exit 7" }
    opts, err = config.load("w", lopts)
    assert.is_nil(opts)
    assert.matches("exit status 7", err)
  end)

  it("defaults to 30 s and checks the setting", function()
    assert.equal(30, config.TOKEN_COMMAND_TIMEOUT)
    local seen = {}
    lopts.run = function(_, timeout) seen[#seen + 1] = timeout; return "tok" end
    save{ token_command = "x" }
    assert.equal("tok", config.load("w", lopts).token)
    save{ token_command = "x", token_command_timeout = 2.5 }
    assert.equal("tok", config.load("w", lopts).token)
    assert.same({ 30, 2.5 }, seen)
    save{ token_command = "x", token_command_timeout = "soon" }
    local opts, err = config.load("w", lopts)
    assert.is_nil(opts)
    assert.matches("token_command_timeout must be a positive number", err)
  end)

  it("runs the command through the core with stdin and stderr inherited", function()
    local out, how, code = core.run_command("printf 'a\\nb'; exit 0", 5)
    assert.equal("a\nb", out)
    assert.equal("exit", how)
    assert.equal(0, code)
    out, how = core.run_command("sleep 5", 0.2)
    assert.is_nil(out)
    assert.equal("timeout", how)
  end)
end)
