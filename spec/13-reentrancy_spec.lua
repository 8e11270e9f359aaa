-- Re-entrant calls from every callback a user passes (DESIGN.md: "Every
-- callback a user passes (request callbacks, sinks, progress, log, hooks)
-- may close the client, cancel, start requests or raise, safely"):
-- gl:close(), handle:cancel(), a new blocking request, a new request_async
-- and a raised error, from inside sinks, progress and log functions,
-- request_async callbacks and the OAuth on_refresh hook, on the blocking
-- path, the polling engine (poll/wait) and libuv (gl:attach).
--
-- Outcome per case (README "Callbacks"):
--   close()           deferred until curl has returned; the request that
--                     was running fails with kind "canceled" ("the client
--                     was closed"), no callback of the client runs after
--                     it, and the client refuses further use.
--   cancel()          the handle's callback never runs and the transfer
--                     leaves the engine as soon as curl has returned.
--   gl:get(...)       works (a second handle), also inside a transfer.
--   request_async     works; started as soon as curl has returned.
--   poll()/wait()     inside a sink or progress function of the engine
--                     they would drive: a clear error, raised in the sink.
--   error(...)        sink, progress, log: the request fails with kind
--                     "callback", err.cause holds the raised value; a
--                     request callback's error is raised from poll/wait.
-- Raised values gain the stack where they were raised: a string becomes
-- "message\nstack traceback:\n...", a table gets a `traceback` field.
local helpers = require("helpers")
local gitlab = require("gitlab")

local has_luv, luv = pcall(require, "luv")
local SIZE = 400000            -- /__bytes: many sink chunks and progress calls

-- Options of a streamed GET of /__bytes whose `kind` function ("sink" or
-- "progress") runs fn on its first call only; both functions are set,
-- as progress counts only a body that goes to a sink.
local function streamed(kind, fn)
  local fired = false
  local o = { query = { size = SIZE }, sink = function() end }
  o[kind] = function(...)
    if fired then return end
    fired = true
    return fn(...)
  end
  return o
end

-- The value raised from a callback carries the message and the stack.
local function assert_traced(v, msg)
  if type(v) == "table" then
    assert.is_string(v.traceback, "no traceback field")
    assert.truthy(v.traceback:find("stack traceback:", 1, true), v.traceback)
    return
  end
  local s = tostring(v)
  assert.truthy(s:find(msg, 1, true), s)
  assert.truthy(s:find("stack traceback:", 1, true), s)
end

local function assert_closed(gl)
  local ok, e = pcall(gl.get, gl, "/projects/1")
  assert.is_false(ok)
  assert.truthy(tostring(e):find("closed", 1, true), tostring(e))
end

local function assert_callback_error(err, msg)
  assert.is_table(err)
  assert.equal("callback", err.kind)
  assert_traced(err.cause, msg)
end

describe("re-entrant calls", function()
  local gl
  setup(function()
    helpers.server()
    helpers.reset()
  end)
  before_each(function()
    helpers.admin("DELETE", "/faults")
    helpers.admin("DELETE", "/requests")
    gl = helpers.client{ retry_base = 0.01 }
  end)
  after_each(function() gl:close() end)

  for _, kind in ipairs{ "sink", "progress" } do
    describe("from a " .. kind .. " function of a blocking download", function()
      it("close(): the download fails as canceled, the client refuses use", function()
        local ok, err = gl:download("/__bytes", streamed(kind, function() gl:close() end))
        assert.is_nil(ok)
        assert.equal("canceled", err.kind)
        assert.truthy(err.message:find("closed", 1, true), err.message)
        assert_closed(gl)
        gl:close()
      end)

      it("close() twice, then more calls: each raises, nothing breaks", function()
        local ok, err = gl:download("/__bytes", streamed(kind, function()
          gl:close()
          gl:close()
          gl:get("/projects/1")   -- raises: the client is closed
        end))
        assert.is_nil(ok)
        assert.equal("callback", err.kind)
        assert.truthy(tostring(err.cause):find("closed", 1, true))
      end)

      it("handle:cancel() of a request_async in flight: its callback never runs", function()
        helpers.fault{ path = "/api/v4/projects/1", delay_ms = 300 }
        local called = false
        local h = gl:request_async("GET", "/projects/1", nil, function() called = true end)
        local canceled
        assert.is_true(gl:download("/__bytes", streamed(kind, function() canceled = h:cancel() end)))
        assert.is_true(canceled)
        gl:wait()
        assert.is_false(called)
        assert.equal(0, gl:running())
      end)

      it("a blocking gl:get works", function()
        local inner
        local ok, resp = gl:download("/__bytes", streamed(kind, function()
          inner = assert(gl:get("/projects/1"))
        end))
        assert.is_true(ok, tostring(resp))
        assert.equal(SIZE, resp.size)
        assert.equal(1, inner.id)
      end)

      it("request_async works; its callback runs at the next wait()", function()
        local got, calls = nil, 0
        assert.is_true(gl:download("/__bytes", streamed(kind, function()
          gl:request_async("GET", "/projects/1", nil, function(err, data)
            calls = calls + 1
            got = err or data
          end)
        end)))
        gl:wait()
        assert.equal(1, calls)
        assert.equal(1, got.id)
      end)

      it("error(): the download fails with kind callback and the traced cause", function()
        local ok, err = gl:download("/__bytes", streamed(kind, function() error("boom in " .. kind) end))
        assert.is_nil(ok)
        assert_callback_error(err, "boom in " .. kind)
        local _, e2 = gl:download("/__bytes", streamed(kind, function() error({ code = 7 }) end))
        assert.equal(7, e2.cause.code)
        assert_traced(e2.cause)
        assert(gl:get("/projects/1"))      -- the client goes on working
      end)
    end)

    describe("from a " .. kind .. " function of a request_async (poll/wait)", function()
      it("close(): no callback runs, wait() returns, the client refuses use", function()
        local called = 0
        for _ = 1, 3 do
          gl:request_async("GET", "/__bytes", streamed(kind, function() gl:close() end),
            function() called = called + 1 end)
        end
        gl:wait()
        assert.equal(0, called)
        assert_closed(gl)
      end)

      it("close() from poll(): poll returns, the client refuses use", function()
        local called = false
        gl:request_async("GET", "/__bytes", streamed(kind, function() gl:close() end),
          function() called = true end)
        for _ = 1, 200 do
          local ok = pcall(gl.poll, gl, 0.05)
          if not ok then break end
        end
        assert.is_false(called)
        assert_closed(gl)
      end)

      it("handle:cancel() of its own handle: the callback never runs", function()
        local h, called = nil, false
        h = gl:request_async("GET", "/__bytes", streamed(kind, function() assert(h:cancel()) end),
          function() called = true end)
        gl:wait()
        assert.is_false(called)
        assert.is_true(h:done())
        assert.is_false(h:cancel())
        assert.equal(0, gl:running())
      end)

      it("handle:cancel() of another transfer: it leaves the engine at once", function()
        helpers.fault{ path = "/api/v4/projects/1", delay_ms = 10000 }
        local slow_called = false
        local slow = gl:request_async("GET", "/projects/1", nil, function() slow_called = true end)
        gl:poll(0.05)
        local running_after
        gl:request_async("GET", "/__bytes", streamed(kind, function() assert(slow:cancel()) end),
          function(err)
            assert.is_nil(err)
            running_after = gl:running()
          end)
        gl:wait()
        assert.equal(0, running_after)
        assert.is_false(slow_called)
      end)

      it("a blocking gl:get works", function()
        local inner, got
        gl:request_async("GET", "/__bytes", streamed(kind, function()
          inner = assert(gl:get("/projects/1"))
        end), function(err, data) got = err or data end)
        gl:wait()
        assert.equal(1, inner.id)
        assert.is_true(got)
      end)

      it("request_async works, within the same wait()", function()
        local got, outer
        gl:request_async("GET", "/__bytes", streamed(kind, function()
          gl:request_async("GET", "/projects/1", nil, function(err, data) got = err or data end)
        end), function(err, data) outer = err or data end)
        gl:wait()
        assert.is_true(outer)
        assert.equal(1, got.id)
        assert.equal(0, gl:running())
      end)

      it("wait() and poll() refuse with a clear error (they would never return)", function()
        local errs, got = {}, nil
        gl:request_async("GET", "/__bytes", streamed(kind, function()
          local ok1, e1 = pcall(gl.wait, gl)
          local ok2, e2 = pcall(gl.poll, gl, 0)
          errs = { ok1, tostring(e1), ok2, tostring(e2) }
        end), function(err, data) got = err or data end)
        gl:wait()
        assert.is_false(errs[1])
        assert.truthy(errs[2]:find("inside a sink, progress or log function", 1, true), errs[2])
        assert.is_false(errs[3])
        assert.truthy(errs[4]:find("inside a sink, progress or log function", 1, true), errs[4])
        assert.is_true(got)
      end)

      it("error(): the callback gets kind callback and the traced cause", function()
        local got
        gl:request_async("GET", "/__bytes", streamed(kind, function() error("async boom") end),
          function(err) got = err end)
        gl:wait()
        assert_callback_error(got, "async boom")
      end)
    end)
  end

  describe("from a log function", function()
    local lg
    local on_line = function() end
    before_each(function()
      on_line = function() end
      lg = helpers.client{ retry_base = 0.01, log = function(line) return on_line(line) end }
    end)
    after_each(function() lg:close() end)

    it("close() during a retry: the blocking request fails as canceled", function()
      helpers.fault{ path = "/api/v4/projects/1", status = 500, times = 1 }
      on_line = function() lg:close() end
      local data, err = lg:get("/projects/1")
      assert.is_nil(data)
      assert.equal("canceled", err.kind)
      assert.equal(1, #helpers.requests{ path = "/api/v4/projects/1" })
      assert_closed(lg)
    end)

    it("close() after the answer: the blocking request keeps its answer", function()
      on_line = function() lg:close() end
      local data = assert(lg:get("/projects/1"))
      assert.equal(1, data.id)
      assert_closed(lg)
    end)

    it("close() from an async request's log line: no callback, wait() returns", function()
      helpers.fault{ path = "/api/v4/projects/1", status = 500, times = 1 }
      local called = false
      on_line = function() lg:close() end
      lg:request_async("GET", "/projects/1", nil, function() called = true end)
      lg:request_async("GET", "/projects/2", nil, function() called = true end)
      lg:wait()
      assert.is_false(called)
      assert_closed(lg)
    end)

    it("handle:cancel() of the request being logged: its callback never runs", function()
      local h, called = nil, false
      on_line = function() h:cancel() end
      h = lg:request_async("GET", "/projects/1", nil, function() called = true end)
      lg:wait()
      assert.is_false(called)
      assert.equal(0, lg:running())
    end)

    it("a blocking request and a request_async work from a log line", function()
      local inner, got
      local nested = false
      on_line = function()
        if nested then return end
        nested = true
        inner = assert(lg:get("/projects/2"))
        lg:request_async("GET", "/projects/1", nil, function(err, data) got = err or data end)
      end
      local data = assert(lg:get("/projects/1"))
      assert.equal(1, data.id)
      assert.equal(2, inner.id)
      lg:wait()
      assert.equal(1, got.id)
      -- and on the engine
      nested, inner, got = false, nil, nil
      local outer
      lg:request_async("GET", "/projects/1", nil, function(err, d) outer = err or d end)
      lg:wait()
      assert.equal(1, outer.id)
      assert.equal(2, inner.id)
      assert.equal(1, got.id)
    end)

    it("error(): the request fails with kind callback and the traced cause", function()
      on_line = function() error("log boom") end
      local data, err = lg:get("/projects/1")
      assert.is_nil(data)
      assert_callback_error(err, "log boom")
      local got
      lg:request_async("GET", "/projects/1", nil, function(e) got = e end)
      lg:wait()
      assert_callback_error(got, "log boom")
    end)
  end)

  describe("from a request_async callback", function()
    it("close(): the other callbacks never run, wait() returns", function()
      local called = 0
      for _ = 1, 5 do
        gl:request_async("GET", "/projects/1", nil, function()
          called = called + 1
          gl:close()
        end)
      end
      gl:wait()
      assert.equal(1, called)
      assert_closed(gl)
    end)

    it("close() after error(): the error is raised from wait(), not lost", function()
      gl:request_async("GET", "/projects/1", nil, function()
        gl:close()
        error("closed and failed")
      end)
      local ok, err = pcall(gl.wait, gl)
      assert.is_false(ok)
      assert_traced(err, "closed and failed")
    end)

    it("handle:cancel() of another transfer, a blocking get and a request_async", function()
      helpers.fault{ path = "/api/v4/projects/2", delay_ms = 10000 }
      local slow_called, inner, got = false, nil, nil
      local slow = gl:request_async("GET", "/projects/2", nil, function() slow_called = true end)
      gl:request_async("GET", "/projects/1", nil, function()
        assert(slow:cancel())
        inner = assert(gl:get("/projects/1"))
        gl:request_async("GET", "/projects/1", nil, function(err, data) got = err or data end)
      end)
      gl:wait()
      assert.is_false(slow_called)
      assert.equal(1, inner.id)
      assert.equal(1, got.id)
    end)

    it("error(): raised from wait() with the stack, strings and tables alike", function()
      gl:request_async("GET", "/projects/1", nil, function() error("callback boom") end)
      local ok, err = pcall(gl.wait, gl)
      assert.is_false(ok)
      assert_traced(err, "callback boom")
      gl:request_async("GET", "/projects/1", nil, function() error({ code = 42 }) end)
      ok, err = pcall(gl.wait, gl)
      assert.is_false(ok)
      assert.equal(42, err.code)
      assert_traced(err)
    end)
  end)

  describe("from the OAuth on_refresh hook", function()
    local oauth = require("gitlab.oauth")
    local function sign_in()
      helpers.admin("POST", "/oauth", { device_script = { "approved" }, device_refresh_token = true })
      return assert(oauth.device_login{ url = helpers.server().http, client_id = "lua-gitlab-public",
        scopes = { "api" }, on_code = function() end, sleep = function() end })
    end
    local function expired(on_refresh)
      local t = sign_in()
      return gitlab.new{ url = helpers.server().http, oauth = {
        client_id = "lua-gitlab-public", access_token = t.access_token,
        refresh_token = t.refresh_token, expires_at = os.time() - 1, on_refresh = on_refresh } }
    end

    it("error() in a blocking request: raised from the call, with the stack", function()
      local og = expired(function() error("cannot save the tokens") end)
      local ok, err = pcall(og.get, og, "/user")
      assert.is_false(ok)
      assert_traced(err, "cannot save the tokens")
      assert.equal("root", assert(og:get("/user")).username)   -- refreshed all the same
      og:close()
    end)

    it("error() on the engine: raised from wait(); the request still calls back once", function()
      local og = expired(function() error("cannot save the tokens") end)
      local calls, got = 0, nil
      og:request_async("GET", "/user", nil, function(err, data)
        calls = calls + 1
        got = err or data
      end)
      local ok, err = pcall(og.wait, og)
      assert.is_false(ok)
      assert_traced(err, "cannot save the tokens")
      og:wait()
      assert.equal(1, calls)
      assert.equal("root", got.username)
      og:close()
    end)

    it("close() on the engine: no callback runs, wait() ends", function()
      local og
      og = expired(function() og:close() end)
      local called = false
      og:request_async("GET", "/user", nil, function() called = true end)
      pcall(og.wait, og)
      assert.is_false(called)
      assert_closed(og)
    end)
  end)
end)

local describe_luv = has_luv and describe or pending
describe_luv("re-entrant calls under libuv (gl:attach)", function()
  local gl
  setup(function() helpers.server() end)
  before_each(function()
    helpers.admin("DELETE", "/faults")
    gl = helpers.client()
  end)
  after_each(function()
    gl:close()
    luv.run("nowait")
  end)

  -- Runs the loop until nothing is alive in it, at most `limit` seconds.
  local function run_to_end(limit)
    local guard = luv.new_timer()
    guard:start(math.floor((limit or 10) * 1000), 0, function() luv.stop() end)
    guard:unref()
    luv.run()
    guard:stop(); guard:close()
    luv.run("nowait")
  end

  for _, kind in ipairs{ "sink", "progress" } do
    it("close() from a " .. kind .. " function: no callback, the loop ends", function()
      local errs = {}
      gl:attach(luv, { on_error = function(e) errs[#errs + 1] = e end })
      local called = false
      for _ = 1, 3 do
        gl:request_async("GET", "/__bytes", streamed(kind, function() gl:close() end),
          function() called = true end)
      end
      run_to_end()
      assert.is_false(called)
      assert.same({}, errs)
      assert_closed(gl)
    end)

    it("error() from a " .. kind .. " function: the callback gets it", function()
      gl:attach(luv)
      local got
      gl:request_async("GET", "/__bytes", streamed(kind, function() error("uv boom") end),
        function(err) got = err end)
      run_to_end()
      assert_callback_error(got, "uv boom")
    end)
  end

  it("close() from a request callback, and error(): on_error gets it with the stack", function()
    local errs = {}
    gl:attach(luv, { on_error = function(e) errs[#errs + 1] = e end })
    gl:request_async("GET", "/projects/1", nil, function()
      gl:close()
      error("uv callback boom")
    end)
    run_to_end()
    assert.equal(1, #errs)
    assert_traced(errs[1], "uv callback boom")
    assert_closed(gl)
  end)
end)

describe("re-entrant close() in a headless Neovim", function()
  local has_nvim = select(2, helpers.exec("command -v nvim >/dev/null 2>&1")) == 0
  local run = has_nvim and it or pending
  run("survives gl:close() from a sink and a progress function (LuaJIT build)", function()
    local dir = helpers.tmpdir()
    local script = dir .. "/close.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "build/jit/?.so;" .. package.cpath
      local gitlab = require("gitlab")
      local done = 0
      for _, kind in ipairs({ "sink", "progress" }) do
        local gl = gitlab.new{ url = os.getenv("GL_URL"), token = "glpat-root" }
        gl:attach(vim.uv or vim.loop)
        local o = { query = { size = 400000 }, sink = function() end }
        o[kind] = function() gl:close() end
        gl:request_async("GET", "/__bytes", o, function() end)
        vim.wait(5000, function() return not pcall(gl.running, gl) end, 10)
        done = done + 1
      end
      io.stdout:write("survived " .. done .. "\n")
      vim.cmd("qa!")
    ]])
    f:close()
    local cmd = ("cd %s && env -u LD_PRELOAD GL_URL=%s timeout 60 nvim --headless -u NONE -i NONE -n "
      .. "-c %s 2>&1 </dev/null")
      :format(helpers.shell_quote(helpers.root), helpers.shell_quote(helpers.server().http),
              helpers.shell_quote("luafile " .. script))
    local out, code = helpers.exec(cmd)
    os.execute("rm -rf " .. helpers.shell_quote(dir))
    assert.equal(0, code, out)
    assert.truthy(out:find("survived 2", 1, true), out)
  end)
end)

describe("a new credential while requests wait to be sent", function()
  before_each(function() helpers.reset() end)

  -- An OAuth refresh on the engine installs the new token (gl:_set_token)
  -- while other async requests are set up but not yet sent: libcurl reads
  -- their header list when it sends, so the old list must outlive them
  -- (it was freed at once: a use-after-free in curl_multi_perform).
  it("leaves the requests already set up with the list they were given", function()
    local gl = helpers.client()
    local got, errs = 0, {}
    for _ = 1, 5 do
      gl:request_async("GET", "/projects/1", nil, function(err)
        if err then errs[#errs + 1] = tostring(err) end
        got = got + 1
      end)
    end
    helpers.token{ token = "glpat-second", kind = "private", user = 1 }
    gl:_set_token("token", "glpat-second")
    gl:wait()
    assert.equal(5, got)
    assert.same({}, errs)
    assert(gl:get("/projects/1"))     -- the new token, in a list of its own
    local log = helpers.requests{ path = "/api/v4/projects/1" }
    assert.equal(6, #log)
    for _, e in ipairs(log) do assert.same({ "private-token" }, e.credentials) end
    gl:close()
  end)
end)

describe("closing the client while a page prefetch is open", function()
  before_each(function() helpers.reset() end)

  -- The prefetch batch shares the client's connection cache: closing the
  -- client first must not lose it (LeakSanitizer and valgrind see a leak)
  -- nor leave the batch pointing at freed memory.
  it("frees everything once the batch goes too", function()
    helpers.seed{ path = "/projects/1/issues", count = 25, template = { title = "issue {n}" }, clear = true }
    local gl = helpers.client{ concurrency = 4 }
    local next_page = gl:pages("/projects/1/issues", { per_page = 2 })
    local items = next_page()    -- pages 2.. are now in flight in the batch
    assert.equal(2, #items)
    gl:close()
    next_page = nil              -- luacheck: ignore 311
    collectgarbage(); collectgarbage()
    assert.has_error(function() gl:get("/projects/1") end)
  end)
end)
