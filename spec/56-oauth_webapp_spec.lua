-- OAuth for a server-side web application: oauth.authorize_url ->
-- GitLab's authorize page (the fake's user is signed in and approves) ->
-- the app's callback gets code and state -> oauth.exchange ->
-- oauth.userinfo. GitLab's side is spec/fake/routes/oauth.js, after
--   doc/api/oauth2.md                          "Authorization code flow" and
--                                              "Authorization code with PKCE"
--   doc/integration/openid_connect_provider.md /oauth/userinfo, its claims
--   config/initializers/doorkeeper_openid_connect.rb  which scope gives what

local helpers = require("helpers")
local gitlab = require("gitlab")
local oauth = require("gitlab.oauth")

local PUBLIC = "lua-gitlab-public"
local CONFIDENTIAL, SECRET = "lua-gitlab-confidential", "lua-gitlab-secret"
-- registered redirect URIs: the web app's, and a loopback one both apps have
local WEB = "https://app.example/oauth/callback"
local LOOP = "http://127.0.0.1/callback"

local srv

local function admin(method, name, body)
  return helpers.admin(method, "/" .. name, body)
end

local function requests(path)
  return helpers.requests{ path = path }
end

-- The signed-in user's browser on GitLab's authorize page: the query GitLab
-- redirects it back to the app's callback with (code, state; or error),
-- and that callback URL; or nil and the status of GitLab's own error page.
local function browse(url)
  local gl = gitlab.new{ url = srv.http, retries = 0 }
  local _, resp = gl:request("GET", url, { follow = false })
  gl:close()
  if resp.status ~= 302 then return nil, resp.status end
  local loc = resp.headers.location
  return oauth._parse_query(loc:match("%?(.*)$")), loc
end

-- authorize_url (a fresh state) -> the browser -> the callback's query,
-- state checked: the code.
local function code_for(o)
  local state = oauth.new_state()
  local url = oauth.authorize_url{ url = srv.http, client_id = o.client_id,
    redirect_uri = o.redirect_uri, state = state, scopes = o.scopes,
    code_challenge = o.code_challenge }
  local q, loc = browse(url)
  assert(q, "GitLab showed its error page: " .. tostring(loc))
  assert(loc:sub(1, #o.redirect_uri + 1) == o.redirect_uri .. "?", loc)
  assert(oauth.check_state(state, q.state), "state mismatch")
  assert(q.code, q.error_description)
  return q.code
end

local function form_of(r)
  return oauth._parse_query(r.body)
end

-- Every string of an error, as a caller could show it: tostring(err) and
-- every string reachable from it (message, body, headers, the decoded
-- body `json`, `details`, the response with its raw header lines, ...).
local function shown(err)
  local list, seen = { tostring(err) }, {}
  local function walk(v, depth)
    if type(v) == "string" then list[#list + 1] = v return end
    if type(v) ~= "table" or seen[v] or depth > 10 then return end
    seen[v] = true
    for k, x in pairs(v) do
      walk(k, depth + 1)
      walk(x, depth + 1)
    end
  end
  walk(err, 0)
  return list
end

local function never_in(secret, strings)
  for _, s in ipairs(strings) do
    assert(not s:find(secret, 1, true), ("%q shows up in %q"):format(secret, s))
  end
end

describe("OAuth for web applications", function()
  setup(function() srv = helpers.server() end)
  before_each(function() helpers.reset() end)

  describe("state", function()
    it("new_state gives unpredictable states, check_state compares them", function()
      local a, b = oauth.new_state(), oauth.new_state()
      assert.not_equal(a, b)
      assert.matches("^[%w%-_]+$", a)
      assert.is_true(#a >= 32)
      assert.is_true(oauth.check_state(a, a))
      assert.is_true(oauth.check_state(a, a .. ""))
      assert.is_false(oauth.check_state(a, b))
      assert.is_false(oauth.check_state(a, nil))
      assert.is_false(oauth.check_state(a, ""))
      assert.is_false(oauth.check_state(a, a:sub(1, -2)))      -- a prefix
      assert.is_false(oauth.check_state(a, a .. "x"))
      assert.is_false(oauth.check_state(a, { a }))
      -- no expected state: a programmer error, at the caller
      for _, bad in ipairs{ nil, "", 42 } do
        local ok, err = pcall(oauth.check_state, bad, a)
        assert.is_false(ok)
        assert.matches("expected", err)
      end
    end)

    it("comes back from GitLab's authorize page unchanged", function()
      local state = oauth.new_state()
      local q = browse(oauth.authorize_url{ url = srv.http, client_id = PUBLIC,
        redirect_uri = LOOP, state = state, scopes = "read_user" })
      assert.equal(state, q.state)
      assert.is_true(oauth.check_state(state, q.state))
    end)
  end)

  describe("the web flow", function()
    it("confidential app: authorize, exchange with the secret, userinfo", function()
      local scopes = { "openid", "profile", "email" }
      local code = code_for{ client_id = CONFIDENTIAL, redirect_uri = WEB, scopes = scopes }
      local t0 = os.time()
      local t = assert(oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL,
        client_secret = SECRET, code = code, redirect_uri = WEB, scopes = scopes })
      -- the token shape of every flow
      assert.is_string(t.access_token)
      assert.is_string(t.refresh_token)
      assert.equal("bearer", t.token_type)
      assert.is_true(t.expires_at >= t0 + 7200 and t.expires_at <= os.time() + 7200)
      assert.equal("openid profile email", t.scope)            -- the answer has none
      assert.equal(WEB, t.redirect_uri)
      assert.is_nil(t.code_verifier)
      -- doc/api/oauth2.md's request: in the body, nothing in the URL
      local r = requests("/oauth/token")[1]
      assert.equal("POST", r.method)
      assert.equal("", r.query)
      local f = form_of(r)
      assert.same({ grant_type = "authorization_code", client_id = CONFIDENTIAL,
        client_secret = SECRET, code = code, redirect_uri = WEB }, f)
      -- the claims (doc/integration/openid_connect_provider.md)
      local info = assert(oauth.userinfo{ url = srv.http, token = t.access_token })
      assert.equal("1", info.sub)
      assert.equal("root", info.nickname)
      assert.equal("root", info.preferred_username)
      assert.equal("Administrator", info.name)
      assert.equal(srv.http .. "/root", info.profile)
      assert.equal("admin@example.com", info.email)            -- email scope: the primary address
      assert.is_true(info.email_verified)
      -- the token in the Authorization header, never in the URL
      r = requests("/oauth/userinfo")[1]
      assert.equal("Bearer " .. t.access_token, r.headers.authorization)
      assert.equal("", r.query)
      -- the pair refreshes as a confidential app's does
      local new = assert(oauth.refresh{ url = srv.http, client_id = CONFIDENTIAL,
        client_secret = SECRET, refresh_token = t.refresh_token, redirect_uri = t.redirect_uri })
      assert.not_equal(t.access_token, new.access_token)
      assert.equal("1", assert(oauth.userinfo{ url = srv.http, token = new.access_token }).sub)
    end)

    it("public app with PKCE S256: exchange with the verifier, no secret", function()
      local verifier, challenge = oauth.pkce_pair()
      local code = code_for{ client_id = PUBLIC, redirect_uri = LOOP, scopes = { "openid" },
                             code_challenge = challenge }
      local t = assert(oauth.exchange{ url = srv.http, client_id = PUBLIC, code = code,
        redirect_uri = LOOP, code_verifier = verifier, scopes = { "openid" } })
      assert.is_string(t.access_token)
      assert.equal("openid", t.scope)
      -- kept for the refresh, as pkce_login's pair keeps them
      assert.equal(LOOP, t.redirect_uri)
      assert.equal(verifier, t.code_verifier)
      local f = form_of(requests("/oauth/token")[1])
      assert.equal(verifier, f.code_verifier)
      assert.is_nil(f.client_secret)
      local info = assert(oauth.userinfo{ url = srv.http, token = t.access_token })
      assert.equal("1", info.sub)
      assert.is_nil(info.email)                 -- no email scope, no public email
      -- the client's automatic refresh from that pair
      local saved = {}
      local gl = gitlab.new{ url = srv.http, oauth = { client_id = PUBLIC,
        access_token = t.access_token, refresh_token = t.refresh_token,
        redirect_uri = t.redirect_uri, code_verifier = t.code_verifier, scope = t.scope,
        expires_at = os.time() - 1, on_refresh = function(x) saved[#saved + 1] = x end } }
      assert(gl:request("GET", "/oauth/userinfo", { root = true }))
      assert.equal(1, #saved)
      assert.equal(verifier, form_of(requests("/oauth/token")[2]).code_verifier)
      gl:close()
    end)

    it("confidential app with PKCE: the secret and the verifier", function()
      local verifier, challenge = oauth.pkce_pair()
      local code = code_for{ client_id = CONFIDENTIAL, redirect_uri = WEB, scopes = "openid",
                             code_challenge = challenge }
      -- the verifier does not stand in for the secret
      local none, err = oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL, code = code,
        redirect_uri = WEB, code_verifier = verifier }
      assert.is_nil(none)
      assert.equal("invalid_client", err.code)
      local t = assert(oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL,
        client_secret = SECRET, code = code, redirect_uri = WEB, code_verifier = verifier })
      assert.equal("1", assert(oauth.userinfo{ url = srv.http, token = t.access_token }).sub)
    end)
  end)

  describe("GitLab refuses", function()
    it("a redirect_uri the app did not register, on the authorize page", function()
      local none, status = browse(oauth.authorize_url{ url = srv.http, client_id = CONFIDENTIAL,
        redirect_uri = "https://evil.example/oauth/callback", state = oauth.new_state() })
      assert.is_nil(none)
      assert.equal(400, status)                 -- GitLab's page: no redirect to that URI
    end)

    -- doc/api/oauth2.md: "The redirect_uri must match the redirect_uri used
    -- in the original authorization request."
    it("an exchange with another redirect_uri than the authorization's", function()
      local code = code_for{ client_id = CONFIDENTIAL, redirect_uri = WEB, scopes = "openid" }
      local none, err = oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL,
        client_secret = SECRET, code = code, redirect_uri = LOOP }     -- registered, not used
      assert.is_nil(none)
      assert.equal(400, err.status)
      assert.equal("invalid_grant", err.code)
      never_in(code, shown(err))
    end)

    it("a code used twice", function()
      local code = code_for{ client_id = CONFIDENTIAL, redirect_uri = WEB, scopes = "openid" }
      local o = { url = srv.http, client_id = CONFIDENTIAL, client_secret = SECRET,
                  code = code, redirect_uri = WEB }
      assert(oauth.exchange(o))
      local none, err = oauth.exchange(o)
      assert.is_nil(none)
      assert.equal(400, err.status)
      assert.equal("invalid_grant", err.code)
    end)

    it("a wrong or missing code_verifier", function()
      local _, challenge = oauth.pkce_pair()
      local other = oauth.pkce_pair()
      local code = code_for{ client_id = PUBLIC, redirect_uri = LOOP, scopes = "openid",
                             code_challenge = challenge }
      for _, v in ipairs{ other, false } do
        local none, err = oauth.exchange{ url = srv.http, client_id = PUBLIC, code = code,
          redirect_uri = LOOP, code_verifier = v or nil }
        assert.is_nil(none)
        assert.equal("invalid_grant", err.code)
        if v then never_in(v, shown(err)) end
      end
    end)

    it("a wrong or missing client secret", function()
      local code = code_for{ client_id = CONFIDENTIAL, redirect_uri = WEB, scopes = "openid" }
      for _, s in ipairs{ "not-the-secret", false } do
        local none, err = oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL,
          client_secret = s or nil, code = code, redirect_uri = WEB }
        assert.is_nil(none)
        assert.equal(401, err.status)
        assert.equal("invalid_client", err.code)
        if s then never_in(s, shown(err)) end
      end
    end)

    it("an expired or revoked token at userinfo, with 401 invalid_token", function()
      local code = code_for{ client_id = PUBLIC, redirect_uri = LOOP, scopes = "openid" }
      local t = assert(oauth.exchange{ url = srv.http, client_id = PUBLIC, code = code,
                                       redirect_uri = LOOP })
      assert(oauth.userinfo{ url = srv.http, token = t.access_token })
      admin("POST", "oauth/expire", { token = t.access_token })
      local none, err = oauth.userinfo{ url = srv.http, token = t.access_token }
      assert.is_nil(none)
      assert.equal(401, err.status)
      assert.equal("invalid_token", err.code)
      assert.matches('error="invalid_token"', err.headers["www-authenticate"])
      never_in(t.access_token, shown(err))
      -- a revoked one
      code = code_for{ client_id = PUBLIC, redirect_uri = LOOP, scopes = "openid" }
      t = assert(oauth.exchange{ url = srv.http, client_id = PUBLIC, code = code, redirect_uri = LOOP })
      assert(oauth.revoke{ url = srv.http, client_id = PUBLIC, token = t.access_token })
      none, err = oauth.userinfo{ url = srv.http, token = t.access_token }
      assert.is_nil(none)
      assert.equal(401, err.status)
      assert.equal("invalid_token", err.code)
    end)

    -- doorkeeper-openid_connect's UserinfoController: doorkeeper_authorize! :openid
    it("userinfo for a token without the openid scope", function()
      local code = code_for{ client_id = CONFIDENTIAL, redirect_uri = WEB, scopes = { "read_user" } }
      local t = assert(oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL,
        client_secret = SECRET, code = code, redirect_uri = WEB })
      local none, err = oauth.userinfo{ url = srv.http, token = t.access_token }
      assert.is_nil(none)
      assert.equal(403, err.status)
      assert.equal("invalid_scope", err.code)
      assert.matches("openid", err.message)
      never_in(t.access_token, shown(err))
    end)
  end)

  describe("secrets", function()
    it("never show in errors, even when the server echoes them", function()
      local V = ("v"):rep(43)
      local CODE = "code-echoed-1234"
      helpers.fault{ path = "/oauth/token", status = 400, times = -1, headers = { ["x-echo"] = SECRET .. CODE },
        body = { error = "invalid_grant",
                 error_description = "code " .. CODE .. " verifier " .. V .. " secret " .. SECRET } }
      local none, err = oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL,
        client_secret = SECRET, code = CODE, redirect_uri = WEB, code_verifier = V }
      assert.is_nil(none)
      assert.equal("invalid_grant", err.code)
      for _, s in ipairs{ V, CODE, SECRET } do never_in(s, shown(err)) end
      -- a userinfo error that echoes the token
      local TOKEN = "oauth-token-echoed-1"
      helpers.fault{ path = "/oauth/userinfo", status = 401, times = -1,
        headers = { ["www-authenticate"] = 'Bearer error="invalid_token", token="' .. TOKEN .. '"' },
        body = { error = "invalid_token", error_description = "token " .. TOKEN .. " is invalid" } }
      none, err = oauth.userinfo{ url = srv.http, token = TOKEN }
      assert.is_nil(none)
      assert.equal("invalid_token", err.code)
      never_in(TOKEN, shown(err))
    end)

    it("userinfo's token never goes to another host, even when redirected there", function()
      helpers.fault{ path = "/oauth/userinfo", status = 302, times = 1,
        headers = { location = srv.other .. "/oauth/userinfo" } }
      local none = oauth.userinfo{ url = srv.http, token = "oauth-root" }
      assert.is_nil(none)
      local sent = helpers.requests{ path = "/oauth/userinfo" }
      assert.equal(2, #sent)
      assert.equal("Bearer oauth-root", sent[1].headers.authorization)
      assert.equal("other", sent[2].origin)
      assert.is_nil(sent[2].headers.authorization)
    end)

    it("never show in log lines", function()
      local lines = {}
      local function log(l) lines[#lines + 1] = l end
      local verifier, challenge = oauth.pkce_pair()
      local code = code_for{ client_id = CONFIDENTIAL, redirect_uri = WEB, scopes = "openid",
                             code_challenge = challenge }
      local t = assert(oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL, client_secret = SECRET,
        code = code, redirect_uri = WEB, code_verifier = verifier, log = log })
      assert(oauth.userinfo{ url = srv.http, token = t.access_token, log = log })
      admin("POST", "oauth/expire", { token = t.access_token })
      assert.is_nil(oauth.userinfo{ url = srv.http, token = t.access_token, log = log })
      assert.is_nil(oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL, client_secret = SECRET,
        code = code, redirect_uri = WEB, code_verifier = verifier, log = log })     -- spent
      assert.is_true(#lines >= 4)
      for _, s in ipairs{ code, verifier, SECRET, t.access_token, t.refresh_token } do
        never_in(s, lines)
      end
    end)
  end)

  -- RFC 6749 section 5.1: the token answer is a JSON object with an
  -- access_token; section 5.2: an error answer has `error`. GitLab
  -- answers its errors 400/401 (doc/api/oauth2.md's device flow shows
  -- them); a 200 with `error` is one too, never tokens.
  describe("answers that are no tokens", function()
    local function exchange()
      return oauth.exchange{ url = srv.http, client_id = CONFIDENTIAL, client_secret = SECRET,
        code = "code-1234", redirect_uri = WEB }
    end

    it("a 200 with an error field: GitLab's code, secrets scrubbed", function()
      helpers.fault{ path = "/oauth/token", status = 200, times = -1,
        body = { error = "invalid_grant", error_description = "code code-1234 is spent" } }
      local none, err = exchange()
      assert.is_nil(none)
      assert.equal("oauth", err.kind)
      assert.equal("invalid_grant", err.code)
      assert.matches("is spent", err.message)
      never_in("code-1234", shown(err))
      never_in(SECRET, shown(err))
    end)

    it("an HTML page or JSON that is no object: kind decode, as userinfo's", function()
      helpers.fault{ path = "/oauth/token", status = 200, times = 1,
        headers = { ["content-type"] = "text/html" }, body = "<html><title>Sign in</title></html>" }
      local none, err = exchange()
      assert.is_nil(none)
      assert.equal("decode", err.kind)
      assert.matches("expected a JSON object, got text/html", err.message)
      helpers.fault{ path = "/oauth/token", status = 200, times = 1, body = { "de6780bc" } }
      none, err = exchange()
      assert.is_nil(none)
      assert.equal("decode", err.kind)
      -- token_info too: an HTML page is no token information
      helpers.fault{ path = "/oauth/token/info", status = 200, times = 1,
        headers = { ["content-type"] = "text/html" }, body = "<html><title>Sign in</title></html>" }
      none, err = oauth.token_info{ url = srv.http, token = "oauth-root" }
      assert.is_nil(none)
      assert.equal("decode", err.kind)
    end)

    it("an empty access_token", function()
      helpers.fault{ path = "/oauth/token", status = 200, times = 1,
        body = { access_token = "", token_type = "bearer", expires_in = 7200 } }
      local none, err = exchange()
      assert.is_nil(none)
      assert.equal("oauth", err.kind)
      assert.equal("invalid_response", err.code)
    end)

    -- OpenID Connect Core 1.0, section 5.3.2: "The sub (subject) Claim
    -- MUST always be returned in the UserInfo Response."
    it("userinfo: JSON null, or claims without sub", function()
      for _, body in ipairs{ "null", '{"name":"Administrator"}' } do
        helpers.fault{ path = "/oauth/userinfo", status = 200, times = 1, body = body,
          headers = { ["content-type"] = "application/json" } }
        local none, err = oauth.userinfo{ url = srv.http, token = "oauth-root" }
        assert.is_nil(none, body)
        assert.equal("decode", err.kind)
        assert.matches("sub", err.message)
      end
    end)
  end)

  describe("examples/oauth_webapp.lua", function()
    local function run(env, args, input)
      local q = helpers.shell_quote
      local vars = { "GITLAB_URL=" .. q(srv.http) }
      for k, v in pairs(env) do vars[#vars + 1] = k .. "=" .. q(v) end
      -- the callback URL a user pastes, on stdin
      local pipe = input and ("printf '%s\\n' " .. q(input) .. " | ") or ""
      return helpers.exec(("cd %s && %s%s env -u GITLAB_TOKEN -u GITLAB_CLIENT_SECRET %s %s"
        .. " examples/oauth_webapp.lua %s 2>&1"):format(q(helpers.root), pipe, helpers.child_env(),
          table.concat(vars, " "), q(helpers.lua_interpreter()), args or ""))
    end

    it("signs a user in, as a confidential app and as a public one with PKCE", function()
      local out, code = run({ GITLAB_CLIENT_ID = CONFIDENTIAL, GITLAB_CLIENT_SECRET = SECRET,
        GITLAB_REDIRECT_URI = WEB }, "--browser")
      assert.equal(0, code, out)
      assert.matches("^200 Signed in as Administrator %(@root, GitLab user 1%), admin@example%.com", out)
      local f = form_of(requests("/oauth/token")[1])
      assert.equal(SECRET, f.client_secret)
      assert.is_nil(f.code_verifier)
      out, code = run({ GITLAB_CLIENT_ID = PUBLIC, GITLAB_REDIRECT_URI = LOOP }, "--browser")
      assert.equal(0, code, out)
      assert.matches("^200 Signed in as Administrator", out)
      f = form_of(requests("/oauth/token")[2])
      assert.is_nil(f.client_secret)
      assert.is_string(f.code_verifier)
      assert.equal(2, #requests("/oauth/userinfo"))
    end)

    it("refuses a callback whose state is not its own", function()
      local out, code = run({ GITLAB_CLIENT_ID = PUBLIC, GITLAB_REDIRECT_URI = LOOP }, nil,
        LOOP .. "?code=forged-code&state=forged-state")
      assert.equal(1, code, out)
      assert.matches("400 This sign%-in was not started here %(state mismatch%)", out)
      assert.equal(0, #requests("/oauth/token"))
    end)
  end)

  describe("arguments", function()
    it("refuses what cannot work, at the caller", function()
      local base = { url = srv.http, client_id = PUBLIC, code = "c", redirect_uri = LOOP }
      local function without(k, v)
        local o = {}
        for key, val in pairs(base) do o[key] = val end
        o[k] = v
        return o
      end
      for _, o in ipairs{ without("code", nil), without("code", ""), without("redirect_uri", nil),
                          without("client_id", nil), without("url", nil),
                          without("code_verifier", "short"), without("code_verifier", 42),
                          without("client_secret", 42), without("scopes", 42),
                          without("url", "http://gitlab.example.com") } do
        local ok, err = pcall(function() oauth.exchange(o) end)
        assert.is_false(ok)
        assert.matches("oauth%.exchange", err)
        assert.matches("56%-oauth_webapp_spec", err)
      end
      assert.has_error(function() oauth.exchange() end)
      assert.equal(0, #requests("/oauth/token"))
    end)

    -- doc/api/oauth2.md, "Prevent CSRF attacks": "One-time use CSRF tokens
    -- carried in the state parameter" with each request to /oauth/authorize
    -- (PKCE's verifier, bound to the session, does that work too)
    it("authorize_url: a state or a code_challenge, strings", function()
      local o = { url = srv.http, client_id = PUBLIC, redirect_uri = LOOP }
      local ok, err = pcall(function() oauth.authorize_url(o) end)
      assert.is_false(ok)
      assert.matches("oauth%.authorize_url: .*state", err)
      assert.matches("56%-oauth_webapp_spec", err)
      for _, bad in ipairs{ { state = "" }, { state = 42 }, { state = { "s" } },
                            { state = "s", code_challenge = 7 }, { code_challenge = "" } } do
        local x = { url = srv.http, client_id = PUBLIC, redirect_uri = LOOP }
        for k, v in pairs(bad) do x[k] = v end
        ok, err = pcall(function() oauth.authorize_url(x) end)
        assert.is_false(ok)
        assert.matches("oauth%.authorize_url", err)
      end
      -- PKCE alone, a state alone
      local _, challenge = oauth.pkce_pair()
      assert.matches("code_challenge=", oauth.authorize_url{ url = srv.http, client_id = PUBLIC,
        redirect_uri = LOOP, code_challenge = challenge })
      assert.matches("state=s1", oauth.authorize_url{ url = srv.http, client_id = PUBLIC,
        redirect_uri = LOOP, state = "s1" })
    end)

    -- doc/api/oauth2.md, "Use HTTPS in production": "For production, use
    -- HTTPS for your redirect_uri." The code goes there in the URL: the
    -- library's plain-http rule holds (loopback only, unless allow_insecure).
    -- RFC 6749 section 3.1.2: "The endpoint URI MUST NOT include a
    -- fragment component."
    it("authorize_url: no code to a plain-http host or a fragment", function()
      local function url(redirect_uri, extra)
        local o = { url = srv.http, client_id = CONFIDENTIAL, redirect_uri = redirect_uri, state = "s" }
        for k, v in pairs(extra or {}) do o[k] = v end
        return oauth.authorize_url(o)
      end
      for _, bad in ipairs{ "http://app.example/oauth/callback", "HTTP://app.example/cb",
                            "https://app.example/cb#frag" } do
        local ok, err = pcall(url, bad)
        assert.is_false(ok, bad)
        assert.matches("oauth%.authorize_url: redirect_uri", err)
      end
      -- loopback, https, a native app's own scheme (RFC 8252), and
      -- allow_insecure
      for _, good in ipairs{ LOOP, "http://localhost:8080/cb", "http://[::1]/cb", WEB,
                             "com.example.app:/oauth2redirect" } do
        assert.is_string(url(good))
      end
      assert.is_string(url("http://app.example/cb", { allow_insecure = true }))
    end)

    it("userinfo refuses an answer that is not the claims", function()
      helpers.fault{ path = "/oauth/userinfo", status = 200, times = -1,
        headers = { ["content-type"] = "text/html" }, body = "<html>sign in</html>" }
      local none, err = oauth.userinfo{ url = srv.http, token = "oauth-root" }
      assert.is_nil(none)
      assert.equal("decode", err.kind)
    end)
  end)
end)
