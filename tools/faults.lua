--- Fault matrix: the library against a misbehaving network and server.
--
-- Every case names a fault, the outcome the library promises (a clear
-- error of a given kind, a successful retry, or the exact data) and a
-- check of that promise against the fake GitLab server
-- (spec/fake/server.js, its `/__admin/faults`).
--
--     make faults                              -- the table, exit 1 on a FAIL
--     lua5.4 tools/faults.lua [name-pattern]   -- with LUA_PATH/LUA_CPATH set
--
-- spec/80-faults_spec.lua runs the same cases under busted.
-- @module faults

local M = {}

-- spec/helpers.lua starts the server and talks to its admin API.
do
  local src = debug.getinfo(1, "S").source
  local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/[^/]*$") or "tools"
  local root = dir:match("^(.*)/tools$") or (dir == "tools" and ".") or dir .. "/.."
  local spec = root .. "/spec/?.lua"
  if not package.path:find(spec, 1, true) then package.path = spec .. ";" .. package.path end
end

local helpers = require("helpers")
local cjson = require("cjson")

local RETRIES = 2

-- Client for a case: fast backoff so that retries cost milliseconds.
local function client(opts)
  local o = { retries = RETRIES, retry_base = 0.02, timeout = 5, connect_timeout = 3 }
  for k, v in pairs(opts or {}) do o[k] = v end
  return helpers.client(o)
end

-- Seconds on a monotonic clock with 10 ms resolution (Linux), else
-- whole seconds.
local function now()
  local f = io.open("/proc/uptime", "r")
  if not f then return os.time() end
  local t = f:read("*n")
  f:close()
  return t
end
M.now = now

-- Resident set size and its peak in KiB (Linux /proc).
local function rss()
  local f = io.open("/proc/self/status", "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")), tonumber(s:match("VmHWM:%s*(%d+)"))
end
M.rss = rss

-- Requests the server logged for a path (the retry count seen from the
-- other side of the wire).
local function hits(path, method)
  local n = 0
  for _, e in ipairs(helpers.requests()) do
    if e.path == path and (not method or e.method == method) then n = n + 1 end
  end
  return n
end

-- Checks shared by the cases. Each returns ok, observed.
local function expect_error(err, kind, pattern)
  if err == nil then return false, "no error" end
  local msg = tostring(err)
  local seen = ("%s: %s"):format(tostring(err.kind), msg)
  if err.kind ~= kind then return false, seen end
  if pattern and not msg:lower():find(pattern) then return false, seen end
  return true, seen
end

local function expect_user(data, resp)
  if type(data) ~= "table" then return false, "data: " .. tostring(resp) end
  if data.username ~= "root" then return false, "username " .. tostring(data.username) end
  return true, ("root, %d attempts"):format(resp.attempts or 0)
end

local USER = "/api/v4/user"

-- The same request through the multi engine: request_async + wait.
local function async_get(gl, path)
  local data, err, resp
  gl:request_async("GET", path, nil, function(e, d, r) err, data, resp = e, d, r end)
  gl:wait()
  return data, err or resp
end

-- A case run: with `fault` installed, GET /user on a fresh client (async
-- with `more.async`) must give the exact user, or (with `kind`) an error of
-- that kind matching `needle`; with `more.hits` the server must have seen
-- that many requests (retries included).
local function get_user(fault, kind, needle, more)
  more = more or {}
  return function()
    helpers.fault(fault)
    local gl = client()
    local data, resp
    if more.async then data, resp = async_get(gl, "/user") else data, resp = gl:get("/user") end
    gl:close()
    local ok, seen
    if kind then ok, seen = expect_error(resp, kind, needle) else ok, seen = expect_user(data, resp) end
    if not more.hits then return ok, seen end
    local n = hits(USER)
    return ok and n == more.hits, seen .. "; server saw " .. n
  end
end

-- A case run: GET /user on a client made from opts() (retries = 0) must
-- fail with an error of `kind` whose message holds `needle`.
local function user_error(opts, kind, needle)
  return function()
    local o = opts()
    o.retries = 0
    local gl = client(o)
    local _, err = gl:get("/user")
    gl:close()
    return expect_error(err, kind, needle)
  end
end

--- The cases, in table order: { name, expect, run = function() -> ok,
-- observed, known_bug = "why" (optional) }. `run` may raise; that counts
-- as a failure. A failing case with `known_bug` shows as KNOWN and does
-- not fail the run (the spec marks it pending); when it starts to pass,
-- remove the field.
M.cases = {
  {
    name = "connection refused",
    expect = "error transport, retried",
    run = function()
      -- port 1 (tcpmux) is not served on a test machine
      local gl = client{ url = "http://127.0.0.1:1", retries = 1 }
      local _, err = gl:get("/user")
      gl:close()
      return expect_error(err, "transport", "connect")
    end,
  },
  {
    name = "reset before headers (once)",
    expect = "retry, exact data",
    run = get_user({ path = USER, action = "reset_before_headers", times = 1 }, nil, nil, { hits = 2 }),
  },
  {
    name = "reset before headers (always)",
    expect = "error transport after 1+2 tries",
    run = get_user({ path = USER, action = "reset_before_headers", times = -1 },
      "transport", "reset", { hits = RETRIES + 1 }),
  },
  {
    name = "reset mid-body (once)",
    expect = "retry, exact data",
    run = get_user({ path = USER, action = "reset_mid_body", times = 1 }),
  },
  {
    name = "reset mid-body on POST",
    expect = "error transport, not resent",
    run = function()
      helpers.fault{ method = "POST", path = "/api/v4/projects", action = "reset_mid_body", times = -1 }
      local gl = client()
      local _, err = gl:post("/projects", { name = "faults-post" })
      gl:close()
      local ok, seen = expect_error(err, "transport")
      local n = hits("/api/v4/projects", "POST")
      return ok and n == 1, seen .. "; server saw " .. n
    end,
  },
  {
    name = "truncated body, Content-Length (once)",
    expect = "retry, exact data",
    run = get_user({ path = USER, action = "truncate", times = 1 }),
  },
  {
    name = "truncated body, Content-Length (always)",
    expect = "error transport",
    run = get_user({ path = USER, action = "truncate", times = -1 }, "transport", "bytes remaining"),
  },
  {
    name = "chunked encoding cut short (once)",
    expect = "retry, exact data",
    run = get_user({ path = USER, action = "chunked_cut", times = 1 }),
  },
  {
    name = "chunked encoding cut short (always)",
    expect = "error transport",
    run = get_user({ path = USER, action = "chunked_cut", times = -1 }, "transport"),
  },
  {
    name = "slow server, 1 byte/s",
    expect = "error timeout at 2 s",
    run = function()
      helpers.fault{ path = USER, action = "slow", times = -1 }
      local gl = client{ timeout = 2, retries = 0 }
      local t0 = now()
      local _, err = gl:get("/user")
      local dt = now() - t0
      gl:close()
      local ok, seen = expect_error(err, "timeout")
      return ok and dt < 4, ("%s (%.1f s)"):format(seen, dt)
    end,
  },
  {
    name = "slow server, streamed download",
    expect = "error timeout (stall), no .part left",
    run = function()
      helpers.fault{ path = USER, action = "slow", times = -1 }
      local dir = helpers.tmpdir()
      local gl = client{ timeout = 2, retries = 0 }
      local t0 = now()
      local _, err = gl:download("/user", { output = dir .. "/out" })
      local dt = now() - t0
      gl:close()
      local left = io.open(dir .. "/out.part", "rb") or io.open(dir .. "/out", "rb")
      if left then left:close() end
      os.remove(dir .. "/out.part"); os.remove(dir .. "/out"); os.remove(dir)
      local ok, seen = expect_error(err, "timeout")
      return ok and dt < 5 and not left, ("%s (%.1f s)%s"):format(seen, dt, left and ", file left" or "")
    end,
  },
  {
    name = "resumed download, 302 without Location",
    expect = "error, no output file",
    -- once a bug: any status below 400 counted as success, and the 10
    -- bytes of the .part became the "whole" file
    run = function()
      helpers.fault{ path_re = "/raw$", status = 302, times = -1 }
      local dir = helpers.tmpdir()
      local out = dir .. "/out"
      local f = assert(io.open(out .. ".part", "wb"))
      f:write("0123456789")
      f:close()
      local gl = client()
      local ok, err = gl:download("/projects/1/repository/files/README.md/raw",
        { output = out, resume = true, query = { ref = "main" } })
      gl:close()
      local g = io.open(out, "rb")
      local got = g and g:read("*a")
      if g then g:close() end
      os.remove(out .. ".part"); os.remove(out); os.remove(dir)
      return ok == nil and got == nil, ok and ("success, file %q"):format(tostring(got))
        or ("%s: %s"):format(tostring(err and err.kind), tostring(err))
    end,
  },
  {
    name = "headers over 100 KB",
    expect = "error too_large, not retried",
    run = get_user({ path = USER, action = "huge_headers", size = 200 * 1024, times = -1 },
      "too_large", "100 kb", { hits = 1 }),
  },
  {
    name = "headers over 300 KB, in 8 KB lines",
    expect = "error too_large, not retried",
    run = function()
      local h = {}
      for i = 1, 50 do h["x-filler-" .. i] = ("f"):rep(8000) end
      return get_user({ path = USER, status = 200, headers = h, body = { username = "root" },
        times = -1 }, "too_large", "300 kb", { hits = 1 })()
    end,
  },
  {
    name = "50 MB error body",
    expect = "error http 500, body <= 1 MiB, RSS bounded",
    run = function()
      helpers.fault{ path = USER, action = "huge_body", status = 500, times = -1 }
      collectgarbage()
      local before, peak0 = rss()
      local gl = client{ retries = 0, timeout = 30 }
      local _, err = gl:get("/user")
      gl:close()
      local after, peak = rss()
      local ok, seen = expect_error(err, "http")
      if not ok then return false, seen end
      local grew = (peak - peak0) / 1024
      local body = err.body or ""
      return err.status == 500 and #body <= 1024 * 1024 and grew < 20,
        ("500, body %d KiB, peak RSS +%.1f MiB (rss %d->%d KiB)"):format(math.floor(#body / 1024), grew,
          before, after)
    end,
  },
  {
    name = "invalid JSON",
    expect = "error decode",
    run = function()
      helpers.fault{ path = USER, status = 200, body = '{"id": 1, "username": ', times = -1,
                     headers = { ["Content-Type"] = "application/json" } }
      local gl = client()
      local _, err = gl:get("/user")
      gl:close()
      return expect_error(err, "decode", "invalid json")
    end,
  },
  {
    name = "invalid UTF-8 in JSON strings",
    expect = "exact bytes",
    run = function()
      -- the admin API speaks JSON (UTF-8 only): store the raw bytes as an
      -- object on the second origin and read them back from there
      local raw = '{"title":"caf\xE9 \xFF\xFE \xC3\x28 \xED\xA0\x80 ok","n":1}'
      local url = helpers.server().other .. "/objects/faults/bad-utf8.json"
      local gl = client()
      local put, perr = gl:request("PUT", url, { body = raw, headers = { ["Content-Type"] = "application/json" } })
      if put == nil then gl:close(); return false, "upload: " .. tostring(perr) end
      local data, resp = gl:get(url)
      local text = gl:get(url, nil, { raw = true })
      gl:close()
      if type(data) ~= "table" then return false, "data: " .. tostring(resp) end
      local want = "caf\xE9 \xFF\xFE \xC3\x28 \xED\xA0\x80 ok"
      return data.title == want and text == raw, ("title %d bytes, raw %s"):format(#(data.title or ""),
        text == raw and "identical" or "differs")
    end,
  },
  {
    name = "JSON nested 10,000 deep",
    expect = "error decode, no crash",
    run = function()
      local deep = string.rep('{"a":', 10000) .. "1" .. string.rep("}", 10000)
      helpers.fault{ path = USER, status = 200, body = deep, times = 1,
                     headers = { ["Content-Type"] = "application/json" } }
      helpers.fault{ path = "/api/v4/projects", status = 200, times = 1,
                     body = string.rep("[", 10000) .. string.rep("]", 10000),
                     headers = { ["Content-Type"] = "application/json" } }
      local gl = client()
      local _, e1 = gl:get("/user")
      local _, e2 = gl:get("/projects")
      gl:close()
      local ok1, seen = expect_error(e1, "decode", "nested")
      local ok2, seen2 = expect_error(e2, "decode", "nested")
      return ok1 and ok2, ok1 and seen2 or seen
    end,
  },
  {
    name = "wrong Content-Type: JSON as text/plain",
    expect = "exact data (the text)",
    run = function()
      local body = '{"id":1,"username":"root"}'
      helpers.fault{ path = USER, status = 200, body = body, times = 1,
                     headers = { ["Content-Type"] = "text/plain" } }
      local gl = client()
      local data = gl:get("/user")
      gl:close()
      return data == body, ("%s %q"):format(type(data), tostring(data):sub(1, 40))
    end,
  },
  {
    name = "wrong Content-Type: HTML as JSON",
    expect = "error decode",
    run = function()
      helpers.fault{ path = USER, action = "html", status = 200, times = 1,
                     headers = { ["Content-Type"] = "application/json" } }
      local gl = client()
      local _, err = gl:get("/user")
      gl:close()
      return expect_error(err, "decode", "invalid json")
    end,
  },
  {
    name = "HTML error page from a proxy (502)",
    expect = "error http 502, retried, title shown",
    run = function()
      helpers.fault{ path = USER, action = "html", status = 502, times = -1 }
      local gl = client()
      local _, err = gl:get("/user")
      gl:close()
      local ok, seen = expect_error(err, "http", "html error page")
      return ok and err.status == 502 and hits(USER) == RETRIES + 1, seen .. "; server saw " .. hits(USER)
    end,
  },
  {
    name = "3xx loop",
    expect = "error redirect after 5 hops",
    run = get_user({ path = USER, action = "redirect_loop", times = -1 }, "redirect", "too many redirects"),
  },
  {
    name = "async: reset mid-body (once)",
    expect = "retry, exact data",
    run = get_user({ path = USER, action = "reset_mid_body", times = 1 }, nil, nil, { async = true, hits = 2 }),
  },
  {
    name = "async: truncated body (always)",
    expect = "error transport after 1+2 tries",
    run = get_user({ path = USER, action = "truncate", times = -1 },
      "transport", "bytes remaining", { async = true, hits = RETRIES + 1 }),
  },
  {
    name = "async: slow server, 1 byte/s",
    expect = "error timeout at 2 s",
    run = function()
      helpers.fault{ path = USER, action = "slow", times = -1 }
      local gl = client{ timeout = 2, retries = 0 }
      local t0 = now()
      local _, err = async_get(gl, "/user")
      local dt = now() - t0
      gl:close()
      local ok, seen = expect_error(err, "timeout")
      return ok and dt < 4, ("%s (%.1f s)"):format(seen, dt)
    end,
  },
  {
    name = "async: 3xx loop",
    expect = "error redirect after 5 hops",
    run = get_user({ path = USER, action = "redirect_loop", times = -1 },
      "redirect", "too many redirects", { async = true }),
  },
  {
    name = "async: close with 100 requests in flight",
    expect = "prompt close, no callback, no crash",
    run = function()
      helpers.fault{ path = USER, delay_ms = 3000, times = -1 }
      local gl = client()
      local called = 0
      for _ = 1, 100 do
        gl:request_async("GET", "/user", nil, function() called = called + 1 end)
      end
      local tp = now()
      while now() - tp < 0.5 do gl:poll(0.05) end
      local sent = hits(USER)
      local t0 = now()
      gl:close()
      gl = nil   -- luacheck: ignore 311
      collectgarbage()
      collectgarbage()
      local dt = now() - t0
      return called == 0 and dt < 1 and sent > 0,
        ("%d sent, %d callbacks, closed in %.2f s"):format(sent, called, dt)
    end,
  },
  {
    name = "async: cancel during a 1 byte/s body",
    expect = "prompt cancel, no callback",
    run = function()
      helpers.fault{ path = USER, action = "slow", times = -1 }
      local gl = client{ timeout = 30 }
      local called = false
      local h = gl:request_async("GET", "/user", nil, function() called = true end)
      local tp = now()
      while now() - tp < 1.5 do gl:poll(0.05) end
      local t0 = now()
      h:cancel()
      gl:wait()
      local dt = now() - t0
      gl:close()
      return not called and dt < 1, ("callback %s, wait returned in %.2f s"):format(
        called and "ran" or "not run", dt)
    end,
  },
  {
    name = "429 with RateLimit-Reset: nan / inf",
    expect = "retry within max_wait, exact data",
    run = function()
      local seen = {}
      for _, v in ipairs{ "nan", "inf", "-1e400", "soon" } do
        helpers.reset()
        helpers.fault{ path = USER, status = 429, times = 1,
                       headers = { ["RateLimit-Reset"] = v, ["RateLimit-Remaining"] = "0" } }
        local gl = client{ max_wait = 1 }
        local t0 = now()
        local data, resp = gl:get("/user")
        local dt = now() - t0
        gl:close()
        if not expect_user(data, resp) or dt > 2 then
          return false, ("%s: %s after %.2f s"):format(v, tostring(resp), dt)
        end
        seen[#seen + 1] = ("%s %.1fs"):format(v, dt)
      end
      return true, table.concat(seen, ", ")
    end,
  },
  {
    name = "async: 429 with RateLimit-Reset: nan",
    expect = "retry, exact data (no hang)",
    run = function()
      helpers.fault{ path = USER, status = 429, times = 1,
                     headers = { ["RateLimit-Reset"] = "nan", ["RateLimit-Remaining"] = "0" } }
      local gl = client{ max_wait = 1 }
      local data, resp
      gl:request_async("GET", "/user", nil, function(e, d, r) data, resp = d, d and r or e end)
      local t0 = now()
      while gl:running() > 0 and now() - t0 < 5 do gl:poll(0.1) end
      local dt = now() - t0
      gl:close()
      if data == nil then return false, ("no answer after %.1f s: %s"):format(dt, tostring(resp)) end
      local ok, seen = expect_user(data, resp)
      return ok and dt < 2, ("%s after %.2f s"):format(seen, dt)
    end,
  },
  {
    name = "429 with Retry-After in the year 9999",
    expect = "wait clamped to max_wait, exact data",
    run = function()
      helpers.fault{ path = USER, status = 429, times = 1,
                     headers = { ["Retry-After"] = "Fri, 31 Dec 9999 23:59:59 GMT" } }
      local gl = client{ max_wait = 1 }
      local t0 = now()
      local data, resp = gl:get("/user")
      local dt = now() - t0
      gl:close()
      local ok, seen = expect_user(data, resp)
      return ok and dt < 2.5, ("%s after %.2f s"):format(seen, dt)
    end,
  },
  {
    name = "DNS failure",
    expect = "error dns",
    -- .invalid never resolves (RFC 6761); https keeps the token allowed
    run = user_error(function() return { url = "https://gitlab.nonexistent.invalid" } end,
      "dns", "resolve"),
  },
  {
    name = "TLS: expired certificate",
    expect = "error tls",
    run = user_error(function()
      return { url = helpers.server().https_expired, ca_file = helpers.certs().ca }
    end, "tls", "expired"),
  },
  {
    name = "TLS: wrong-host certificate",
    expect = "error tls",
    run = user_error(function()
      return { url = helpers.server().https_wrong_host, ca_file = helpers.certs().ca }
    end, "tls", "match"),
  },
  {
    name = "TLS: unknown CA",
    expect = "error tls",
    run = user_error(function()
      return { url = helpers.server().https, ca_file = helpers.certs().wrong_ca }
    end, "tls", "certificate"),
  },
}

--- Runs one case on a reset server. Returns ok, observed, seconds.
function M.run_case(case)
  helpers.server()
  helpers.reset()
  local t0 = now()
  local okcall, ok, seen = pcall(case.run)
  local dt = now() - t0
  if not okcall then return false, "raised: " .. tostring(ok), dt end
  return ok and true or false, seen, dt
end

local function pad(s, n)
  s = tostring(s)
  if #s > n then return s:sub(1, n - 3) .. "..." end
  return s .. string.rep(" ", n - #s)
end

--- Runs every case whose name matches `pattern` (all when nil), prints the
-- table and returns the number of failures.
function M.main(pattern)
  local failed, known, rows = 0, 0, {}
  io.write(("fault matrix: lua-gitlab %s, libcurl %s, %s\n\n"):format(
    require("gitlab.core").version, require("gitlab.core").curl_version, jit and jit.version or _VERSION))
  io.write(pad("fault", 41), pad("expected", 44), pad("result", 7), "observed\n")
  io.write(string.rep("-", 41 + 44 + 7 + 40), "\n")
  for _, case in ipairs(M.cases) do
    if not pattern or case.name:find(pattern) then
      local ok, seen, dt = M.run_case(case)
      local result = ok and "PASS" or "FAIL"
      if not ok and case.known_bug then
        result = "KNOWN"
        known = known + 1
      elseif not ok then
        failed = failed + 1
      end
      local line = pad(case.name, 41) .. pad(case.expect, 44) .. pad(result, 7) ..
        (tostring(seen):gsub("\n", " "):sub(1, 100)) .. (" [%.2fs]"):format(dt)
      rows[#rows + 1] = line
      io.write(line, "\n")
      io.flush()
    end
  end
  io.write(("\n%d cases, %d passed, %d failed%s\n"):format(#rows, #rows - failed - known, failed,
    known > 0 and (", %d known bugs (KNOWN: open, see `known_bug` in tools/faults.lua)"):format(known) or ""))
  return failed
end

M.cjson = cjson

-- Run as a script: `...` is then the command line, not the module name.
if (...) ~= "faults" then
  local failed = M.main(arg and arg[1])
  os.exit(failed == 0 and 0 or 1)
end

return M
