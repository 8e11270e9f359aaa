--- Shared helpers for the busted specs: the fake GitLab server and its
-- admin API, reached with the `curl` command line tool so that the harness
-- never depends on the library under test.
--
--     local helpers = require("helpers")
--     local srv = helpers.server()      -- { http=, other=, https=, ... }
--     helpers.reset()
--     helpers.fault{ path = "/api/v4/projects", status = 500, times = 2 }
--     local gl = helpers.client()       -- gitlab.new{ url = srv.http, token = "glpat-root" }
--
-- Works under lua5.4 and luajit; needs only lua-cjson.
-- See spec/fake/README.md for the server side.
-- @module helpers

local cjson = require("cjson.safe")

local helpers = {}

local function script_dir()
  local src = debug.getinfo(1, "S").source
  local path = src:sub(1, 1) == "@" and src:sub(2) or "spec/helpers.lua"
  return path:match("^(.*)/[^/]*$") or "."
end

local SPEC_DIR = script_dir()
local ROOT = SPEC_DIR:match("^(.*)/spec$") or (SPEC_DIR == "spec" and ".") or SPEC_DIR .. "/.."

-- The repository's Lua sources and the per-interpreter build, appended so
-- paths given by the environment (LUA_PATH / LUA_CPATH) win.
do
  local build = jit and "build/jit" or "build/5.4"
  local lpath = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua"
  if not package.path:find(lpath, 1, true) then package.path = package.path .. ";" .. lpath end
  local cpath = ROOT .. "/" .. build .. "/?.so"
  if not package.cpath:find(cpath, 1, true) then package.cpath = package.cpath .. ";" .. cpath end
end

helpers.root = ROOT

--- Quotes a string for /bin/sh.
function helpers.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
local q = helpers.shell_quote

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

--- The whole content of a file, or nil when it cannot be opened.
helpers.read_file = read_file
--- Writes `data` to a file (raises on failure).
helpers.write_file = write_file

--- Runs a shell command and returns its whole stdout and its exit status.
-- The status travels on stdout: LuaJIT's pclose does not report it.
function helpers.exec(cmd)
  local p = assert(io.popen("( " .. cmd .. "\n); printf ' __rc=%d' $?", "r"))
  local out = p:read("*a")
  p:close()
  local text, code = out:match("^(.*) __rc=(%d+)$")
  if not text then return out, -1 end
  return text, tonumber(code)
end

--- The interpreter running this process (arg[-n] of busted's command
-- line, e.g. "lua5.4" or "luajit"), for child Lua processes.
function helpers.lua_interpreter()
  local i = -1
  while arg and arg[i - 1] do i = i - 1 end
  return arg and arg[i] or "lua5.4"
end

--- Environment prefix for a child Lua process: under the sanitizer build
-- (which a child cannot load without LD_PRELOAD) it points LUA_CPATH at the
-- plain build of the same interpreter; otherwise "".
function helpers.child_env()
  local ok, core = pcall(require, "gitlab.core")
  if not (ok and core.sanitized) then return "" end
  local build = (type(jit) == "table") and "build/jit" or "build/5.4"
  return "env -u LD_PRELOAD LUA_CPATH=" .. helpers.shell_quote(ROOT .. "/" .. build .. "/?.so;;") .. " "
end

--- Sleeps `s` seconds (fractions allowed).
function helpers.sleep(s)
  os.execute("sleep " .. string.format("%.3f", s))
end

--- A fresh temporary directory (removed by nobody: keep them small).
function helpers.tmpdir()
  local out = helpers.exec("mktemp -d 2>/dev/null || mktemp -d -t lua-gitlab")
  return (out:gsub("%s+$", ""))
end

helpers.json = cjson

-- ------------------------------------------------------------- the server

local server        -- decoded ready line
local alive = {}    -- alive.proc: io.popen handle, our end of the server's stdin
local server_err    -- server stderr file
local scratch       -- temporary directory: certs, server output (the server removes it)
local certs_dir

local function scratch_dir()
  scratch = scratch or helpers.tmpdir()
  return scratch
end

--- Paths of the test certificates (generated once per process with
-- spec/fake/certs.sh): `dir, ca, cert, key, wrong_ca, expired, expired_key,
-- wrong_host, wrong_host_key`.
function helpers.certs()
  if not certs_dir and not server and (os.getenv("GITLAB_FAKE") or "") ~= "" then
    helpers.server()   -- an outside server: use its certificates
  end
  if not certs_dir then
    local from_env = server and server.certs
    if from_env then
      certs_dir = from_env
    else
      certs_dir = scratch_dir() .. "/certs"
      local out, code = helpers.exec("sh " .. q(ROOT .. "/spec/fake/certs.sh") .. " " .. q(certs_dir) .. " 2>&1")
      if code ~= 0 then error("certs.sh failed: " .. out) end
    end
  end
  local d = certs_dir
  return {
    dir = d,
    ca = d .. "/ca.pem",
    cert = d .. "/server.pem",
    key = d .. "/server.key",
    wrong_ca = d .. "/wrong-ca.pem",
    expired = d .. "/expired.pem",
    expired_key = d .. "/expired.key",
    wrong_host = d .. "/wrong-host.pem",
    wrong_host_key = d .. "/wrong-host.key",
  }
end

--- The running fake server's URLs: `{ http, other, https, https_expired,
-- https_wrong_host, certs }`.  Uses the server described by the JSON line
-- in env `GITLAB_FAKE` when set; otherwise starts one (kept for the whole
-- process; it exits when this process does, as its stdin closes).
function helpers.server()
  if server then return server end
  local env = os.getenv("GITLAB_FAKE")
  if env and env ~= "" then
    local s, err = cjson.decode(env)
    if type(s) ~= "table" or not s.http then error("GITLAB_FAKE is not a server line: " .. tostring(err or env)) end
    server = s
    return server
  end
  local certs = helpers.certs()
  local dir = scratch_dir()
  local out = dir .. "/server.out"
  server_err = dir .. "/server.err"
  local node = os.getenv("NODE") or "node"
  local cmd = "exec " .. q(node) .. " " .. q(ROOT .. "/spec/fake/server.js") .. " --tls-dir " .. q(certs.dir) ..
    " --rm-on-exit " .. q(dir) .. " >" .. q(out) .. " 2>" .. q(server_err)
  -- Write mode: the server's stdin is this pipe, so it dies with us.
  alive.proc = assert(io.popen(cmd, "w"))
  local line
  local grace = 1000   -- 10 s at most; 0.5 s once stderr shows an error
  while grace > 0 do
    local s = read_file(out)
    if s then line = s:match("^([^\n]*)\n") end
    if line then break end
    local e = read_file(server_err)
    if e and e:find("Error", 1, true) then grace = math.min(grace, 50) end
    grace = grace - 1
    helpers.sleep(0.01)
  end
  if not line then
    error("fake server did not start: " .. (read_file(server_err) or "(no output)"))
  end
  local s, err = cjson.decode(line)
  if type(s) ~= "table" then error("bad ready line from fake server: " .. tostring(err) .. ": " .. line) end
  s.certs = s.certs or certs.dir
  server = s
  return server
end

--- Stops the server this process started (closing its stdin); the next
-- helpers.server() starts a fresh one.  No effect on a GITLAB_FAKE server
-- beyond forgetting it.
function helpers.stop_server()
  if alive.proc then
    alive.proc:close()   -- waits for the server, which removes the scratch directory
    alive.proc = nil
    scratch, certs_dir, server_err = nil, nil, nil
  end
  server = nil
end

--- Text the server wrote on stderr so far (route module errors, crashes).
function helpers.server_log()
  return server_err and read_file(server_err) or ""
end

--- Main-origin URL for an API path: helpers.api_url("/projects") ->
-- "http://127.0.0.1:P/api/v4/projects".
function helpers.api_url(path, origin)
  return helpers.server()[origin or "http"] .. "/api/v4" .. (path or "")
end

--- URL on an origin ("http" by default): helpers.url("/objects/a", "other").
function helpers.url(path, origin)
  return helpers.server()[origin or "http"] .. (path or "")
end

-- ----------------------------------------------------------------- curl

local function parse_headers(text)
  -- last response block only (after redirects / 100-continue)
  local blocks = {}
  for block in (text .. "\r\n\r\n"):gmatch("(.-)\r\n\r\n") do
    if block ~= "" then blocks[#blocks + 1] = block end
  end
  local last = blocks[#blocks] or ""
  local status_line = last:match("^([^\r\n]*)") or ""
  local headers, list = {}, {}
  for name, value in last:gmatch("\n([^:\r\n]+):[ \t]*([^\r\n]*)") do
    local k = name:lower()
    list[#list + 1] = { k, value }
    if headers[k] then headers[k] = headers[k] .. ", " .. value else headers[k] = value end
  end
  return headers, status_line, list
end

--- Performs one HTTP request with the curl CLI.
-- opts: `method, url, headers = { "Name: v" } or { Name = "v" }, body
-- (string), json (table, sent as JSON), form = { "k=v", "file=@path" },
-- http2 (bool), http1 (bool), cacert, insecure, follow, timeout, output
-- (file path), range`.  Returns `{ status, headers (lowercase keys),
-- header_list, body, code (curl exit status), http_version, error }`.
function helpers.curl(opts)
  if type(opts) == "string" then opts = { url = opts } end
  -- temporary files without spawning processes (os.tmpname creates them)
  local hfile, efile, ifile = os.tmpname(), os.tmpname(), nil
  local bfile = opts.output or os.tmpname()
  local args = { "curl", "-sS", "-g", "-D", q(hfile), "-o", q(bfile), "-w", q("%{http_code} %{http_version}") }
  if opts.method then args[#args + 1] = "-X " .. q(opts.method) end
  local hs = opts.headers or {}
  for k, v in pairs(hs) do
    local h = type(k) == "number" and v or (k .. ": " .. v)
    args[#args + 1] = "-H " .. q(h)
  end
  if opts.json ~= nil then
    ifile = os.tmpname()
    write_file(ifile, assert(cjson.encode(opts.json)))
    args[#args + 1] = "-H 'Content-Type: application/json' --data-binary @" .. q(ifile)
  elseif opts.body ~= nil then
    ifile = os.tmpname()
    write_file(ifile, opts.body)
    args[#args + 1] = "--data-binary @" .. q(ifile)
  end
  for _, f in ipairs(opts.form or {}) do args[#args + 1] = "-F " .. q(f) end
  if opts.upload then args[#args + 1] = "-T " .. q(opts.upload) end
  if opts.http2 then args[#args + 1] = "--http2" end
  if opts.http1 then args[#args + 1] = "--http1.1" end
  if opts.cacert then args[#args + 1] = "--cacert " .. q(opts.cacert) end
  if opts.insecure then args[#args + 1] = "-k" end
  if opts.follow then args[#args + 1] = "-L --max-redirs " .. (opts.max_redirs or 10) end
  if opts.timeout then args[#args + 1] = "-m " .. tostring(opts.timeout) end
  if opts.range then args[#args + 1] = "-r " .. q(opts.range) end
  args[#args + 1] = q(opts.url)
  local out, code = helpers.exec(table.concat(args, " ") .. " 2>" .. q(efile))
  local status, ver = out:match("(%d+) (%S+)")
  local headers, status_line, list = parse_headers(read_file(hfile) or "")
  local res = {
    status = tonumber(status) or 0,
    headers = headers,
    header_list = list,
    status_line = status_line,
    body = not opts.output and (read_file(bfile) or "") or nil,
    code = code,
    http_version = ver,
    error = (read_file(efile) or ""):gsub("%s+$", ""),
  }
  os.remove(hfile)
  os.remove(efile)
  if ifile then os.remove(ifile) end
  if not opts.output then os.remove(bfile) end
  return res
end

--- Decodes a JSON body (cjson.safe: nil, msg on bad JSON).
function helpers.decode(s)
  return cjson.decode(s)
end

--- A curl reply's body as JSON; fails the test when it is not JSON.
function helpers.json_body(r)
  local v, err = helpers.decode(r.body)
  assert(v ~= nil, "not JSON: " .. tostring(err) .. ": " .. tostring(r.body))
  return v
end

--- rel -> url from a Link header value (nil gives {}).
function helpers.links(h)
  local out = {}
  for url, rel in (h or ""):gmatch('<([^>]*)>;%s*rel="([^"]*)"') do out[rel] = url end
  return out
end

helpers.ROOT_TOKEN = { ["PRIVATE-TOKEN"] = "glpat-root" }

--- curl(1) to the fake's API: `path` under /api/v4 (opts.origin picks the
-- origin), as root unless opts.headers says otherwise.
function helpers.api(path, opts)
  opts = opts or {}
  opts.url = helpers.api_url(path, opts.origin)
  opts.origin = nil
  if opts.headers == nil then opts.headers = helpers.ROOT_TOKEN end
  return helpers.curl(opts)
end

-- ------------------------------------------------------------ admin API

--- Percent-encodes everything but unreserved characters.
function helpers.urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

local function query_string(t)
  local parts = {}
  for k, v in pairs(t or {}) do
    if type(v) ~= "function" and type(v) ~= "table" then
      parts[#parts + 1] = k .. "=" .. helpers.urlencode(v)
    end
  end
  table.sort(parts)
  return table.concat(parts, "&")
end

--- Calls the admin API: helpers.admin("POST", "/faults", { ... }).
-- `path` is relative to /__admin.  Returns the decoded JSON; raises on an
-- HTTP error.
function helpers.admin(method, path, body)
  local r = helpers.curl{
    method = method,
    url = helpers.server().http .. "/__admin" .. path,
    json = body,
  }
  if r.code ~= 0 then error("admin " .. method .. " " .. path .. ": curl failed: " .. r.error, 2) end
  local data = cjson.decode(r.body)
  if r.status >= 400 then
    error("admin " .. method .. " " .. path .. ": " .. r.status .. " " .. r.body, 2)
  end
  return data
end

--- Back to the seed state: no faults, empty log, default config.
function helpers.reset()
  return helpers.admin("POST", "/reset")
end

--- Adds a fault (see spec/fake/README.md): { method, path | path_re,
-- times = 1, skip, status, headers, body, delay_ms, action, ... }.
function helpers.fault(spec)
  return helpers.admin("POST", "/faults", spec)
end

--- Sets configuration: { external_url, ratelimit = { limit, remaining, reset }, ... }.
function helpers.config(cfg)
  return helpers.admin("POST", "/config", cfg)
end

--- Adds a token: { token, kind = "private"|"oauth"|"job", user, expired, scopes, expires_in }.
function helpers.token(rec)
  return helpers.admin("POST", "/tokens", rec)
end

--- Seeds a collection: { path = "/projects/1/issues", count = N, template = { title = "Issue {n}" } }.
function helpers.seed(spec)
  return helpers.admin("POST", "/seed", spec)
end

--- Raw store content for an API path (no auth, no pagination):
-- an item, or { count, items } for a collection.
function helpers.store(path)
  return helpers.admin("GET", "/store?path=" .. helpers.urlencode(path))
end

--- The values of every header line named `name` (any case) that the
-- fake's `/__echo` saw, in the order sent: `echo.raw_headers` holds them
-- as written, where `echo.headers` keeps one of a repeated name.
function helpers.header_lines(echo, name)
  local out = {}
  name = name:lower()
  for _, h in ipairs(echo.raw_headers) do
    if h[1]:lower() == name then out[#out + 1] = h[2] end
  end
  return out
end

--- The request log.  `filter`: a table of server-side filters (method,
-- path, path_re, origin = "http"|"https"|"other"|"main", since, limit)
-- whose function values (and a `match` function) are applied here, or a
-- function(entry) -> boolean.
function helpers.requests(filter)
  local fn
  if type(filter) == "function" then
    fn, filter = filter, nil
  elseif type(filter) == "table" then
    fn = filter.match
  end
  local qs = query_string(filter)
  local log = helpers.admin("GET", "/requests" .. (qs ~= "" and "?" .. qs or ""))
  if not fn then return log end
  local out = {}
  for _, e in ipairs(log) do
    if fn(e) then out[#out + 1] = e end
  end
  return out
end

--- The last logged request matching `filter` (as for helpers.requests), or nil.
function helpers.last_request(filter)
  if filter == nil or (type(filter) == "table" and filter.match == nil and filter.limit == nil) then
    -- only the last entry travels
    local f = { limit = 1 }
    for k, v in pairs(filter or {}) do f[k] = v end
    filter = f
  end
  local log = helpers.requests(filter)
  return log[#log]
end

--- Records uploaded to the `other` origin: { method, path, size, sha256, fields, files }.
function helpers.uploads()
  return helpers.admin("GET", "/uploads")
end

--- SHA-256 of a file, using the sha256sum tool.
function helpers.sha256_file(path)
  local out = helpers.exec("sha256sum " .. q(path))
  return out:match("^(%x+)")
end

-- --------------------------------------------------------------- client

--- A client of the library under test pointed at the fake server:
-- gitlab.new with `url` (the http origin, or https with `https = true`,
-- which also sets ca_file) and `token = "glpat-root"` unless another
-- credential is given.  Errors only when called if the library is not
-- built yet.
function helpers.client(opts)
  local ok, gitlab = pcall(require, "gitlab")
  if not ok then error("lua-gitlab is not available (run `make build`): " .. tostring(gitlab), 2) end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local srv = helpers.server()
  if o.https then
    o.https = nil
    o.url = o.url or srv.https
    o.ca_file = o.ca_file or helpers.certs().ca
  end
  o.url = o.url or srv.http
  if o.token == nil and o.oauth_token == nil and o.job_token == nil and o.oauth == nil and not o.anonymous then
    o.token = "glpat-root"
  end
  o.anonymous = nil
  return gitlab.new(o)
end

local luassert = require("luassert")

-- The part of docs/reference.md under the heading "## <title>" (the file
-- read once).
local reference_md
function helpers.reference_section(title)
  reference_md = reference_md or assert(helpers.read_file(helpers.root .. "/docs/reference.md"))
  local at = reference_md:find("\n## " .. title .. "\n", 1, true)
  luassert.is_truthy(at, title)
  return reference_md:sub(at, (reference_md:find("\n## ", at + 1, true) or #reference_md))
end

-- An epic of group 1 whose global id (2) differs from its iid (1): an epic
-- of group 2 is made first, so a path with the wrong one reaches no epic.
function helpers.epic_apart(gl)
  luassert(gl.groups:lazy(2).epics:create{ title = "elsewhere" })
  local epic = luassert(gl.groups:lazy(1).epics:create{ title = "the epic" })
  luassert.equal(1, epic.iid)
  luassert.equal(2, epic.id)
  return epic
end

-- An integer as path text, under Lua 5.4 (42.0 from JSON) and LuaJIT alike.
function helpers.int(n) return ("%d"):format(n) end

-- "METHOD /api/v4/path" of every API request fn makes (with `strip`,
-- "METHOD /path", the path under /api/v4).
function helpers.sent(fn, strip)
  local out = {}
  for _, e in ipairs(helpers.traced(fn)) do
    out[#out + 1] = e.method .. " " .. (strip and e.path:gsub("^/api/v4", "", 1) or e.path)
  end
  return out
end

-- fn makes exactly the one request `want` ("METHOD /path", the path under
-- /api/v4) and succeeds; returns its results.
function helpers.sends(want, fn)
  local result
  local reqs = helpers.sent(function() result = { fn() } end, true)
  luassert.same({ want }, reqs)
  luassert.is_truthy(result[1], tostring(result[2]))
  return result[1], result[2]
end

-- The raw API reaches `path` (sent as it is) and the fake answers `status`:
-- a route the resource layer does not (or no longer) send.
function helpers.raw_reaches(gl, method, path, status)
  local data, err
  local reqs = helpers.sent(function() data, err = gl:request(method, path) end, true)
  luassert.same({ method .. " " .. path }, reqs)
  luassert.is_nil(data)
  luassert.equal(status, err.status)
end

--- Runs fn and returns the API requests the fake saw meanwhile (its log
-- entries, admin calls left out).
function helpers.traced(fn)
  local log = helpers.requests{ limit = 1 }
  local mark = log[1] and log[1].seq or 0
  fn()
  local out = {}
  for _, e in ipairs(helpers.requests{ since = mark }) do
    if not e.path:find("^/__admin") then out[#out + 1] = e end
  end
  return out
end

--- Signs in with the fake's device flow (approved at once, with a refresh
-- token: doc/api/oauth2.md's device example has none, the fake gives one
-- when asked) and returns the token pair.
function helpers.device_sign_in(client_id)
  helpers.admin("POST", "/oauth", { device_script = { "approved" }, device_refresh_token = true })
  return assert(require("gitlab.oauth").device_login{ url = helpers.server().http,
    client_id = client_id or "lua-gitlab-public", scopes = { "api" },
    on_code = function() end, sleep = function() end })
end

--- A client of the library on the OAuth pair `t` (from device_sign_in):
-- `expires_in` seconds from now (3600 unless given), every new pair
-- appended to the returned list by on_refresh; `extra` adds client
-- options. Returns the client and that list.
function helpers.oauth_client(t, expires_in, extra)
  local saved = {}
  local o = { url = helpers.server().http, oauth = {
    client_id = "lua-gitlab-public", access_token = t.access_token, refresh_token = t.refresh_token,
    expires_at = os.time() + (expires_in or 3600),
    on_refresh = function(tokens) saved[#saved + 1] = tokens end,
  } }
  for k, v in pairs(extra or {}) do o[k] = v end
  return require("gitlab").new(o), saved
end

return helpers
