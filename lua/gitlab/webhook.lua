--- Receiving GitLab's webhooks: the delivery checked, then decoded.
--
--     local webhook = require("gitlab.webhook")
--     local event, err = webhook.receive(headers, body, {
--       token = os.getenv("HOOK_TOKEN"),             -- X-Gitlab-Token
--       signing_token = os.getenv("HOOK_SIGNING"),   -- "whsec_..."
--     })
--     if not event then return 401, err.code end     -- err.kind == "webhook"
--     if event.kind == "merge_request" then ... end
--
-- Two ways to authenticate a delivery, as GitLab offers them
-- (doc/user/project/integrations/webhooks.md; the signing token is
-- GitLab's Standard Webhooks scheme, gitlab-org/gitlab!230944 and
-- standard-webhooks/standard-webhooks spec/standard-webhooks.md):
--
-- * `token`: the hook's secret token, which GitLab sends as it is in
--   `X-Gitlab-Token`. Compared in constant time (`core.secure_compare`).
-- * `signing_token`: `whsec_` followed by the base64 of the key. GitLab
--   sends `webhook-id`, `webhook-timestamp` (Unix seconds) and
--   `webhook-signature`: one or more space-separated `v1,<base64>` entries,
--   each the base64 of HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}").
--   A delivery passes when any `v1` entry matches (other versions, such as
--   the asymmetric `v1a`, are skipped); every entry is compared, in constant
--   time, with no exit at the first match. An authentic delivery whose
--   timestamp is further than `tolerance` seconds from the clock, either way,
--   is refused as `"stale"` (a replay, or a clock that is off).
--
-- With both, both must pass (the token first). With neither, `receive`
-- raises unless `insecure = true`: a receiver that accepts anyone's
-- deliveries is a programmer error, not a run-time failure.
--
-- `webhook-timestamp` when only `token` is set: it is not checked. Without
-- a signature the header is not authenticated, so whoever holds the token
-- (the only one who can replay a delivery here) could rewrite it; checking
-- it would refuse nothing an attacker sends and some genuine deliveries
-- (older GitLab versions send no such header). It is still given as
-- `event.timestamp` when it is an integer.
--
-- Headers are matched in any case. A header receive reads that arrives
-- twice (twice in a list of lines, a list as a table's value as OpenResty's
-- `ngx.req.get_headers()` gives it, or two names differing in case) is
-- ambiguous and refused, since GitLab sends each once: `"bad_token"` for
-- X-Gitlab-Token, `"bad_signature"` for webhook-id, webhook-timestamp and
-- webhook-signature when the signature is checked, `"not_json"` for
-- Content-Type, `"duplicate_header"` for any other (X-Gitlab-Event,
-- X-Gitlab-Instance, X-Gitlab-Event-UUID, X-Gitlab-Webhook-UUID,
-- Idempotency-Key, and webhook-id or webhook-timestamp unsigned), checked
-- once the delivery is authenticated. A list of lines is what the sender
-- wrote, so a line that is not "Name: value" (a blank before the colon, an
-- obs-fold continuation starting with a space or a tab) or a value holding
-- CR, LF or NUL is refused, `"bad_header"`, before anything else, rather
-- than raised; the empty line that ends the headers is skipped.
--
-- The body, once the delivery is authenticated (nothing about a body is
-- told to a sender that has not proved who it is):
--
-- * `"not_json"`: not JSON by what the delivery says of itself: a
--   Content-Type that is not `application/json` (or `application/*+json`;
--   parameters such as charset allowed), or a body that is empty or only
--   whitespace, or, without a Content-Type, a body whose first non-blank
--   byte is neither `{` nor `[` (the rule the client applies to answers).
--   A sender that is not GitLab, or a proxy that rewrote the request.
-- * `"bad_json"`: presented as JSON but not a JSON object: malformed,
--   truncated, trailing bytes after the value, nested deeper than the
--   decoder's limit (1000), or a top-level value that is not an object
--   (GitLab's payloads are all objects). The decoder is the library's own
--   (`gitlab.core.json_decode`): integers stay integers, `null` is
--   `gitlab.core.null`, arrays carry `gitlab.core.array_mt`.
--
-- Errors are `gitlab.errors` objects: `kind = "webhook"`, `code`,
-- `message`; no message holds a token, a key or a signature.
-- @module gitlab.webhook

local core = require("gitlab.core")
local errors = require("gitlab.errors")

local M = {}

--- Seconds a signed delivery's timestamp may be away from the clock.
M.DEFAULT_TOLERANCE = 300

--- The codes of `err.code`.
M.CODES = {
  "missing_token", "bad_token", "missing_signature", "bad_signature",
  "stale", "replayed", "guard_failed", "duplicate_header", "bad_header", "not_json", "bad_json",
}

local function fail(code, message)
  return nil, errors.new{ kind = "webhook", code = code, message = message }
end

-------------------------------------------------------------------------------
-- headers
-------------------------------------------------------------------------------

local function trim(s)
  return (s:gsub("^[ \t]+", ""):gsub("[ \t\r\n]+$", ""))
end

-- A header line's name: an RFC 9110 token, the colon right after it
-- (RFC 9112 section 5.1: no whitespace before the colon).
local LINE = "^([%w!#%$%%&'%*%+%-%.%^_`|~]+):(.*)$"

-- A value with CR, LF or NUL inside (after the blanks and the CR LF at its
-- end are taken off) is a request that was split or spliced wrong.
local function bad_value(v)
  return v:find("[\r\n]") ~= nil or v:find("\0", 1, true) ~= nil
end

-- name (lower case) -> first value, and name -> true for a name given more
-- than once. `headers` is a table of name -> value (a string, or a list of
-- strings for a repeated header) or a list of "Name: value" lines; both in
-- one table are read too. What the sender chose (a malformed or folded
-- line, a value holding CR, LF or NUL) is returned as a third value, a
-- message for "bad_header"; what the caller built wrong (a value that is
-- not a string) raises.
local function collect(headers, fname)
  local first, dup = {}, {}
  local bad
  local function add(name, value, where)
    local v = trim(value)
    if bad_value(v) then
      bad = bad or where .. " holds a CR, LF or NUL in its value"
      return
    end
    local k = name:lower()
    if first[k] ~= nil then dup[k] = true else first[k] = v end
  end
  for k, v in pairs(headers) do
    if type(k) == "number" then
      if type(v) ~= "string" then
        error(fname .. ": header line " .. k .. " must be a string, got " .. type(v), 3)
      end
      local name, value = v:match(LINE)
      local where = "header line " .. k
      if name then
        add(name, value, where)
      elseif v:match("^[ \t]") then
        bad = bad or where .. " is folded (starts with a blank): obs-fold is refused"
      elseif not v:match("^\r?\n?$") then   -- (the empty line that ends the headers)
        bad = bad or where .. " is not \"Name: value\""
      end
    elseif type(k) == "string" then
      local where = "header '" .. k .. "'"
      if type(v) == "string" then
        add(k, v, where)
      elseif type(v) == "number" then
        add(k, tostring(v), where)
      elseif type(v) == "table" then
        for i, x in ipairs(v) do
          if type(x) ~= "string" then
            error(fname .. ": header '" .. k .. "' value " .. i .. " must be a string, got "
              .. type(x), 3)
          end
          add(k, x, where)
        end
      else
        error(fname .. ": header '" .. k .. "' must be a string or a list of strings, got "
          .. type(v), 3)
      end
    else
      error(fname .. ": headers must be keyed by name or be a list of lines, got a "
        .. type(k) .. " key", 3)
    end
  end
  return first, dup, bad
end

-------------------------------------------------------------------------------
-- signing tokens
-------------------------------------------------------------------------------

-- The HMAC key of a signing token: the base64 after "whsec_" (the prefix
-- may be left out, as the Standard Webhooks libraries allow). Raises: the
-- token is configuration. The message names neither the token nor the key.
local function signing_key(token, fname)
  if type(token) ~= "string" then
    error(fname .. ": signing_token must be a string, got " .. type(token), 3)
  end
  local b64 = token:match("^whsec_(.*)$") or token
  local key, why = core.base64_decode(b64)
  if not key then
    error(fname .. ": signing_token is not \"whsec_\" and base64 (" .. why .. ")", 3)
  end
  if key == "" then error(fname .. ": signing_token holds an empty key", 3) end
  return key
end

local function signature(key, id, timestamp, body)
  return "v1," .. core.base64(core.hmac_sha256(key, id .. "." .. timestamp .. "." .. body))
end

--- The `webhook-signature` value GitLab sends for a delivery: for tests,
-- and for forwarding a delivery signed.
-- @tparam table t `signing_token` ("whsec_..."), `id` (the webhook-id, no
--   "."), `timestamp` (integer Unix seconds, or a string of digits), `body`
-- @treturn string "v1,<base64>"
function M.sign(t)
  if type(t) ~= "table" then error("webhook.sign: expects a table", 2) end
  local key = signing_key(t.signing_token, "webhook.sign")
  local id, ts, body = t.id, t.timestamp, t.body
  if type(id) ~= "string" or id == "" or id:find(".", 1, true) then
    error("webhook.sign: id must be a non-empty string without '.'", 2)
  end
  if type(ts) == "number" and ts == math.floor(ts) and ts >= 0 and ts < 2^53 then
    ts = string.format("%d", ts)
  end
  if type(ts) ~= "string" or not ts:match("^%d+$") then
    error("webhook.sign: timestamp must be an integer (Unix seconds)", 2)
  end
  if type(body) ~= "string" then error("webhook.sign: body must be a string", 2) end
  return signature(key, id, ts, body)
end

-------------------------------------------------------------------------------
-- replay guard
-------------------------------------------------------------------------------

local Guard = {}
Guard.__index = Guard

--- A guard against the same delivery twice: passed as `receive`'s `replay`
-- option, it refuses (`err.code == "replayed"`) a delivery whose id
-- (`webhook-id`, else `Idempotency-Key`) was accepted within `ttl` seconds,
-- and a signed one until its timestamp is stale (`tolerance` past it by
-- the receiver's clock, even when GitLab's clock is ahead). GitLab keeps
-- both ids across retries and "Resend Request", so a repeat is refused
-- too: answer it as handled (2xx; GitLab counts any other status as a
-- failure, and disables a hook after a few in a row). A delivery without
-- either id (GitLab before 17.4, unsigned) cannot be told apart and is let
-- through. When handling an accepted delivery fails, `guard:forget(event.id)`
-- lets its retry in.
--
-- In memory (the default) a guard holds at most `size` ids, for one Lua
-- state: in nginx that is one worker process, so a replay that reaches
-- another worker passes. With `shared` (an OpenResty `ngx.shared.DICT`,
-- `lua_shared_dict` in nginx.conf) the ids are kept by the dict, with
-- their expiry, for every worker, and `safe_add` checks and records in one
-- step. Either way a full guard never forgets an id it still holds (that
-- would let its replay through): it refuses the new one, `"guard_failed"`,
-- until ids expire. Size it for the deliveries of `ttl` seconds (signed:
-- up to twice the tolerance); a shared dict holds roughly 8000 ids a
-- megabyte.
--
-- `receive` refuses a guard whose `ttl` is shorter than its `tolerance`.
-- @tparam[opt] table opts `size` (10000), `ttl` (`DEFAULT_TOLERANCE`),
--   `shared` (a shared dict), `prefix` (of the dict's keys,
--   "gitlab.webhook:")
-- @return the guard
function M.replay_guard(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("webhook.replay_guard: expects a table", 2) end
  for k in pairs(opts) do
    if k ~= "size" and k ~= "ttl" and k ~= "shared" and k ~= "prefix" then
      error("webhook.replay_guard: unknown option '" .. tostring(k) .. "'", 2)
    end
  end
  local size, ttl = opts.size or 10000, opts.ttl or M.DEFAULT_TOLERANCE
  if type(size) ~= "number" or size < 1 or size ~= math.floor(size) then
    error("webhook.replay_guard: size must be a positive integer", 2)
  end
  if type(ttl) ~= "number" or ttl ~= ttl or ttl <= 0 or ttl == math.huge then
    error("webhook.replay_guard: ttl must be a positive number of seconds", 2)
  end
  local shared = opts.shared
  if shared ~= nil and (type(shared) ~= "table" and type(shared) ~= "userdata"
                        or shared.add == nil) then
    error("webhook.replay_guard: shared must be a shared dict (ngx.shared.NAME)", 2)
  end
  local prefix = opts.prefix or "gitlab.webhook:"
  if type(prefix) ~= "string" then error("webhook.replay_guard: prefix must be a string", 2) end
  return setmetatable({
    size = size, ttl = ttl, shared = shared, prefix = prefix,
    -- in memory: the entry ({ id =, at = expiry }) of each id held, the
    -- entries in a binary min-heap by expiry (a forgotten id's entry stays
    -- in the heap, dead, until it expires or the heap is compacted), and
    -- how many ids are held
    held = {}, heap = {}, live = 0,
  }, Guard)
end

local function heap_push(h, e)
  local i = #h + 1
  h[i] = e
  while i > 1 do
    local p = math.floor(i / 2)
    if h[p].at <= e.at then break end
    h[i], h[p] = h[p], e
    i = p
  end
end

local function heap_pop(h)
  local n = #h
  local top, last = h[1], h[n]
  h[n] = nil
  n = n - 1
  if n > 0 then
    local i = 1
    while true do
      local c = 2 * i
      if c > n then break end
      if c < n and h[c + 1].at < h[c].at then c = c + 1 end
      if h[c].at >= last.at then break end
      h[i] = h[c]
      i = c
    end
    h[i] = last
  end
  return top
end

-- Drops what has expired by `now`.
function Guard:_expire(now)
  local h = self.heap
  while h[1] and h[1].at <= now do
    local e = heap_pop(h)
    if self.held[e.id] == e then
      self.held[e.id] = nil
      self.live = self.live - 1
    end
  end
  -- dead entries (forgotten ids) outnumbering the live ones: rebuilt
  if #h > 2 * self.live + 16 then
    local live = {}
    for _, e in ipairs(h) do
      if self.held[e.id] == e then live[#live + 1] = e end
    end
    self.heap = {}
    for _, e in ipairs(live) do heap_push(self.heap, e) end
  end
end

--- Records `id` as accepted at `now`, to be held until `now + ttl`, or
-- until `expires` (a time by the same clock) when that is later.
-- @treturn boolean|nil true when `id` is new, false when it is held; nil
--   and a message when the guard is full of ids it still holds, or the
--   shared dict failed
function Guard:first(id, now, expires)
  local hold = self.ttl
  if expires and expires - now > hold then hold = expires - now end
  if self.shared then
    local dict = self.shared
    local ok, err
    if dict.safe_add then
      ok, err = dict:safe_add(self.prefix .. id, true, hold)
    else
      ok, err = dict:add(self.prefix .. id, true, hold)
    end
    if ok then return true end
    if err == "exists" then return false end
    return nil, tostring(err)
  end
  self:_expire(now)
  local e = self.held[id]
  if e and e.at > now then return false end
  if self.live >= self.size then
    return nil, ("the guard is full: %d ids held, none expired yet"):format(self.live)
  end
  e = { id = id, at = now + hold }
  self.held[id] = e
  self.live = self.live + 1
  heap_push(self.heap, e)
  return true
end

--- Forgets `id`, so that the delivery is accepted again: for a receiver
-- whose handling of an accepted delivery failed, before it answers with
-- an error, so that GitLab's retry is not refused as a replay.
-- @tparam string id the event's `id`
function Guard:forget(id)
  if type(id) ~= "string" then error("guard:forget: id must be a string", 2) end
  if self.shared then
    if self.shared.delete then self.shared:delete(self.prefix .. id) end
    return
  end
  if self.held[id] then
    self.held[id] = nil
    self.live = self.live - 1
  end
end

--- How many ids the guard holds in memory (0 with a shared dict).
function Guard:count()
  return self.live
end

-------------------------------------------------------------------------------
-- receive
-------------------------------------------------------------------------------

local OPTIONS = { token = "string", signing_token = "string", tolerance = "number",
                  now = "function", insecure = "boolean", replay = "table" }

-- "application/json", "application/json; charset=utf-8",
-- "application/merge-patch+json"
local function json_media_type(ctype)
  local mt = (ctype:match("^%s*([^;%s]+)") or ""):lower()
  return mt == "application/json" or mt:match("^application/[%w!#$&^_.-]*%+json$") ~= nil, mt
end

local function decode(h, dup, body)
  local ctype = h["content-type"]
  if dup["content-type"] then return fail("not_json", "Content-Type given more than once") end
  if ctype ~= nil then
    local ok, mt = json_media_type(ctype)
    if not ok then
      return fail("not_json", "Content-Type is " .. (mt ~= "" and mt or "empty")
        .. ", not application/json")
    end
  end
  local first = body:match("^[ \t\r\n]*([^ \t\r\n])")
  if first == nil then return fail("not_json", "the body is empty") end
  if ctype == nil and first ~= "{" and first ~= "[" then
    return fail("not_json", "no Content-Type, and the body does not start with { or [")
  end
  local data, why = core.json_decode(body)
  if data == nil and why then return fail("bad_json", "malformed JSON: " .. why) end
  if type(data) ~= "table" or getmetatable(data) == core.array_mt then
    local what = type(data) == "table" and "an array" or data == core.null and "null"
      or "a " .. type(data)
    return fail("bad_json", "the payload is " .. what .. ", not a JSON object")
  end
  return data
end

-- nil, or the error of a signature that does not verify
local function verify(h, dup, body, key, tolerance, now)
  for _, k in ipairs{ "webhook-id", "webhook-timestamp", "webhook-signature" } do
    if dup[k] then return fail("bad_signature", k .. " given more than once") end
  end
  local sig = h["webhook-signature"]
  if sig == nil or sig == "" then
    return fail("missing_signature", "no webhook-signature (is the signing token set on the hook?)")
  end
  local id, ts = h["webhook-id"], h["webhook-timestamp"]
  if id == nil or id == "" then return fail("missing_signature", "no webhook-id") end
  if ts == nil or ts == "" then return fail("missing_signature", "no webhook-timestamp") end
  if id:find(".", 1, true) then return fail("bad_signature", "webhook-id holds a '.'") end
  if not ts:match("^%d+$") or #ts > 15 then
    return fail("bad_signature", "webhook-timestamp is not an integer")
  end
  local want = signature(key, id, ts, body)
  -- every entry compared, no exit at the first match: the time taken does
  -- not tell which entry, or how much of one, matched
  local matched, entries = false, 0
  for entry in sig:gmatch("[^ ]+") do
    if entry:sub(1, 3) == "v1," then
      entries = entries + 1
      if core.secure_compare(entry, want) then matched = true end
    end
  end
  if entries == 0 then
    return fail("bad_signature", "webhook-signature holds no v1 signature")
  end
  if not matched then return fail("bad_signature", "webhook-signature does not match") end
  local skew = now - tonumber(ts)
  if skew > tolerance or -skew > tolerance then
    return fail("stale", ("webhook-timestamp is %d s %s the clock (tolerance %g s)")
      :format(math.floor(math.abs(skew)), skew > 0 and "behind" or "ahead of", tolerance))
  end
  return nil
end

--- Checks and decodes one delivery.
-- @tparam table headers name -> value (any case; a value may be a list of
--   strings, as `ngx.req.get_headers()` gives a repeated header), or a list
--   of "Name: value" lines
-- @tparam string body the raw request body, as received (the signature is
--   over these bytes)
-- @tparam table opts `token` (the hook's secret token), `signing_token`
--   ("whsec_..."), `tolerance` (seconds, `DEFAULT_TOLERANCE`), `now` (the
--   clock: a function returning Unix seconds, `os.time`), `replay` (a
--   `replay_guard`), `insecure` (true: accept deliveries without either
--   token)
-- @treturn[1] table event: `name` (X-Gitlab-Event, "Merge Request Hook"),
--   `kind` (the payload's `object_kind`, else its `event_name`: system
--   hooks and group member, project and subgroup events have only that;
--   nil when it has neither), `id` (webhook-id, else Idempotency-Key),
--   `uuid` (X-Gitlab-Event-UUID), `webhook_uuid` (X-Gitlab-Webhook-UUID),
--   `instance` (X-Gitlab-Instance), `timestamp` (webhook-timestamp as a
--   number, when it is an integer), `signed` (the signature was checked),
--   `data` (the decoded payload)
-- @treturn[2] nil
-- @treturn[2] table err: `kind = "webhook"`, `code` (one of `CODES`), `message`
function M.receive(headers, body, opts)
  if type(headers) ~= "table" then
    error("webhook.receive: headers must be a table, got " .. type(headers), 2)
  end
  if type(body) ~= "string" then
    error("webhook.receive: body must be a string, got " .. type(body), 2)
  end
  if type(opts) ~= "table" then
    error("webhook.receive: opts must be a table, got " .. type(opts), 2)
  end
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then error("webhook.receive: unknown option '" .. tostring(k) .. "'", 2) end
    if type(v) ~= want then
      error("webhook.receive: " .. k .. " must be a " .. want .. ", got " .. type(v), 2)
    end
  end
  local token, signing = opts.token, opts.signing_token
  if token == nil and signing == nil and opts.insecure ~= true then
    error("webhook.receive: neither token nor signing_token given (insecure = true "
      .. "accepts deliveries nobody authenticated)", 2)
  end
  if token == "" then error("webhook.receive: token is empty", 2) end
  local key = signing ~= nil and signing_key(signing, "webhook.receive") or nil
  local tolerance = opts.tolerance or M.DEFAULT_TOLERANCE
  if tolerance ~= tolerance or tolerance < 0 then error("webhook.receive: tolerance must be >= 0", 2) end
  local guard = opts.replay
  if guard ~= nil then
    if getmetatable(guard) ~= Guard then
      error("webhook.receive: replay must be a webhook.replay_guard", 2)
    end
    if key and guard.ttl < tolerance then
      error(("webhook.receive: the replay guard's ttl (%g s) is shorter than tolerance (%g s)")
        :format(guard.ttl, tolerance), 2)
    end
  end
  local clock = opts.now or os.time

  local h, dup, bad = collect(headers, "webhook.receive")
  if bad then return fail("bad_header", bad) end

  if token ~= nil then
    if dup["x-gitlab-token"] then return fail("bad_token", "X-Gitlab-Token given more than once") end
    local given = h["x-gitlab-token"]
    if given == nil or given == "" then return fail("missing_token", "no X-Gitlab-Token") end
    if not core.secure_compare(given, token) then
      return fail("bad_token", "X-Gitlab-Token does not match")
    end
  end

  local now = clock()
  if type(now) ~= "number" or now ~= now or now == math.huge or now == -math.huge then
    -- NaN would pass every comparison with the tolerance: nothing stale
    error("webhook.receive: now() must return a finite number", 2)
  end
  if key then
    local _, err = verify(h, dup, body, key, tolerance, now)
    if err then return nil, err end
  end

  for _, k in ipairs{ "x-gitlab-event", "x-gitlab-instance", "x-gitlab-event-uuid",
                      "x-gitlab-webhook-uuid", "idempotency-key", "webhook-id",
                      "webhook-timestamp" } do
    if dup[k] then return fail("duplicate_header", k .. " given more than once") end
  end

  local data, err = decode(h, dup, body)
  if not data then return nil, err end

  local ts = h["webhook-timestamp"]
  local id = h["webhook-id"]
  if id == "" then id = nil end
  if id == nil then id = h["idempotency-key"] end
  if id == "" then id = nil end
  local kind = data.object_kind
  if type(kind) ~= "string" then kind = data.event_name end
  if type(kind) ~= "string" then kind = nil end

  if guard and id then
    -- signed, the id is held until the delivery is stale by our clock: its
    -- timestamp may be ahead of it (GitLab's clock, by up to `tolerance`),
    -- and at ts + tolerance it still passes (the check is inclusive), so
    -- the first moment it is stale is ts + tolerance + 1 by a clock of
    -- whole seconds (os.time, ngx.time)
    local new, why = guard:first(id, now, key and tonumber(ts) + tolerance + 1 or nil)
    if new == false then
      return fail("replayed", ("this delivery's id was accepted already (an id is held %g s, "
        .. "a signed one until its timestamp is stale)"):format(guard.ttl))
    elseif new == nil then
      return fail("guard_failed", "the replay guard failed: " .. why)
    end
  end

  return {
    name = h["x-gitlab-event"],
    kind = kind,
    id = id,
    uuid = h["x-gitlab-event-uuid"],
    webhook_uuid = h["x-gitlab-webhook-uuid"],
    instance = h["x-gitlab-instance"],
    timestamp = ts and ts:match("^%d+$") and #ts <= 15 and tonumber(ts) or nil,
    signed = key ~= nil,
    data = data,
  }
end

return M
