--- A GitLab webhook receiver for nginx's Lua module (examples/webhook/nginx.conf.in).
--
-- `configure()` runs once, in `init_by_lua`: it reads the hook's tokens
-- from the environment (GITLAB_WEBHOOK_TOKEN: the secret token, sent as
-- X-Gitlab-Token; GITLAB_WEBHOOK_SIGNING_TOKEN: the "whsec_..." signing
-- token) and raises, so that nginx does not start, when neither is set.
-- `handle()` runs per request (`content_by_lua`): 204 for a delivery that
-- passes gitlab.webhook.receive, 401 with {"error": code, "message": ...}
-- for one that does not (the messages never hold a token), 405 for a
-- method other than POST.
--
-- The replay guard lives in the shared dict `gitlab_webhook_ids`, so a
-- delivery replayed to another worker process is refused too. Without
-- `lua_shared_dict` a guard would be per worker:
-- `webhook.replay_guard{ ttl = 300 }` in memory.
--
-- Put the work in `M.on_event(event)`: it runs before the answer, so it
-- should be quick (GitLab waits at most a few seconds, then retries);
-- hand long work to a queue. The answer carries X-Webhook-Kind and
-- X-Webhook-Id, which say what was received.

local webhook = require("gitlab.webhook")
local core = require("gitlab.core")

local M = {}

local opts          -- the options of webhook.receive, set by configure

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
    ngx.log(ngx.WARN, "gitlab webhook refused: ", err.code, ": ", err.message)
    -- the guard's own failure (the shared dict) is ours, not the sender's
    return answer(err.code == "guard_failed" and 503 or 401, err)
  end
  M.on_event(event)
  ngx.header["X-Webhook-Kind"] = event.kind
  ngx.header["X-Webhook-Id"] = event.id
  return answer(204)
end

return M
