--- Credential refresh for a client: one module decides when to refresh
-- (the access token expires within `skew` seconds, or a request was
-- answered 401 invalid_token), runs one refresh at a time, calls
-- `on_refresh`, and sends a request refused with 401 once more.
--
-- One machine serves every way a request waits. It is written with
-- continuations: `send(k)` and the token request call `k` when their
-- answer is there, at once on the blocking path (`call`), from the
-- client's engine on the non-blocking one (`start`: `request_async`, and
-- the blocking API inside `gitlab.async.run`, which waits for `start`).
-- On the engine, every request that needs a refresh while one is in
-- flight waits for it instead of sending the (then stale) refresh token
-- again; a blocking caller cannot wait for the engine and sends its own,
-- and whichever answer comes second finds the pair already replaced and
-- takes that one. A request answered 401 after the pair was replaced
-- since it went out is sent again without a refresh.
--
-- `gitlab.oauth.attach` makes the refresher (it knows the token
-- endpoint); `gitlab.new` keeps it in `gl._hooks`.
-- @module gitlab.client.refresh

local core = require("gitlab.core")
local errors = require("gitlab.errors")

local M = {}

local Refresher = {}
Refresher.__index = Refresher

--- Makes the refresher of a client and installs its access token.
-- @param gl the client (`gl:_set_token`, `gl:request`, `gl:request_async`)
-- @tparam table o `tokens` (`access_token`, `refresh_token`, `expires_at`),
--   `skew` (seconds), `now()`, `on_refresh(tokens)`, and `grant`, what the
--   token endpoint needs: `missing(tokens)` (nil, or the error when no
--   refresh is possible), `request(rt)` (method, url, opts of the token
--   request), `take(data, err, rt)` (its answer: tokens; nil, err; or
--   tokens, nil, true for a pair reloaded from storage, not to be saved
--   again), `invalid_token(err)` (a 401 that a refresh may cure)
-- @return the refresher
function M.new(gl, o)
  local r = setmetatable({ gl = gl, tokens = o.tokens, skew = o.skew, now = o.now,
    on_refresh = o.on_refresh, grant = o.grant,
    generation = 0,      -- counts the pairs installed: which one a request went out with
    inflight = nil,      -- the waiters of the refresh in flight
  }, Refresher)
  if type(r.tokens.access_token) == "string" then
    gl:_set_token("oauth_token", r.tokens.access_token)
  end
  return r
end

--- Whether a request should wait for a refresh first.
function Refresher:due()
  local t = self.tokens
  return t.access_token == nil or (t.expires_at ~= nil and self.now() >= t.expires_at - self.skew)
end

-- The token endpoint's answer for refresh token rt, asked when the pair
-- was number gen: installs the new pair. Returns true or nil, err; raises
-- what on_refresh raised (the new pair is in use already).
function Refresher:take(data, err, rt, gen)
  -- a refresh of this client installed a pair since ours went out (the
  -- server then refuses the refresh token we sent): that pair is the answer
  if data == nil and self.generation ~= gen then return true end
  local tokens, terr, reloaded = self.grant.take(data, err, rt)
  if not tokens then return nil, terr end
  self.tokens = tokens
  self.generation = self.generation + 1
  self.gl:_set_token("oauth_token", tokens.access_token)
  if self.on_refresh and not reloaded then
    -- raised (with its stack, as from every callback) to whoever made
    -- the request, or from the loop on the engine
    local ok, herr = xpcall(self.on_refresh, core.traceback, tokens)
    if not ok then error(herr, 0) end
  end
  return true
end

-- Refreshes and then calls k(ok, err), once. st.sync: blocking (the token
-- request is a blocking request and k runs before this returns); else on
-- the engine, joining the refresh in flight if there is one. st.h is set to
-- a handle whose cancel() forgets k before k can run.
function Refresher:refresh(st, k)
  local w = { k = k }
  st.h = { cancel = function() w.canceled = true return true end }
  local nerr = self.grant.missing(self.tokens)
  if nerr then return k(nil, nerr) end
  if self.inflight and not st.sync then
    local list = self.inflight
    list[#list + 1] = w
    return
  end
  local list = { w }
  local rt, gen = self.tokens.refresh_token, self.generation
  local method, url, ropts = self.grant.request(rt)
  local function answered(data, err)
    if self.inflight == list then self.inflight = nil end
    local fine, ok, rerr = xpcall(self.take, core.traceback, self, data, err, rt, gen)
    local raised
    if not fine then
      -- on_refresh raised: the requests still go on (with the new pair
      -- when it was installed), and the error is raised afterwards
      raised = ok
      ok = self.generation ~= gen or nil
      rerr = not ok and errors.new{ kind = "oauth", code = "callback",
        message = "the refresh failed: " .. tostring(raised) } or nil
    end
    -- every waiter is called, even when one of them raises; the blocking
    -- caller, first in the list, last, and not when the refresh raised
    local own = st.sync and list[1] or nil
    for i = own and 2 or 1, #list do
      local x = list[i]
      if not x.canceled then
        local xok, xerr = xpcall(x.k, core.traceback, ok, rerr)
        if not xok and raised == nil then raised = xerr end
      end
    end
    if raised ~= nil then error(raised, 0) end
    if own then return own.k(ok, rerr) end
  end
  if st.sync then
    -- requests started meanwhile (from a log function) wait for this one
    if not self.inflight then self.inflight = list end
    return answered(self.gl:request(method, url, ropts))
  end
  self.gl:request_async(method, url, ropts, function(rerr, data) return answered(data, rerr) end)
  -- only once started: a refresh that could not start has no waiters
  if not self.inflight then self.inflight = list end
end

-- The machine: refresh first when due (a failed refresh still sends the
-- request: GitLab's 401 says why), send, and after a 401 invalid_token
-- refresh unless the pair changed since, then send once more.
-- deliver(data, resp) gets the last answer, with `refresh_error` when a
-- refresh after a 401 failed.
-- sent: the answer of a first attempt made elsewhere ({ gen, data, resp },
-- gen the pair it went out with), taken as this request's first answer.
local function run(self, st, send, deliver, sent)
  local attempt
  local function answer(gen, retried, data, resp)
    if st.canceled then return end
    if data == nil and not retried and resp.status == 401 and self.grant.invalid_token(resp) then
      if self.generation ~= gen then return attempt(true) end
      return self:refresh(st, function(ok, rerr)
        if st.canceled then return end
        if ok then return attempt(true) end
        -- the 401 is the answer; its message says why no refresh cured it
        -- (rerr's message has its secrets scrubbed already)
        pcall(function()
          resp.refresh_error = rerr
          local why = type(rerr) == "table" and rerr.message
          if type(why) == "string" and type(resp.message) == "string" then
            resp.message = resp.message .. " (not refreshed: " .. why .. ")"
          end
        end)
        return deliver(nil, resp)
      end)
    end
    return deliver(data, resp)
  end
  attempt = function(retried)
    local gen = self.generation
    st.h = send(function(data, resp) return answer(gen, retried, data, resp) end)
  end
  if sent then return answer(sent.gen, false, sent.data, sent.resp) end
  if self:due() then
    return self:refresh(st, function()
      if not st.canceled then return attempt(false) end
    end)
  end
  return attempt(false)
end

--- One blocking request through the refresh.
-- @tparam function send `send(k)`: sends the request and calls
--   `k(data, resp)` before returning
-- @tparam[opt] table sent `{ gen = self.generation when it went out, data,
--   resp }`: the answer of a first attempt sent outside the refresh (a
--   page fetched ahead), refreshed and sent again after a 401
-- @return data, resp; or nil, err
function Refresher:call(send, sent)
  local data, resp
  run(self, { sync = true }, send, function(d, r) data, resp = d, r end, sent)
  return data, resp
end

--- One request on the client's engine through the refresh.
-- @tparam function send `send(k)`: starts the request, returns the core's
--   handle, and calls `k(data, resp)` from the engine
-- @tparam function deliver `deliver(data, resp)`, once, never after cancel
-- @return a handle with `cancel()` and `done()`, following the stage in
--   flight (refresh, request, refresh, retry)
function Refresher:start(send, deliver)
  local st = { sync = false, canceled = false }
  local finished = false
  local handle = {}
  function handle.cancel()
    if finished or st.canceled then return false end
    st.canceled = true
    return st.h:cancel()
  end
  function handle.done() return finished or st.canceled end
  run(self, st, send, function(data, resp)
    finished = true
    return deliver(data, resp)
  end)
  return handle
end

return M
