-- OAuth 2: every flow end to end against the fake GitLab's provider
-- (spec/fake/routes/oauth.js), plus the libcrypto primitives and the
-- loopback listener they rest on.

local helpers = require("helpers")
local gitlab = require("gitlab")
local oauth = require("gitlab.oauth")
local core = require("gitlab.core")

local PUBLIC = "lua-gitlab-public"
local CONFIDENTIAL, SECRET = "lua-gitlab-confidential", "lua-gitlab-secret"
local VERIFIER = "ks02i3jdikdo2k0dkfodf3m39rjfjsdk0wk349rj3jrhf"
local CHALLENGE = "2i0WFA-0AerkjQm4X4oDEhqA17QIAKNjXpagHBXmO_U"

local srv

local function admin(method, name, body)
  return helpers.admin(method, "/" .. name, body)
end

local function requests(path)
  return helpers.requests{ path = path }
end

local function no_sleep() end

-- A signed-in pair from the device flow (approved on the first poll). The
-- fake issues a refresh token with it only when asked: doc/api/oauth2.md's
-- device example has none (spec/55 has the pair without one).
local function sign_in(client_id)
  admin("POST", "oauth", { device_script = { "approved" }, device_refresh_token = true })
  return assert(oauth.device_login{
    url = srv.http, client_id = client_id or PUBLIC, scopes = { "api" },
    on_code = function() end, sleep = no_sleep,
  })
end

-- The fake browser's last visit, once it has finished.
local function browser_result()
  for _ = 1, 100 do
    local b = admin("GET", "oauth/browser")
    if not b.pending then return b end
    core.sleep(0.02)
  end
  error("the simulated browser never finished")
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

describe("crypto primitives", function()
  it("computes GitLab's PKCE test vector with libcrypto", function()
    assert.equal(CHALLENGE, core.base64url(core.sha256(VERIFIER)))
    assert.equal(CHALLENGE, oauth.challenge(VERIFIER))
    assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      hex(core.sha256("abc")))
  end)

  it("encodes base64url without padding", function()
    assert.equal("", core.base64url(""))
    assert.equal("Zg", core.base64url("f"))
    assert.equal("Zm8", core.base64url("fo"))
    assert.equal("Zm9v", core.base64url("foo"))
    assert.equal("-_8", core.base64url("\251\255"))
  end)

  it("makes fresh random verifiers of valid characters", function()
    local v1, c1 = oauth.pkce_pair()
    local v2 = oauth.pkce_pair()
    assert.equal(43, #v1)
    assert.is_nil(v1:find("[^%w%-%._~]"))
    assert.not_equal(v1, v2)
    assert.equal(core.base64url(core.sha256(v1)), c1)
    assert.equal(32, #core.random_bytes(32))
    assert.has_error(function() core.random_bytes(-1) end)
    assert.has_error(function() oauth.challenge("short") end)
  end)
end)

describe("loopback listener", function()
  -- A client that is not this process: node, which the fake server needs
  -- anyway. It sends what it is given and prints the answer to a file.
  local function shell_quote(s)
    return "'" .. s:gsub("'", "'\\''") .. "'"
  end

  local function node_client(port, raw, out)
    local script = ([[
      const s = require('net').connect(%d, '127.0.0.1',
        () => s.write(Buffer.from(process.argv[1], 'hex')));
      let b = ''; s.on('data', (d) => b += d);
      s.on('close', () => require('fs').writeFileSync(process.argv[2], b));
      s.on('error', () => {});
    ]]):format(port)
    local hexraw = raw:gsub(".", function(c) return ("%02x"):format(c:byte()) end)
    -- env -u LD_PRELOAD: the sanitizer run preloads libasan into children
    os.execute(("env -u LD_PRELOAD node -e %s %s %s >/dev/null 2>&1 &"):format(shell_quote(script),
      hexraw == "" and "''" or hexraw, shell_quote(out)))
  end

  local function read_when_ready(path)
    for _ = 1, 200 do
      local f = io.open(path, "rb")
      if f then
        local s = f:read("*a")
        f:close()
        if s ~= "" then return s end
      end
      core.sleep(0.02)
    end
    return nil
  end

  it("binds loopback only, on a free port, and times out", function()
    local l = assert(core.listen{ host = "127.0.0.1", port = 0 })
    assert.is_true(l:port() > 0)
    local req, err = l:accept(0.05)
    assert.is_nil(req)
    assert.equal("timeout", err)
    l:close()
    l:close()                                         -- idempotent
    assert.has_error(function() l:port() end)
    assert.has_error(function() core.listen{ host = "0.0.0.0" } end)
    assert.has_error(function() core.listen{ host = "192.0.2.1" } end)
  end)

  it("returns the request, answers it, and skips idle and bad connections", function()
    local l = assert(core.listen{})
    local out1, out2 = os.tmpname(), os.tmpname()
    -- a speculative connection that never speaks, then garbage, then a request
    node_client(l:port(), "", os.tmpname())
    node_client(l:port(), "NOT HTTP\r\n\r\n", out1)
    -- serve the listener until the garbage has had its 400: node may take
    -- longer to start than any fixed sleep, and the request must come last
    local bad
    for _ = 1, 500 do
      local none, why = l:accept(0.02)
      assert.is_nil(none)
      assert.equal("timeout", why)
      local f = io.open(out1, "rb")
      bad = f and f:read("*a"); if f then f:close() end
      if bad and bad ~= "" then break end
    end
    assert.matches("^HTTP/1.1 400", bad)
    node_client(l:port(), "GET /callback?code=a%20b&state=s HTTP/1.1\r\n"
      .. "Host: 127.0.0.1\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n", out2)
    local req = assert(l:accept(5))
    assert.equal("GET", req.method)
    assert.equal("/callback?code=a%20b&state=s", req.target)
    assert.equal("1, 2", req.headers["x-dup"])
    assert.is_true(l:respond(200, "text/html; charset=utf-8", "<p>ok</p>"))
    local answer = assert(read_when_ready(out2))
    assert.matches("^HTTP/1.1 200 OK\r\n", answer)
    assert.matches("Cache%-Control: no%-store", answer)
    assert.matches("\r\n\r\n<p>ok</p>$", answer)
    l:close()
    os.remove(out1)
    os.remove(out2)
  end)

  it("refuses request heads over 16 KB", function()
    local l = assert(core.listen{})
    local out = os.tmpname()
    node_client(l:port(), "GET / HTTP/1.1\r\nX-Big: " .. ("a"):rep(17000) .. "\r\n\r\n", out)
    local req, err = l:accept(0.5)
    assert.is_nil(req)
    assert.equal("timeout", err)
    assert.matches("^HTTP/1.1 431", assert(read_when_ready(out)))
    l:close()
    os.remove(out)
  end)
end)

describe("gitlab.oauth", function()
  setup(function() srv = helpers.server() end)
  before_each(function() helpers.reset() end)

  describe("fake provider", function()
    it("checks PKCE against GitLab's test vector", function()
      local gl = gitlab.new{ url = srv.http }
      local redirect = "http://127.0.0.1:5555/callback"
      local _, resp = gl:request("GET", "/oauth/authorize", { root = true, follow = false,
        query = { client_id = PUBLIC, redirect_uri = redirect, response_type = "code",
                  state = "st", scope = "api", code_challenge = CHALLENGE,
                  code_challenge_method = "S256" } })
      assert.equal(302, resp.status)
      local q = oauth._parse_query(resp.headers.location:match("%?(.*)$"))
      assert.equal("st", q.state)
      local form = { client_id = PUBLIC, code = q.code, grant_type = "authorization_code",
                     redirect_uri = redirect, code_verifier = VERIFIER:sub(2) .. "x" }
      local data, err = gl:request("POST", "/oauth/token", { root = true, form = form })
      assert.is_nil(data)
      assert.equal(400, err.status)
      assert.equal("invalid_grant", err.code or require("cjson").decode(err.body).error)
      form.code_verifier = VERIFIER
      data = assert(gl:request("POST", "/oauth/token", { root = true, form = form }))
      assert.is_string(data.access_token)
      assert.is_string(data.refresh_token)
      assert.equal(7200, data.expires_in)
    end)
  end)

  describe("device authorization grant", function()
    it("polls through pending and slow_down to success", function()
      admin("POST", "oauth", { device_script = { "authorization_pending", "slow_down", "approved" },
                               device_interval = 1 })
      local shown, slept = {}, {}
      local tokens, err = oauth.device_login{
        url = srv.http, client_id = PUBLIC, scopes = { "api", "read_user" },
        on_code = function(info) shown[#shown + 1] = info end,
        sleep = function(s) slept[#slept + 1] = s end,
      }
      assert.is_nil(err)
      assert.equal(1, #shown)
      assert.matches("^%w+$", shown[1].user_code)
      assert.equal(srv.http .. "/oauth/device", shown[1].verification_uri)
      assert.same({ 1, 1, 6 }, slept)                  -- slow_down adds 5 s
      assert.equal("api read_user", tokens.scope)
      assert.is_true(tokens.expires_at > os.time() + 7000)
      local polls = requests("/oauth/token")
      assert.equal(3, #polls)
      assert.matches("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant%-type%%3Adevice_code",
        polls[1].body)
      -- the token works against the API
      local gl = gitlab.new{ url = srv.http, oauth_token = tokens.access_token }
      assert.equal("root", assert(gl:user()).username)
    end)

    -- RFC 6749 section 5.2's error answer in a 200: still an error, and
    -- authorization_pending keeps the device flow polling
    it("keeps polling on authorization_pending answered with a 200", function()
      admin("POST", "oauth", { device_script = { "approved" } })
      helpers.fault{ path = "/oauth/token", status = 200, times = 1,
        body = { error = "authorization_pending", error_description = "not yet" } }
      local tokens, err = oauth.device_login{ url = srv.http, client_id = PUBLIC,
        on_code = function() end, sleep = no_sleep }
      assert.is_nil(err)
      assert.is_string(tokens.access_token)
      assert.equal(2, #requests("/oauth/token"))
    end)

    it("stops on access_denied", function()
      admin("POST", "oauth", { device_script = { "authorization_pending", "denied" } })
      local tokens, err = oauth.device_login{ url = srv.http, client_id = PUBLIC,
        on_code = function() end, sleep = no_sleep }
      assert.is_nil(tokens)
      assert.equal("access_denied", err.code)
      assert.equal(400, err.status)
    end)

    it("reports expired_token from the server", function()
      admin("POST", "oauth", { device_script = { "expired_token" } })
      local tokens, err = oauth.device_login{ url = srv.http, client_id = PUBLIC,
        on_code = function() end, sleep = no_sleep }
      assert.is_nil(tokens)
      assert.equal("expired_token", err.code)
    end)

    it("gives up when the code's lifetime has passed", function()
      admin("POST", "oauth", { device_script = { "authorization_pending" },
                               device_expires_in = 30, device_interval = 5 })
      local clock = 1000
      local tokens, err = oauth.device_login{ url = srv.http, client_id = PUBLIC,
        on_code = function() end,
        sleep = function(s) clock = clock + s end,
        now = function() return clock end }
      assert.is_nil(tokens)
      assert.equal("expired_token", err.code)
      assert.equal(6, #requests("/oauth/token"))
    end)

    it("reports an unknown client", function()
      local tokens, err = oauth.device_login{ url = srv.http, client_id = "nope",
        on_code = function() error("not reached") end, sleep = no_sleep }
      assert.is_nil(tokens)
      assert.equal(401, err.status)
      assert.equal("invalid_client", err.code)
    end)

    it("raises on missing arguments", function()
      assert.has_error(function() oauth.device_login{ url = srv.http, client_id = PUBLIC } end)
      assert.has_error(function() oauth.device_login{ client_id = PUBLIC, on_code = print } end)
    end)
  end)

  describe("authorization code with PKCE", function()
    it("signs in through the loopback redirect", function()
      local opened
      local tokens, err = oauth.pkce_login{
        url = srv.http, client_id = PUBLIC, scopes = { "api" }, port = 0, timeout = 10,
        open = function(url)
          opened = url
          admin("POST", "oauth/browse", { url = url })
        end,
      }
      assert.is_nil(err)
      assert.is_string(tokens.access_token)
      assert.is_string(tokens.refresh_token)
      local q = oauth._parse_query(opened:match("%?(.*)$"))
      assert.equal(PUBLIC, q.client_id)
      assert.equal("code", q.response_type)
      assert.equal("S256", q.code_challenge_method)
      assert.equal(43, #q.code_challenge)
      assert.matches("^http://127%.0%.0%.1:%d+/callback$", q.redirect_uri)
      assert.is_true(#q.state >= 32)
      local b = browser_result()
      assert.equal(200, b.status)
      assert.matches("Signed in", b.body)
      assert.is_nil(b.body:find(tokens.access_token, 1, true))
      -- the exchange sent the verifier and no secret
      local ex = requests("/oauth/token")[1]
      assert.matches("code_verifier=", ex.body)
      assert.is_nil(ex.body:find("client_secret", 1, true))
      local gl = gitlab.new{ url = srv.http, oauth_token = tokens.access_token }
      assert.equal("root", assert(gl:user()).username)
    end)

    it("listens where an explicit redirect_uri says", function()
      local opened
      local tokens = assert(oauth.pkce_login{
        url = srv.http, client_id = PUBLIC, redirect_uri = "http://127.0.0.1:0/callback",
        timeout = 10, open = function(url)
          opened = url
          admin("POST", "oauth/browse", { url = url })
        end,
      })
      assert.is_string(tokens.access_token)
      local q = oauth._parse_query(opened:match("%?(.*)$"))
      assert.matches("^http://127%.0%.0%.1:[1-9]%d*/callback$", q.redirect_uri)
      assert.has_error(function()
        oauth.pkce_login{ url = srv.http, client_id = PUBLIC,
                          redirect_uri = "https://app.example/cb", open = print }
      end)
    end)

    it("uses the client secret of a confidential application", function()
      local tokens = assert(oauth.pkce_login{
        url = srv.http, client_id = CONFIDENTIAL, client_secret = SECRET, port = 0,
        timeout = 10, open = function(url) admin("POST", "oauth/browse", { url = url }) end,
      })
      assert.is_string(tokens.access_token)
      assert.matches("client_secret=", requests("/oauth/token")[1].body)
    end)

    it("rejects a redirect whose state does not match", function()
      local tokens, err = oauth.pkce_login{
        url = srv.http, client_id = PUBLIC, port = 0, timeout = 10,
        open = function(url) admin("POST", "oauth/browse", { url = url, state = "forged" }) end,
      }
      assert.is_nil(tokens)
      assert.equal("invalid_state", err.code)
      assert.matches("state", tostring(err))
      local b = browser_result()
      assert.equal(400, b.status)
      assert.matches("state mismatch", b.body)
      assert.equal(0, #requests("/oauth/token"))        -- the code was not used
    end)

    it("reports the user's refusal", function()
      admin("POST", "oauth", { deny = true })
      local tokens, err = oauth.pkce_login{
        url = srv.http, client_id = PUBLIC, port = 0, timeout = 10,
        open = function(url) admin("POST", "oauth/browse", { url = url }) end,
      }
      assert.is_nil(tokens)
      assert.equal("access_denied", err.code)
      assert.equal(400, browser_result().status)
    end)

    it("times out when the browser never comes back", function()
      local t0 = os.time()
      local tokens, err = oauth.pkce_login{
        url = srv.http, client_id = PUBLIC, port = 0, timeout = 1, open = function() end,
      }
      assert.is_nil(tokens)
      assert.equal("timeout", err.code)
      assert.is_true(os.time() - t0 <= 3)
    end)

    it("refuses to send secrets over plain http to another host", function()
      local ok, err = pcall(function()
        oauth.refresh{ url = "http://gitlab.example.com", client_id = PUBLIC,
                       refresh_token = "rt-secret" }
      end)
      assert.is_false(ok)
      assert.matches("plain http", err)
      assert.matches("50%-oauth_spec", err)            -- the caller's position
      assert.is_nil(err:find("rt-secret", 1, true))
      assert.has_error(function()
        oauth.device_login{ url = "http://gitlab.example.com", client_id = PUBLIC,
                            on_code = print }
      end)
    end)

    it("builds the authorize URL on the instance root", function()
      local url = oauth.authorize_url{ url = "https://h.example/gitlab/api/v4",
        client_id = "id", redirect_uri = "http://127.0.0.1:7171/callback",
        state = "s t", scopes = { "api", "read_user" } }
      assert.equal("https://h.example/gitlab/oauth/authorize?client_id=id"
        .. "&redirect_uri=http%3A%2F%2F127.0.0.1%3A7171%2Fcallback&response_type=code"
        .. "&state=s%20t&scope=api%20read_user", url)
    end)
  end)

  describe("refresh", function()
    it("exchanges the refresh token and invalidates the old pair", function()
      local old = sign_in()
      local new = assert(oauth.refresh{ url = srv.http, client_id = PUBLIC,
                                        refresh_token = old.refresh_token })
      assert.not_equal(old.access_token, new.access_token)
      assert.not_equal(old.refresh_token, new.refresh_token)
      -- GitLab invalidates both old tokens
      local gl = gitlab.new{ url = srv.http, oauth_token = old.access_token }
      local _, err = gl:user()
      assert.equal(401, err.status)
      local again, rerr = oauth.refresh{ url = srv.http, client_id = PUBLIC,
                                         refresh_token = old.refresh_token }
      assert.is_nil(again)
      assert.equal("invalid_grant", rerr.code)
      assert.is_nil(tostring(rerr):find(old.refresh_token, 1, true))
    end)
  end)

  describe("automatic refresh in a client", function()
    it("refreshes before a request when the token has expired", function()
      local t = sign_in()
      local gl, saved = helpers.oauth_client(t, -1)
      assert.equal("root", assert(gl:user()).username)
      assert.equal(1, #saved)
      assert.not_equal(t.access_token, saved[1].access_token)
      assert.not_equal(t.refresh_token, saved[1].refresh_token)
      local user_calls = requests("/api/v4/user")
      assert.equal(1, #user_calls)
      assert.equal("Bearer " .. saved[1].access_token, user_calls[1].headers.authorization)
      -- fresh now: no second refresh
      assert(gl:user())
      assert.equal(1, #saved)
      assert.equal(2, #requests("/oauth/token"))       -- sign-in + one refresh
    end)

    it("refreshes once on a 401 invalid_token and retries the request", function()
      local t = sign_in()
      local gl, saved = helpers.oauth_client(t)
      admin("POST", "oauth/expire", { token = t.access_token })
      local me, resp = gl:user()
      assert.equal(200, resp.status)
      assert.equal("root", me.username)
      assert.equal(1, #saved)
      local calls = requests("/api/v4/user")
      assert.equal(2, #calls)
      assert.equal(401, calls[1].status)
      assert.equal("Bearer " .. t.access_token, calls[1].headers.authorization)
      assert.equal(200, calls[2].status)
      assert.equal("Bearer " .. saved[1].access_token, calls[2].headers.authorization)
    end)

    it("refreshes once on a 401 for request_async too, and the handle follows", function()
      local t = sign_in()
      local gl, saved = helpers.oauth_client(t)
      admin("POST", "oauth/expire", { token = t.access_token })
      local got, calls = nil, 0
      local h = gl:request_async("GET", "/user", nil, function(err, data)
        calls = calls + 1
        got = err or data
      end)
      gl:wait()
      assert.equal(1, calls)
      assert.equal("root", got.username)
      assert.equal(1, #saved)
      assert.is_true(h:done())
      local reqs = requests("/api/v4/user")
      assert.equal(2, #reqs)
      assert.equal(200, reqs[2].status)
    end)

    it("returns the 401 when the refresh fails, without looping", function()
      local t = sign_in()
      local saved = 0
      local gl = gitlab.new{ url = srv.http, oauth = {
        client_id = PUBLIC, access_token = t.access_token, refresh_token = "revoked-rt",
        on_refresh = function() saved = saved + 1 end,
      } }
      admin("POST", "oauth/expire", { token = t.access_token })
      local me, err = gl:user()
      assert.is_nil(me)
      assert.equal(401, err.status)
      assert.equal(0, saved)
      assert.equal(1, #requests("/api/v4/user"))
      assert.equal(2, #requests("/oauth/token"))        -- sign-in + one failed refresh
      assert.is_nil(tostring(err):find(t.access_token, 1, true))
    end)

    it("refreshes inside gitlab.async.run without blocking the loop forever", function()
      local t = sign_in()
      local saved = 0
      local gl = gitlab.new{ url = srv.http, oauth = {
        client_id = PUBLIC, access_token = t.access_token, refresh_token = t.refresh_token,
        expires_at = os.time() - 1, on_refresh = function() saved = saved + 1 end,
      } }
      local me
      gitlab.async.run(function() me = assert(gl:user()) end)
      gl:wait()
      assert.equal("root", me.username)
      assert.equal(1, saved)
    end)

    describe("without blocking (request_async, async.run)", function()
      local function expired_client(t, extra)
        local saved = {}
        local o = {
          url = srv.http, headers = { ["X-Team-Secret"] = "team-s3cret" },
          oauth = {
            client_id = PUBLIC, access_token = t.access_token, refresh_token = t.refresh_token,
            expires_at = os.time() - 1,
            on_refresh = function(tokens) saved[#saved + 1] = tokens end,
          },
        }
        for k, v in pairs(extra or {}) do o[k] = v end
        return gitlab.new(o), saved
      end

      it("returns at once while a slow refresh runs on the client's engine", function()
        local t = sign_in()
        local gl, saved = expired_client(t)
        helpers.fault{ path = "/oauth/token", delay_ms = 800 }
        local t0 = core.now()
        local got
        local h = gl:request_async("GET", "/user", nil, function(err, data) got = err or data end)
        assert.is_true(core.now() - t0 < 0.4, "request_async blocked for the refresh")
        assert.is_false(h:done())
        gl:wait()
        assert.equal("root", got.username)
        assert.is_true(h:done())
        assert.equal(1, #saved)
        local calls = requests("/api/v4/user")
        assert.equal(1, #calls)
        assert.equal("Bearer " .. saved[1].access_token, calls[1].headers.authorization)
      end)

      it("sends one refresh for every request that needs it", function()
        local t = sign_in()
        local gl, saved = expired_client(t)
        local got = {}
        for i = 1, 3 do
          gl:request_async("GET", "/user", nil, function(err, data) got[i] = err or data end)
        end
        gl:wait()
        for i = 1, 3 do assert.equal("root", got[i].username) end
        assert.equal(1, #saved)
        assert.equal(2, #requests("/oauth/token"))       -- sign-in + one refresh
      end)

      it("sends the token request without the credential or extra headers", function()
        local t = sign_in()
        local gl = expired_client(t)
        gl:request_async("GET", "/user", nil, function() end)
        gl:wait()
        assert(gl:user())                                 -- and blocking: fresh now
        local tok = requests("/oauth/token")
        local r = tok[#tok]
        assert.is_nil(r.headers.authorization)
        assert.is_nil(r.headers["x-team-secret"])
        assert.equal("team-s3cret", requests("/api/v4/user")[1].headers["x-team-secret"])
      end)

      it("cancels while the refresh is in flight: no callback, no request", function()
        local t = sign_in()
        local gl = expired_client(t)
        helpers.fault{ path = "/oauth/token", delay_ms = 300 }
        local calls = 0
        local h = gl:request_async("GET", "/user", nil, function() calls = calls + 1 end)
        assert.is_true(h:cancel())
        assert.is_true(h:done())
        gl:wait()
        assert.equal(0, calls)
        assert.equal(0, #requests("/api/v4/user"))
        assert.is_false(h:cancel())
      end)

      it("yields inside async.run while the refresh is slow", function()
        local t = sign_in()
        local gl, saved = expired_client(t)
        helpers.fault{ path = "/oauth/token", delay_ms = 800 }
        local me
        local t0 = core.now()
        gitlab.async.run(function() me = assert(gl:user()) end)
        assert.is_true(core.now() - t0 < 0.4, "async.run blocked for the refresh")
        assert.is_nil(me)
        gl:wait()
        assert.equal("root", me.username)
        assert.equal(1, #saved)
      end)
    end)

    it("does not refresh on a 401 that is not invalid_token", function()
      local t = sign_in()
      local gl = gitlab.new{ url = srv.http, oauth = {
        client_id = PUBLIC, access_token = "unknown-token", refresh_token = t.refresh_token,
      } }
      local _, err = gl:user()
      assert.equal(401, err.status)
      assert.equal(1, #requests("/oauth/token"))        -- the sign-in only
    end)
  end)

  describe("examples/device_login.lua", function()
    it("signs in with the device flow and saves a usable instance", function()
      admin("POST", "oauth", { device_script = { "approved" }, device_interval = 0 })
      local dir = helpers.tmpdir()
      local lua = jit and "luajit" or "lua5.4"
      local out, code = helpers.exec(("cd %s && env -u LD_PRELOAD XDG_CONFIG_HOME=%s GITLAB_URL=%s "
        .. "GITLAB_CLIENT_ID=%s %s examples/device_login.lua demo 2>&1")
        :format(helpers.shell_quote(helpers.root), helpers.shell_quote(dir),
                helpers.shell_quote(srv.http), PUBLIC, lua))
      assert.equal(0, code, out)
      assert.matches("enter the code %w+", out)
      assert.matches("Hello, Administrator %(@root%)", out)
      local config = require("gitlab.config")
      local lopts = { getenv = function(k) return k == "XDG_CONFIG_HOME" and dir or nil end }
      local gl = assert(gitlab.from_config("demo", lopts))
      assert.equal("root", assert(gl:user()).username)
      assert.equal(tonumber("600", 8), core.file_mode(config.credentials_path(lopts)))
      helpers.exec("rm -rf " .. helpers.shell_quote(dir))
    end)
  end)

  describe("errors", function()
    -- One error class (gitlab.errors) for the client and the OAuth flows:
    -- a caller tests errors.is_error(err) and prints tostring(err) whatever
    -- failed. Each case is one failure path of lua/gitlab/oauth.lua.
    local errors = require("gitlab.errors")
    local function pkce(open, timeout)
      return oauth.pkce_login{ url = srv.http, client_id = PUBLIC, port = 0,
        timeout = timeout or 10, open = open }
    end
    local cases = {
      { "a refusal from the token endpoint", "access_denied", function()
        admin("POST", "oauth", { device_script = { "denied" } })
        return oauth.device_login{ url = srv.http, client_id = PUBLIC,
          on_code = function() end, sleep = no_sleep }
      end },
      { "a device code past its lifetime", "expired_token", function()
        admin("POST", "oauth", { device_script = { "authorization_pending" },
                                 device_expires_in = 10, device_interval = 5 })
        local clock = 1000
        return oauth.device_login{ url = srv.http, client_id = PUBLIC,
          on_code = function() end, sleep = function(s) clock = clock + s end,
          now = function() return clock end }
      end },
      { "a redirect with a forged state", "invalid_state", function()
        return pkce(function(url) admin("POST", "oauth/browse", { url = url, state = "forged" }) end)
      end, browser = true },
      { "the user's refusal in the browser", "access_denied", function()
        admin("POST", "oauth", { deny = true })
        return pkce(function(url) admin("POST", "oauth/browse", { url = url }) end)
      end, browser = true },
      { "a browser that never comes back", "timeout", function()
        return pkce(function() end, 1)
      end },
      { "an expired token without a refresh token", "no_refresh_token", function()
        -- the access token expires on the server; GitLab answers 401
        -- invalid_token, and the refresh that would follow cannot happen:
        -- its error rides on the 401
        local t = sign_in()
        local gl = gitlab.new{ url = srv.http, oauth = { access_token = t.access_token } }
        admin("POST", "oauth/expire", { token = t.access_token })
        local _, err = gl:user()
        assert.equal(401, err.status)
        return nil, err.refresh_error
      end },
    }
    for _, case in ipairs(cases) do
      it("gives a gitlab.errors object for " .. case[1], function()
        local ok, err = case[3]()
        assert.is_nil(ok)
        assert.equal(case[2], err.code)
        assert.is_true(errors.is_error(err))
        local s = tostring(err)
        assert.is_string(s)
        assert.matches(case[2], s, 1, true)
        if case.browser then browser_result() end
      end)
    end
  end)

  describe("token info, revoke, register", function()
    it("reads token info with the token in a header, never the URL", function()
      local t = sign_in()
      local info = assert(oauth.token_info{ url = srv.http, token = t.access_token })
      assert.equal(1, info.resource_owner_id)
      assert.same({ "api" }, info.scope)
      assert.equal(PUBLIC, info.application.uid)
      assert.is_true(info.expires_in > 7000)
      local r = requests("/oauth/token/info")[1]
      assert.equal("", r.query)
      assert.equal("Bearer " .. t.access_token, r.headers.authorization)
      local none, err = oauth.token_info{ url = srv.http, token = "not-a-token" }
      assert.is_nil(none)
      assert.equal(401, err.status)
      assert.equal("invalid_token", err.code)
    end)

    it("revokes a token", function()
      local t = sign_in()
      assert.is_true(oauth.revoke{ url = srv.http, client_id = PUBLIC, token = t.access_token })
      local _, err = oauth.token_info{ url = srv.http, token = t.access_token }
      assert.equal(401, err.status)
      local gl = gitlab.new{ url = srv.http, oauth_token = t.access_token }
      local _, aerr = gl:user()
      assert.equal(401, aerr.status)
      -- its refresh token went with it
      local r = oauth.refresh{ url = srv.http, client_id = PUBLIC, refresh_token = t.refresh_token }
      assert.is_nil(r)
    end)

    it("refuses to revoke another application's token", function()
      local t = sign_in()
      local ok, err = oauth.revoke{ url = srv.http, client_id = CONFIDENTIAL,
                                    client_secret = SECRET, token = t.access_token }
      assert.is_nil(ok)
      assert.equal(403, err.status)
      assert.truthy(oauth.token_info{ url = srv.http, token = t.access_token })
    end)

    it("registers an application dynamically", function()
      local app, resp = oauth.register{ url = srv.http, client_name = "my tool",
        redirect_uris = { "http://127.0.0.1:7171/callback" } }
      assert.equal(201, resp.status)
      assert.is_string(app.client_id)
      assert.same({ "http://127.0.0.1:7171/callback" }, app.redirect_uris)
      assert.equal("none", app.token_endpoint_auth_method)
      assert.is_true(app.require_pkce)
      assert.equal("mcp", app.scope)
      local reg = requests("/oauth/register")[1]
      assert.matches("application/json", reg.headers["content-type"])
      -- the new client can sign in with PKCE for the mcp scope
      local tokens = assert(oauth.pkce_login{ url = srv.http, client_id = app.client_id,
        scopes = "mcp", port = 0, timeout = 10,
        open = function(url) admin("POST", "oauth/browse", { url = url }) end })
      assert.equal("mcp", tokens.scope)
    end)

    it("reports invalid client metadata", function()
      local app, err = oauth.register{ url = srv.http, client_name = ("x"):rep(200),
        redirect_uris = { "http://127.0.0.1/cb" } }
      assert.is_nil(app)
      assert.equal(400, err.status)
      assert.equal("invalid_client_metadata", err.code)
      assert.has_error(function() oauth.register{ url = srv.http, client_name = "x" } end)
    end)
  end)
end)
