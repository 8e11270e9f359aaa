-- The OAuth refresh as one machine (lua/gitlab/client/refresh.lua) for
-- the blocking path, request_async and gitlab.async.run: requests that
-- overlap a refresh, a 401 for a pair already replaced, cancel and close
-- while a refresh decides what comes next. spec/50 has the single-request
-- cases; the fake provider is spec/fake/routes/oauth.js (GitLab rotates the
-- refresh token: doc/api/oauth2.md, "refresh_token").

local helpers = require("helpers")
local gitlab = require("gitlab")

local PUBLIC = "lua-gitlab-public"
local srv

local sign_in = helpers.device_sign_in

-- A client whose token GitLab has expired while it still looks fresh
-- here: only a 401 tells.
local function revoked_client()
  local t = sign_in()
  local gl, saved = helpers.oauth_client(t)
  helpers.admin("POST", "/oauth/expire", { token = t.access_token })
  return gl, saved
end

local function token_requests()
  return #helpers.requests{ path = "/oauth/token" }
end

-- Polls gl until cond() holds (at most about 5 s).
local function poll_until(gl, cond)
  for _ = 1, 500 do
    if cond() then return end
    gl:poll(0.01)
  end
  error("the condition never held")
end

describe("the OAuth refresh machine", function()
  setup(function() srv = helpers.server() end)
  before_each(function() helpers.reset() end)

  describe("a 401 for a pair replaced since the request went out", function()
    -- /user answers at once, /projects/1 after the refresh of /user's 401
    -- is done: its 401 is for the old pair, which is gone already.
    it("request_async sends it again without a second refresh", function()
      local gl, saved = revoked_client()
      helpers.fault{ path = "/api/v4/projects/1", delay_ms = 600 }
      local got = {}
      gl:request_async("GET", "/user", nil, function(err, data) got.user = err or data end)
      gl:request_async("GET", "/projects/1", nil, function(err, data) got.project = err or data end)
      gl:wait()
      assert.equal("root", got.user.username)
      assert.equal(1, got.project.id)
      assert.equal(1, #saved)
      assert.equal(2, token_requests())       -- sign-in + one refresh
      local calls = helpers.requests{ path = "/api/v4/projects/1" }
      assert.equal(2, #calls)
      assert.equal("Bearer " .. saved[1].access_token, calls[2].headers.authorization)
    end)

    it("so does the blocking API inside gitlab.async.run", function()
      local gl, saved = revoked_client()
      helpers.fault{ path = "/api/v4/projects/1", delay_ms = 600 }
      local got = {}
      gitlab.async.run(function() got.user = assert(gl:get("/user")) end)
      gitlab.async.run(function() got.project = assert(gl:get("/projects/1")) end)
      gl:wait()
      assert.equal("root", got.user.username)
      assert.equal(1, got.project.id)
      assert.equal(1, #saved)
      assert.equal(2, token_requests())
    end)
  end)

  it("a blocking refresh while one is in flight on the engine: both requests get the new pair", function()
    local gl, saved = revoked_client()
    helpers.fault{ path = "/oauth/token", delay_ms = 800 }
    local got, calls = nil, 0
    gl:request_async("GET", "/user", nil, function(err, data)
      calls = calls + 1
      got = err or data
    end)
    -- the 401 came, the engine's refresh is on its way (and slow)
    poll_until(gl, function() return token_requests() == 2 end)
    -- the blocking call cannot wait for the engine: its own refresh wins
    assert.equal("root", assert(gl:get("/user")).username)
    assert.equal(1, #saved)
    gl:wait()
    -- GitLab refused the engine's refresh token (rotated meanwhile); the
    -- pair it would have brought is there already
    assert.equal(1, calls)
    assert.is_nil(got.status, tostring(got))
    assert.equal("root", got.username)
    assert.equal(1, #saved)
    local users = helpers.requests{ path = "/api/v4/user" }
    assert.equal("Bearer " .. saved[1].access_token, users[#users].headers.authorization)
  end)

  it("cancel() right after request_async, when no refresh is possible, stops the request", function()
    -- expired, and neither refresh token nor client_id: the refresh
    -- fails at once and the request goes out with the old token
    local gl = gitlab.new{ url = srv.http, oauth = { access_token = "oauth-root",
                                                     expires_at = os.time() - 1 } }
    local calls = 0
    local h = gl:request_async("GET", "/user", nil, function() calls = calls + 1 end)
    assert.is_true(h:cancel())
    assert.is_true(h:done())
    gl:wait()
    assert.equal(0, calls)
    assert.equal(0, #helpers.requests{ path = "/api/v4/user" })
    -- without the cancel, it is sent
    local got
    gl:request_async("GET", "/user", nil, function(err, data) got = err or data end)
    gl:wait()
    assert.equal("root", got.username)
  end)

  it("close() wakes a coroutine waiting for the refresh", function()
    local t = sign_in()
    local gl = gitlab.new{ url = srv.http, oauth = {
      client_id = PUBLIC, access_token = t.access_token, refresh_token = t.refresh_token,
      expires_at = os.time() - 1 } }
    helpers.fault{ path = "/oauth/token", delay_ms = 300 }
    local got
    gitlab.async.run(function()
      local me, err = gl:get("/user")
      got = me or err
    end)
    assert.is_nil(got)
    gl:close()
    assert.is_table(got)
    assert.equal("canceled", got.kind)
    assert.equal("GET /user: the client was closed", tostring(got))
  end)

  it("pages fetched ahead in parallel go through the refresh too", function()
    helpers.seed{ path = "/projects/1/issues", count = 20, template = { title = "issue {n}" }, clear = true }
    local t = sign_in()
    local gl, saved = helpers.oauth_client(t, 3600, { concurrency = 4 })
    -- every page is answered late: those fetched ahead meet the expiry
    helpers.fault{ path = "/api/v4/projects/1/issues", delay_ms = 400, times = -1 }
    local next_page = gl:pages("/projects/1/issues", { per_page = 4 })
    assert.equal(4, #next_page())
    helpers.admin("POST", "/oauth/expire", { token = t.access_token })
    local n = 4
    for items in next_page do n = n + #items end
    assert.equal(20, n)
    assert.equal(1, #saved)
    assert.equal(2, token_requests())
  end)

  it("the blocking path refreshes before expiry and after a 401 as the engine does", function()
    -- the same two cases on both paths: one refresh, one retry, one on_refresh
    for _, mode in ipairs{ "blocking", "async", "coroutine" } do
      helpers.reset()
      local gl, saved = revoked_client()
      local got
      if mode == "blocking" then
        got = assert(gl:get("/user"))
      elseif mode == "async" then
        gl:request_async("GET", "/user", nil, function(err, data) got = err or data end)
        gl:wait()
      else
        gitlab.async.run(function() got = assert(gl:get("/user")) end)
        gl:wait()
      end
      assert.equal("root", got.username, mode)
      assert.equal(1, #saved, mode)
      assert.equal(2, token_requests(), mode)
      assert.equal(2, #helpers.requests{ path = "/api/v4/user" }, mode)
      gl:close()
    end
  end)
end)
