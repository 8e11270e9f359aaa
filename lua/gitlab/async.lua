--- Non-blocking use: coroutines and event loops.
--
-- `gitlab.async.run(fn, ...)` runs `fn` in a coroutine in which the normal
-- blocking API (`gl:get`, `gl.projects:get`, `for x in gl:paginate(...)`)
-- starts the transfer on the client's multi engine and yields; the client's
-- loop (`gl:wait()`, `gl:poll()`, or libuv after `gl:attach(uv)`) resumes it
-- when the answer is there. An error inside `fn` is raised from the call
-- that drove the loop (`gl:wait()`, `gl:poll()`, or the libuv callback).
-- @module gitlab.async

local M = {}

-- Coroutines started by run(): only those yield instead of blocking.
local ours = setmetatable({}, { __mode = "k" })

--- The current coroutine when it was started by `run`, else nil.
function M.current()
  local co, main = coroutine.running()
  if co and not main and ours[co] then return co end
  return nil
end

--- Resumes a coroutine of ours; its failure is raised with its traceback.
-- @param co coroutine
function M.resume(co, ...)
  local ok, err = coroutine.resume(co, ...)
  if not ok then
    error(debug.traceback(co, tostring(err)), 0)
  end
end

--- Runs `fn(...)` in a coroutine where blocking calls yield.
-- Returns the coroutine at once (after `fn` reaches its first request).
-- @tparam function fn
function M.run(fn, ...)
  if type(fn) ~= "function" then error("async.run: expected a function", 2) end
  local co = coroutine.create(fn)
  ours[co] = true
  M.resume(co, ...)
  return co
end

--- Waits inside a coroutine of ours until `start(cb)` calls back.
-- @tparam function start receives the resume callback
-- @return whatever the callback received
function M.await(start)
  local co = M.current()
  local done, res = false, nil
  local waiting = false
  start(function(...)
    if waiting then
      M.resume(co, ...)
    else
      done, res = true, { n = select("#", ...), ... }
    end
  end)
  if done then return (table.unpack or unpack)(res, 1, res.n) end
  waiting = true
  return coroutine.yield()
end

--- Drives a client's transfers from libuv (luv, or Neovim's `vim.uv` /
-- `vim.loop`): curl's sockets are watched with uv poll handles and its
-- timer with a uv timer, so nothing polls and no thread is used.
-- @param gl client
-- @param uv the luv module
-- @tparam[opt] table opts `schedule` (wraps the user callbacks, e.g. `vim.schedule_wrap`)
function M.attach(gl, uv, opts)
  if type(uv) ~= "table" or type(uv.new_timer) ~= "function" then
    error("attach: expected the luv module (vim.uv, vim.loop or require('luv'))", 2)
  end
  local core = gl._core
  if gl._uv then M.detach(gl) end
  local st = { polls = {}, timer = uv.new_timer(), uv = uv, opts = opts or {} }
  gl._uv = st
  local new_poll = uv.new_socket_poll or uv.new_poll
  local function on_socket(fd, what)
    local p = st.polls[fd]
    if what == "remove" then
      if p then
        st.polls[fd] = nil
        p:stop()
        if not p:is_closing() then p:close() end
      end
      return
    end
    if not p then
      p = new_poll(fd)
      st.polls[fd] = p
    end
    local ev = what == "in" and "r" or what == "out" and "w" or "rw"
    p:start(ev, function(err, events)
      if st.closed then return end
      local w = "inout"
      if not err and events then
        if events == "r" then w = "in" elseif events == "w" then w = "out" end
      end
      core:socket_action(fd, w)
    end)
  end
  local function on_timer(ms)
    st.timer:stop()
    if ms >= 0 then
      st.timer:start(ms, 0, function()
        if not st.closed then core:socket_action(nil, "timeout") end
      end)
    end
  end
  core:hooks(on_socket, on_timer)
  return gl
end

--- Stops libuv driving a client (also done by `gl:close()`).
function M.detach(gl)
  local st = gl._uv
  if not st then return end
  st.closed = true
  gl._uv = nil
  pcall(function() gl._core:hooks(nil) end)
  for fd, p in pairs(st.polls) do
    st.polls[fd] = nil
    p:stop()
    if not p:is_closing() then p:close() end
  end
  st.timer:stop()
  if not st.timer:is_closing() then st.timer:close() end
end

return M
