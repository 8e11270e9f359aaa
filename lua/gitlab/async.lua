--- Non-blocking use: coroutines and event loops.
--
-- `gitlab.async.run(fn, ...)` runs `fn` in a coroutine in which the normal
-- blocking API (`gl:get`, `gl.projects:get`, `for x in gl:paginate(...)`)
-- starts the transfer on the client's multi engine and yields; the client's
-- loop (`gl:wait()`, `gl:poll()`, or libuv after `gl:attach(uv)`) resumes it
-- when the answer is there. An error inside `fn` is raised from the call
-- that drove the loop (`gl:wait()`, `gl:poll()`, or the libuv callback,
-- or given to `on_error` of `attach`); before its first wait, from `run`.
-- @module gitlab.async

local M = {}

-- The libuv state of the client whose transfers are being dispatched
-- right now (set around socket_action), so that `await` can hand the
-- resumption of a coroutine to that attachment's `schedule`.
local driving = nil

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
-- A coroutine waiting on a client that is closed or collected is never
-- resumed (it is collected in turn).
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
      local sched = driving and driving.opts.schedule
      if sched then sched(function(...) M.resume(co, ...) end)(...)
      else M.resume(co, ...) end
    else
      done, res = true, { n = select("#", ...), ... }
    end
  end)
  if done then return (table.unpack or unpack)(res, 1, res.n) end
  waiting = true
  return coroutine.yield()
end

-- An object whose finalizer runs `fn`: a table with __gc on Lua 5.2+,
-- a proxy userdata on Lua 5.1 / LuaJIT, where tables have no finalizers.
local function guard(fn)
  local newproxy = rawget(_G, "newproxy")
  if newproxy then
    local p = newproxy(true)
    getmetatable(p).__gc = function() fn() end
    return p
  end
  return setmetatable({}, { __gc = function() fn() end })
end

-- uv handle lifetime. A closed uv handle is done with only once its close
-- callback has run, in the closing phase of a loop iteration; luv before
-- 1.46 (Debian 12: 1.44) frees a handle that is still closing in the
-- handle's finaliser, and the loop's finaliser then walks the freed memory:
-- a script that ends with such a handle dies at exit (status 139). So a
-- handle is closed only where an iteration is sure to follow: inside
-- `uv.run()` in "default" mode (it returns only once no handle is closing)
-- or in the attachment's reaper, a prepare callback. Anywhere else (the
-- main chunk after `uv.run()` returned, a finaliser, Neovim, whose loop is
-- not run by luv so `loop_mode()` says nothing) the handle is stopped at
-- once and queued for the reaper, which closes it in the next iteration
-- before the loop polls; if the loop never runs again, the handle is still
-- open at exit and luv's own finalisers close and free it correctly.
-- Stopping at once keeps the loop free to end and takes a poll handle's
-- socket out of epoll before curl can reuse its number; the reaper runs
-- before the next poll phase registers any new socket, so its late close
-- cannot unregister a socket that took over the number.
local function in_default_run(uv)
  local mode = type(uv.loop_mode) == "function" and uv.loop_mode() or nil
  return mode == "default"
end

local function close_now(h)
  local ok, closing = pcall(h.is_closing, h)
  if ok and not closing then pcall(h.close, h) end
end

-- Closes the handles queued for the reaper; the reaper itself goes too
-- once the attachment is released.
local function reap(st)
  local dead = st.dead
  st.dead = {}
  for _, h in ipairs(dead) do close_now(h) end
  if st.released then close_now(st.reaper) else pcall(st.reaper.stop, st.reaper) end
end

-- Stops a handle and closes it now or from the reaper (see above).
local function retire(st, h)
  pcall(h.stop, h)
  if in_default_run(st.uv) then
    close_now(h)
  else
    st.dead[#st.dead + 1] = h
    -- may fail in a finaliser at exit, when luv has freed the reaper
    -- first: the queued handles are then closed by luv
    pcall(st.reaper.start, st.reaper, function() reap(st) end)
  end
end

-- Stops every uv handle of an attachment and closes them (idempotent).
local function release(st)
  if st.released then return end
  st.released = true
  st.closed = true
  for fd, p in pairs(st.polls) do
    st.polls[fd] = nil
    retire(st, p)
  end
  retire(st, st.timer)
  if in_default_run(st.uv) then reap(st) end
end

--- Drives a client's transfers from libuv (luv, or Neovim's `vim.uv` /
-- `vim.loop`): curl's sockets are watched with uv poll handles and its
-- timer with a uv timer, so nothing polls and no thread is used.
--
-- The uv handles hold the client only weakly: a client that is no longer
-- referenced is collected (its transfers are dropped without callbacks)
-- and its handles closed. `gl:close()` detaches at once.
--
-- A Lua error raised by a callback (or by a coroutine of `run`) goes to
-- `opts.on_error(err)` when given; otherwise it is raised from the luv
-- callback, where luv (or Neovim) reports it.
-- @param gl client
-- @param uv the luv module
-- @tparam[opt] table opts `schedule` (wraps a function to run later on the
--   main loop, e.g. Neovim's `vim.schedule_wrap`: request callbacks and
--   coroutine resumptions then run there instead of inside the luv
--   callback), `on_error` (function(err))
-- @return gl
function M.attach(gl, uv, opts)
  if type(uv) ~= "table" or type(uv.new_timer) ~= "function" then
    error("attach: expected the luv module (vim.uv, vim.loop or require('luv'))", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then error("attach: options must be a table", 2) end
  opts = opts or {}
  if opts.schedule ~= nil and type(opts.schedule) ~= "function" then
    error("attach: schedule must be a function", 2)
  end
  if opts.on_error ~= nil and type(opts.on_error) ~= "function" then
    error("attach: on_error must be a function", 2)
  end
  if gl._uv then M.detach(gl) end
  local st = { polls = {}, timer = uv.new_timer(), reaper = uv.new_prepare(), dead = {},
               uv = uv, opts = opts }
  -- weak: the handles' callbacks must not keep the client alive
  local weak = setmetatable({ core = gl._core }, { __mode = "v" })
  local new_poll = uv.new_socket_poll or uv.new_poll

  local function action(fd, what)
    local core = weak.core
    if st.closed then return end
    if not core then release(st) return end
    local prev = driving
    driving = st
    local ok, err = pcall(core.socket_action, core, fd, what)
    driving = prev
    if not ok then
      if opts.on_error then opts.on_error(err) else error(err, 0) end
    end
  end

  local function on_socket(fd, what)
    if st.closed then return end
    local p = st.polls[fd]
    if what == "remove" then
      if p then
        st.polls[fd] = nil
        retire(st, p)
      end
      return
    end
    if not p then
      p = new_poll(fd)
      st.polls[fd] = p
    end
    local ev = what == "in" and "r" or what == "out" and "w" or "rw"
    p:start(ev, function(err, events)
      local w = "inout"
      if not err and events then
        if events == "r" then w = "in" elseif events == "w" then w = "out" end
      end
      action(fd, w)
    end)
  end

  local function on_timer(ms)
    if st.closed then return end
    st.timer:stop()
    if ms >= 0 then
      st.timer:start(ms, 0, function() action(nil, "timeout") end)
    end
  end

  -- held by the client table only: the hooks (in the registry) reach st,
  -- and must not reach the guard, or it would never be finalized
  gl._uv_guard = guard(function() release(st) end)
  gl._uv = st
  gl._core:hooks(on_socket, on_timer)
  return gl
end

--- Stops libuv driving a client (also done by `gl:close()`); transfers in
-- flight stay, to be driven by `gl:poll()` / `gl:wait()` or a new attach.
-- @param gl client
function M.detach(gl)
  local st = rawget(gl, "_uv")
  if not st then return end
  gl._uv, gl._uv_guard = false, nil
  st.closed = true
  pcall(function() gl._core:hooks(nil) end)
  release(st)
end

return M
