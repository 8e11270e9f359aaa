--- OAuth 2 sign-in against GitLab (GitLab is the provider).
--
-- Flows: device authorization grant (`device_login`), authorization code
-- with PKCE S256 and a loopback redirect listener (`pkce_login`), the
-- authorization code flow of a web application (`authorize_url`,
-- `new_state`, `check_state`, `exchange`, `userinfo`), token refresh,
-- revocation, token info and dynamic client registration.
--
-- Every flow returns `tokens, nil` or `nil, err`; `tokens` is
-- `{ access_token, refresh_token, expires_at, scope, token_type }` where
-- `expires_at` is a Unix time computed from the local clock (GitLab's
-- `created_at` comes from the server's clock, which may be off).
-- `refresh_token` may be absent: doc/api/oauth2.md's device and password
-- grant examples have none; such a pair cannot be refreshed. `scope` is
-- the scope asked for when the answer has none (RFC 6749 section 5.1;
-- the docs' authorization code and refresh examples have none).
-- `token_type` is "bearer" in any case (the docs show "bearer" and
-- "Bearer"); another type is refused. A pair from `pkce_login` also
-- holds `redirect_uri` and `code_verifier`, which a refresh sends as
-- doc/api/oauth2.md shows: keep them with the pair (they are secrets as
-- much as the tokens are; this module never logs them, nor puts them in
-- URLs or errors).
-- Invalid arguments raise; network and server failures return `nil, err`.
-- `err` is the client's error object for HTTP failures (with `err.code`
-- set to GitLab's OAuth `error` field when there is one) and for a 2xx
-- that is not a JSON object (kind "decode": an HTML sign-in page), or an
-- error object `{ kind = "oauth", code = ..., message = ... }` made here
-- (a 200 carrying an OAuth `error`: `code` is that error; an answer
-- without an access_token: "invalid_response"). No error holds a secret
-- of the request anywhere (message, body, headers, `json`, `details`,
-- `response`), even when the server echoes it.
--
-- Automatic refresh for a client: `gitlab.new`, when its options hold
-- `oauth = { ... }`, calls
--
--     gl._hooks = require("gitlab.oauth").attach(gl, opts.oauth, opts)
--
-- which installs the access token and returns the client's refresher
-- (`gitlab.client.refresh`): it decides when to refresh (before expiry,
-- after a 401 invalid_token), runs one refresh at a time, and sends the
-- refused request once more, on the blocking path and on the client's
-- engine alike. This module gives it the token endpoint: the refresh
-- grant's form, the answer read into a pair, secrets scrubbed from errors,
-- `reload()` after invalid_grant.
--
-- After a refresh `opts.oauth.on_refresh(tokens)` is called with the new
-- pair so the caller can persist it: GitLab invalidates the old refresh
-- token the moment it issues the new one.
--
-- @module gitlab.oauth

local core = require("gitlab.core")
local util = require("gitlab.util")
local errors = require("gitlab.errors")

local M = {}

local DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

-- Options copied from a flow's options to the HTTP client it makes.
local TRANSPORT_KEYS = require("gitlab.options").FLOW

-------------------------------------------------------------------------------
-- errors
-------------------------------------------------------------------------------

-- OAuth failures are gitlab.errors objects (kind "oauth", `code` GitLab's
-- or ours): one class, so errors.is_error and tostring hold for every error.
local function oauth_error(code, message, extra)
  local e = { kind = "oauth", code = code, message = message or code }
  for k, v in pairs(extra or {}) do e[k] = v end
  return errors.new(e)
end

local json_decode = core.json_decode   -- nil, msg on a body that is not JSON

-- GitLab's OAuth error fields from a client error, whatever shape the
-- client gives the body in (decoded table or raw string).
local function error_fields(err)
  if type(err) ~= "table" then return nil end
  for i = 1, 3 do
    local body = i == 1 and err.data or i == 2 and err.body or err.json
    if type(body) == "string" then body = json_decode(body) end
    if type(body) == "table" and type(body.error) == "string" then
      return body.error, body.error_description
    end
  end
  return nil
end

-- Fields of a token request that hold secrets the server may echo back in
-- an error (GitLab's Doorkeeper does not, a proxy or another provider may).
local SECRET_FIELDS = { "refresh_token", "client_secret", "code", "code_verifier",
                        "device_code", "token" }

-- Percent-encoding of a form value (RFC 3986 unreserved characters kept).
local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return ("%%%02X"):format(c:byte())
  end))
end

-- Replaces every secret of the request (form) by "[REDACTED]" in every
-- string the error holds: message, body, headers, the decoded body
-- (`json`, `details`), the response and its raw header lines; a secret
-- echoed form-encoded too.
local function scrub(err, form)
  if type(err) ~= "table" or type(form) ~= "table" then return err end
  local secrets = {}
  for _, k in ipairs(SECRET_FIELDS) do
    local v = form[k]
    if type(v) == "string" and #v >= 4 then
      secrets[#secrets + 1] = v
      if urlencode(v) ~= v then secrets[#secrets + 1] = urlencode(v) end
    end
  end
  if #secrets == 0 then return err end
  local function clean(s)
    if type(s) ~= "string" then return s end
    for _, v in ipairs(secrets) do s = util.redact_secret(s, v) end
    return s
  end
  local seen = {}
  local function walk(t, depth)
    if seen[t] or depth > 32 then return end
    seen[t] = true
    local moved = {}
    for k, v in pairs(t) do
      if type(v) == "string" then
        local c = clean(v)
        if c ~= v then t[k] = c end
      elseif type(v) == "table" then
        walk(v, depth + 1)
      end
      if type(k) == "string" and clean(k) ~= k then moved[#moved + 1] = k end
    end
    for _, k in ipairs(moved) do
      t[clean(k)], t[k] = t[k], nil
    end
  end
  pcall(walk, err, 0)
  return err
end

-- Mark a client error with the OAuth code so callers can test err.code.
local function annotate(err)
  if type(err) == "table" then
    local code = error_fields(err)
    if code and err.code == nil then
      pcall(function() err.code = code end)
    end
  end
  return err
end

-------------------------------------------------------------------------------
-- argument checks (programmer errors raise at the caller's position)
-------------------------------------------------------------------------------

-- Codes, refresh tokens and client secrets travel in request bodies, so
-- the client's policy holds (core.transport_refusal, as in gitlab.new):
-- plain http only to loopback and not through a proxy, unless
-- `allow_insecure` is set.
local function check_transport(fname, opts)
  if type(opts.url) ~= "string" then
    error(("oauth.%s: url must be a string"):format(fname), 4)
  end
  local why = core.transport_refusal(opts.url, { credential = true, what = "OAuth secrets",
    proxy = opts.proxy, allow_insecure = opts.allow_insecure })
  if why then error(("oauth.%s: %s"):format(fname, why), 4) end
end

local function check_opts(fname, opts, required)
  if type(opts) ~= "table" then
    error(("oauth.%s: expected a table of options, got %s")
      :format(fname, type(opts)), 3)
  end
  for _, k in ipairs(required) do
    if type(opts[k]) ~= "string" or opts[k] == "" then
      error(("oauth.%s: option '%s' (a string) is required"):format(fname, k), 3)
    end
  end
  if opts.url ~= nil and fname ~= "authorize_url" then
    check_transport(fname, opts)
  end
end

local function scope_string(scopes)
  if scopes == nil then return nil end
  if type(scopes) == "string" then return scopes end
  if type(scopes) == "table" then return table.concat(scopes, " ") end
  error("oauth: scopes must be a string or a list of strings", 3)
end

-------------------------------------------------------------------------------
-- HTTP
-------------------------------------------------------------------------------

-- A client for the instance root, without credentials unless `token` (an
-- OAuth access token, sent as Authorization: Bearer) is given.
local function make_client(opts, token)
  local cfg = { url = opts.url, oauth_token = token }
  for _, k in ipairs(TRANSPORT_KEYS) do cfg[k] = opts[k] end
  return require("gitlab").new(cfg)
end

-- One blocking request on a short-lived client. It runs in a coroutine of
-- its own: inside `gitlab.async.run` the client would otherwise yield and
-- wait for a loop that drives only the caller's client, never this one.
-- A Lua error inside is raised again here, with its message.
local function call(opts, method, path, ropts, token)
  local gl = make_client(opts, token)
  ropts.root = true
  local co = coroutine.create(function()
    return gl:request(method, path, ropts)
  end)
  local ok, data, resp = coroutine.resume(co)
  gl:close()
  if not ok then error(data, 0) end
  if data == nil then return nil, scrub(annotate(resp), ropts.form or ropts.body) end
  return data, resp
end

local function now_fn(opts)
  return opts.now or os.time
end

-- The token endpoint's form for the refresh grant (RFC 6749 section 6).
-- doc/api/oauth2.md, PKCE flow step 3: the refresh sends the redirect_uri
-- of the authorization request, and the code_verifier (as the docs'
-- example did); a confidential app its client_secret.
local function refresh_form(o, rt)
  return {
    grant_type = "refresh_token", refresh_token = rt, client_id = o.client_id,
    client_secret = o.client_secret, redirect_uri = o.redirect_uri,
    code_verifier = o.code_verifier,
  }
end

-- What a pair keeps from the request or the pair before it when the
-- answer does not say (nil, or a string).
local function str(v)
  return type(v) == "string" and v or nil
end

-- Token endpoint answer -> tokens table. keep: `scope` (asked for or
-- granted before: RFC 6749 sections 5.1 and 6), `redirect_uri` and
-- `code_verifier` (what a refresh of the pair sends).
local function make_tokens(data, now, keep)
  keep = keep or {}
  -- RFC 6749 section 5.2's error answer, sent with a 200 (GitLab sends
  -- 400 or 401): an error, with its code, never tokens
  if type(data) == "table" and type(data.error) == "string" and data.error ~= "" then
    local desc = str(data.error_description)
    return nil, oauth_error(data.error, desc and (data.error .. ": " .. desc) or data.error,
      { error_description = desc })
  end
  if type(data) ~= "table" or type(data.access_token) ~= "string" or data.access_token == "" then
    return nil, oauth_error("invalid_response",
      "the token endpoint answered without an access_token")
  end
  if data.access_token:find("[%z\r\n]") then   -- it goes into a header line
    return nil, oauth_error("invalid_response",
      "the token endpoint answered with an access_token holding line breaks or NUL bytes")
  end
  -- RFC 6749 section 5.1: case-insensitive; doc/api/oauth2.md shows
  -- "bearer" and "Bearer". Another type (RFC 6749 section 7.1) cannot be
  -- sent as "Authorization: Bearer".
  local tt = data.token_type
  if tt ~= nil and (type(tt) ~= "string" or tt:lower() ~= "bearer") then
    local shown = tostring(tt):sub(1, 40):gsub("[%c\128-\255]", "?")
    return nil, oauth_error("invalid_response",
      ("the token endpoint answered with token_type '%s', not bearer"):format(shown))
  end
  local expires_at
  local expires_in = tonumber(data.expires_in)
  if expires_in then expires_at = now() + math.floor(expires_in) end
  return {
    access_token = data.access_token,
    refresh_token = str(data.refresh_token),
    expires_at = expires_at,
    scope = str(data.scope) or str(keep.scope),
    token_type = tt or "bearer",
    created_at = data.created_at,
    redirect_uri = str(keep.redirect_uri),
    code_verifier = str(keep.code_verifier),
  }
end

-- One request to the token endpoint with the grant's form -> tokens, or
-- nil, err (the form's secrets scrubbed). The answer is a JSON object
-- (RFC 6749 section 5.1): a 200 that is none (an HTML sign-in page) is
-- kind "decode", as everywhere in the client.
local function token_grant(opts, form, keep)
  local data, err = call(opts, "POST", "/oauth/token", { form = form, expect = "object" })
  if not data then return nil, err end
  local tokens, terr = make_tokens(data, now_fn(opts), keep)
  if not tokens then return nil, scrub(terr, form) end
  return tokens
end

-------------------------------------------------------------------------------
-- PKCE helpers
-------------------------------------------------------------------------------

--- The PKCE S256 challenge for a verifier: base64url(SHA-256(verifier)).
-- @tparam string verifier 43 to 128 characters of `[A-Za-z0-9-._~]`
-- @treturn string the challenge
function M.challenge(verifier)
  if type(verifier) ~= "string" or #verifier < 43 or #verifier > 128
     or verifier:find("[^%w%-%._~]") then
    error("oauth.challenge: verifier must be 43-128 chars of [A-Za-z0-9-._~]", 2)
  end
  return core.base64url(core.sha256(verifier))
end

--- A fresh PKCE pair from the system's random generator.
-- @treturn string verifier (43 characters)
-- @treturn string challenge
function M.pkce_pair()
  local verifier = assert(core.base64url(assert(core.random_bytes(32))))
  return verifier, M.challenge(verifier)
end

local function random_state()
  return assert(core.base64url(assert(core.random_bytes(24))))
end

--- A fresh `state` for an authorization request: 32 characters from 24
-- bytes of the system's random generator. doc/api/oauth2.md: "a value
-- that can't be predicted [...] It should also be used as a CSRF token".
-- Keep it with the user's session and compare the callback's with
-- `check_state`.
-- @treturn string
function M.new_state()
  return random_state()
end

--- Does the `state` of a callback match the one of the request? In time
-- independent of where they differ: both are hashed (SHA-256) and the
-- digests compared byte for byte without stopping at the first
-- difference, so timing tells nothing of the expected state.
-- @tparam string expected the state given to `authorize_url` (a
--   programmer error raises when it is not a non-empty string)
-- @param got the callback's `state` parameter (nil, a table, ... are no match)
-- @treturn boolean
function M.check_state(expected, got)
  if type(expected) ~= "string" or expected == "" then
    error("oauth.check_state: expected state must be a non-empty string", 2)
  end
  if type(got) ~= "string" then return false end
  return core.secure_compare(core.sha256(got), core.sha256(expected))
end

local function urldecode(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function parse_query(q)
  local t = {}
  for pair in (q or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    t[urldecode(k)] = urldecode(v)
  end
  return t
end

local function root_url(url)
  return (select(2, util.api_urls(url)))
end

-- Where GitLab may send the code: doc/api/oauth2.md, "Use HTTPS in
-- production" ("For production, use HTTPS for your redirect_uri"); the
-- code travels in that URL, so the client's plain-http rule holds for it
-- (loopback only, unless allow_insecure). RFC 6749 section 3.1.2: "The
-- endpoint URI MUST NOT include a fragment component." Another scheme
-- (a native app's own, RFC 8252 section 7.1) is the app's business.
local function check_redirect_uri(fname, uri, allow_insecure)
  if uri:find("#", 1, true) then
    error(("oauth.%s: redirect_uri must not have a fragment (RFC 6749 section 3.1.2): %s")
      :format(fname, uri), 3)
  end
  local scheme = uri:match("^(%a[%w+.-]*):")
  if scheme and scheme:lower() == "http" and not core.is_loopback(uri) and not allow_insecure then
    error(("oauth.%s: redirect_uri %s is plain http to a host that is not loopback: the code"
      .. " would travel in the clear (doc/api/oauth2.md, \"Use HTTPS in production\"); use https,"
      .. " or allow_insecure = true"):format(fname, uri), 3)
  end
end

--- The URL of GitLab's authorize page for the authorization code flow.
-- Send the user's browser there; GitLab sends it back to `redirect_uri`
-- with `code` and `state` (or `error`), which a web application takes to
-- `check_state` and `exchange`.
--
-- A request carries a `state`, a `code_challenge`, or both: "One-time
-- use CSRF tokens carried in the state parameter" (doc/api/oauth2.md,
-- "Prevent CSRF attacks"), or PKCE's verifier kept in the session; one
-- with neither raises. `redirect_uri` is https, loopback http, or an
-- app's own scheme: plain http to another host raises unless
-- `allow_insecure` (the code would travel in the clear), as does a
-- fragment.
-- @tparam table opts `url`, `client_id`, `redirect_uri`, `state` (from
--   `new_state`), `code_challenge` (S256, from `pkce_pair`), `scopes`
--   (list or space-separated string), `allow_insecure`
-- @treturn string
function M.authorize_url(opts)
  check_opts("authorize_url", opts, { "url", "client_id", "redirect_uri" })
  local state, challenge = opts.state, opts.code_challenge
  if state ~= nil and (type(state) ~= "string" or state == "") then
    error("oauth.authorize_url: option 'state' must be a non-empty string (from new_state)", 2)
  end
  -- RFC 7636 section 4.2: S256's challenge is BASE64URL(SHA256(verifier)),
  -- 43 characters
  if challenge ~= nil and (type(challenge) ~= "string" or #challenge ~= 43
                           or challenge:find("[^%w%-_]")) then
    error("oauth.authorize_url: option 'code_challenge' must be the S256 challenge of"
      .. " pkce_pair (43 characters of base64url)", 2)
  end
  if state == nil and challenge == nil then
    error("oauth.authorize_url: give a 'state' (from new_state, kept in the user's session)"
      .. " or a 'code_challenge' (from pkce_pair), or both: without either the callback"
      .. " cannot tell a forged redirect (doc/api/oauth2.md, \"Prevent CSRF attacks\")", 2)
  end
  check_redirect_uri("authorize_url", opts.redirect_uri, opts.allow_insecure)
  local params = {
    { "client_id", opts.client_id },
    { "redirect_uri", opts.redirect_uri },
    { "response_type", "code" },
    { "state", opts.state },
    { "scope", scope_string(opts.scopes) },
  }
  if opts.code_challenge then
    params[#params + 1] = { "code_challenge", opts.code_challenge }
    params[#params + 1] = { "code_challenge_method", "S256" }
  end
  local parts = {}
  for _, p in ipairs(params) do
    if p[2] ~= nil then parts[#parts + 1] = p[1] .. "=" .. urlencode(p[2]) end
  end
  return root_url(opts.url) .. "/oauth/authorize?" .. table.concat(parts, "&")
end

-------------------------------------------------------------------------------
-- device authorization grant
-------------------------------------------------------------------------------

--- Sign in with the device authorization grant (GitLab 17.9+).
--
-- Asks GitLab for a user code, hands it to `on_code`, then polls the token
-- endpoint every `interval` seconds (5 more after each `slow_down`) until
-- the user approves, denies, or the code expires.
-- @tparam table opts
--   `url` instance URL; `client_id`; `client_secret` (confidential apps);
--   `scopes` (list or string); `on_code(info)` shows `info.user_code` and `info.verification_uri`
--   (also `verification_uri_complete`, `expires_in`, `interval`);
--   `sleep(seconds)` (default: a blocking sleep); `now()` (default os.time);
--   transport options (`timeout`, `ca_file`, `verify`, `proxy`, ...)
-- @return tokens, or nil and an error whose `code` is `expired_token`,
--   `access_denied`, ... (see GitLab's OAuth docs)
function M.device_login(opts)
  check_opts("device_login", opts, { "url", "client_id" })
  if type(opts.on_code) ~= "function" then
    error("oauth.device_login: option 'on_code' (a function) is required", 2)
  end
  local sleep = opts.sleep or core.sleep
  local now = now_fn(opts)

  local info, err = call(opts, "POST", "/oauth/authorize_device", {
    form = { client_id = opts.client_id, client_secret = opts.client_secret,
             scope = scope_string(opts.scopes) },
    expect = "object",
  })
  if not info then return nil, err end
  if type(info) ~= "table" or type(info.device_code) ~= "string" then
    return nil, oauth_error("invalid_response",
      "the device authorization endpoint answered without a device_code")
  end

  local interval = tonumber(info.interval) or 5
  local deadline = now() + (tonumber(info.expires_in) or 300)
  opts.on_code({
    user_code = info.user_code,
    verification_uri = info.verification_uri,
    verification_uri_complete = info.verification_uri_complete,
    expires_in = info.expires_in,
    interval = interval,
  })

  while true do
    if now() >= deadline then
      return nil, oauth_error("expired_token",
        "the device code expired before the sign-in was approved")
    end
    sleep(interval)
    local tokens, perr = token_grant(opts, {
      grant_type = DEVICE_GRANT,
      device_code = info.device_code,
      client_id = opts.client_id,
      client_secret = opts.client_secret,
    }, { scope = scope_string(opts.scopes) })
    if tokens then return tokens end
    -- GitLab's error answer, or one sent with a 200 (make_tokens)
    local code = error_fields(perr) or (perr.kind == "oauth" and perr.code)
    if code == "slow_down" then
      interval = interval + 5
    elseif code ~= "authorization_pending" then
      return nil, perr
    end
  end
end

-------------------------------------------------------------------------------
-- authorization code: the exchange at the application's callback
-------------------------------------------------------------------------------

-- The token request of the authorization code grant (doc/api/oauth2.md,
-- step 2 of both authorization code flows) -> tokens, or nil, err. The
-- pair keeps what its refresh sends (redirect_uri, code_verifier) and the
-- scope asked for (the docs' answer has none). opts: transport.
local function code_grant(opts, o)
  return token_grant(opts, {
    grant_type = "authorization_code",
    client_id = o.client_id,
    client_secret = o.client_secret,
    code = o.code,
    redirect_uri = o.redirect_uri,
    code_verifier = o.code_verifier,
  }, { scope = scope_string(o.scopes), redirect_uri = o.redirect_uri,
       code_verifier = o.code_verifier })
end

--- Exchange the code GitLab sent to a web application's callback for
-- tokens (doc/api/oauth2.md, "Authorization code flow" and "Authorization
-- code with PKCE", step 2). Check the callback's `state` first
-- (`check_state`); a callback with `error` instead of `code` is GitLab's
-- refusal (`access_denied`, ...), nothing to exchange.
--
-- A confidential application sends `client_secret` (PKCE or not: GitLab
-- authenticates it on every token request); a public one sends
-- `code_verifier` instead, the verifier whose challenge went to
-- `authorize_url`. `redirect_uri` must be the one the authorization
-- request gave: GitLab answers `invalid_grant` otherwise, as it does for
-- a code used before, expired, or issued to another application, and for
-- a wrong or missing verifier; a wrong secret is 401 `invalid_client`.
-- The code, verifier and secret go in the request body, never in a URL,
-- a log line or an error.
-- @tparam table opts `url`, `client_id`, `code`, `redirect_uri`;
--   `client_secret` (confidential applications), `code_verifier` (PKCE),
--   `scopes` (those asked for: the pair's `scope`, since GitLab's answer
--   has none), transport options (`timeout`, `ca_file`, `log`, ...)
-- @return tokens `{ access_token, refresh_token, expires_at, scope,
--   token_type, redirect_uri, code_verifier }` (refresh with `refresh`,
--   giving it `redirect_uri`, `code_verifier` and `client_secret`), or
--   nil, err (`err.code` GitLab's OAuth error)
function M.exchange(opts)
  check_opts("exchange", opts, { "url", "client_id", "code", "redirect_uri" })
  for _, k in ipairs{ "client_secret", "code_verifier" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      error(("oauth.exchange: option '%s' must be a string"):format(k), 2)
    end
  end
  local v = opts.code_verifier
  if v ~= nil and (#v < 43 or #v > 128 or v:find("[^%w%-%._~]")) then
    error("oauth.exchange: code_verifier must be 43-128 chars of [A-Za-z0-9-._~]", 2)
  end
  local sc = opts.scopes
  if sc ~= nil and type(sc) ~= "string" and type(sc) ~= "table" then
    error("oauth.exchange: option 'scopes' must be a list or a string", 2)
  end
  return code_grant(opts, opts)
end

-------------------------------------------------------------------------------
-- authorization code with PKCE
-------------------------------------------------------------------------------

local PAGE = [[<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%s</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>%s</h1><p>%s</p></body>
</html>
]]

local function html_escape(s)
  return (tostring(s):gsub("[&<>\"']", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;",
    ["'"] = "&#39;",
  }))
end

local function page(title, text)
  title, text = html_escape(title), html_escape(text)
  return PAGE:format(title, title, text)
end

local function parse_redirect(uri)
  local host, port, path = uri:match("^http://([^/:]+):(%d+)(/[^?#]*)$")
  if not host then
    host, path = uri:match("^http://([^/:]+)(/[^?#]*)$")
    port = "80"
  end
  if not host then
    error("oauth.pkce_login: redirect_uri must look like http://127.0.0.1:PORT/path", 3)
  end
  if host == "localhost" then host = "127.0.0.1" end
  if host:sub(1, 1) == "[" then host = host:sub(2, -2) end
  return host, tonumber(port), path
end

--- Sign in with the authorization code flow, PKCE (S256) and a loopback
-- redirect.
--
-- Listens on `http://127.0.0.1:port/callback`, calls `open(url)` with
-- GitLab's authorize URL (open it in a browser), waits for the redirect,
-- checks `state`, answers the browser with a short page and exchanges the
-- code for tokens.
-- @tparam table opts
--   `url`; `client_id`; `client_secret` (confidential apps only);
--   `scopes`; `port` (default 7171; 0 picks a free one); `host` (loopback,
--   default 127.0.0.1); `path` (default "/callback"); or a whole
--   `redirect_uri` as registered with the application (port 0 there
--   also picks a free port);
--   `open(authorize_url)` (default: print the URL on stderr);
--   `timeout` seconds to wait for the browser (default 300);
--   transport options (`http_timeout` is the HTTP timeout here)
-- @return tokens, or nil and an error (`code` = "timeout",
--   "invalid_state", "access_denied", ...)
function M.pkce_login(opts)
  check_opts("pkce_login", opts, { "url", "client_id" })
  if opts.open ~= nil and type(opts.open) ~= "function" then
    error("oauth.pkce_login: option 'open' must be a function", 2)
  end
  local host, port, path
  if opts.redirect_uri then
    host, port, path = parse_redirect(opts.redirect_uri)
  else
    host, port, path = opts.host or "127.0.0.1", opts.port or 7171,
      opts.path or "/callback"
  end

  local listener, lerr = core.listen{ host = host, port = port }
  if not listener then
    return nil, oauth_error("listen", lerr)
  end
  local redirect_uri = opts.redirect_uri
  if redirect_uri and port == 0 then
    -- ":0" asks for any free port; tell GitLab the one we got
    redirect_uri = redirect_uri:gsub("^(http://[^/]*):0/", "%1:" .. listener:port() .. "/", 1)
  elseif not redirect_uri then
    local h = host:find(":") and ("[" .. host .. "]") or host
    redirect_uri = ("http://%s:%d%s"):format(h, listener:port(), path)
  end

  local verifier, challenge = M.pkce_pair()
  local state = random_state()
  local url = M.authorize_url{
    url = opts.url, client_id = opts.client_id, redirect_uri = redirect_uri,
    state = state, code_challenge = challenge, scopes = opts.scopes,
  }
  local open = opts.open or function(u)
    io.stderr:write("Open this URL in a browser to sign in to GitLab:\n  ",
      u, "\n")
  end

  local ok, oerr = pcall(open, url)
  if not ok then
    listener:close()
    error(oerr, 0)
  end

  local http_opts = {}
  for k, v in pairs(opts) do http_opts[k] = v end
  http_opts.timeout = opts.http_timeout

  local clock = opts.clock or os.time
  local deadline = clock() + (opts.timeout or 300)
  local tokens, err
  while true do
    local left = deadline - clock()
    local req, aerr
    if left > 0 then req, aerr = listener:accept(left) end
    if not req then
      if aerr == nil or aerr == "timeout" then
        err = oauth_error("timeout", "no answer from the browser in time")
      else
        err = oauth_error("listen", tostring(aerr))
      end
      break
    end
    local target = req.target or ""
    local rpath, query = target:match("^([^?]*)%??(.*)$")
    if req.method ~= "GET" or rpath ~= path then
      -- favicon.ico and the like: not ours, keep waiting
      listener:respond(404, "text/plain; charset=utf-8", "Not found\n")
    else
      local q = parse_query(query)
      if not M.check_state(state, q.state) then
        listener:respond(400, "text/html; charset=utf-8",
          page("Sign-in failed", "The answer did not match this sign-in "
            .. "request (state mismatch). Start the sign-in again."))
        err = oauth_error("invalid_state",
          "the redirect's state does not match the request")
        break
      elseif q.error then
        listener:respond(400, "text/html; charset=utf-8",
          page("Sign-in failed", q.error_description or q.error))
        err = oauth_error(q.error, q.error_description or q.error)
        break
      elseif not q.code or q.code == "" then
        listener:respond(400, "text/html; charset=utf-8",
          page("Sign-in failed", "GitLab's answer held no code."))
        err = oauth_error("invalid_request", "the redirect held no code")
        break
      end
      tokens, err = code_grant(http_opts, { client_id = opts.client_id,
        client_secret = opts.client_secret, code = q.code, redirect_uri = redirect_uri,
        code_verifier = verifier, scopes = opts.scopes })
      if tokens then
        listener:respond(200, "text/html; charset=utf-8",
          page("Signed in to GitLab", "You can close this tab now."))
      else
        listener:respond(500, "text/html; charset=utf-8",
          page("Sign-in failed", "GitLab refused the code exchange; "
            .. "see the program's output."))
      end
      break
    end
  end
  listener:close()
  if tokens then return tokens end
  return nil, err
end

-------------------------------------------------------------------------------
-- refresh, revoke, token info, registration
-------------------------------------------------------------------------------

--- Exchange a refresh token for a new pair. The old access and refresh
-- tokens stop working: save the new ones.
-- @tparam table opts `url`, `client_id`, `refresh_token`,
--   `client_secret` (confidential apps), `redirect_uri` and
--   `code_verifier` (a pair from the authorization code flow: those of
--   its authorization request, as `pkce_login`'s pair holds them),
--   `scope` (the pair's, kept when the answer has none)
-- @return tokens (with `redirect_uri`, `code_verifier` and `scope` kept
--   from opts) or nil, err
function M.refresh(opts)
  check_opts("refresh", opts, { "url", "client_id", "refresh_token" })
  local tokens, terr = token_grant(opts, refresh_form(opts, opts.refresh_token), opts)
  if not tokens then return nil, terr end
  -- RFC 6749 section 6: without a new refresh token the old one stays
  if tokens.refresh_token == nil then tokens.refresh_token = opts.refresh_token end
  return tokens
end

--- Revoke an access or refresh token.
-- @tparam table opts `url`, `client_id`, `token`, `client_secret`,
--   `token_type_hint` ("access_token" or "refresh_token")
-- @return true or nil, err
function M.revoke(opts)
  check_opts("revoke", opts, { "url", "client_id", "token" })
  local data, err = call(opts, "POST", "/oauth/revoke", {
    form = {
      client_id = opts.client_id,
      client_secret = opts.client_secret,
      token = opts.token,
      token_type_hint = opts.token_type_hint,
    },
  })
  if data == nil then return nil, err end
  return true
end

--- What GitLab knows about an access token.
-- @tparam table opts `url`, `token`
-- @return `{ resource_owner_id, scope = {...}, expires_in, application =
--   { uid }, created_at }` or nil, err
function M.token_info(opts)
  check_opts("token_info", opts, { "url", "token" })
  -- The token goes in the Authorization header, never in the URL. The
  -- information is an object: a sign-in page answered 200 is kind "decode".
  return call(opts, "GET", "/oauth/token/info", { expect = "object" }, opts.token)
end

--- The signed-in user's OpenID Connect claims (`/oauth/userinfo`).
-- The token needs the `openid` scope (doc/integration/
-- openid_connect_provider.md); GitLab answers 403 `invalid_scope` without
-- it and 401 `invalid_token` for an unknown, expired or revoked token.
-- An answer without the `sub` claim (an HTML page, JSON null, an object
-- without it) is an error of kind "decode", never claims.
-- @tparam table opts `url`, `token` (an OAuth access token, sent in the
--   Authorization header, never in the URL)
-- @return `{ sub, name, nickname, preferred_username, email,
--   email_verified, website, profile, picture, groups, ... }` or nil, err
function M.userinfo(opts)
  check_opts("userinfo", opts, { "url", "token" })
  -- the claims are an object: a sign-in page answered 200 is an error
  -- of kind "decode", never claims
  local claims, resp = call(opts, "GET", "/oauth/userinfo", { expect = "object" }, opts.token)
  if claims == nil then return nil, resp end
  -- OpenID Connect Core 1.0, section 5.3.2: "The sub (subject) Claim
  -- MUST always be returned in the UserInfo Response." JSON null (which
  -- passes for an object) or an object without it is not the claims.
  local sub = type(claims) == "table" and claims.sub
  if not ((type(sub) == "string" and sub ~= "") or type(sub) == "number") then
    return nil, errors.new{ kind = "decode", method = "GET", path = "/oauth/userinfo",
      status = resp.status, headers = resp.headers,
      message = "the answer has no sub claim (OpenID Connect Core, section 5.3.2): not the user's claims" }
  end
  return claims, resp
end

--- Register an OAuth application dynamically (unauthenticated).
-- @tparam table opts `url`, `client_name` (< 200 characters),
--   `redirect_uris` (list); any other registration metadata
--   (`grant_types`, `scope`, ...) is passed through
-- @return the registration (`client_id`, `redirect_uris`, ...) or nil, err
function M.register(opts)
  check_opts("register", opts, { "url", "client_name" })
  if type(opts.redirect_uris) ~= "table" or #opts.redirect_uris == 0 then
    error("oauth.register: option 'redirect_uris' (a list) is required", 2)
  end
  local skip = { url = true, now = true }
  for _, k in ipairs(TRANSPORT_KEYS) do skip[k] = true end
  local body = {}
  for k, v in pairs(opts) do
    if not skip[k] then body[k] = v end
  end
  return call(opts, "POST", "/oauth/register", { body = body, expect = "object" })
end

-------------------------------------------------------------------------------
-- automatic refresh for a client
-------------------------------------------------------------------------------

local function is_invalid_token(err)
  if type(err) ~= "table" or err.status ~= 401 then return false end
  local code = error_fields(err)
  if code == "invalid_token" then return true end
  local h = err.headers
  local www = type(h) == "table" and (h["www-authenticate"] or h["WWW-Authenticate"])
  return type(www) == "string" and www:find("invalid_token", 1, true) ~= nil
end

--- Attach automatic refresh to a client (called by `gitlab.new`).
-- When to refresh, one refresh at a time, `on_refresh` and the retry after
-- a 401 are `gitlab.client.refresh`'s; this gives it the token endpoint.
-- @param gl the client; must offer `gl:_set_token(kind, token)`
-- @tparam table oauth `client_id`, `client_secret`, `access_token`,
--   `refresh_token` (none: the pair is used until it expires, then the
--   401 is the answer, its `refresh_error` saying why), `expires_at`,
--   `scope`, `redirect_uri` and `code_verifier` (sent with each refresh,
--   as doc/api/oauth2.md shows; `pkce_login`'s pair has them),
--   `on_refresh(tokens)` (the new pair, with `redirect_uri`,
--   `code_verifier` and `scope` kept),
--   `reload()` (returns the saved pair: used when GitLab refuses our
--   refresh token because another process refreshed first),
--   `skew` (seconds before expiry to refresh, default 60), `now()`
-- @tparam table copts the options given to `gitlab.new` (url, transport)
-- @return the client's refresher (`gitlab.client.refresh`; `tokens` is the
--   current pair)
function M.attach(gl, oauth, copts)
  if type(oauth) ~= "table" then
    error("oauth: the 'oauth' option must be a table", 3)
  end
  if type(oauth.access_token) ~= "string" and type(oauth.refresh_token) ~= "string" then
    error("oauth: the 'oauth' option needs access_token or refresh_token", 3)
  end
  if oauth.on_refresh ~= nil and type(oauth.on_refresh) ~= "function" then
    error("oauth: 'on_refresh' must be a function", 3)
  end
  copts = copts or {}
  local now = oauth.now or os.time
  local url = copts.url or oauth.url
  if type(url) ~= "string" then
    error("oauth: the client's url is required for refresh", 3)
  end
  -- the token request goes through the client with auth = false: never
  -- the client's credential or extra headers on the token endpoint
  local token_url = root_url(url) .. "/oauth/token"

  local grant = { invalid_token = is_invalid_token }
  -- the scope of the pair in use: kept when a refresh answer has none
  local scope = str(oauth.scope)

  -- A pair without refresh token (doc/api/oauth2.md's device and password
  -- grant examples have none) is never sent to the token endpoint.
  function grant.missing(tokens)
    if type(tokens.refresh_token) ~= "string" then
      return oauth_error("no_refresh_token",
        "the access token expired and there is no refresh token to renew it: sign in again")
    elseif oauth.client_id == nil then
      return oauth_error("no_refresh_token",
        "the access token expired and no client_id is set to refresh it")
    end
  end

  function grant.request(rt)
    return "POST", token_url, { auth = false, form = refresh_form(oauth, rt), expect = "object" }
  end

  -- The token endpoint's answer (data, or nil and the client's error) for
  -- refresh token rt: the new pair, or nil, err (secrets scrubbed).
  function grant.take(data, err, rt)
    local tokens
    if data ~= nil then
      -- the new pair keeps what its own refresh will send, for on_refresh
      -- to save with it
      tokens, err = make_tokens(data, now, { scope = scope,
        redirect_uri = oauth.redirect_uri, code_verifier = oauth.code_verifier })
    else err = annotate(err) end
    if not tokens then err = scrub(err, refresh_form(oauth, rt)) end
    if not tokens and oauth.reload and error_fields(err) == "invalid_grant" then
      -- Another process sharing the saved pair may have refreshed it first
      -- (GitLab then rejects our now-old refresh token): use its pair.
      local ok, cur = pcall(oauth.reload)
      if ok and type(cur) == "table" and type(cur.access_token) == "string"
         and cur.refresh_token ~= rt then
        return { access_token = cur.access_token, refresh_token = cur.refresh_token,
                 expires_at = tonumber(cur.expires_at) }, nil, true
      end
    end
    if not tokens then return nil, err end
    if tokens.refresh_token == nil then tokens.refresh_token = rt end
    scope = tokens.scope
    return tokens
  end

  return require("gitlab.client.refresh").new(gl, {
    tokens = {
      access_token = oauth.access_token,
      refresh_token = oauth.refresh_token,
      expires_at = tonumber(oauth.expires_at),
    },
    skew = oauth.skew or 60, now = now, on_refresh = oauth.on_refresh, grant = grant,
  })
end

M._parse_query = parse_query   -- for specs
M._error = oauth_error

return M
