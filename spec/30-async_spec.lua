-- The non-blocking API: request_async with poll/wait, cancel, callback
-- errors, closing and collecting busy clients, the coroutine runner, and
-- libuv (luv) driving curl through its socket and timer callbacks.
local helpers = require("helpers")
local gitlab = require("gitlab")
local core = require("gitlab.core")

local now = core.now or os.time
local has_luv, luv = pcall(require, "luv")

-- A path that answers slowly: every request to it waits `ms` first.
local function slow(path, ms, times)
  helpers.fault{ path = "/api/v4" .. path, delay_ms = ms, times = times or -1 }
end

-- Seeds `count` issues in project 2 (titled "issue N") and returns
-- their iids: iids[n] is the iid of "issue n".
local function seed_issues(count)
  helpers.seed{ path = "/projects/2/issues", count = count, template = { title = "issue {n}" }, clear = true }
  local iids = {}
  for _, item in ipairs(helpers.store("/projects/2/issues").items) do
    iids[tonumber(item.title:match("^issue (%d+)$"))] = math.floor(item.iid)
  end
  assert(#iids == count)
  return iids
end

local function count_requests(path)
  local n = 0
  for _, r in ipairs(helpers.requests()) do
    if r.path == "/api/v4" .. path then n = n + 1 end
  end
  return n
end

describe("request_async", function()
  local gl, iids
  setup(function()
    helpers.reset()
    iids = seed_issues(200)
  end)
  before_each(function()
    helpers.admin("DELETE", "/faults")
    helpers.admin("DELETE", "/requests")
    gl = helpers.client{ retry_base = 0.05 }
  end)
  after_each(function() gl:close() end)

  it("returns at once and calls back once with data and resp", function()
    slow("/projects/1", 300)
    local calls, got = 0, nil
    local t0 = now()
    local h = gl:request_async("GET", "/projects/1", nil, function(err, data, resp)
      calls = calls + 1
      got = { err = err, data = data, resp = resp }
    end)
    assert.truthy(now() - t0 < 0.2, "request_async blocked")
    assert.is_false(h:done())
    assert.equal(1, gl:running())
    gl:wait()
    assert.equal(1, calls)
    assert.is_nil(got.err)
    assert.equal(1, got.data.id)
    assert.equal(200, got.resp.status)
    assert.is_true(h:done())
    assert.equal(0, gl:running())
    gl:wait()
    gl:poll(0)
    assert.equal(1, calls)
  end)

  it("passes an error object for an HTTP failure", function()
    local got
    gl:request_async("GET", "/projects/999999", nil, function(err, data, resp)
      got = { err = err, data = data, resp = resp }
    end)
    gl:wait()
    assert.is_nil(got.data)
    assert.equal(404, got.err.status)
    assert.equal("http", got.err.kind)
    assert.equal(404, got.resp.status)
    assert.truthy(tostring(got.err):find("404", 1, true))
  end)

  it("passes an error object for a transport failure", function()
    local dead = helpers.client{ url = "http://127.0.0.1:9", retries = 0 }
    local got
    dead:request_async("GET", "/projects/1", nil, function(err, data) got = { err = err, data = data } end)
    dead:wait()
    dead:close()
    assert.is_nil(got.data)
    assert.equal("transport", got.err.kind)
    assert.is_nil(got.err.status)
  end)

  it("runs 200 concurrent requests with the right answer for each", function()
    helpers.fault{ path_re = "^/api/v4/projects/2/issues/[0-9]+$", delay_ms = 200, times = -1 }
    local results, calls = {}, 0
    local t0 = now()
    for i = 1, 200 do
      gl:request_async("GET", "/projects/2/issues/" .. iids[i], nil, function(err, data)
        calls = calls + 1
        assert(results[i] == nil, "called twice")
        results[i] = err or data
      end)
    end
    assert.equal(200, gl:running())
    gl:wait()
    local elapsed = now() - t0
    assert.equal(200, calls)
    for i = 1, 200 do
      assert.equal(iids[i], results[i].iid, tostring(results[i]))
      assert.equal("issue " .. i, results[i].title)
    end
    -- 200 x 200 ms one after the other would be 40 s
    assert.truthy(elapsed < 10, "took " .. elapsed .. " s")
  end)

  it("sends bodies and queries", function()
    local created, listed
    gl:request_async("POST", "/projects/1/issues", { body = { title = "async made" } },
      function(err, data) created = err or data end)
    gl:wait()
    assert.equal("async made", created.title)
    gl:request_async("GET", "/projects/1/issues", { query = { search = "async made" } },
      function(err, data) listed = err or data end)
    gl:wait()
    assert.equal(1, #listed)
    assert.equal(created.iid, listed[1].iid)
  end)

  it("lets a callback start more requests", function()
    local chain = {}
    local function step(i)
      gl:request_async("GET", "/projects/2/issues/" .. iids[i], nil, function(err, data)
        chain[#chain + 1] = err or data.title
        if i < 5 then step(i + 1) end
      end)
    end
    step(1)
    gl:wait()
    assert.same({ "issue 1", "issue 2", "issue 3", "issue 4", "issue 5" }, chain)
  end)

  it("poll(timeout) waits no longer than the timeout and reports what runs", function()
    slow("/projects/1", 600)
    local done = false
    gl:request_async("GET", "/projects/1", nil, function() done = true end)
    local t0 = now()
    assert.equal(1, gl:poll(0))
    assert.truthy(now() - t0 < 0.1)
    t0 = now()
    assert.equal(1, gl:poll(0.1))
    local d = now() - t0
    assert.truthy(d < 0.4, "poll(0.1) took " .. d)
    local rounds = 0
    while not done do
      gl:poll(0.05)
      rounds = rounds + 1
      assert.truthy(rounds < 200, "poll never finished the request")
    end
    assert.equal(0, gl:poll(0))
  end)

  describe("cancel", function()
    it("stops a request in flight: its callback never runs", function()
      slow("/projects/1", 400)
      local called = false
      local h = gl:request_async("GET", "/projects/1", nil, function() called = true end)
      gl:poll(0.05)
      assert.is_true(h:cancel())
      assert.is_true(h:done())
      assert.is_false(h:cancel())
      assert.equal(0, gl:running())
      gl:wait()
      helpers.sleep(0.5)
      gl:poll(0)
      assert.is_false(called)
    end)

    it("stops a request parked for a retry", function()
      helpers.fault{ path = "/api/v4/projects/1", status = 429, headers = { ["Retry-After"] = "1" } }
      local called = false
      local h = gl:request_async("GET", "/projects/1", nil, function() called = true end)
      local t0 = now()
      while count_requests("/projects/1") < 1 and now() - t0 < 3 do gl:poll(0.05) end
      gl:poll(0.1)
      assert.equal(1, gl:running())
      assert.is_true(h:cancel())
      gl:wait()
      assert.is_false(called)
      helpers.sleep(1.1)
      assert.equal(1, count_requests("/projects/1"))
    end)

    it("never calls back a request that was canceled by another callback", function()
      -- Fast requests finish in the same round: the first callback cancels
      -- every other request, finished or not, so it is the only one to run.
      local handles, called = {}, {}
      for i = 1, 30 do
        handles[i] = gl:request_async("GET", "/projects/2/issues/" .. iids[i], nil, function()
          called[#called + 1] = i
          for j, h in ipairs(handles) do
            if j ~= i then assert.is_true(h:cancel()) end
          end
        end)
      end
      helpers.sleep(0.2)     -- let them all finish on the server side
      gl:wait()
      assert.equal(1, #called)
      assert.equal(0, gl:running())
    end)

    it("from the request's own sink, inside curl", function()
      local called, chunks = false, 0
      local h
      h = gl:request_async("GET", "/projects/2/issues", { query = { per_page = 100 },
        sink = function() chunks = chunks + 1; h:cancel() end },
        function() called = true end)
      gl:wait()
      assert.equal(1, chunks)
      assert.is_false(called)
      assert.is_true(h:done())
      assert.is_false(h:cancel())
      -- the client still works
      local p = gl:get("/projects/1")
      assert.equal(1, p.id)
    end)
  end)

  describe("callback errors", function()
    it("are raised from wait() after the other callbacks ran", function()
      local others = 0
      for i = 1, 5 do
        gl:request_async("GET", "/projects/2/issues/" .. iids[i], nil, function()
          if i == 3 then error("boom in callback") end
          others = others + 1
        end)
      end
      local ok, err = pcall(gl.wait, gl)
      assert.is_false(ok)
      assert.truthy(tostring(err):find("boom in callback", 1, true))
      gl:wait()
      assert.equal(4, others)
      -- nothing is left behind and the client goes on working
      assert.equal(0, gl:running())
      local got
      gl:request_async("GET", "/projects/1", nil, function(_, data) got = data end)
      gl:wait()
      assert.equal(1, got.id)
    end)

    it("are raised from poll()", function()
      gl:request_async("GET", "/projects/1", nil, function() error({ code = 42 }) end)
      local ok, err
      for _ = 1, 100 do
        ok, err = pcall(gl.poll, gl, 0.05)
        if not ok or gl:running() == 0 then break end
      end
      if ok then ok, err = pcall(gl.poll, gl, 0) end
      assert.is_false(ok)
      assert.equal(42, err.code)   -- the same table, with the stack added
      assert.truthy(err.traceback:find("stack traceback:", 1, true))
    end)

    it("a later error is not lost", function()
      local n = 0
      for i = 1, 3 do
        gl:request_async("GET", "/projects/2/issues/" .. iids[i], nil, function()
          n = n + 1
          error("error " .. i)
        end)
      end
      local seen = {}
      for _ = 1, 10 do
        local ok, err = pcall(gl.wait, gl)
        if ok then break end
        seen[#seen + 1] = tostring(err)
      end
      assert.equal(3, n)
      assert.truthy(#seen >= 1)
      local all = table.concat(seen, "\n")
      for i = 1, 3 do assert.truthy(all:find("error " .. i, 1, true), all) end
    end)
  end)

  describe("closing and collecting", function()
    it("close() with requests in flight: no callback, connections dropped", function()
      slow("/projects/1", 500)
      local called = 0
      local hs = {}
      for i = 1, 10 do
        hs[i] = gl:request_async("GET", "/projects/1", nil, function() called = called + 1 end)
      end
      gl:poll(0.05)
      gl:close()
      gl:close()
      for i = 1, 10 do
        assert.is_true(hs[i]:done())
        assert.is_false(hs[i]:cancel())
      end
      assert.has_error(function() gl:wait() end)
      helpers.sleep(0.6)
      assert.equal(0, called)
      gl = helpers.client()
    end)

    it("a client closed by one of its callbacks stops calling back", function()
      local called = 0
      for i = 1, 10 do
        gl:request_async("GET", "/projects/2/issues/" .. iids[i], nil, function()
          called = called + 1
          gl:close()
        end)
      end
      pcall(gl.wait, gl)
      assert.equal(1, called)
      gl = helpers.client()
    end)

    it("a busy client that is not referenced any more is collected", function()
      slow("/projects/1", 500)
      local called = 0
      local weak = setmetatable({}, { __mode = "k" })
      local handles = {}
      do
        local c = helpers.client()
        for i = 1, 20 do
          handles[i] = c:request_async("GET", "/projects/1", nil, function() called = called + 1 end)
        end
        c:poll(0.05)
        weak[c] = true
        weak[c._core] = true
      end
      collectgarbage()
      collectgarbage()
      assert.is_nil(next(weak), "the client was kept alive")
      for i = 1, 20 do assert.is_true(handles[i]:done()) end
      helpers.sleep(0.6)
      assert.equal(0, called)
    end)

    it("a transfer goes on when its handle is collected", function()
      local got
      gl:request_async("GET", "/projects/1", nil, function(_, data) got = data end)
      collectgarbage()
      collectgarbage()
      gl:wait()
      assert.equal(1, got.id)
    end)
  end)

  describe("retries while async", function()
    it("waits out a 429 without holding up other requests", function()
      helpers.fault{ path = "/api/v4/projects/1", status = 429, headers = { ["Retry-After"] = "1" } }
      local order = {}
      local t0 = now()
      local slow_resp
      gl:request_async("GET", "/projects/1", nil, function(err, data, resp)
        order[#order + 1] = "limited"
        slow_resp = { err = err, data = data, resp = resp, t = now() - t0 }
      end)
      local t
      while count_requests("/projects/1") < 1 and now() - t0 < 3 do gl:poll(0.02) end
      gl:request_async("GET", "/projects/2/issues/" .. iids[1], nil, function(_, _, resp)
        order[#order + 1] = "fast"
        t = resp
      end)
      local rounds = 0
      while gl:running() > 0 do
        gl:poll(0.5)
        rounds = rounds + 1
      end
      assert.same({ "fast", "limited" }, order)
      assert.equal(200, t.status)
      assert.is_nil(slow_resp.err)
      assert.equal(1, slow_resp.data.id)
      assert.equal(2, slow_resp.resp.attempts)
      assert.truthy(slow_resp.t >= 0.9, "retried after " .. slow_resp.t)
      assert.truthy(rounds < 20, "poll loop spun " .. rounds .. " times")
    end)

    it("holds new requests while the rate limit is exhausted", function()
      helpers.fault{ path = "/api/v4/projects/1", status = 200, body = { id = 1 },
        ratelimit_headers = true, reset_in = 1 }
      local first
      gl:request_async("GET", "/projects/1", nil, function(_, data) first = data end)
      gl:wait()
      assert.equal(1, first.id)
      local t0 = now()
      local second_at
      gl:request_async("GET", "/projects/2", nil, function(_, data) second_at = data and now() - t0 end)
      gl:poll(0.2)
      assert.equal(0, count_requests("/projects/2"), "sent while the rate limit was exhausted")
      gl:wait()
      assert.truthy(second_at and second_at >= 0.5, "second request after " .. tostring(second_at))
      assert.equal(1, count_requests("/projects/2"))
    end)

    it("retries 5xx for GET", function()
      helpers.fault{ path = "/api/v4/projects/1", status = 502, times = 2 }
      local got
      gl:request_async("GET", "/projects/1", nil, function(err, data, resp) got = { err, data, resp } end)
      gl:wait()
      assert.is_nil(got[1])
      assert.equal(3, got[3].attempts)
    end)
  end)
end)

-- The engine keeps the easy handles of finished transfers for the next
-- ones, and a handle that served a plain GET keeps its options for the
-- next plain GET of the same scheme (the blocking handle and the engine's
-- alike): nothing a request set (method, body, headers, credential, range,
-- output, progress) may reach the next one.
describe("handles used again", function()
  local gl
  before_each(function() gl = helpers.client{ retries = 0 } end)
  after_each(function() gl:close() end)

  -- one request after the other on the engine: each finds the handle the
  -- one before left
  local function async(method, path, opts)
    local got
    gl:request_async(method, path, opts, function(err, data, resp) got = { err, data, resp } end)
    gl:wait()
    assert.is_nil(got[1], got[1] and got[1].message)
    return got[2], got[3]
  end
  local function sync(method, path, opts)
    local data, resp = gl:request(method, path, opts)
    assert.is_truthy(data, resp and resp.message)
    return data, resp
  end

  for name, send in pairs{ engine = async, blocking = sync } do
    it("carry nothing of a request over to the next (" .. name .. ")", function()
      local dir = helpers.tmpdir()
      local e = send("POST", "/__echo", { body = { title = "x" }, headers = { ["X-One"] = "1" } })
      assert.equal("POST", e.method)
      e = send("GET", "/__echo")
      assert.equal("GET", e.method)
      assert.equal(0, e.body_size)
      assert.is_nil(e.headers["x-one"])
      assert.is_nil(e.headers["content-type"])
      assert.is_true(send("HEAD", "/__echo"))
      e = send("GET", "/__echo")
      assert.equal("GET", e.method)
      assert.truthy(send("GET", "/__bytes", { query = { size = 100 }, output = dir .. "/a", resume_from = 10 }))
      e = send("DELETE", "/__echo", { timeout = 5 })
      assert.equal("DELETE", e.method)
      assert.is_nil(e.headers.range)
      e = send("GET", "/__echo")
      assert.is_nil(e.headers.range)
      assert.equal("GET", e.method)
      assert.equal("string", type(send("GET", "/__bytes", { query = { size = 10 }, raw = true })))
      os.execute("rm -rf " .. helpers.shell_quote(dir))
    end)

    -- plain GETs one after the other keep the handle's options (warm):
    -- what differs between them must still be set for each
    it("set each plain GET's own headers and credential on a kept handle (" .. name .. ")", function()
      local token = send("GET", "/__echo").headers["private-token"]
      assert.is_string(token)
      local e = send("GET", "/__echo", { headers = { ["X-Two"] = "2" } })
      assert.equal("2", e.headers["x-two"])
      e = send("GET", "/__echo")
      assert.is_nil(e.headers["x-two"])
      assert.equal(token, e.headers["private-token"])
      e = send("GET", "/__echo", { auth = false })
      assert.is_nil(e.headers["private-token"])
      e = send("GET", "/__echo")
      assert.equal(token, e.headers["private-token"])
      e = send("POST", "/__echo", { body = { title = "y" } })   -- right after a plain GET
      assert.equal("POST", e.method)
      assert.truthy(e.body_size > 0)
      local dir, calls = helpers.tmpdir(), 0
      send("GET", "/__bytes", { query = { size = 100 }, output = dir .. "/a",
        progress = function() calls = calls + 1 end })
      assert.truthy(calls > 0)
      local seen = calls
      e = send("GET", "/__echo")
      assert.equal("GET", e.method)
      assert.equal(seen, calls, "a progress function ran for the next request")
      os.execute("rm -rf " .. helpers.shell_quote(dir))
    end)
  end
end)

-- How many connections the engine opens: the fake counts what each of its
-- listeners accepts (GET /__admin/connections) and logs the connection
-- every request came on.
describe("connections", function()
  local gl
  local function https() return helpers.admin("GET", "/connections").https end
  -- starts n GETs of /projects/1 (or of the fake's echo at `echo_url`) at
  -- once and waits for them all
  local function fan_out(client, n, echo_url)
    local ok = 0
    for _ = 1, n do
      client:request_async("GET", echo_url or "/projects/1", nil, function(err, data)
        assert(not err, err and err.message)
        if echo_url then assert(data.method == "GET") else assert(data.id == 1) end
        ok = ok + 1
      end)
    end
    client:wait()
    assert.equal(n, ok)
  end
  before_each(function()
    helpers.reset()
    helpers.admin("DELETE", "/requests")
    helpers.admin("DELETE", "/connections")
  end)
  after_each(function() if gl then gl:close() end end)

  it("multiplexes 16 concurrent requests over one HTTP/2 connection", function()
    if not core.http2 then pending("libcurl without HTTP/2") return end
    gl = helpers.client{ https = true }
    fan_out(gl, 16)
    assert.equal(1, https().accepted)
    local seen = {}
    for _, e in ipairs(helpers.requests{ origin = "https", path = "/api/v4/projects/1" }) do
      assert.equal(2, e.http_version)
      seen[e.connection] = true
    end
    assert.is_not_nil(next(seen))
    assert.is_nil(next(seen, next(seen)), "requests came on more than one connection")
  end)

  -- the engine's spare handles then hold a plain GET's options for http:
  -- an https GET on one of them is set up whole (CA, CURLOPT_PIPEWAIT)
  it("multiplexes over HTTP/2 right after its handles served GETs over http", function()
    if not core.http2 then pending("libcurl without HTTP/2") return end
    gl = helpers.client{ https = true }
    fan_out(gl, 16, helpers.server().http .. "/api/v4/__echo")
    fan_out(gl, 16)
    assert.equal(1, https().accepted)
  end)

  it("keeps using the blocking requests' connection, and they the engine's", function()
    if not core.http2 then pending("libcurl without HTTP/2") return end
    gl = helpers.client{ https = true }
    assert(gl:get("/projects/1"))
    fan_out(gl, 16)
    assert(gl:get("/projects/1"))
    assert.equal(1, https().accepted)
  end)

  it("opens connections in parallel over HTTP/1.1, at most 32 to one host", function()
    helpers.fault{ path = "/api/v4/projects/1", delay_ms = 300, times = -1 }
    gl = helpers.client{ https = true, http2 = false }
    fan_out(gl, 8)
    local n = https().accepted
    assert.truthy(n >= 4, "8 slow requests came on " .. n .. " connection(s)")
    gl:close()
    helpers.admin("DELETE", "/connections")
    gl = helpers.client{ https = true, http2 = false }
    fan_out(gl, 40)
    n = https().accepted
    assert.truthy(n > 8 and n <= 32, "40 slow requests came on " .. n .. " connections")
  end)

  it("resumes the TLS session of a blocking request in the engine", function()
    -- the server closes every connection after its answer
    helpers.fault{ path = "/api/v4/projects/1", set_headers = { connection = "close" }, times = -1 }
    gl = helpers.client{ https = true, http2 = false }
    assert(gl:get("/projects/1"))
    fan_out(gl, 1)
    local c = https()
    assert.equal(2, c.tls)
    assert.equal(1, c.resumed)
  end)
end)

describe("gitlab.async.run", function()
  local gl
  setup(function()
    helpers.reset()
    seed_issues(25)
  end)
  before_each(function()
    helpers.admin("DELETE", "/faults")
    gl = helpers.client{ per_page = 10, concurrency = 4 }
  end)
  after_each(function() gl:close() end)

  it("returns at once; the blocking API yields until wait() resumes it", function()
    slow("/projects/1", 300)
    local got
    local t0 = now()
    gitlab.async.run(function()
      local p, resp = gl:get("/projects/1")
      got = { p = p, resp = resp }
    end)
    assert.truthy(now() - t0 < 0.2, "run() blocked")
    assert.is_nil(got)
    gl:wait()
    assert.equal(1, got.p.id)
    assert.equal(200, got.resp.status)
  end)

  it("gives nil, err for a failure inside the coroutine", function()
    local got
    gitlab.async.run(function()
      local p, err = gl:get("/projects/999999")
      got = { p = p, err = err }
    end)
    gl:wait()
    assert.is_nil(got.p)
    assert.equal(404, got.err.status)
  end)

  it("walks a paginated resource list, one page request at a time", function()
    local titles = {}
    gitlab.async.run(function()
      local p = assert(gl.projects:get(2))
      for issue in p.issues:list{ per_page = 10, sort = "asc", order_by = "id" } do
        titles[#titles + 1] = issue.title
      end
    end)
    assert.equal(0, #titles)
    gl:wait()
    assert.equal(25, #titles)
    for i = 1, 25 do assert.equal("issue " .. i, titles[i]) end
  end)

  it("runs several coroutines at the same time", function()
    helpers.fault{ path_re = "^/api/v4/projects/2/issues$", delay_ms = 300, times = -1 }
    local counts = {}
    local t0 = now()
    for k = 1, 4 do
      gitlab.async.run(function()
        local n = 0
        for _ in gl:paginate("/projects/2/issues", { per_page = 10 }) do n = n + 1 end
        counts[k] = n
      end)
    end
    gl:wait()
    local elapsed = now() - t0
    assert.same({ 25, 25, 25, 25 }, counts)
    -- 4 lists x 3 pages x 300 ms one after the other would be 3.6 s
    assert.truthy(elapsed < 2.5, "took " .. elapsed)
  end)

  it("raises a failed page from the list inside the coroutine", function()
    helpers.fault{ path = "/api/v4/projects/2/issues", status = 404, skip = 1, times = 1,
      body = { message = "404 Not Found" } }
    local caught
    gitlab.async.run(function()
      local ok, err = pcall(function()
        for _ in gl:paginate("/projects/2/issues", { per_page = 10 }) do end
      end)
      caught = { ok = ok, err = err }
    end)
    gl:wait()
    assert.is_false(caught.ok)
    assert.equal(404, caught.err.status)
  end)

  it("raises an error of the coroutine from wait(), with its traceback", function()
    gitlab.async.run(function()
      gl:get("/projects/1")
      error("broken after the request")
    end)
    local ok, err = pcall(gl.wait, gl)
    assert.is_false(ok)
    assert.truthy(err:find("broken after the request", 1, true))
    assert.truthy(err:find("traceback", 1, true))
  end)

  it("wakes a coroutine waiting on a client that is closed, then lets it go", function()
    slow("/projects/1", 500)
    local weak = setmetatable({}, { __mode = "k" })
    local got
    do
      local co = gitlab.async.run(function()
        local p, err = gl:get("/projects/1")
        got = p or err
      end)
      weak[co] = true
    end
    gl:close()
    assert.equal("canceled", got.kind)
    assert.equal("GET /projects/1: the client was closed", tostring(got))
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(weak), "the coroutine was kept")
    gl = helpers.client()
  end)

  it("blocks as usual outside run()", function()
    local p = gl:get("/projects/1")
    assert.equal(1, p.id)
    assert.is_nil(gitlab.async.current())
  end)

  it("passes arguments and rejects a non-function", function()
    local got
    gitlab.async.run(function(a, b) got = a + b end, 2, 3)
    assert.equal(5, got)
    assert.has_error(function() gitlab.async.run(42) end)
  end)
end)

local describe_luv = has_luv and describe or pending
describe_luv("attach (luv)", function()
  local gl, iids
  setup(function()
    helpers.reset()
    iids = seed_issues(200)
  end)
  before_each(function()
    helpers.admin("DELETE", "/faults")
    gl = helpers.client{ retry_base = 0.05 }
  end)
  after_each(function()
    gl:close()
    luv.run("nowait")
  end)

  -- Guards are armed after luv.update_time(): libuv counts a timer from
  -- the loop's cached time, which stands still while the loop does not
  -- run, so after a pause (the tests before, a blocking call) a guard
  -- armed without it is already due and stops the loop at once.

  -- Runs the loop until cond() or `limit` seconds; returns the number of
  -- loop iterations (a check handle counts them).
  local function run_until(cond, limit)
    local iters = 0
    local check = luv.new_check()
    check:start(function() iters = iters + 1 end)
    local guard = luv.new_timer()
    local t0 = now()
    luv.update_time()
    guard:start(20, 20, function()
      if cond() or now() - t0 > (limit or 10) then luv.stop() end
    end)
    luv.run()
    guard:stop(); guard:close()
    check:stop(); check:close()
    luv.run("nowait")
    return iters
  end

  -- Runs the loop until nothing is alive in it, at most `limit` seconds.
  local function run_to_end(limit)
    local t0 = now()
    local guard = luv.new_timer()
    luv.update_time()
    guard:start(math.floor((limit or 5) * 1000), 0, function() luv.stop() end)
    guard:unref()
    luv.run()
    guard:stop(); guard:close()
    luv.run("nowait")
    return now() - t0
  end

  it("runs 200 concurrent requests from the event loop", function()
    helpers.fault{ path_re = "^/api/v4/projects/2/issues/[0-9]+$", delay_ms = 200, times = -1 }
    gl:attach(luv)
    local results, calls = {}, 0
    for i = 1, 200 do
      gl:request_async("GET", "/projects/2/issues/" .. iids[i], nil, function(err, data)
        calls = calls + 1
        results[i] = err or data
      end)
    end
    local t0 = now()
    run_to_end(15)
    assert.equal(200, calls)
    for i = 1, 200 do assert.equal(iids[i], results[i].iid) end
    assert.truthy(now() - t0 < 10)
    assert.equal(0, gl:running())
  end)

  it("runs to the end after the loop sat idle for longer than the guard", function()
    -- libuv measures a timer from the loop's cached time, which moves only
    -- while the loop runs; a guard armed after a long pause without
    -- refreshing it is due at once and stops the loop in its first turn,
    -- everything still in flight (the 200 requests above, under valgrind,
    -- where the tests before the first luv one take more than 15 s)
    gl:attach(luv)
    local calls = 0
    for i = 1, 20 do
      gl:request_async("GET", "/projects/2/issues/" .. iids[i], nil, function(err, data)
        assert(not err and data.iid == iids[i])
        calls = calls + 1
      end)
    end
    helpers.sleep(2.2)              -- the loop does not run meanwhile
    run_to_end(2)
    assert.equal(20, calls)
    assert.equal(0, gl:running())
  end)

  it("does not spin while a request is in flight", function()
    slow("/projects/1", 800)
    gl:attach(luv)
    local got
    gl:request_async("GET", "/projects/1", nil, function(_, data) got = data end)
    local iters = run_until(function() return got ~= nil end)
    assert.equal(1, got.id)
    -- a busy loop would turn thousands of times in 0.8 s; the guard timer
    -- alone accounts for about 40 turns
    assert.truthy(iters < 150, iters .. " loop iterations")
  end)

  it("waits out a 429 from a timer, without spinning", function()
    helpers.fault{ path = "/api/v4/projects/1", status = 429, headers = { ["Retry-After"] = "1" } }
    gl:attach(luv)
    local got
    local t0 = now()
    gl:request_async("GET", "/projects/1", nil, function(err, data, resp) got = { err, data, resp, now() - t0 } end)
    local iters = run_until(function() return got ~= nil end)
    assert.is_nil(got[1])
    assert.equal(2, got[3].attempts)
    assert.truthy(got[4] >= 0.9)
    assert.truthy(iters < 150, iters .. " loop iterations")
  end)

  it("holds requests on a timer while the rate limit is exhausted", function()
    helpers.fault{ path = "/api/v4/projects/1", status = 200, body = { id = 1 },
      ratelimit_headers = true, reset_in = 1 }
    gl:attach(luv)
    local first, second
    gl:request_async("GET", "/projects/1", nil, function(_, data) first = data end)
    run_until(function() return first ~= nil end)
    local t0 = now()
    gl:request_async("GET", "/projects/2", nil, function(_, data) second = { data, now() - t0 } end)
    local iters = run_until(function() return second ~= nil end)
    assert.equal(2, second[1].id)
    assert.truthy(second[2] >= 0.5, "second request after " .. second[2])
    assert.truthy(iters < 150, iters .. " loop iterations")
  end)

  it("retries 5xx from the loop", function()
    helpers.fault{ path = "/api/v4/projects/1", status = 502, times = 2 }
    gl:attach(luv)
    local got
    gl:request_async("GET", "/projects/1", nil, function(err, data, resp) got = { err, data, resp } end)
    run_until(function() return got ~= nil end, 10)
    assert.is_nil(got[1])
    assert.equal(1, got[2].id)
    assert.equal(3, got[3].attempts)
  end)

  it("picks up requests started before attach", function()
    local got
    gl:request_async("GET", "/projects/1", nil, function(_, data) got = data end)
    gl:attach(luv)
    run_to_end(5)
    assert.equal(1, got.id)
  end)

  it("picks up requests that were already polled, with their sockets open", function()
    slow("/projects/1", 600)
    local got
    gl:request_async("GET", "/projects/1", nil, function(_, data) got = data end)
    gl:poll(0.05)
    gl:poll(0.05)
    gl:attach(luv)
    local took = run_to_end(5)
    assert.equal(1, got and got.id)
    assert.truthy(took < 2, "finished after " .. took .. " s")
  end)

  it("detach hands the transfers to poll/wait; attach takes them back", function()
    slow("/projects/1", 600)
    gl:attach(luv)
    local got = {}
    for i = 1, 3 do
      gl:request_async("GET", "/projects/1", nil, function(_, data) got[i] = data end)
    end
    luv.run("nowait")
    gitlab.async.detach(gl)
    gl:poll(0.05)
    gl:attach(luv)
    local took = run_to_end(5)
    assert.truthy(took < 2, "finished after " .. took .. " s")
    for i = 1, 3 do assert.equal(1, got[i] and got[i].id) end
  end)

  it("refuses poll() and wait() once attached", function()
    gl:attach(luv)
    assert.has_error(function() gl:poll(0) end)
    assert.has_error(function() gl:wait() end)
  end)

  it("resumes async.run coroutines from the loop, through a paginated list", function()
    gl:attach(luv)
    local n
    gitlab.async.run(function()
      n = 0
      for _ in gl:paginate("/projects/2/issues", { per_page = 50 }) do n = n + 1 end
    end)
    run_to_end(10)
    assert.equal(200, n)
  end)

  it("hands callbacks to `schedule`", function()
    local queue = {}
    local function schedule_wrap(fn)
      return function(...)
        local args = { n = select("#", ...), ... }
        queue[#queue + 1] = function() fn((table.unpack or unpack)(args, 1, args.n)) end
      end
    end
    gl:attach(luv, { schedule = schedule_wrap })
    local got, co_got
    gl:request_async("GET", "/projects/1", nil, function(_, data) got = data end)
    gitlab.async.run(function() co_got = gl:get("/projects/2") end)
    run_until(function() return #queue >= 2 end, 5)
    assert.is_nil(got)
    assert.is_nil(co_got)
    for _, f in ipairs(queue) do f() end
    assert.equal(1, got.id)
    assert.equal(2, co_got.id)
  end)

  it("reports a callback error to on_error", function()
    local errs = {}
    gl:attach(luv, { on_error = function(e) errs[#errs + 1] = e end })
    local others = 0
    for i = 1, 3 do
      gl:request_async("GET", "/projects/2/issues/" .. iids[i], nil, function()
        if i == 2 then error("boom from the loop") end
        others = others + 1
      end)
    end
    run_to_end(5)
    assert.equal(2, others)
    assert.equal(1, #errs)
    assert.truthy(tostring(errs[1]):find("boom from the loop", 1, true))
  end)

  it("lets luv report a callback error when there is no on_error", function()
    local script = [[
      local luv = require("luv")
      local gitlab = require("gitlab")
      local gl = gitlab.new{ url = arg[1], token = "glpat-root" }
      gl:attach(luv)
      gl:request_async("GET", "/projects/1", nil, function() error("boom from the loop") end)
      luv.run()
      print("loop ended")
    ]]
    local dir = helpers.tmpdir()
    local f = assert(io.open(dir .. "/s.lua", "w"))
    f:write(script)
    f:close()
    local interp = jit and "luajit" or "lua5.4"
    local build = jit and "build/jit" or "build/5.4"
    local root = helpers.root
    local cmd = ("cd %s && env -u LD_PRELOAD LUA_PATH='lua/?.lua;lua/?/init.lua;;' "
      .. "LUA_CPATH='%s/?.so;;' %s %s %s 2>&1"):format(helpers.shell_quote(root), build, interp,
      helpers.shell_quote(dir .. "/s.lua"), helpers.shell_quote(helpers.server().http))
    local out = helpers.exec(cmd)
    os.execute("rm -rf " .. helpers.shell_quote(dir))
    assert.truthy(out:find("boom from the loop", 1, true), out)
  end)

  it("close() detaches: no handle is left in the loop, no callback runs", function()
    slow("/projects/1", 2000)
    gl:attach(luv)
    local called = false
    gl:request_async("GET", "/projects/1", nil, function() called = true end)
    local t = luv.new_timer()
    luv.update_time()
    t:start(100, 0, function() t:close(); gl:close() end)
    local took = run_to_end(5)
    assert.truthy(took < 1.5, "the loop stayed alive " .. took .. " s")
    assert.is_false(called)
  end)

  it("a busy attached client that is not referenced any more is collected", function()
    slow("/projects/1", 2000)
    local weak = setmetatable({}, { __mode = "k" })
    local called = false
    do
      local c = helpers.client()
      c:attach(luv)
      for _ = 1, 5 do
        c:request_async("GET", "/projects/1", nil, function() called = true end)
      end
      luv.run("nowait")
      weak[c] = true
      weak[c._core] = true
    end
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(weak), "the attached client was kept alive")
    local took = run_to_end(5)
    assert.truthy(took < 1.5, "the loop stayed alive " .. took .. " s")
    assert.is_false(called)
  end)

  it("cancel stops a request driven by the loop", function()
    slow("/projects/1", 1500)
    gl:attach(luv)
    local called = false
    local h = gl:request_async("GET", "/projects/1", nil, function() called = true end)
    local t = luv.new_timer()
    luv.update_time()
    t:start(50, 0, function() t:close(); h:cancel() end)
    local took = run_to_end(5)
    assert.is_false(called)
    assert.truthy(took < 1, "the loop stayed alive " .. took .. " s")
  end)
end)

