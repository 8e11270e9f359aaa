--- lua-gitlab: a GitLab REST API v4 client.
--
--     local gitlab = require("gitlab")
--     local gl = gitlab.new{ url = "https://gitlab.example.com", token = "glpat-..." }
--     local project, err = gl:get("/projects/" .. gitlab.encode("group/proj"))
--
-- @module gitlab

local core = require("gitlab.core")
local Client = require("gitlab.client")
local util = require("gitlab.util")

local M = {
  _VERSION = core.version,
  core = core,
  errors = require("gitlab.errors"),
  async = require("gitlab.async"),
  null = core.null,   -- lightuserdata NULL: the value cjson.null is too
}

-- The options, each listed once (gitlab.options): name, type, default,
-- whether the core takes it as it is.
local options = require("gitlab.options")
local OPTIONS = {}
for _, name in ipairs(options.NEW) do OPTIONS[name] = options.by_name[name] end


--- Encodes a project/group path, branch or file name as one URL segment.
-- @tparam string|number s e.g. "group/proj"
-- @treturn string "group%2Fproj"
function M.encode(s)
  return core.encode(s)
end

--- Marks `t` (a new empty table by default) as a JSON array, so that it is
-- sent as `[]` even when empty; a plain empty table is sent as `{}`.
-- Decoded arrays carry the same mark (`core.array_mt`).
-- @tparam[opt] table t a list, keys 1..n
-- @treturn table t
function M.array(t)
  if t ~= nil and type(t) ~= "table" then error("gitlab.array: t must be a table", 2) end
  return setmetatable(t or {}, core.array_mt)
end

-- Replaces every occurrence of the secret by "[REDACTED]".
local function make_redactor()
  local secret
  local function redact(s)
    return util.redact_secret(s, secret)
  end
  return redact, function(v) secret = v end
end

--- Creates a client.
-- @tparam table opts the options of `gitlab.options.list` (name, type and
--   default each listed there once): `url` ("https://gitlab.com"; "/api/v4"
--   is appended unless present), one credential (`token`, `oauth_token`,
--   `job_token` or `oauth = {...}` for automatic refresh), `sudo`,
--   `timeout`, `connect_timeout`, `retries`, `retry_base`, `max_wait`,
--   `deadline`, `per_page`, `concurrency`, `offset_limit` (GitLab's
--   maximum offset for offset pagination, 50000; 0: none), `verify`,
--   `ca_file`, `proxy`,
--   `user_agent`, `headers`, `log` (function(line) or true for stderr),
--   `allow_insecure`, `http2`, `max_body` (bytes of a buffered answer,
--   after decompression; `math.huge` for no bound; larger answers fail
--   with kind `too_large`)
-- @return client
function M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("gitlab.new: options must be a table", 2) end
  if opts.log ~= nil and not options.type_ok(options.by_name.log, opts.log) then
    error("gitlab.new: log must be a function or true", 2)
  end
  options.check("gitlab.new", opts, OPTIONS, 2)
  local creds = 0
  for _, k in ipairs(options.CREDENTIALS) do
    if opts[k] ~= nil then creds = creds + 1 end
  end
  if creds > 1 then
    error("gitlab.new: give only one of token, oauth_token, job_token and oauth", 2)
  end
  local ol = opts.offset_limit
  if ol ~= nil and (ol ~= ol or ol < 0) then
    error("gitlab.new: option 'offset_limit' must be a number >= 0 (0: no limit)", 2)
  end
  for _, k in ipairs(options.LINES) do
    local v = opts[k]
    if v ~= nil and v:find("[%z\r\n]") then
      error(("gitlab.new: option '%s' must not hold line breaks or NUL bytes"):format(k), 2)
    end
  end
  local url = opts.url or options.by_name.url.default
  -- one policy (core.transport_refusal) for the core, this and the OAuth
  -- flows: http(s) only, no userinfo, plain http with a credential only to
  -- loopback and not through a proxy, unless allow_insecure
  local why = core.transport_refusal(url, { credential = creds > 0,
    proxy = opts.proxy, allow_insecure = opts.allow_insecure })
  if why then error("gitlab.new: " .. why, 2) end
  local base, root = util.api_urls(url)
  local auth, secret
  for _, k in ipairs(options.TOKENS) do
    if opts[k] ~= nil then auth, secret = options.by_name[k].auth, opts[k] end
  end
  local headers
  if opts.headers then
    headers = {}
    local keys = {}
    for k in pairs(opts.headers) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do headers[#headers + 1] = k .. ": " .. tostring(opts.headers[k]) end
  end
  local log = opts.log
  if log == true then
    log = function(line) io.stderr:write("gitlab: ", line, "\n") end
  end
  local redact, set_secret = make_redactor()
  set_secret(secret)
  -- the core options as they are, then those shaped here
  local copts = {}
  for _, k in ipairs(options.CORE) do copts[k] = opts[k] end
  copts.base, copts.auth, copts.token, copts.headers, copts.log = base, auth, secret, headers, log
  local c = core.client(copts)
  local self = setmetatable({
    url = base, root = root,
    per_page = opts.per_page or options.by_name.per_page.default,
    concurrency = opts.concurrency or options.by_name.concurrency.default,
    offset_limit = opts.offset_limit or options.by_name.offset_limit.default,
    _core = c,
    _ctx = { base = base, root = root, redact = redact, set_secret = set_secret },
    -- fields read on every request, false until set, so that their
    -- lookups never reach Client.__index (a function call each)
    _hooks = false,   -- OAuth hooks
    _uv = false,      -- the libuv attachment (gitlab.async.attach)
    _waiters = false, -- coroutines waiting on this client (send.request)
  }, Client)
  if opts.verify == false and (secret or opts.oauth) and log then
    -- once per client: every request of it could go to an impostor
    pcall(log, "verify = false: TLS certificates are not checked, so the credential "
      .. "may be sent to an impostor of " .. (core.origin(root) or "the server"))
  end
  if opts.oauth then
    self._hooks = require("gitlab.oauth").attach(self, opts.oauth, opts)
  end
  return self
end

--- Creates a client from the environment: token from `GITLAB_TOKEN`, then
-- `GITLAB_ACCESS_TOKEN`, then `GITLAB_OAUTH_TOKEN` or `OAUTH_TOKEN` (sent as
-- Bearer); inside a CI job (`GITLAB_CI=true`) with none of them,
-- `CI_JOB_TOKEN`. Host from `GITLAB_URL`, then `GITLAB_HOST`, then
-- `CI_SERVER_URL` (a bare host is https), else gitlab.com. The variables
-- are read as `gitlab.config` reads them (`gitlab.options.from_environment`).
-- @tparam[opt] table overrides options given to `gitlab.new` on top
function M.from_env(overrides)
  local opts = options.from_environment(overrides and overrides.getenv, true)
  opts.url = opts.url or options.by_name.url.default
  if overrides then
    local has_cred = false
    for _, k in ipairs(options.CREDENTIALS) do
      if overrides[k] ~= nil then has_cred = true end
    end
    for k, v in pairs(overrides) do
      if k ~= "getenv" then opts[k] = v end
    end
    if has_cred then
      -- an override's credential replaces the environment's
      for _, k in ipairs(options.CREDENTIALS) do
        if overrides[k] == nil then opts[k] = nil end
      end
    end
  end
  return M.new(opts)
end

--- Creates a client for a named instance of the configuration file
-- (see `gitlab.config`). @tparam[opt] string name
-- @return client or nil, err
function M.from_config(name, lopts)
  local opts, meta = require("gitlab.config").load(name, lopts)
  if not opts then return nil, meta end
  return M.new(opts)
end

return M
