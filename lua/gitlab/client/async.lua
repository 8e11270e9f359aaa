--- The non-blocking API (methods of `gitlab.client`): `request_async` and
-- the client's loop (`poll`, `wait`, `running`, `attach`).
-- @module gitlab.client.async

local async = require("gitlab.async")
local request = require("gitlab.client.request")
local send = require("gitlab.client.send")

local check_opts, build, EMPTY = request.check_opts, request.build, request.EMPTY

local Client = {}

--- Starts a request and returns a handle at once; `callback(err, data,
-- resp)` runs exactly once (never after `handle:cancel()`), from
-- `gl:poll()`, `gl:wait()` or the event loop after `gl:attach(uv)`.
-- An error the callback raises is raised from there, with the stack where
-- it was raised (a string gains "stack traceback:", a table a `traceback`
-- field). Callable from inside any callback, sinks and progress included
-- (the transfer then starts once libcurl has returned).
function Client:request_async(method, path, opts, callback)
  if type(callback) ~= "function" then error("request_async: callback must be a function", 2) end
  if opts == nil then opts = EMPTY else opts = check_opts("request_async", opts) end
  local req, shown
  req, shown, method = build(self, method, path, opts, "request_async")
  local uvst = self._uv
  if uvst and uvst.opts.schedule then callback = uvst.opts.schedule(callback) end
  return send.start_callback(self, req, method, shown, opts, callback)
end

--- Runs ready transfers and callbacks, waiting at most `timeout` seconds.
-- @return number of transfers still in flight
function Client:poll(timeout)
  return self._core:poll(timeout or 0)
end

--- Runs until no transfer is in flight.
function Client:wait()
  return self._core:wait()
end

--- Number of transfers in flight.
function Client:running()
  return self._core:running()
end

--- Lets libuv drive this client's transfers (Neovim: `gl:attach(vim.uv or
-- vim.loop)`). @param uv the luv module @tparam[opt] table opts `schedule`
function Client:attach(uv, opts)
  return async.attach(self, uv, opts)
end

return Client
