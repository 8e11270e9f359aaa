--- Configuration files with named GitLab instances.
--
-- The file is Lua source run in an empty environment: no functions of the
-- standard library are reachable from it (no `os`, `io`, `require`, no
-- string methods), text only (bytecode is refused), bounded in memory and
-- run time, and every global it assigns becomes a setting. Lua users
-- already read and write this format, it has comments and nested tables
-- (the `oauth` pair), and it needs no parser of our own.
--
--     -- $XDG_CONFIG_HOME/lua-gitlab/config.lua  (~/.config/lua-gitlab/...)
--     default = "work"
--     work = {
--       url = "https://gitlab.example.com",
--       token = "glpat-...",                  -- or oauth_token, job_token,
--       timeout = 30, per_page = 100,         -- or oauth = { client_id=,
--       ca_file = "/etc/ssl/corp.pem",        --   access_token=, ... },
--     }                                       -- or token_command
--     com = { url = "https://gitlab.com", token_command = "pass show gl",
--             token_command_timeout = 30 }     -- seconds, the default
--
-- A second file beside it, `credentials.lua`, same shape, is written by
-- this module (mode 0600) and merged over the config: OAuth tokens saved
-- after a sign-in or a refresh land there, so the hand-written config
-- keeps its comments.
--
-- Contract with `gitlab.from_config(name)` in init.lua:
--
--     local opts, meta = require("gitlab.config").load(name)
--     if not opts then return nil, meta end      -- meta is the error
--     return gitlab.new(opts)
--
-- `load` returns a table of `gitlab.new` options (url, at most one
-- credential: token | oauth_token | job_token | oauth = {..., on_refresh},
-- and settings such as timeout, per_page, ca_file, proxy), and a second
-- value `{ name = instance, path = config file }`. For an `oauth` instance
-- `on_refresh` is set to save the new pair in credentials.lua.
--
-- Environment (only when no instance name is passed to `load`):
-- `GITLAB_CONFIG` (file path), `GITLAB_INSTANCE` (instance name),
-- `GITLAB_URL` or `GITLAB_HOST` (url; a bare host is https),
-- `GITLAB_TOKEN` or `GITLAB_ACCESS_TOKEN` (token), `GITLAB_OAUTH_TOKEN` or
-- `OAUTH_TOKEN` (oauth_token), read as `gitlab.from_env` reads them
-- (`gitlab.options.from_environment`) but for the CI job's variables. An explicitly named instance is used
-- exactly as the file says, so a shell's GITLAB_TOKEN for one host is not
-- sent to another. When GITLAB_URL moves the default instance to another
-- host, the file's credential is not sent there.
-- `XDG_CONFIG_HOME` and `HOME` locate the file in every case.
--
-- @module gitlab.config

local core = require("gitlab.core")

local M = {}

local MAX_FILE = 1024 * 1024

--- Memory a config file may use while it runs (bytes).
M.MAX_MEMORY = 32 * 1024 * 1024
--- VM instructions a config file may run (about 60 ms).
M.MAX_INSTRUCTIONS = 10000000

-- Instance keys, from the one list of options (gitlab.options): SETTINGS
-- go to gitlab.new as they are, CREDENTIALS are exclusive (token_command
-- included). token_kind and token_command_timeout are checked in
-- to_options.
local options = require("gitlab.options")
local SETTINGS, CREDENTIALS = {}, {}
for _, o in ipairs(options.list) do
  if o.config and o.credential then
    CREDENTIALS[o.name] = o.type
  elseif o.config and o.new ~= false then
    SETTINGS[o.name] = o.type
  end
end
-- token_kind names the credential a token_command prints
local TOKEN_KINDS = {}
for _, k in ipairs(options.TOKENS) do TOKEN_KINDS[k] = true end
local TOKEN_KIND_WORDS = options.or_words(options.TOKENS)
local OAUTH_KEYS = {
  client_id = "string", client_secret = "string", access_token = "string",
  refresh_token = "string", expires_at = "number", redirect_uri = "string",
  code_verifier = "string", scope = "string", token_type = "string", created_at = "number",
}
-- What a sign-in or refresh gives and save_tokens keeps: the pair and what
-- its next refresh sends (doc/api/oauth2.md: a PKCE pair's refresh sends
-- redirect_uri and code_verifier).
local OAUTH_SAVED = { "access_token", "refresh_token", "expires_at", "scope",
                      "token_type", "created_at", "redirect_uri", "code_verifier" }

-------------------------------------------------------------------------------
-- helpers
-------------------------------------------------------------------------------

local function default_warn(msg)
  io.stderr:write("lua-gitlab: ", msg, "\n")
end

local function env_of(opts)
  return opts.getenv or os.getenv
end

local function nonempty(s)
  if type(s) == "string" and s ~= "" then return s end
  return nil
end

local function check_lopts(fname, lopts)
  if lopts == nil then return {} end
  if type(lopts) ~= "table" then
    error(("config.%s: options must be a table"):format(fname), 3)
  end
  return lopts
end

local copy = require("gitlab.util").deepcopy

-- scheme://host:port of a URL, lower case, default ports filled in: the
-- core's (core.origin), the one the client compares redirects with.
local function origin(url)
  if type(url) ~= "string" then return nil end
  return core.origin(url)
end

-------------------------------------------------------------------------------
-- locations
-------------------------------------------------------------------------------

local function config_dir(getenv)
  local xdg = nonempty(getenv("XDG_CONFIG_HOME"))
  -- The XDG spec says relative paths are invalid and must be ignored.
  if xdg and xdg:sub(1, 1) == "/" then
    return xdg .. "/lua-gitlab"
  end
  local home = nonempty(getenv("HOME"))
  if home then return home .. "/.config/lua-gitlab" end
  return nil
end

--- Where the config file is.
-- @tparam[opt] table lopts `path` (explicit file), `getenv`
-- @treturn string|nil path, or nil when neither XDG_CONFIG_HOME nor HOME
--   is set
function M.path(lopts)
  lopts = check_lopts("path", lopts)
  if lopts.path then return lopts.path end
  local getenv = env_of(lopts)
  local explicit = nonempty(getenv("GITLAB_CONFIG"))
  if explicit then return explicit end
  local dir = config_dir(getenv)
  return dir and (dir .. "/config.lua") or nil
end

--- Where the credentials file is (beside the config file).
-- @tparam[opt] table lopts `credentials_path`, or as for `path`
-- @treturn string|nil
function M.credentials_path(lopts)
  lopts = check_lopts("credentials_path", lopts)
  if lopts.credentials_path then return lopts.credentials_path end
  local path = M.path(lopts)
  if not path then return nil end
  local dir = path:match("^(.*)/[^/]*$") or "."
  return dir .. "/credentials.lua"
end

-------------------------------------------------------------------------------
-- reading
-------------------------------------------------------------------------------

local function has_credentials(t)
  for _, inst in pairs(t) do
    if type(inst) == "table" then
      for k in pairs(CREDENTIALS) do
        if k ~= "token_command" and inst[k] ~= nil then return true end
      end
    end
  end
  return false
end

-- Warn when a file holding credentials can be read by other users.
local function check_mode(path, t, warn)
  if not has_credentials(t) then return end
  local mode = core.file_mode(path)
  if not mode then return end
  local group_other = mode % 64            -- the ----rwxrwx bits
  local group_r = group_other >= 32
  local other_r = group_other % 8 >= 4
  if group_r or other_r then
    warn(("%s holds credentials and is readable by %s (mode %03o); "
      .. "run: chmod 600 %s"):format(path, other_r and "everyone" or "its group",
      mode % 512, path))
  end
end

--- Parse config text (Lua source, run in an empty environment).
-- The source runs in a Lua state of its own (gitlab.core's sandbox): no
-- function and no string method is reachable, memory is capped at
-- `M.MAX_MEMORY` bytes and the run at `M.MAX_INSTRUCTIONS` VM
-- instructions; its globals (and a returned table) are copied out as
-- plain data (strings, numbers, booleans, tables; functions are dropped).
-- @tparam string text
-- @tparam[opt] string name chunk name for messages
-- @return table of top-level settings, or nil, message (naming `name`)
function M.parse(text, name)
  if type(text) ~= "string" then
    error("config.parse: text must be a string", 2)
  end
  name = name or "config"
  if text:sub(1, 1) == "\27" then
    return nil, name .. ": precompiled chunks are not accepted"
  end
  if #text > MAX_FILE then return nil, name .. ": file too large" end
  local ok, env, ret, rtype = core.sandbox(text, name, M.MAX_MEMORY, M.MAX_INSTRUCTIONS)
  if not ok then
    -- Lua's own messages carry "name:line:"; a few (stack overflow) none
    if env:sub(1, #name + 1) ~= name .. ":" then env = name .. ": " .. env end
    return nil, env
  end
  if rtype ~= nil then
    return nil, name .. ": the file must return a table or assign settings"
  end
  if ret ~= nil then
    for k, v in pairs(ret) do env[k] = v end
  end
  if env.default ~= nil and type(env.default) ~= "string" then
    return nil, name .. ": 'default' must be the name of an instance"
  end
  return env
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err, "missing" end
  local text = f:read(MAX_FILE + 1)
  f:close()
  text = text or ""
  if #text > MAX_FILE then return nil, path .. ": file too large" end
  return text
end

--- Read the config file and the credentials file, merged.
-- Missing files are not errors (an empty table is returned).
-- @tparam[opt] table lopts `path`, `credentials_path`, `getenv`, `warn`
-- @return table `{ default = name, <name> = instance, ... }`, or nil, message
function M.read(lopts)
  lopts = check_lopts("read", lopts)
  local warn = lopts.warn or default_warn
  local result = {}
  local files = { M.path(lopts), M.credentials_path(lopts) }
  for i = 1, 2 do
    local path = files[i]
    if path then
      local text, err, why = read_file(path)
      if text then
        local t, perr = M.parse(text, path)
        if not t then return nil, perr end
        check_mode(path, t, warn)
        for k, v in pairs(t) do
          if type(v) == "table" and type(result[k]) == "table" then
            -- credentials.lua merges into the config's instance; the oauth
            -- pair merges key by key (client_id stays in config.lua).
            for ik, iv in pairs(v) do
              if ik == "oauth" and type(iv) == "table"
                 and type(result[k].oauth) == "table" then
                for ok, ov in pairs(iv) do result[k].oauth[ok] = ov end
              else
                result[k][ik] = iv
              end
            end
          elseif i == 1 or type(v) == "table" then
            result[k] = v
          end
        end
      elseif why ~= "missing" then
        return nil, err
      end
    end
  end
  return result
end

-------------------------------------------------------------------------------
-- token_command
-------------------------------------------------------------------------------

--- Seconds a token_command may run before it is killed (per instance:
-- `token_command_timeout`).
M.TOKEN_COMMAND_TIMEOUT = options.by_name.token_command_timeout.default

-- Runs cmd with /bin/sh (gitlab.core's run_command: a process group of its
-- own, killed at the deadline; only the shell is waited for, so a
-- background child holding stdout does not block) and returns its first
-- line, or nil and what went wrong (never the output: it may be the token).
local function default_run(cmd, timeout)
  local out, how, code = core.run_command(cmd, timeout or M.TOKEN_COMMAND_TIMEOUT)
  if how == "exit" and code == 0 or how == "unknown" then
    return out:match("^[^\n]*")
  elseif how == "exit" then
    return nil, ("exit status %d"):format(code)
  elseif how == "signal" then
    return nil, ("killed by signal %d"):format(code)
  elseif how == "timeout" then
    return nil, ("no answer within %g s, killed (token_command_timeout)"):format(code)
  end
  return nil, "cannot run /bin/sh: " .. tostring(code)
end

local function run_token_command(cmd, name, run, timeout)
  local line, err = run(cmd, timeout)
  -- The command and its output stay out of messages: either may hold the
  -- secret (`echo glpat-...`).
  if not line then
    return nil, ("token_command of instance '%s' failed: %s")
      :format(name, tostring(err))
  end
  line = line:gsub("\r$", ""):gsub("^%s+", ""):gsub("%s+$", "")
  if line == "" then
    return nil, ("token_command of instance '%s' printed nothing"):format(name)
  end
  if line:find("[%z\r\n]") then   -- the token goes into a header line
    return nil, ("token_command of instance '%s' printed a line break or NUL byte "
      .. "inside the token"):format(name)
  end
  return line
end

-------------------------------------------------------------------------------
-- writing
-------------------------------------------------------------------------------

local IDENT = "^[%a_][%w_]*$"
local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in
  local nil not or repeat return then true until while]]):gmatch("%a+") do
  KEYWORDS[w] = true
end

local function serialize_value(v, indent, out)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = ("%q"):format(v):gsub("\\\n", "\\n")
  elseif tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      error("config: cannot save a non-finite number", 4)
    end
    if math.floor(v) == v and math.abs(v) < 2^53 then
      out[#out + 1] = ("%d"):format(v)
    else
      out[#out + 1] = ("%.17g"):format(v)
    end
  elseif tv == "boolean" then
    out[#out + 1] = tostring(v)
  elseif tv == "table" then
    local keys = {}
    for k, kv in pairs(v) do
      if type(kv) ~= "function" then keys[#keys + 1] = k end
    end
    table.sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == "number"
    end)
    if #keys == 0 then
      out[#out + 1] = "{}"
      return
    end
    out[#out + 1] = "{\n"
    local inner = indent .. "  "
    for _, k in ipairs(keys) do
      out[#out + 1] = inner
      if type(k) == "string" and k:match(IDENT) and not KEYWORDS[k] then
        out[#out + 1] = k
      elseif type(k) == "string" then
        out[#out + 1] = "[" .. ("%q"):format(k) .. "]"
      elseif type(k) == "number" then
        out[#out + 1] = "[" .. ("%d"):format(k) .. "]"
      else
        error("config: cannot save a key of type " .. type(k), 4)
      end
      out[#out + 1] = " = "
      serialize_value(v[k], inner, out)
      out[#out + 1] = ",\n"
    end
    out[#out + 1] = indent .. "}"
  else
    error("config: cannot save a value of type " .. tv, 4)
  end
end

--- Serialize a settings table to config text (top-level assignments).
-- @tparam table t `{ default = name, <name> = instance, ... }`
-- @treturn string
function M.serialize(t)
  if type(t) ~= "table" then
    error("config.serialize: expected a table", 2)
  end
  local keys = {}
  for k, v in pairs(t) do
    if type(k) ~= "string" or not k:match(IDENT) or KEYWORDS[k] then
      error(("config.serialize: %q is not a valid instance name")
        :format(tostring(k)), 2)
    end
    if type(v) ~= "function" then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    if a == "default" then return b ~= "default" end
    if b == "default" then return false end
    return a < b
  end)
  local out = { "-- lua-gitlab configuration (written by gitlab.config)\n" }
  for _, k in ipairs(keys) do
    out[#out + 1] = k .. " = "
    serialize_value(t[k], "", out)
    out[#out + 1] = "\n"
  end
  return table.concat(out)
end

--- Write a whole config file (mode 0600, atomically; the directory is
-- created with mode 0700). Comments in an existing file are not kept.
-- @tparam table t `{ default = name, <name> = instance, ... }`
-- @tparam[opt] table lopts `path`, `getenv`
-- @return true or nil, message
function M.save(t, lopts)
  lopts = check_lopts("save", lopts)
  local text = M.serialize(t)
  local path = M.path(lopts)
  if not path then return nil, "no config location: HOME is not set" end
  return core.write_private(path, text)
end

--- Save an OAuth pair for an instance in credentials.lua (mode 0600).
-- @tparam string name instance name
-- @tparam table tokens `{ access_token, refresh_token, expires_at, ... }`
-- @tparam[opt] table lopts `credentials_path`, `path`, `getenv`
-- @return true or nil, message
function M.save_tokens(name, tokens, lopts)
  if type(name) ~= "string" or not name:match(IDENT) or KEYWORDS[name] then
    error("config.save_tokens: invalid instance name", 2)
  end
  if type(tokens) ~= "table" then
    error("config.save_tokens: tokens must be a table", 2)
  end
  lopts = check_lopts("save_tokens", lopts)
  local path = M.credentials_path(lopts)
  if not path then return nil, "no config location: HOME is not set" end
  local creds = {}
  local text, err, why = read_file(path)
  if text then
    local t, perr = M.parse(text, path)
    if not t then return nil, perr end
    creds = t
  elseif why ~= "missing" then
    return nil, err
  end
  local inst = type(creds[name]) == "table" and creds[name] or {}
  local oauth = type(inst.oauth) == "table" and inst.oauth or {}
  for _, k in ipairs(OAUTH_SAVED) do
    if tokens[k] ~= nil then oauth[k] = tokens[k] end
  end
  inst.oauth = oauth
  creds[name] = inst
  return core.write_private(path, M.serialize(creds))
end

-------------------------------------------------------------------------------
-- load: instance -> gitlab.new options
-------------------------------------------------------------------------------

-- Build gitlab.new options from one instance table. Returns opts or nil, msg.
local function to_options(name, inst, lopts, warn)
  local opts = {}
  local creds = {}
  for k, v in pairs(inst) do
    local want = SETTINGS[k] or CREDENTIALS[k]
    if k == "token_kind" then
      if not TOKEN_KINDS[v] then
        return nil, ("instance '%s': token_kind must be %s"):format(name, TOKEN_KIND_WORDS)
      end
    elseif k == "token_command_timeout" then
      if type(v) ~= "number" or not (v > 0 and v < 1e9) then
        return nil, ("instance '%s': token_command_timeout must be a positive "
          .. "number of seconds"):format(name)
      end
    elseif not want then
      warn(("instance '%s': unknown setting '%s' ignored"):format(name, tostring(k)))
    elseif type(v) ~= want then
      return nil, ("instance '%s': '%s' must be a %s"):format(name, k, want)
    elseif CREDENTIALS[k] then
      creds[#creds + 1] = k
    else
      opts[k] = v
    end
  end
  if #creds > 1 then
    table.sort(creds)
    return nil, ("instance '%s' has more than one credential (%s)")
      :format(name, table.concat(creds, ", "))
  end
  local kind = creds[1]
  if kind == "token_command" then
    local tok, err = run_token_command(inst.token_command, name,
      lopts.run or default_run, inst.token_command_timeout or M.TOKEN_COMMAND_TIMEOUT)
    if not tok then return nil, err end
    opts[inst.token_kind or "token"] = tok
  elseif kind == "oauth" then
    local o = {}
    for k, v in pairs(inst.oauth) do
      if not OAUTH_KEYS[k] then
        warn(("instance '%s': unknown oauth setting '%s' ignored"):format(name, tostring(k)))
      elseif type(v) ~= OAUTH_KEYS[k] then
        return nil, ("instance '%s': oauth.%s must be a %s")
          :format(name, k, OAUTH_KEYS[k])
      else
        o[k] = v
      end
    end
    if not o.access_token and not o.refresh_token then
      return nil, ("instance '%s': oauth needs access_token or refresh_token "
        .. "(sign in first)"):format(name)
    end
    -- Several processes may share this pair: the one that refreshes first
    -- wins, the others pick its pair up from credentials.lua.
    o.reload = function()
      local cfg = M.read(lopts)
      local saved = cfg and cfg[name]
      return type(saved) == "table" and saved.oauth or nil
    end
    o.on_refresh = function(tokens)
      local ok, err = M.save_tokens(name, tokens, lopts)
      if not ok then
        warn(("could not save the refreshed OAuth tokens of '%s': %s")
          :format(name, tostring(err)))
      end
    end
    opts.oauth = o
  elseif kind then
    opts[kind] = inst[kind]
  end
  return opts
end

--- Options for `gitlab.new` from a named instance of the config file.
-- @tparam[opt] string name instance name; default: `GITLAB_INSTANCE`, the
--   file's `default`, or its only instance
-- @tparam[opt] table lopts `path`, `credentials_path`, `getenv(name)`,
--   `warn(msg)`, `run(cmd, timeout) -> first line | nil, err` (token_command)
-- @return options table and `{ name, path }`, or nil and a message
function M.load(name, lopts)
  if name ~= nil and type(name) ~= "string" then
    error("config.load: instance name must be a string", 2)
  end
  lopts = check_lopts("load", lopts)
  local getenv = env_of(lopts)
  local warn = lopts.warn or default_warn
  local path = M.path(lopts)

  local cfg, err = M.read(lopts)
  if not cfg then return nil, err end

  local use_env = name == nil
  if use_env then name = nonempty(getenv("GITLAB_INSTANCE")) end
  if name == nil then name = cfg.default end
  if name == nil then
    local only
    for k, v in pairs(cfg) do
      if type(v) == "table" then
        if only then only = false; break end
        only = k
      end
    end
    name = only or nil
  end

  local inst
  if name ~= nil then
    inst = cfg[name]
    if type(inst) ~= "table" then
      return nil, ("no instance '%s' in %s"):format(name, tostring(path))
    end
    inst = copy(inst)
  else
    inst = {}
  end

  if use_env then
    -- read as gitlab.from_env reads it, without the CI job's variables: a
    -- file's instance is not moved to CI_SERVER_URL
    local e = options.from_environment(getenv)
    local url, token, otoken = e.url, e.token, e.oauth_token
    if url then
      if inst.url and origin(inst.url) ~= origin(url) and not token
         and not otoken then
        -- The file's credential belongs to the file's host.
        for k in pairs(CREDENTIALS) do inst[k] = nil end
        inst.token_kind = nil
        warn(("GITLAB_URL points to another host than instance '%s'; "
          .. "its credential is not used"):format(tostring(name)))
      end
      inst.url = url
    end
    if token or otoken then
      for k in pairs(CREDENTIALS) do inst[k] = nil end
      inst.token_kind = nil
      if token then inst.token = token else inst.oauth_token = otoken end
    end
  end

  if inst.url == nil then
    if name == nil then
      return nil, ("no GitLab instance configured: no %s and GITLAB_URL is "
        .. "not set"):format(tostring(path or "config file"))
    end
    return nil, ("instance '%s' has no url"):format(name)
  end
  local opts, oerr = to_options(name or "env", inst, lopts, warn)
  if not opts then return nil, oerr end
  return opts, { name = name, path = path }
end

return M
