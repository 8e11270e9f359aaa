-- Retries and rate limits: what is retried, how long it waits, and that a
-- POST is never sent twice.
local helpers = require("helpers")

local function count(method, path_pat)
  local n = 0
  for _, r in ipairs(helpers.requests()) do
    if r.method == method and r.path:find(path_pat) then n = n + 1 end
  end
  return n
end

local function now()
  return require("gitlab.core").now and require("gitlab.core").now() or os.time()
end

describe("retries", function()
  local gl
  setup(function() gl = helpers.client{ retry_base = 0.05, retries = 5 } end)
  before_each(function() helpers.reset() end)

  it("retries 429 after Retry-After seconds", function()
    helpers.fault{ path = "/api/v4/projects/1", status = 429, times = 1,
      headers = { ["Retry-After"] = "1" }, body = "Retry later" }
    local t0 = now()
    local p, resp = gl:get("/projects/1")
    assert.truthy(p, tostring(resp))
    assert.equal(2, resp.attempts)
    assert.truthy(now() - t0 >= 0.9)
    assert.equal(2, count("GET", "/projects/1$"))
  end)

  it("retries 429 with an HTTP-date Retry-After", function()
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 1)
    helpers.fault{ path = "/api/v4/projects/1", status = 429, headers = { ["Retry-After"] = date } }
    local p, resp = gl:get("/projects/1")
    assert.truthy(p, tostring(resp))
    assert.equal(2, resp.attempts)
  end)

  it("retries 429 with only RateLimit-Reset", function()
    helpers.fault{ path = "/api/v4/projects/1", status = 429,
      headers = { ["RateLimit-Reset"] = tostring(os.time() + 2) },
      body = '{"message":{"error":"This endpoint has been requested too many times. Try again later."}}' }
    local t0 = now()
    local p, resp = gl:get("/projects/1")
    assert.truthy(p, tostring(resp))
    assert.equal(2, resp.attempts)
    assert.truthy(now() - t0 >= 0.5)
  end)

  it("retries 429 with no header using backoff", function()
    helpers.fault{ path = "/api/v4/projects/1", status = 429, times = 2 }
    local p, resp = gl:get("/projects/1")
    assert.truthy(p, tostring(resp))
    assert.equal(3, resp.attempts)
  end)

  it("retries a 429 POST (it was not processed)", function()
    helpers.fault{ method = "POST", path = "/api/v4/projects/1/issues", status = 429, times = 1 }
    local issue, resp = gl:post("/projects/1/issues", { title = "after 429" })
    assert.truthy(issue, tostring(resp))
    assert.equal(2, count("POST", "/projects/1/issues$"))
  end)

  it("clamps an absurd wait", function()
    local fast = helpers.client{ retry_base = 0.01, max_wait = 0.2 }
    helpers.fault{ path = "/api/v4/projects/1", status = 429, headers = { ["Retry-After"] = "100000" } }
    local t0 = now()
    assert.truthy(fast:get("/projects/1"))
    assert.truthy(now() - t0 < 5)
    helpers.fault{ path = "/api/v4/projects/1", status = 429, headers = { ["Retry-After"] = "-5" } }
    assert.truthy(fast:get("/projects/1"))
  end)

  it("retries a 502 burst on GET then succeeds", function()
    helpers.fault{ path = "/api/v4/projects/1", action = "html", status = 502, times = 3 }
    local p, resp = gl:get("/projects/1")
    assert.truthy(p, tostring(resp))
    assert.equal(4, resp.attempts)
  end)

  it("retries 500, 503 and 504 on PUT and DELETE", function()
    helpers.fault{ method = "PUT", path = "/api/v4/projects/1", status = 503, times = 1 }
    local _, resp = assert(gl:put("/projects/1", { description = "x" }))
    assert.equal(2, resp.attempts)
    helpers.fault{ method = "DELETE", path_re = "/projects/1/issues/1$", status = 504, times = 1 }
    local ok, r2 = gl:delete("/projects/1/issues/1")
    assert.truthy(ok, tostring(r2))
  end)

  it("never retries a POST answered 500", function()
    helpers.fault{ method = "POST", path = "/api/v4/projects/1/issues", status = 500, times = 1 }
    local issue, err = gl:post("/projects/1/issues", { title = "once" })
    assert.is_nil(issue)
    assert.equal(500, err.status)
    assert.equal(1, count("POST", "/projects/1/issues$"))
  end)

  it("never retries a POST cut mid-body", function()
    helpers.fault{ method = "POST", path = "/api/v4/projects/1/issues", action = "reset_mid_body" }
    local issue, err = gl:post("/projects/1/issues", { title = "once" })
    assert.is_nil(issue)
    assert.equal("transport", err.kind)
    assert.equal(1, count("POST", "/projects/1/issues$"))
  end)

  -- libcurl re-sends a request by itself when a reused keep-alive
  -- connection dies before any answer ("Connection died, retrying a fresh
  -- connect"), even after the server has read it: for POST and PATCH that
  -- would be a second issue, a second pipeline.
  for _, case in ipairs{
    { "POST", "/projects/1/issues", { title = "once" } },
    { "PATCH", "/projects/1", { description = "once" } },
  } do
    local method, path, body = case[1], case[2], case[3]
    it("never lets libcurl send a " .. method .. " again on a fresh connection (blocking)", function()
      local c = helpers.client{ retries = 0 }
      assert(c:get("/projects/1"))          -- leaves a kept-alive connection
      helpers.fault{ method = method, path = "/api/v4" .. path, action = "reset_before_headers", times = 1 }
      local data, err = c:request(method, path, { body = body })
      assert.is_nil(data)
      assert.equal("transport", err.kind)
      assert.matches("not sent again", err.message)
      assert.equal(1, count(method, path .. "$"))
      c:close()
    end)

    it("never lets libcurl send a " .. method .. " again on a fresh connection (async)", function()
      local c = helpers.client{ retries = 5, retry_base = 0.01 }
      assert(c:get("/projects/1"))
      helpers.fault{ method = method, path = "/api/v4" .. path, action = "reset_before_headers", times = 1 }
      local got
      c:request_async(method, path, { body = body }, function(err, data) got = { err = err, data = data } end)
      c:wait()
      assert.is_nil(got.data)
      assert.equal("transport", got.err.kind)
      assert.equal(1, count(method, path .. "$"))
      c:close()
    end)
  end

  it("still lets a GET go again when its reused connection dies before any answer", function()
    local c = helpers.client{ retries = 0 }
    assert(c:get("/projects/1"))
    helpers.fault{ path = "/api/v4/projects/2", action = "reset_before_headers", times = 1 }
    local p, resp = c:get("/projects/2")
    assert.truthy(p, tostring(resp))
    assert.equal(2, p.id)
    c:close()
  end)

  it("retries a POST whose connection was refused", function()
    local dead = require("gitlab").new{ url = "http://127.0.0.1:1", token = "glpat-root",
      retries = 2, retry_base = 0.01 }
    local _, err = dead:post("/projects/1/issues", { title = "x" })
    assert.equal("transport", err.kind)
    assert.equal(3, err.attempts)
  end)

  it("retries a GET reset mid-body", function()
    helpers.fault{ path = "/api/v4/projects/1", action = "reset_mid_body", times = 1 }
    local p, resp = gl:get("/projects/1")
    assert.truthy(p, tostring(resp))
    assert.equal(1, p.id)
    assert.equal(2, resp.attempts)
  end)

  it("retries a GET reset before headers and a truncated body", function()
    helpers.fault{ path = "/api/v4/projects/1", action = "reset_before_headers", times = 1 }
    assert.truthy(gl:get("/projects/1"))
    helpers.fault{ path = "/api/v4/projects/1", action = "truncate", times = 1 }
    local p, resp = gl:get("/projects/1")
    assert.truthy(p, tostring(resp))
    assert.equal(2, resp.attempts)
  end)

  it("gives up after `retries` and returns the last answer", function()
    local few = helpers.client{ retries = 2, retry_base = 0.01 }
    helpers.fault{ path = "/api/v4/projects/1", status = 503, times = -1 }
    local p, err = few:get("/projects/1")
    assert.is_nil(p)
    assert.equal(503, err.status)
    assert.equal(3, err.attempts)
  end)

  it("stops retrying at the deadline", function()
    local short = helpers.client{ retries = 50, retry_base = 0.2, deadline = 0.5 }
    helpers.fault{ path = "/api/v4/projects/1", status = 503, times = -1 }
    local t0 = now()
    local p, err = short:get("/projects/1")
    assert.is_nil(p)
    assert.equal(503, err.status)
    assert.truthy(now() - t0 < 3)
  end)
end)

describe("rate limits", function()
  local gl
  setup(function() gl = helpers.client{ retry_base = 0.05 } end)
  before_each(function() helpers.reset() end)
  after_each(function() helpers.reset() end)

  it("exposes RateLimit-* as resp.rate_limit", function()
    helpers.config({ ratelimit = { limit = 2000, remaining = 1500, window = 60 } })
    local _, resp = assert(gl:get("/projects/1"))
    assert.equal(2000, resp.rate_limit.limit)
    assert.is_number(resp.rate_limit.remaining)
    assert.is_number(resp.rate_limit.reset)
  end)

  it("builds resp.headers on first use, case-insensitive and complete", function()
    helpers.config({ ratelimit = { limit = 2000, remaining = 1500, window = 60 } })
    local _, resp = assert(gl:get("/projects/1"))
    local h = resp.headers
    assert.equal(h, resp.headers)                      -- built once
    assert.equal("2000", h["RateLimit-Limit"])
    assert.equal("2000", h["ratelimit-limit"])
    assert.matches("application/json", h["Content-Type"])
    local names = {}
    for k in pairs(h) do names[#names + 1] = k end
    assert.truthy(#names >= 4)
    for _, k in ipairs(names) do assert.equal(k:lower(), k) end
    assert.is_nil(rawget(resp, "_raw_headers"))        -- replaced by the table
    assert.is_nil(h["X-Not-There"])
  end)

  it("waits for the reset when remaining hits 0 instead of collecting a 429", function()
    helpers.config({ ratelimit = { limit = 3, remaining = 2, reset = 1, window = 1, enforce = true } })
    for _ = 1, 5 do assert.truthy(gl:get("/projects/1")) end
    local n429 = 0
    for _, r in ipairs(helpers.requests()) do if r.status == 429 then n429 = n429 + 1 end end
    assert.equal(0, n429)
  end)
end)
