--- Sending one built request (see `gitlab.client.request`): blocking,
-- yielding inside `gitlab.async.run`, or on the client's engine with a
-- callback; through the client's credential refresh
-- (`gitlab.client.refresh`, in `gl._hooks`) unless `opts.auth` is false.
-- @module gitlab.client.send

local async = require("gitlab.async")
local finish = require("gitlab.client.response").finish

local running = coroutine.running

local M = {}

-- The refresher a request goes through (`gl._hooks`), or false.
local function refresher_of(self, opts)
  return opts.auth ~= false and self._hooks
end

-- shape(k, data, resp): k gets the answer as it is (pass) or in
-- `request_async`'s order (reply); neither makes a closure
local function pass(k, data, resp) return k(data, resp) end

-- (data, resp) or (nil, err) -> callback(err, data, resp)
local function reply(callback, data, resp)
  if data == nil then return callback(resp, nil, resp.response) end
  return callback(nil, data, resp)
end

-- On the engine: shape(k, data, resp) from the engine; the core's handle.
-- It holds ctx, not the client: a busy client may still be collected.
local function engine(c, ctx, req, method, shown, opts, shape, k)
  return c:start(req, function(r, e, decoded, service)
    return shape(k, finish(ctx, method, shown, opts, r, e, decoded, service))
  end)
end

--- Starts a request on the client's engine.
-- @param self the client
-- @tparam table req from `build`, with `method` and `shown`
-- @tparam table opts the request's options
-- @tparam function deliver `deliver(data, resp)` or `deliver(nil, err)`,
--   once, from the engine, never after the handle's `cancel()`
-- @return a handle with `cancel()` and `done()`
function M.start(self, req, method, shown, opts, deliver)
  local c, ctx = self._core, self._ctx
  local refresher = refresher_of(self, opts)
  if not refresher then return engine(c, ctx, req, method, shown, opts, pass, deliver) end
  return refresher:start(function(k) return engine(c, ctx, req, method, shown, opts, pass, k) end,
    deliver)
end

--- Starts a request on the client's engine for `request_async`: as
-- `start`, with `callback(err, data, resp)`. Without a credential refresh
-- to go through, the engine calls back one closure (a request of a
-- fan-out makes no other).
-- @param self the client
-- @tparam table req from `build`
-- @tparam function callback `callback(err, data, resp)`, once, never after
--   the handle's `cancel()`
-- @return a handle with `cancel()` and `done()`
function M.start_callback(self, req, method, shown, opts, callback)
  if not refresher_of(self, opts) then
    return engine(self._core, self._ctx, req, method, shown, opts, reply, callback)
  end
  return M.start(self, req, method, shown, opts, function(data, resp)
    return reply(callback, data, resp)
  end)
end

--- Sends a request and waits for its answer: blocking, or inside
-- `gitlab.async.run` yielding until the engine has it (`gl:close()` then
-- wakes the coroutine with a "canceled" error, see `close_waiters`).
-- @tparam[opt] table sent blocking only: see `gitlab.client.refresh`'s
--   `call`
-- @return data, resp; or nil, err
function M.request(self, req, method, shown, opts, sent)
  -- (on the main thread, the common case, without calling async.current)
  local _, main = running()
  if not main and async.current() then
    -- coroutines waiting on this client: close() wakes them with an error
    local waiters = self._waiters
    if not waiters then
      waiters = {}
      self._waiters = waiters
    end
    return async.await(function(resume)
      local function done(...)
        if not waiters[done] then return end
        waiters[done] = nil
        return resume(...)
      end
      -- close() hands over the core's kind of failure, shaped here
      local ctx = self._ctx
      waiters[done] = function(r, e, decoded, service)
        return done(finish(ctx, method, shown, opts, r, e, decoded, service))
      end
      M.start(self, req, method, shown, opts, done)
    end)
  end
  local refresher = refresher_of(self, opts)
  if not refresher then
    return finish(self._ctx, method, shown, opts, self._core:request(req))
  end
  return refresher:call(function(k)
    k(finish(self._ctx, method, shown, opts, self._core:request(req)))
  end, sent)
end

--- Wakes every coroutine waiting on the client with a "canceled" error
-- (the client was closed: its transfers never call back). Each is woken
-- even when one raises; the first error is raised afterwards.
-- @param self the client
function M.close_waiters(self)
  local waiters = self._waiters
  if waiters and next(waiters) then
    self._waiters = false
    local first
    for _, wake in pairs(waiters) do
      local ok, err = pcall(wake, nil, { kind = "canceled", message = "the client was closed" })
      if not ok and first == nil then first = err end
    end
    if first ~= nil then error(first, 0) end
  end
end

return M
