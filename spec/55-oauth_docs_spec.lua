-- GitLab's OAuth provider as GitLab documents it, and lua-gitlab against
-- it. The fake (spec/fake/routes/oauth.js) follows:
--   doc/api/oauth2.md                          the flows, their requests and
--                                              example responses
--   doc/integration/oauth_provider.md          confidential and public apps
--   doc/integration/openid_connect_provider.md /oauth/userinfo and its claims
--   config/initializers/doorkeeper.rb          where the docs leave a gap
-- Each case below is one place where the fake used to differ from those.

local helpers = require("helpers")
local gitlab = require("gitlab")
local oauth = require("gitlab.oauth")
local core = require("gitlab.core")
local errors = require("gitlab.errors")

local PUBLIC = "lua-gitlab-public"
local CONFIDENTIAL, SECRET = "lua-gitlab-confidential", "lua-gitlab-secret"
-- doc/api/oauth2.md's PKCE test vector
local VERIFIER = "ks02i3jdikdo2k0dkfodf3m39rjfjsdk0wk349rj3jrhf"
local CHALLENGE = "2i0WFA-0AerkjQm4X4oDEhqA17QIAKNjXpagHBXmO_U"
local REDIRECT = "http://127.0.0.1:5555/callback"

local srv

local function admin(method, name, body)
  return helpers.admin(method, "/" .. name, body)
end

local function raw()
  return gitlab.new{ url = srv.http, retries = 0 }
end

-- GET /oauth/authorize as the signed-in user's browser: the query of the
-- redirect back to the app, or nil and the status of GitLab's own page.
local function authorize(q)
  local query = { response_type = "code", redirect_uri = REDIRECT, state = "st", scope = "api" }
  for k, v in pairs(q) do query[k] = v end
  local _, resp = raw():request("GET", "/oauth/authorize", { root = true, follow = false,
    query = query })
  if resp.status ~= 302 then return nil, resp.status end
  return oauth._parse_query(resp.headers.location:match("%?(.*)$"))
end

-- POST /oauth/token with form: data, or nil and the error (err.code =
-- GitLab's OAuth `error`).
local function token(form, ropts)
  local o = { root = true, form = form }
  for k, v in pairs(ropts or {}) do o[k] = v end
  local data, err = raw():request("POST", "/oauth/token", o)
  if not data and err.body then err.code = helpers.decode(err.body).error end
  return data, err
end

-- A pair from the authorization code flow with GitLab's PKCE test vector.
local function pkce_pair(client_id, secret)
  local q = assert(authorize{ client_id = client_id, code_challenge = CHALLENGE,
                              code_challenge_method = "S256" })
  assert(q.code, q.error_description)
  return assert(token{ grant_type = "authorization_code", client_id = client_id,
    client_secret = secret, code = q.code, redirect_uri = REDIRECT, code_verifier = VERIFIER })
end

local function keys(t)
  local list = {}
  for k in pairs(t) do list[#list + 1] = k end
  table.sort(list)
  return table.concat(list, " ")
end

local function requests(path)
  return helpers.requests{ path = path }
end

local function form_of(r)
  return oauth._parse_query(r.body)
end

describe("GitLab's OAuth provider as documented", function()
  setup(function() srv = helpers.server() end)
  before_each(function() helpers.reset() end)

  describe("the fake", function()
    -- doc/api/oauth2.md, "Authorization code flow": PKCE is one flow of
    -- several, not a requirement (Doorkeeper's force_pkce is not set in
    -- config/initializers/doorkeeper.rb); a public app authenticates with
    -- its client_id alone.
    it("(8) gives a public app a code without PKCE", function()
      local q = assert(authorize{ client_id = PUBLIC })
      assert.is_nil(q.error, q.error_description)
      assert.is_string(q.code)
      local data = assert(token{ grant_type = "authorization_code", client_id = PUBLIC,
                                 code = q.code, redirect_uri = REDIRECT })
      assert.is_string(data.access_token)
      -- a verifier for a code that was not bound to a challenge is refused
      q = assert(authorize{ client_id = PUBLIC })
      local none, err = token{ grant_type = "authorization_code", client_id = PUBLIC,
                               code = q.code, redirect_uri = REDIRECT, code_verifier = VERIFIER }
      assert.is_nil(none)
      assert.equal("invalid_grant", err.code)
    end)

    -- doc/api/oauth2.md sends client_secret on every request of a
    -- confidential app, the refresh included; Doorkeeper finds the app by
    -- uid and secret (by_uid_and_secret), PKCE or not.
    it("(9) makes a confidential app authenticate on refresh and device requests", function()
      local pair = pkce_pair(CONFIDENTIAL, SECRET)
      local none, err = token{ grant_type = "refresh_token", client_id = CONFIDENTIAL,
                               refresh_token = pair.refresh_token, redirect_uri = REDIRECT }
      assert.is_nil(none)
      assert.equal(401, err.status)
      assert.equal("invalid_client", err.code)
      local new = assert(token{ grant_type = "refresh_token", client_id = CONFIDENTIAL,
        client_secret = SECRET, refresh_token = pair.refresh_token, redirect_uri = REDIRECT })
      assert.is_string(new.access_token)
      admin("POST", "oauth", { device_script = { "approved" } })
      local dev, derr = raw():request("POST", "/oauth/authorize_device", { root = true,
        form = { client_id = CONFIDENTIAL, scope = "api" } })
      assert.is_nil(dev)
      assert.equal(401, derr.status)
      dev = assert(raw():request("POST", "/oauth/authorize_device", { root = true,
        form = { client_id = CONFIDENTIAL, client_secret = SECRET, scope = "api" } }))
      none, err = token{ grant_type = "urn:ietf:params:oauth:grant-type:device_code",
                         client_id = CONFIDENTIAL, device_code = dev.device_code }
      assert.is_nil(none)
      assert.equal("invalid_client", err.code)
      assert(token{ grant_type = "urn:ietf:params:oauth:grant-type:device_code",
                    client_id = CONFIDENTIAL, client_secret = SECRET, device_code = dev.device_code })
      -- and the PKCE code exchange: a verifier does not stand in for the secret
      local q = assert(authorize{ client_id = CONFIDENTIAL, code_challenge = CHALLENGE,
                                  code_challenge_method = "S256" })
      none, err = token{ grant_type = "authorization_code", client_id = CONFIDENTIAL,
                         code = q.code, redirect_uri = REDIRECT, code_verifier = VERIFIER }
      assert.is_nil(none)
      assert.equal("invalid_client", err.code)
    end)

    -- doc/api/oauth2.md, PKCE flow step 3 sends redirect_uri (and, in the
    -- docs' earlier example, code_verifier) with the refresh; "The
    -- redirect_uri must match the redirect_uri used in the original
    -- authorization request."
    it("(10) checks redirect_uri and code_verifier sent with a refresh", function()
      local pair = pkce_pair(PUBLIC)
      local function refresh(extra)
        local form = { grant_type = "refresh_token", client_id = PUBLIC,
                       refresh_token = pair.refresh_token }
        for k, v in pairs(extra) do form[k] = v end
        return token(form)
      end
      local none, err = refresh{ redirect_uri = "http://127.0.0.1:5555/elsewhere" }
      assert.is_nil(none)
      assert.equal("invalid_grant", err.code)
      none, err = refresh{ redirect_uri = REDIRECT, code_verifier = VERIFIER:sub(2) .. "x" }
      assert.is_nil(none)
      assert.equal("invalid_grant", err.code)
      -- the refused attempts did not spend the refresh token
      local new = assert(refresh{ redirect_uri = REDIRECT, code_verifier = VERIFIER })
      -- the new refresh token keeps the binding of the original request
      none, err = token{ grant_type = "refresh_token", client_id = PUBLIC,
        refresh_token = new.refresh_token, redirect_uri = "http://127.0.0.1:5555/elsewhere" }
      assert.is_nil(none)
      assert.equal("invalid_grant", err.code)
      assert(token{ grant_type = "refresh_token", client_id = PUBLIC,
                    refresh_token = new.refresh_token, redirect_uri = REDIRECT })
    end)

    -- doc/api/oauth2.md: "The CODE_CHALLENGE is a URL-safe base64-encoded
    -- string of the SHA256 hash of the CODE_VERIFIER", sent with
    -- code_challenge_method=S256. Doorkeeper refuses a challenge without a
    -- method (validate_code_challenge_method): there is no plain default.
    it("(11) takes S256 challenges only, and no challenge without its method", function()
      local q = assert(authorize{ client_id = PUBLIC, code_challenge = VERIFIER,
                                  code_challenge_method = "plain" })
      assert.equal("invalid_request", q.error)
      assert.is_nil(q.code)
      assert.equal("st", q.state)
      q = assert(authorize{ client_id = PUBLIC, code_challenge = CHALLENGE })
      assert.equal("invalid_request", q.error)
      assert.is_nil(q.code)
      q = assert(authorize{ client_id = PUBLIC, code_challenge = CHALLENGE,
                            code_challenge_method = "S256" })
      assert.is_string(q.code)
    end)

    -- doc/api/oauth2.md's example responses, field for field.
    it("(12, 13) answers each grant with the fields and token_type of the docs' examples", function()
      local pair = pkce_pair(PUBLIC)
      assert.equal("access_token created_at expires_in refresh_token token_type", keys(pair))
      assert.equal("bearer", pair.token_type)
      local new = assert(token{ grant_type = "refresh_token", client_id = PUBLIC,
        refresh_token = pair.refresh_token, redirect_uri = REDIRECT })
      assert.equal("access_token created_at expires_in refresh_token token_type", keys(new))
      assert.equal("bearer", new.token_type)
      -- device grant: "scope", "Bearer", and no refresh token
      admin("POST", "oauth", { device_script = { "approved" } })
      local dev = assert(raw():request("POST", "/oauth/authorize_device", { root = true,
        form = { client_id = PUBLIC, scope = "read_user" } }))
      local d = assert(token{ grant_type = "urn:ietf:params:oauth:grant-type:device_code",
                              client_id = PUBLIC, device_code = dev.device_code })
      assert.equal("access_token created_at expires_in scope token_type", keys(d))
      assert.equal("Bearer", d.token_type)
      assert.equal("read_user", d.scope)
      -- password grant: three fields
      local p = assert(token{ grant_type = "password", username = "root", password = "root-password" })
      assert.equal("access_token expires_in token_type", keys(p))
      assert.equal("bearer", p.token_type)
      assert.equal(7200, p.expires_in)
      -- each token works against the API
      for _, t in ipairs{ new, d, p } do
        local gl = gitlab.new{ url = srv.http, oauth_token = t.access_token }
        assert.equal("root", assert(gl:user()).username)
      end
    end)

    -- doc/api/oauth2.md, "Device authorization grant flow": "interval": 5
    it("(14) tells device clients to poll every 5 seconds", function()
      local dev = assert(raw():request("POST", "/oauth/authorize_device", { root = true,
        form = { client_id = PUBLIC, scope = "api" } }))
      assert.equal(5, dev.interval)
      assert.equal(300, dev.expires_in)
    end)

    -- doc/integration/openid_connect_provider.md: the claims of
    -- /oauth/userinfo, for a token with the openid scope (doorkeeper-
    -- openid_connect's UserinfoController: doorkeeper_authorize! :openid).
    it("(16) serves /oauth/userinfo to tokens with the openid scope only", function()
      admin("POST", "oauth", { device_script = { "approved" } })
      local t = assert(oauth.device_login{ url = srv.http, client_id = PUBLIC,
        scopes = { "openid" }, on_code = function() end, sleep = function() end })
      local gl = gitlab.new{ url = srv.http, oauth_token = t.access_token }
      local info = assert(gl:request("GET", "/oauth/userinfo", { root = true }))
      assert.equal("1", info.sub)
      assert.equal("root", info.nickname)
      assert.equal("root", info.preferred_username)
      assert.equal("Administrator", info.name)
      assert.equal(srv.http .. "/root", info.profile)
      assert.is_table(info.groups)
      assert.is_nil(info.email)                   -- no public email, no email scope
      assert.is_nil(info.groups_direct)           -- ID token only
      -- POST too; the access_token parameter as well as the header
      assert.equal("1", assert(gl:request("POST", "/oauth/userinfo", { root = true })).sub)
      assert.equal("1", assert(raw():request("GET", "/oauth/userinfo", { root = true,
        query = { access_token = t.access_token } })).sub)
      -- with the email scope: the primary address
      t = assert(oauth.device_login{ url = srv.http, client_id = PUBLIC,
        scopes = { "openid", "email" }, on_code = function() end, sleep = function() end })
      info = assert(gitlab.new{ url = srv.http, oauth_token = t.access_token }
        :request("GET", "/oauth/userinfo", { root = true }))
      assert.equal("admin@example.com", info.email)
      assert.is_true(info.email_verified)
      -- without a token, with a personal access token: 401 invalid_token
      for _, c in ipairs{ raw(), gitlab.new{ url = srv.http, token = "glpat-root", retries = 0 } } do
        local none, err = c:request("GET", "/oauth/userinfo", { root = true })
        assert.is_nil(none)
        assert.equal(401, err.status)
        assert.equal("invalid_token", helpers.decode(err.body).error)
        assert.matches('error="invalid_token"', err.headers["www-authenticate"])
      end
      -- a token without openid: 403 invalid_scope
      t = assert(oauth.device_login{ url = srv.http, client_id = PUBLIC,
        scopes = { "api" }, on_code = function() end, sleep = function() end })
      local none, err = gitlab.new{ url = srv.http, oauth_token = t.access_token, retries = 0 }
        :request("GET", "/oauth/userinfo", { root = true })
      assert.is_nil(none)
      assert.equal(403, err.status)
      local body = helpers.decode(err.body)
      assert.equal("invalid_scope", body.error)
      assert.matches('"openid"', body.error_description)
    end)
  end)

  describe("lua-gitlab", function()
    local function browse(url) admin("POST", "oauth/browse", { url = url }) end

    -- doc/api/oauth2.md, PKCE flow step 3: the refresh sends redirect_uri
    -- (and code_verifier, as the docs' example did): the pair from
    -- pkce_login keeps both, and every refresh sends them.
    it("(10) refreshes a PKCE pair with its redirect_uri and code_verifier", function()
      local t = assert(oauth.pkce_login{ url = srv.http, client_id = PUBLIC, scopes = { "api" },
        port = 0, timeout = 10, open = browse })
      local ex = form_of(requests("/oauth/token")[1])
      assert.equal(ex.redirect_uri, t.redirect_uri)
      assert.equal(ex.code_verifier, t.code_verifier)
      -- oauth.refresh with the pair's fields
      local r = assert(oauth.refresh{ url = srv.http, client_id = PUBLIC,
        refresh_token = t.refresh_token, redirect_uri = t.redirect_uri,
        code_verifier = t.code_verifier })
      local f = form_of(requests("/oauth/token")[2])
      assert.equal(t.redirect_uri, f.redirect_uri)
      assert.equal(t.code_verifier, f.code_verifier)
      assert.is_nil(f.client_secret)
      -- what it returns can be saved and refreshed again as it is
      assert.equal(t.redirect_uri, r.redirect_uri)
      assert.equal(t.code_verifier, r.code_verifier)
      -- the client's automatic refresh, from the saved pair
      local saved, lines = {}, {}
      local o = { client_id = PUBLIC, expires_at = os.time() - 1,
                  on_refresh = function(x) saved[#saved + 1] = x end }
      for k, v in pairs(r) do if o[k] == nil then o[k] = v end end
      local gl = gitlab.new{ url = srv.http, oauth = o, log = function(l) lines[#lines + 1] = l end }
      assert.equal("root", assert(gl:user()).username)
      f = form_of(requests("/oauth/token")[3])
      assert.equal("refresh_token", f.grant_type)
      assert.equal(t.redirect_uri, f.redirect_uri)
      assert.equal(t.code_verifier, f.code_verifier)
      assert.equal(1, #saved)
      assert.equal(t.redirect_uri, saved[1].redirect_uri)
      assert.equal(t.code_verifier, saved[1].code_verifier)
      -- never in a log line or a URL
      for _, l in ipairs(lines) do
        assert.is_nil(l:find(t.code_verifier, 1, true), l)
        assert.is_nil(l:find(r.refresh_token, 1, true), l)
      end
      for _, q in ipairs(helpers.requests()) do
        assert.is_nil((q.query or ""):find(t.code_verifier, 1, true), q.path)
      end
    end)

    it("(10) keeps the code_verifier out of a refresh error that echoes it", function()
      local V = ("v"):rep(43)
      helpers.fault{ path = "/oauth/token", status = 400, times = -1, body = {
        error = "invalid_grant", error_description = "code_verifier " .. V .. " does not match" } }
      local none, err = oauth.refresh{ url = srv.http, client_id = PUBLIC, refresh_token = "rt-x1",
        redirect_uri = REDIRECT, code_verifier = V }
      assert.is_nil(none)
      assert.equal("invalid_grant", err.code)
      assert.equal(V, form_of(requests("/oauth/token")[1]).code_verifier)
      for _, s in ipairs{ tostring(err), err.message, err.body or "" } do
        assert.is_nil(s:find(V, 1, true), s)
      end
      helpers.token{ token = "oauth-x-expired", kind = "oauth", user = 1, expired = true }
      local gl = gitlab.new{ url = srv.http, oauth = { client_id = PUBLIC, access_token = "oauth-x-expired",
        refresh_token = "rt-x1", code_verifier = V, redirect_uri = REDIRECT,
        expires_at = os.time() - 1 } }
      local _, e = gl:get("/user")
      assert.equal(401, e.status)
      for _, s in ipairs{ tostring(e), tostring(e.refresh_error), e.refresh_error.body or "" } do
        assert.is_nil(s:find(V, 1, true), s)
      end
    end)

    -- doc/api/oauth2.md: the authorization code and refresh examples carry
    -- no "scope"; RFC 6749 (5.1, 6): then it is the scope requested, and
    -- the one granted before.
    it("(12) keeps the requested scope when the answer has none", function()
      local t = assert(oauth.pkce_login{ url = srv.http, client_id = PUBLIC,
        scopes = { "api", "read_user" }, port = 0, timeout = 10, open = browse })
      assert.equal("api read_user", t.scope)
      local saved = {}
      local gl = gitlab.new{ url = srv.http, oauth = { client_id = PUBLIC,
        access_token = t.access_token, refresh_token = t.refresh_token, scope = t.scope,
        redirect_uri = t.redirect_uri, code_verifier = t.code_verifier,
        expires_at = os.time() - 1, on_refresh = function(x) saved[#saved + 1] = x end } }
      assert(gl:user())
      assert.equal("api read_user", saved[1].scope)
    end)

    -- doc/api/oauth2.md, device and password examples: no refresh token.
    it("(12) takes a pair without refresh token; its expiry is then a clear 401", function()
      admin("POST", "oauth", { device_script = { "approved" } })
      local t = assert(oauth.device_login{ url = srv.http, client_id = PUBLIC, scopes = { "api" },
        on_code = function() end, sleep = function() end })
      assert.is_nil(t.refresh_token)
      local saved = 0
      local gl = gitlab.new{ url = srv.http, oauth = { client_id = PUBLIC,
        access_token = t.access_token, expires_at = t.expires_at,
        on_refresh = function() saved = saved + 1 end } }
      assert.equal("root", assert(gl:user()).username)
      admin("POST", "oauth/expire", { token = t.access_token })
      local none, err = gl:user()
      assert.is_nil(none)
      assert.equal(401, err.status)
      assert.is_true(errors.is_error(err))
      assert.equal("no_refresh_token", err.refresh_error.code)
      assert.matches("no refresh token", tostring(err))
      assert.equal(0, saved)
      assert.equal(1, #requests("/oauth/token"))          -- the sign-in only
      -- past its expires_at too: one request, the 401, no token request
      local gl2 = gitlab.new{ url = srv.http, oauth = { client_id = PUBLIC,
        access_token = t.access_token, expires_at = os.time() - 1 } }
      local _, err2 = gl2:user()
      assert.equal(401, err2.status)
      assert.matches("no refresh token", tostring(err2))
      assert.equal(1, #requests("/oauth/token"))
    end)

    -- RFC 6749 section 5.1: token_type is case-insensitive; doc/api/oauth2.md
    -- shows both "bearer" and "Bearer". A type that is not bearer cannot be
    -- sent as "Authorization: Bearer" (RFC 6749 section 7.1).
    it("(13) takes token_type bearer in any case, and refuses other types", function()
      for _, tt in ipairs{ "bearer", "Bearer", "BEARER" } do
        helpers.fault{ path = "/oauth/token", status = 200,
          body = { access_token = "oauth-root", token_type = tt, expires_in = 7200 } }
        local t = assert(oauth.refresh{ url = srv.http, client_id = PUBLIC, refresh_token = "rt-1" })
        assert.equal("oauth-root", t.access_token)
        assert.equal("bearer", t.token_type:lower())
      end
      helpers.fault{ path = "/oauth/token", status = 200,
        body = { access_token = "oauth-root", token_type = "mac", expires_in = 7200 } }
      local none, err = oauth.refresh{ url = srv.http, client_id = PUBLIC, refresh_token = "rt-1" }
      assert.is_nil(none)
      assert.equal("invalid_response", err.code)
      assert.matches("mac", tostring(err))
    end)

    -- doc/api/oauth2.md: "interval": 5. About five seconds.
    it("(14) waits the 5 seconds GitLab asks for between device polls", function()
      admin("POST", "oauth", { device_script = { "approved" } })
      local shown
      local t0 = core.now()
      local t = assert(oauth.device_login{ url = srv.http, client_id = PUBLIC,
        on_code = function(info) shown = info end })
      local waited = core.now() - t0
      assert.equal(5, shown.interval)
      assert.is_string(t.access_token)
      assert.is_true(waited >= 4.9 and waited < 8, "waited " .. waited .. " s")
    end)

    -- doc/integration/openid_connect_provider.md
    it("(16) reads /oauth/userinfo with the token in a header", function()
      admin("POST", "oauth", { device_script = { "approved" } })
      local t = assert(oauth.device_login{ url = srv.http, client_id = PUBLIC,
        scopes = { "openid", "profile" }, on_code = function() end, sleep = function() end })
      local info = assert(oauth.userinfo{ url = srv.http, token = t.access_token })
      assert.equal("1", info.sub)
      assert.equal("root", info.nickname)
      local r = requests("/oauth/userinfo")[1]
      assert.equal("", r.query)
      assert.equal("Bearer " .. t.access_token, r.headers.authorization)
      local none, err = oauth.userinfo{ url = srv.http, token = "not-a-token" }
      assert.is_nil(none)
      assert.equal(401, err.status)
      assert.equal("invalid_token", err.code)
      assert.is_nil(tostring(err):find("not-a-token", 1, true))
      assert.has_error(function() oauth.userinfo{ url = srv.http } end)
    end)
  end)
end)
