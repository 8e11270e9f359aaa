--- A GitLab webhook receiver for nginx's Lua module (examples/webhook/nginx.conf.in).
--
-- `configure()` runs once, in `init_by_lua`: it reads the hook's tokens
-- from the environment (GITLAB_WEBHOOK_TOKEN: the secret token, sent as
-- X-Gitlab-Token; GITLAB_WEBHOOK_SIGNING_TOKEN: the "whsec_..." signing
-- token) and raises, so that nginx does not start, when neither is set.
-- `handle()` runs per request (`content_by_lua`). GitLab counts every
-- answer but a 2xx as a failure, and disables a hook after a few in a row
-- (doc/user/project/integrations/webhooks.md), so the status says whose
-- fault it is:
--
--   204  a delivery that passes gitlab.webhook.receive, handled; also a
--        repeat of one (`replayed`: a retry, "Resend Request" or a
--        replay), not handled again, marked `X-Webhook-Replayed: true`
--   401  {"error": code, "message": ...}: the sender did not authenticate
--        (missing_token, bad_token, missing_signature, bad_signature,
--        stale); the messages never hold a token
--   400  the same body: an authenticated request that is malformed
--        (duplicate_header, bad_header, not_json, bad_json)
--   500  `on_event` raised: the id is forgotten, so GitLab's retry is
--        handled, not taken for a replay
--   503  the replay guard failed (the shared dict is full, of ids that
--        have not expired: make it larger)
--   405  a method other than POST
--
-- The replay guard lives in the shared dict `gitlab_webhook_ids`, so a
-- delivery replayed to another worker process is refused too. Without
-- `lua_shared_dict` a guard would be per worker:
-- `webhook.replay_guard{ ttl = 300 }` in memory.
--
-- Put the work in `M.on_event(event)`: it runs before the answer, so it
-- should be quick (GitLab waits 10 s by default); hand long work to a
-- queue. The answer carries X-Webhook-Kind and X-Webhook-Id, which say
-- what was received.

local webhook = require("gitlab.webhook")
local core = require("gitlab.core")

local M = {}

local opts          -- the options of webhook.receive, set by configure

-- the status of each refusal: the sender's fault (401: not authenticated;
-- 400: malformed), or ours (503)
local STATUS = {
  missing_token = 401, bad_token = 401, missing_signature = 401, bad_signature = 401,
  stale = 401, duplicate_header = 400, bad_header = 400, not_json = 400, bad_json = 400,
  guard_failed = 503,
}

--- What to do with an accepted delivery (replace it). The default logs
-- the event's name, kind and id.
function M.on_event(event)
  ngx.log(ngx.INFO, "gitlab webhook: ", event.name or "?", " (", event.kind or "?",
          ") ", event.id or "no id")
end

local function env(name)
  local v = os.getenv(name)
  if v == "" then v = nil end
  return v
end

--- Reads the tokens and makes the replay guard; raises when no token is set.
function M.configure()
  local token, signing = env("GITLAB_WEBHOOK_TOKEN"), env("GITLAB_WEBHOOK_SIGNING_TOKEN")
  if not token and not signing then
    error("receiver: set GITLAB_WEBHOOK_TOKEN or GITLAB_WEBHOOK_SIGNING_TOKEN "
      .. "(and name it with `env` in nginx.conf)")
  end
  opts = {
    token = token,
    signing_token = signing,
    tolerance = webhook.DEFAULT_TOLERANCE,
    now = ngx.time,
    replay = webhook.replay_guard{ shared = ngx.shared.gitlab_webhook_ids,
                                   ttl = webhook.DEFAULT_TOLERANCE },
  }
  -- a bad signing token raises here, at startup, rather than per request
  webhook.receive({}, "{}", { signing_token = signing, token = token })
end

-- The body as received: in memory, or in the temporary file nginx wrote
-- when it was larger than client_body_buffer_size.
local function body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then return data end
  local path = ngx.req.get_body_file()
  if not path then return "" end
  local f = assert(io.open(path, "rb"))
  data = f:read("*a")
  f:close()
  return data
end

local function answer(status, err)
  ngx.status = status
  if err then
    ngx.header["Content-Type"] = "application/json"
    ngx.say(core.json_encode{ error = err.code, message = err.message })
  end
  return ngx.exit(status)
end

--- Answers one request.
function M.handle()
  if ngx.req.get_method() ~= "POST" then
    ngx.header["Allow"] = "POST"
    return answer(405, { code = "method", message = "POST only" })
  end
  -- lower-case names; a repeated header is a list, which receive refuses
  -- for the headers it reads (0: no limit on their number besides nginx's
  -- own on the header size)
  local event, err = webhook.receive(ngx.req.get_headers(0), body(), opts)
  if not event then
    if err.code == "replayed" then
      -- handled before: a 2xx, or GitLab counts a failure
      ngx.log(ngx.INFO, "gitlab webhook: a repeat, not handled again: ", err.message)
      ngx.header["X-Webhook-Replayed"] = "true"
      return answer(204)
    end
    ngx.log(ngx.WARN, "gitlab webhook refused: ", err.code, ": ", err.message)
    return answer(STATUS[err.code] or 400, err)
  end
  local ok, why = pcall(M.on_event, event)
  if not ok then
    -- not handled: let GitLab's retry in
    if event.id then opts.replay:forget(event.id) end
    ngx.log(ngx.ERR, "gitlab webhook: on_event failed: ", tostring(why))
    return answer(500, { code = "handler", message = "the delivery could not be handled" })
  end
  ngx.header["X-Webhook-Kind"] = event.kind
  ngx.header["X-Webhook-Id"] = event.id
  return answer(204)
end

return M
