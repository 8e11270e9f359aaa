--- Sign in to GitLab with the OAuth device flow, save the tokens, and call
-- the API with a client that refreshes them by itself.
--
--   GITLAB_URL=https://gitlab.example.com GITLAB_CLIENT_ID=<application id> \
--     luajit examples/device_login.lua [instance-name]
--
-- The application must be registered in GitLab (User settings >
-- Applications, not confidential, scope api). With an instance name the
-- pair is saved in ~/.config/lua-gitlab/credentials.lua (mode 0600) and
-- `gitlab.from_config(name)` works from then on; the config file is created
-- when there is none.
--
-- Against the fake server of the test suite:
--   node spec/fake/server.js        # prints {"http":"http://127.0.0.1:PORT",...}
--   GITLAB_URL=http://127.0.0.1:PORT GITLAB_CLIENT_ID=lua-gitlab-public \
--     lua5.4 examples/device_login.lua

-- Run from a checkout: find the library next to this script.
do
  local dir = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
  local build = jit and "build/jit" or "build/5.4"
  package.path = dir .. "/lua/?.lua;" .. dir .. "/lua/?/init.lua;" .. package.path
  package.cpath = dir .. "/" .. build .. "/?.so;" .. package.cpath
end

local gitlab = require("gitlab")
local oauth = require("gitlab.oauth")
local config = require("gitlab.config")

local url = os.getenv("GITLAB_URL") or "https://gitlab.com"
local client_id = os.getenv("GITLAB_CLIENT_ID")
local name = arg and arg[1]

if not client_id then
  io.stderr:write("set GITLAB_CLIENT_ID to the application id of a GitLab OAuth app\n")
  os.exit(2)
end

local tokens, err = oauth.device_login{
  url = url,
  client_id = client_id,
  scopes = { "api" },
  on_code = function(info)
    io.write("\nTo sign in, open ", info.verification_uri, "\n",
             "and enter the code ", info.user_code, "\n")
    if info.verification_uri_complete then
      io.write("(or open ", info.verification_uri_complete, ")\n")
    end
    io.write("Waiting for approval...\n")
    io.flush()
  end,
}
if not tokens then
  io.stderr:write("sign-in failed: ", tostring(err), "\n")
  os.exit(1)
end
io.write("Signed in; the access token expires at ",
  os.date("%Y-%m-%d %H:%M:%S", tokens.expires_at or os.time()), "\n")

-- Persist the pair: GitLab invalidates a refresh token once it is used, so
-- every refresh must be saved too (the client's on_refresh below).
local function save(t)
  if not name then return end
  local ok, serr = config.save_tokens(name, t)
  if not ok then io.stderr:write("could not save the tokens: ", serr, "\n") end
end

if name then
  local cfg = config.read()
  if cfg and (type(cfg[name]) ~= "table" or cfg[name].url == nil) then
    local f = io.open(config.path() or "", "r")
    if f then
      f:close()
      io.write("Add this instance to ", config.path(), ":\n  ", name,
        (" = { url = %q, oauth = { client_id = %q } }\n"):format(url, client_id))
    else
      assert(config.save({ default = name,
        [name] = { url = url, oauth = { client_id = client_id } } }))
      io.write("Wrote ", config.path(), "\n")
    end
  end
  save(tokens)
  io.write("Tokens saved in ", config.credentials_path(), "\n")
end

local gl = gitlab.new{
  url = url,
  oauth = {
    client_id = client_id,
    access_token = tokens.access_token,
    refresh_token = tokens.refresh_token,
    expires_at = tokens.expires_at,
    on_refresh = save,
  },
}
local me, uerr = gl:user()
if not me then
  io.stderr:write("GET /user failed: ", tostring(uerr), "\n")
  os.exit(1)
end
io.write("Hello, ", me.name or me.username, " (@", me.username, ")\n")
