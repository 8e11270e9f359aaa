--- Monotonic wall clock shared by the benchmark clients (W3 waits, so CPU
-- time will not do): clock_gettime through the FFI under LuaJIT,
-- lua-socket's gettime under Lua 5.4, os.clock as the last resort.
-- Loaded with dofile(BENCH_DIR .. "/clock.lua"); returns the clock function.
if type(jit) == "table" then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk, bench_timespec *ts);
  ]]
  local ts = ffi.new("bench_timespec")
  return function()
    ffi.C.clock_gettime(1, ts)   -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
  end
end
local ok, socket = pcall(require, "socket")
if ok and socket.gettime then return socket.gettime end
io.stderr:write("bench: no wall clock (install lua-socket); using os.clock\n")
return os.clock
