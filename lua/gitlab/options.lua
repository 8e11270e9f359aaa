--- The options of a client, each listed once.
--
-- `gitlab.new` checks its options against this list, `gitlab.config`
-- decides from it what an instance of a config file may set, and the OAuth
-- flows take from it which transport options their own HTTP client gets.
-- The C core (src/client.c) checks only the options it reads itself.
--
-- Each entry: `name`, `type` (a Lua type name, or `"log"`: a function or
-- `true`), `default` (what applies when the option is absent; for the
-- options the core reads the core applies it, so the value here is its
-- documentation), `core` (passed to `gitlab.core.client` under the same
-- name and unchanged), `config` (an instance of a config file may set it),
-- `credential` (at most one of these per client), `flow` (copied to the
-- HTTP client of an OAuth flow), `new` (false: a config file setting that
-- `gitlab.new` does not take), `line` (the value goes into a request
-- header line, so it must hold no line break or NUL byte), `auth` (for a
-- token credential: the header the core sends it in).
-- @module gitlab.options

local M = {}

local MiB = 1024 * 1024

--- The list, in the order of the documentation.
M.list = {
  { name = "url", type = "string", default = "https://gitlab.com", config = true },
  { name = "token", type = "string", config = true, credential = true, line = true,
    auth = "PRIVATE-TOKEN" },
  { name = "oauth_token", type = "string", config = true, credential = true, line = true,
    auth = "Authorization" },
  { name = "job_token", type = "string", config = true, credential = true, line = true,
    auth = "JOB-TOKEN" },
  { name = "oauth", type = "table", config = true, credential = true },
  { name = "token_command", type = "string", config = true, credential = true, new = false },
  { name = "token_command_timeout", type = "number", default = 30, config = true, new = false },
  { name = "token_kind", type = "string", default = "token", config = true, new = false },
  { name = "sudo", type = "string", core = true, config = true, line = true },
  { name = "timeout", type = "number", default = 30, core = true, config = true, flow = true },
  { name = "connect_timeout", type = "number", default = 10, core = true, config = true, flow = true },
  { name = "retries", type = "number", default = 5, core = true, config = true, flow = true },
  { name = "retry_base", type = "number", default = 0.5, core = true, config = true },
  { name = "max_wait", type = "number", default = 120, core = true, config = true },
  { name = "deadline", type = "number", default = 600, core = true, config = true },
  { name = "per_page", type = "number", default = 100, config = true },
  { name = "concurrency", type = "number", default = 4, config = true },
  -- doc/administration/instance_limits.md: "**Default offset pagination
  -- limit**: `50000`." (the instance's offset_pagination_limit; 0: none)
  { name = "offset_limit", type = "number", default = 50000, config = true },
  { name = "verify", type = "boolean", default = true, core = true, config = true, flow = true },
  { name = "ca_file", type = "string", core = true, config = true, flow = true },
  { name = "proxy", type = "string", core = true, config = true, flow = true },
  { name = "user_agent", type = "string", core = true, config = true, flow = true, line = true },
  { name = "headers", type = "table", config = true, flow = true },
  { name = "log", type = "log", flow = true },
  { name = "allow_insecure", type = "boolean", default = false, core = true, config = true,
    flow = true },
  { name = "http2", type = "boolean", default = true, core = true, config = true, flow = true },
  { name = "max_body", type = "number", default = 64 * MiB, core = true, config = true },
}

--- The entries of a list (`list`, `request`, or another list of entries
-- of the same shape) by name.
-- @tparam table list
-- @treturn table
function M.index(list)
  local r = {}
  for _, o in ipairs(list) do r[o.name] = o end
  return r
end

--- The entries by name.
M.by_name = M.index(M.list)

local function names(pred, list)
  local r = {}
  for _, o in ipairs(list or M.list) do
    if pred(o) then r[#r + 1] = o.name end
  end
  return r
end

--- Names of the options `gitlab.new` takes.
M.NEW = names(function(o) return o.new ~= false end)
--- Names of the options passed to the core unchanged.
M.CORE = names(function(o) return o.core end)
--- Names of the credentials `gitlab.new` takes (at most one).
M.CREDENTIALS = names(function(o) return o.credential and o.new ~= false end)
--- Names of the options an OAuth flow's HTTP client gets.
M.FLOW = names(function(o) return o.flow end)
--- Names of the options whose value goes into a header line.
M.LINES = names(function(o) return o.line end)
--- Names of the token credentials (each sent in its `auth` header); a
-- config file's `token_kind` names one of them.
M.TOKENS = names(function(o) return o.auth ~= nil end)

--- The options of one request (`gl:request(method, path, opts)` and the
-- verbs), each listed once: `name`, `type` (a Lua type name, or `"any"`:
-- the request checks the value's shape itself, a body is a table or a
-- string), `core` (put into the core's request table under the same name
-- and unchanged; the core checks what it reads), `values` (the words it
-- may be).
M.request = {
  { name = "query", type = "table" },
  { name = "body", type = "any" },
  { name = "form", type = "table" },
  { name = "multipart", type = "table" },
  { name = "headers", type = "table" },
  { name = "raw", type = "boolean" },
  { name = "root", type = "boolean" },
  { name = "expect", type = "string", values = { "object", "array" } },
  { name = "file", type = "string", core = true },
  { name = "output", type = "string", core = true },
  { name = "sink", type = "function", core = true },
  { name = "progress", type = "function", core = true },
  { name = "follow", type = "boolean", core = true },
  { name = "retries", type = "number", core = true },
  { name = "resume_from", type = "number", core = true },
  { name = "timeout", type = "number", core = true },
  { name = "auth", type = "boolean", core = true },
  { name = "max_body", type = "number", core = true },
}
--- The request option a verb's second argument fills: `gl:get(path,
-- query)`, `gl:post(path, body)`, and the parameters of an action.
M.ARG_SLOT = { GET = "query", HEAD = "query", DELETE = "query",
               POST = "body", PUT = "body", PATCH = "body" }
--- The request options by name.
M.request_by_name = M.index(M.request)
--- Names of the request options passed to the core unchanged.
M.REQUEST_CORE = names(function(o) return o.core end, M.request)

--- Does `v` have the type entry `o` wants?
-- @tparam table o an entry of `list`
-- @return boolean
function M.type_ok(o, v)
  if o.type == "log" then return v == true or type(v) == "function" end
  if o.type == "any" then return true end
  return type(v) == o.type
end

--- What `type_ok` wants, in words ("a string", "a function or true").
-- @tparam table o
-- @treturn string
function M.type_words(o)
  if o.type == "log" then return "a function or true" end
  if o.type == "any" then return "any value" end
  return "a " .. o.type
end

--- Words as a choice: "a", "a or b", "a, b or c" ("" for none).
-- @tparam {string,...} words
-- @treturn string
function M.or_words(words)
  if #words < 2 then return words[1] or "" end
  return table.concat(words, ", ", 1, #words - 1) .. " or " .. words[#words]
end

--- The words an entry with `values` may be, quoted ('"object" or "array"').
-- @tparam table o
-- @treturn string
function M.values_words(o)
  local q = {}
  for i, v in ipairs(o.values) do q[i] = ("%q"):format(v) end
  return M.or_words(q)
end

local function among(values, v)
  for _, x in ipairs(values) do
    if x == v then return true end
  end
  return false
end

--- Checks the keys and values of an options table against entries by
-- name (`request_by_name`, or an `index` of another list): an unknown key,
-- a value of another type (`type_ok`) or a word not among the entry's
-- `values` raises, naming `fname`. The messages: "FNAME: unknown option
-- 'K'", "FNAME: option 'K' must be a T, got U", "FNAME: option 'K' must
-- be "A" or "B"".
-- @tparam string fname the public function, for the message
-- @tparam table opts
-- @tparam table by_name
-- @tparam integer level where the error points, as for `error`, counted
--   from the function that calls `check` (2: its caller)
-- @treturn table opts
function M.check(fname, opts, by_name, level)
  level = level + 1
  for k, v in pairs(opts) do
    local o = by_name[k]
    if o == nil then error(fname .. ": unknown option '" .. tostring(k) .. "'", level) end
    if not M.type_ok(o, v) then
      error(("%s: option '%s' must be %s, got %s"):format(fname, k, M.type_words(o), type(v)), level)
    end
    if o.values and not among(o.values, v) then
      error(("%s: option '%s' must be %s"):format(fname, k, M.values_words(o)), level)
    end
  end
  return opts
end

--- A URL as given in the environment: a bare host (`gitlab.example.com`,
-- `host:8443`) means https.
-- @tparam string s
-- @treturn string
function M.env_url(s)
  if s:find("^%a[%w+.-]*://") then return s end
  return "https://" .. s
end

--- The options the environment gives, read the one way `gitlab.from_env`
-- and `gitlab.config.load` both use. URL: `GITLAB_URL`, then `GITLAB_HOST`
-- (a bare host is https), then, with `ci`, `CI_SERVER_URL`. Credential:
-- `GITLAB_TOKEN`, then `GITLAB_ACCESS_TOKEN` (token), then
-- `GITLAB_OAUTH_TOKEN`, then `OAUTH_TOKEN` (oauth_token), then, with `ci`
-- inside a CI job (`GITLAB_CI=true`), `CI_JOB_TOKEN` (job_token). Empty
-- variables count as unset.
-- @tparam[opt] function getenv (os.getenv)
-- @tparam[opt] boolean ci also read the CI job's variables
-- @treturn table `{ url = ..., token | oauth_token | job_token = ... }`,
--   fields absent when the environment does not say
function M.from_environment(getenv, ci)
  getenv = getenv or os.getenv
  local function var(name)
    local v = getenv(name)
    if v == nil or v == "" then return nil end
    return v
  end
  local r = {}
  local url = var("GITLAB_URL") or var("GITLAB_HOST") or (ci and var("CI_SERVER_URL"))
  if url then r.url = M.env_url(url) end
  local t = var("GITLAB_TOKEN") or var("GITLAB_ACCESS_TOKEN")
  local o = var("GITLAB_OAUTH_TOKEN") or var("OAUTH_TOKEN")
  if t then
    r.token = t
  elseif o then
    r.oauth_token = o
  elseif ci and var("GITLAB_CI") == "true" and var("CI_JOB_TOKEN") then
    r.job_token = var("CI_JOB_TOKEN")
  end
  return r
end

return M
