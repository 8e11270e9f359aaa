--- Wire fuzzer, client half: one client sends requests, blocking and
-- async, to fuzz/wire/server.js, which answers each with a generated and
-- often broken HTTP response. Every answer must end as data or as an
-- error object with a kind and a one-line message; a crash or a sanitizer
-- report (run it on the ASan build) is a bug, replayed with the same seed.
--
--     make fuzz-wire [WIRE_SEED=n WIRE_REQUESTS=n]
--     lua5.4 fuzz/wire/client.lua [--seed n] [--requests n]
--
-- Needs LUA_PATH/LUA_CPATH set to the repository's lua/ and a build.

local function opt(name, default)
  for i = 1, #arg - 1 do
    if arg[i] == "--" .. name then return tonumber(arg[i + 1]) or arg[i + 1] end
  end
  return default
end

local SEED = opt("seed", 1)
local N = opt("requests", 2000)

local gitlab = require("gitlab")
local errors = require("gitlab.errors")
local cjson = require("cjson.safe")

local M = {}

local function sleep(s) os.execute(("sleep %.2f"):format(s)) end

-- Starts the server; returns its URL and the handle whose closing stops it.
local function start(seed, last)
  local dir = (os.getenv("TMPDIR") or "/tmp")
  local out = os.tmpname()
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "fuzz/wire"
  local proc = assert(io.popen(("exec node %s/server.js --seed %d%s > %s"):format(here, seed,
    last and (" --last " .. last) or "", out), "w"))
  for _ = 1, 500 do
    local f = io.open(out, "r")
    local line = f and f:read("*l")
    if f then f:close() end
    if line then
      os.remove(out)
      return cjson.decode(line).http, proc
    end
    sleep(0.02)
  end
  error("wire server did not start (" .. dir .. ")")
end

-- Checks one outcome; returns its kind for the tally, or raises.
local function check(i, data, err)
  if data ~= nil then
    if err == nil or type(err) ~= "table" or type(err.status) ~= "number" then
      error(("request %d: data without a response table"):format(i))
    end
    return "ok " .. math.floor(err.status / 100) .. "xx"
  end
  if not errors.is_error(err) then
    error(("request %d: failure without an error object: %s"):format(i, tostring(err)))
  end
  if type(err.kind) ~= "string" then error(("request %d: error without a kind"):format(i)) end
  local msg = tostring(err)
  if type(msg) ~= "string" or msg:find("[\r\n]") then
    error(("request %d: error message not one line: %q"):format(i, msg))
  end
  return err.kind .. (err.status and (" " .. err.status) or "")
end

--- Runs `n` requests against a wire server with `seed`; returns the tally
-- { [outcome] = count }. Raises on a broken contract.
function M.run(seed, n, last)
  local url, proc = start(seed, last)
  local gl = gitlab.new{ url = url, token = "glpat-wire", retries = 1, retry_base = 0.01,
                         max_wait = 0.2, timeout = 2, connect_timeout = 2, deadline = 5 }
  local out = os.tmpname()
  os.remove(out)
  local tally = {}
  local function count(k) tally[k] = (tally[k] or 0) + 1 end
  local i = 0
  while i < n do
    if i % 5 == 4 then
      -- a burst of async requests through the multi engine
      local pending = 0
      for j = 1, 8 do
        pending = pending + 1
        local id = i + j
        gl:request_async("GET", "/user", nil, function(err, data, resp)
          pending = pending - 1
          if data == nil then count(check(id, nil, err)) else count(check(id, data, resp)) end
        end)
      end
      -- poll rather than wait(): a transfer that never finishes is a bug
      -- to report, not a hang
      local t0 = os.time()
      while gl:running() > 0 do
        gl:poll(0.1)
        if os.time() - t0 > 30 then
          error(("requests %d-%d: async transfers still running after 30 s"):format(i + 1, i + 8))
        end
      end
      gl:poll(0)
      if pending ~= 0 then error("async: " .. pending .. " callbacks never ran") end
      i = i + 8
    elseif i % 7 == 6 then
      -- a streamed download, sometimes resuming a .part file: the file
      -- appears only on success, and a failure leaves no final file
      i = i + 1
      local resume = i % 2 == 0
      os.remove(out); os.remove(out .. ".part")
      if resume then
        local f = assert(io.open(out .. ".part", "wb"))
        f:write("0123456789")
        f:close()
      end
      local ok, resp = gl:download("/projects/1/repository/files/f/raw", { output = out, resume = resume })
      local kind = check(i, ok, resp)
      local f = io.open(out, "rb")
      if f then f:close() end
      if (ok ~= nil) ~= (f ~= nil) then
        error(("request %d: download %s but the output file is %s"):format(i,
          ok and "succeeded" or "failed", f and "there" or "missing"))
      end
      count("download " .. kind)
    elseif i % 11 == 10 then
      i = i + 1
      local data, resp = gl:post("/projects", { name = "wire", description = ("x"):rep(i % 300) })
      count("post " .. check(i, data, resp))
    else
      i = i + 1
      local data, resp = gl:get(i % 3 == 0 and "/projects" or "/user")
      count(check(i, data, resp))
    end
  end
  os.remove(out); os.remove(out .. ".part")
  gl:close()
  proc:close()
  return tally
end

if (...) ~= "wire" then
  local t0 = os.time()
  local last = opt("last", nil)
  io.write(("wire fuzz: seed %d, %d requests\n"):format(SEED, N))
  local tally = M.run(SEED, N, last)
  local keys = {}
  for k in pairs(tally) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do io.write(("  %-22s %d\n"):format(k, tally[k])) end
  io.write(("done in %d s\n"):format(os.time() - t0))
end

return M
