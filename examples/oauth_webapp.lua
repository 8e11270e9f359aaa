--- "Sign in with GitLab" for a server-side web application: the OAuth
-- authorization code flow (doc/api/oauth2.md) and the user's OpenID
-- Connect claims.
--
--   GITLAB_URL=https://gitlab.example.com GITLAB_CLIENT_ID=<application id> \
--   GITLAB_CLIENT_SECRET=<secret> GITLAB_REDIRECT_URI=https://app.example/oauth/callback \
--     lua5.4 examples/oauth_webapp.lua
--
-- The application is registered in GitLab with that redirect URI and the
-- scopes openid, profile and email. Without GITLAB_CLIENT_SECRET it is a
-- public application and uses PKCE (S256) instead. The two handlers below
-- are what a web framework would call for GET /login and GET
-- /oauth/callback; here the script prints the authorize URL, and you
-- paste the URL your browser was sent back to (nothing needs to listen
-- there). With --browser it plays the browser itself, which works against
-- the test suite's fake GitLab, where the user is signed in and approves
-- at once:
--   node spec/fake/server.js        # prints {"http":"http://127.0.0.1:PORT",...}
--   GITLAB_URL=http://127.0.0.1:PORT GITLAB_CLIENT_ID=lua-gitlab-confidential \
--   GITLAB_CLIENT_SECRET=lua-gitlab-secret GITLAB_REDIRECT_URI=https://app.example/oauth/callback \
--     lua5.4 examples/oauth_webapp.lua --browser

-- Run from a checkout: find the library next to this script.
do
  local dir = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
  local build = jit and "build/jit" or "build/5.4"
  package.path = dir .. "/lua/?.lua;" .. dir .. "/lua/?/init.lua;" .. package.path
  package.cpath = dir .. "/" .. build .. "/?.so;" .. package.cpath
end

local gitlab = require("gitlab")
local oauth = require("gitlab.oauth")

local URL = os.getenv("GITLAB_URL") or "https://gitlab.com"
local CLIENT_ID = os.getenv("GITLAB_CLIENT_ID")
local CLIENT_SECRET = os.getenv("GITLAB_CLIENT_SECRET")       -- nil: a public app, PKCE
local REDIRECT_URI = os.getenv("GITLAB_REDIRECT_URI") or "http://127.0.0.1/callback"
local SCOPES = { "openid", "profile", "email" }

if not CLIENT_ID then
  io.stderr:write("set GITLAB_CLIENT_ID to the application id of a GitLab OAuth app\n")
  os.exit(2)
end

-- GET /login: remember a fresh state (and PKCE verifier) in the user's
-- session, then redirect the browser to GitLab.
local function login(session)
  session.state = oauth.new_state()
  local challenge
  if not CLIENT_SECRET then session.verifier, challenge = oauth.pkce_pair() end
  return oauth.authorize_url{ url = URL, client_id = CLIENT_ID, redirect_uri = REDIRECT_URI,
    state = session.state, code_challenge = challenge, scopes = SCOPES }
end

-- GET /oauth/callback?code=...&state=...: status and page text.
local function callback(session, params)
  local expected, verifier = session.state, session.verifier
  session.state, session.verifier = nil, nil            -- each is good once
  if not expected or not oauth.check_state(expected, params.state) then
    return 400, "This sign-in was not started here (state mismatch)."
  end
  if params.error then
    return 403, "GitLab refused: " .. (params.error_description or params.error)
  end
  local tokens, err = oauth.exchange{ url = URL, client_id = CLIENT_ID,
    client_secret = CLIENT_SECRET, code = params.code, redirect_uri = REDIRECT_URI,
    code_verifier = verifier, scopes = SCOPES }
  if not tokens then return 502, "Code exchange failed: " .. tostring(err) end
  local me, uerr = oauth.userinfo{ url = URL, token = tokens.access_token }
  if not me then return 502, "Reading the user failed: " .. tostring(uerr) end
  -- keep the pair server-side (oauth.refresh renews it); never show it
  session.user, session.tokens = me, tokens
  return 200, ("Signed in as %s (@%s, GitLab user %s)%s"):format(me.name or "?",
    me.preferred_username or "?", me.sub, me.email and ", " .. me.email or "")
end

-- The query of a URL, as a web framework hands it to its handler.
local function query_params(u)
  local t = {}
  for k, v in ((u or ""):match("%?([^#]*)") or ""):gmatch("([^&=]+)=?([^&]*)") do
    local function dec(s)
      return (s:gsub("%+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
    end
    t[dec(k)] = dec(v)
  end
  return t
end

local session = {}
local authorize = login(session)
local back
if arg[1] == "--browser" then
  -- the fake GitLab's signed-in user approves: its redirect is the callback
  local browser = gitlab.new{ url = URL }
  local _, resp = browser:request("GET", authorize, { follow = false })
  back = resp.headers and resp.headers.location
  if not back then
    io.stderr:write("GitLab did not redirect back (status ", tostring(resp.status), ")\n")
    os.exit(1)
  end
else
  io.write("Open this URL in a browser and approve:\n  ", authorize, "\n",
           "then paste the URL the browser was sent to:\n> ")
  io.flush()
  back = io.read("*l")
end

local status, text = callback(session, query_params(back))
io.write(status, " ", text, "\n")
os.exit(status == 200 and 0 or 1)
