-- Configuration files: selection of an instance, environment overrides,
-- token_command, private writes and the permission warning.

local config = require("gitlab.config")
local core = require("gitlab.core")

local function tmpdir()
  local name = os.tmpname()
  os.remove(name)
  return name .. ".d"
end

local function write(path, text)
  -- a plain io.open write: mode follows the umask (0644 usually), which is
  -- what a user's editor does
  local dir = path:match("^(.*)/[^/]*$")
  assert(core.write_private(dir .. "/.keep", ""))
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("*a")
  f:close()
  return s
end

local function rm_rf(dir)
  os.execute("rm -rf '" .. dir .. "'")
end

-- An environment for the module: getenv reads this table only.
local function env(t)
  return function(k) return t[k] end
end

describe("gitlab.config", function()
  local dir, warnings, lopts

  before_each(function()
    dir = tmpdir()
    warnings = {}
    lopts = {
      getenv = env({ XDG_CONFIG_HOME = dir, HOME = "/nonexistent" }),
      warn = function(msg) warnings[#warnings + 1] = msg end,
    }
  end)

  after_each(function()
    rm_rf(dir)
  end)

  describe("location", function()
    it("uses $XDG_CONFIG_HOME/lua-gitlab/config.lua", function()
      assert.equal(dir .. "/lua-gitlab/config.lua", config.path(lopts))
      assert.equal(dir .. "/lua-gitlab/credentials.lua",
        config.credentials_path(lopts))
    end)

    it("falls back to ~/.config and ignores a relative XDG_CONFIG_HOME", function()
      local p = config.path{ getenv = env({ HOME = "/home/u",
        XDG_CONFIG_HOME = "rel/dir" }) }
      assert.equal("/home/u/.config/lua-gitlab/config.lua", p)
    end)

    it("honours GITLAB_CONFIG", function()
      local p = config.path{ getenv = env({ HOME = "/home/u",
        GITLAB_CONFIG = "/etc/gl.lua" }) }
      assert.equal("/etc/gl.lua", p)
      assert.equal("/etc/credentials.lua", config.credentials_path{
        getenv = env({ GITLAB_CONFIG = "/etc/gl.lua" }) })
    end)
  end)

  describe("selecting an instance", function()
    before_each(function()
      assert(config.save({
        default = "work",
        work = { url = "https://gitlab.work.example", token = "glpat-work",
                 timeout = 12, per_page = 50, ca_file = "/etc/ssl/corp.pem" },
        com = { url = "https://gitlab.com", oauth_token = "oa-com",
                proxy = "http://proxy:3128", verify = true },
      }, lopts))
    end)

    it("returns gitlab.new options for the default instance", function()
      local opts, meta = config.load(nil, lopts)
      assert.same({ url = "https://gitlab.work.example", token = "glpat-work",
                    timeout = 12, per_page = 50, ca_file = "/etc/ssl/corp.pem" },
                  opts)
      assert.same({ name = "work", path = dir .. "/lua-gitlab/config.lua" }, meta)
      assert.same({}, warnings)
    end)

    it("returns a named instance as the file says", function()
      local opts = config.load("com", lopts)
      assert.same({ url = "https://gitlab.com", oauth_token = "oa-com",
                    proxy = "http://proxy:3128", verify = true }, opts)
    end)

    it("picks the instance named by GITLAB_INSTANCE", function()
      lopts.getenv = env({ XDG_CONFIG_HOME = dir, GITLAB_INSTANCE = "com" })
      assert.equal("https://gitlab.com", config.load(nil, lopts).url)
    end)

    it("picks the only instance when there is no default", function()
      assert(config.save({ solo = { url = "http://127.0.0.1:1", token = "t" } },
        lopts))
      assert.equal("http://127.0.0.1:1", config.load(nil, lopts).url)
    end)

    it("reports an unknown instance", function()
      local opts, err = config.load("nope", lopts)
      assert.is_nil(opts)
      assert.matches("no instance 'nope'", err)
    end)

    it("reports a missing file and no environment", function()
      local o, err = config.load(nil, { getenv = env({ XDG_CONFIG_HOME = dir .. "/x" }),
        warn = lopts.warn })
      assert.is_nil(o)
      assert.matches("no GitLab instance configured", err)
    end)
  end)

  describe("environment overrides", function()
    before_each(function()
      assert(config.save({
        default = "work",
        work = { url = "https://gitlab.work.example", token = "glpat-work",
                 timeout = 12 },
      }, lopts))
    end)

    it("GITLAB_TOKEN replaces the default instance's credential", function()
      lopts.getenv = env({ XDG_CONFIG_HOME = dir, GITLAB_TOKEN = "glpat-env" })
      local opts = config.load(nil, lopts)
      assert.equal("glpat-env", opts.token)
      assert.equal("https://gitlab.work.example", opts.url)
      assert.equal(12, opts.timeout)
    end)

    it("GITLAB_OAUTH_TOKEN gives a bearer credential", function()
      lopts.getenv = env({ XDG_CONFIG_HOME = dir, GITLAB_OAUTH_TOKEN = "oa" })
      local opts = config.load(nil, lopts)
      assert.equal("oa", opts.oauth_token)
      assert.is_nil(opts.token)
    end)

    it("GITLAB_URL with GITLAB_TOKEN targets another host", function()
      lopts.getenv = env({ XDG_CONFIG_HOME = dir, GITLAB_TOKEN = "t2",
                           GITLAB_URL = "http://127.0.0.1:9" })
      local opts = config.load(nil, lopts)
      assert.equal("http://127.0.0.1:9", opts.url)
      assert.equal("t2", opts.token)
    end)

    it("never sends the file's credential to the host of GITLAB_URL", function()
      lopts.getenv = env({ XDG_CONFIG_HOME = dir,
                           GITLAB_URL = "https://elsewhere.example" })
      local opts = config.load(nil, lopts)
      assert.equal("https://elsewhere.example", opts.url)
      assert.is_nil(opts.token)
      assert.equal(1, #warnings)
      assert.matches("another host", warnings[1])
    end)

    it("compares hosts as the client does (core.origin)", function()
      -- RFC 3986 section 3.2.3: an empty port is the scheme's default, so
      -- "host:" is the file's host; the client's redirect check (the core's
      -- origin) says so too, and config.load must not say otherwise
      for _, url in ipairs{ "https://gitlab.work.example:/", "HTTPS://Gitlab.Work.Example:443" } do
        warnings = {}
        lopts.getenv = env({ XDG_CONFIG_HOME = dir, GITLAB_URL = url })
        local opts = config.load(nil, lopts)
        assert.equal("glpat-work", opts.token, url)      -- same host: kept
        assert.same({}, warnings)
        assert.equal(core.origin("https://gitlab.work.example"), core.origin(url))
      end
    end)

    it("GITLAB_HOST may be a bare host name", function()
      lopts.getenv = env({ XDG_CONFIG_HOME = dir,
                           GITLAB_HOST = "gitlab.work.example" })
      local opts = config.load(nil, lopts)
      assert.equal("https://gitlab.work.example", opts.url)
      assert.equal("glpat-work", opts.token)      -- same host: kept
    end)

    it("does not apply to an explicitly named instance", function()
      lopts.getenv = env({ XDG_CONFIG_HOME = dir, GITLAB_TOKEN = "glpat-env",
                           GITLAB_URL = "https://elsewhere.example" })
      local opts = config.load("work", lopts)
      assert.equal("glpat-work", opts.token)
      assert.equal("https://gitlab.work.example", opts.url)
    end)

    it("works without any file", function()
      local o = config.load(nil, { getenv = env({ XDG_CONFIG_HOME = dir .. "/none",
        GITLAB_URL = "http://127.0.0.1:5", GITLAB_TOKEN = "x" }) })
      assert.same({ url = "http://127.0.0.1:5", token = "x" }, o)
    end)
  end)

  describe("token_command", function()
    it("takes the first line of the command's output", function()
      assert(config.save({ ci = { url = "https://g.example",
        token_command = "printf '  glpat-from-cmd  \\nsecond line\\n'" } }, lopts))
      local opts = config.load("ci", lopts)
      assert.equal("glpat-from-cmd", opts.token)
      assert.is_nil(opts.token_command)
    end)

    it("can say which kind of credential the command prints", function()
      assert(config.save({ ci = { url = "https://g.example", token_kind = "oauth_token",
        token_command = "echo bearer-tok" } }, lopts))
      local opts = config.load("ci", lopts)
      assert.equal("bearer-tok", opts.oauth_token)
      assert.is_nil(opts.token)
    end)

    it("reports a failing command without showing it", function()
      assert(config.save({ ci = { url = "https://g.example",
        token_command = "echo glpat-secret-in-cmd; exit 3" } }, lopts))
      local opts, err = config.load("ci", lopts)
      assert.is_nil(opts)
      assert.matches("token_command of instance 'ci' failed: exit status 3", err)
      assert.is_nil(err:find("glpat-secret", 1, true))
    end)

    it("reports a command that prints nothing", function()
      assert(config.save({ ci = { url = "https://g.example",
        token_command = "true" } }, lopts))
      local opts, err = config.load("ci", lopts)
      assert.is_nil(opts)
      assert.matches("printed nothing", err)
    end)

    it("uses an injected runner", function()
      assert(config.save({ ci = { url = "https://g.example",
        token_command = "vault read x" } }, lopts))
      local seen
      lopts.run = function(cmd) seen = cmd; return "tok\n" end
      assert.equal("tok", config.load("ci", lopts).token)
      assert.equal("vault read x", seen)
    end)
  end)

  describe("file permissions", function()
    it("writes files with credentials as 0600 in a 0700 directory", function()
      assert(config.save({ w = { url = "https://g.example", token = "t" } }, lopts))
      assert.equal(tonumber("600", 8), core.file_mode(config.path(lopts)))
      assert.equal(tonumber("700", 8), core.file_mode(dir .. "/lua-gitlab"))
      config.load("w", lopts)
      assert.same({}, warnings)
    end)

    it("warns when a file holding a token is world-readable", function()
      write(config.path(lopts), 'w = { url = "https://g.example", token = "glpat-x" }\n')
      os.execute("chmod 644 '" .. config.path(lopts) .. "'")
      local opts = config.load("w", lopts)
      assert.equal("glpat-x", opts.token)
      assert.equal(1, #warnings)
      assert.matches("readable by everyone", warnings[1])
      assert.matches("chmod 600", warnings[1])
      assert.is_nil(warnings[1]:find("glpat-x", 1, true))
    end)

    it("does not warn for a readable file without secrets", function()
      write(config.path(lopts), 'w = { url = "https://g.example", token_command = "echo t" }\n')
      os.execute("chmod 644 '" .. config.path(lopts) .. "'")
      config.load("w", lopts)
      assert.same({}, warnings)
    end)
  end)

  describe("format", function()
    it("runs the file without access to the standard library", function()
      write(config.path(lopts), 'w = { url = os.getenv("HOME") }\n')
      local opts, err = config.load("w", lopts)
      assert.is_nil(opts)
      assert.matches("os", err)
    end)

    it("refuses precompiled chunks", function()
      local bc = string.dump(function() return {} end)
      assert.is_nil(config.parse(bc))
    end)

    it("reports syntax errors with the file name", function()
      write(config.path(lopts), 'w = { url = \n')
      local opts, err = config.load("w", lopts)
      assert.is_nil(opts)
      assert.matches("config.lua", err)
    end)

    it("accepts a file that returns a table", function()
      write(config.path(lopts), 'return { default = "a", a = { url = "https://a.example" } }\n')
      assert.equal("https://a.example", config.load(nil, lopts).url)
    end)

    it("rejects two credentials and wrong types, warns on unknown keys", function()
      write(config.path(lopts), [[
        two = { url = "https://a.example", token = "a", job_token = "b" }
        bad = { url = "https://a.example", timeout = "soon" }
        odd = { url = "https://a.example", colour = "blue" }
      ]])
      local o, err = config.load("two", lopts)
      assert.is_nil(o)
      assert.matches("more than one credential", err)
      o, err = config.load("bad", lopts)
      assert.is_nil(o)
      assert.matches("'timeout' must be a number", err)
      o = config.load("odd", lopts)
      assert.same({ url = "https://a.example" }, o)
      assert.matches("unknown setting 'colour'", table.concat(warnings, "\n"))
    end)

    it("round-trips through serialize and parse", function()
      local t = {
        default = "x",
        x = { url = "https://a.example", headers = { ["X-A"] = "1\n2" },
              oauth = { client_id = "c", expires_at = 1700000000 },
              timeout = 2.5, verify = false },
      }
      assert.same(t, config.parse(config.serialize(t)))
    end)
  end)

  describe("OAuth credentials", function()
    before_each(function()
      write(config.path(lopts), [[
        -- a hand-written file with a comment that must survive
        default = "app"
        app = { url = "https://a.example",
                oauth = { client_id = "cid" } }
      ]])
    end)

    it("saves tokens in credentials.lua and merges them on load", function()
      assert(config.save_tokens("app", { access_token = "at1",
        refresh_token = "rt1", expires_at = 1800000000 }, lopts))
      assert.equal(tonumber("600", 8), core.file_mode(config.credentials_path(lopts)))
      assert.matches("a comment that must survive", read(config.path(lopts)))
      local opts = config.load(nil, lopts)
      assert.equal("cid", opts.oauth.client_id)
      assert.equal("at1", opts.oauth.access_token)
      assert.equal("rt1", opts.oauth.refresh_token)
      assert.equal(1800000000, opts.oauth.expires_at)
      assert.is_function(opts.oauth.on_refresh)
    end)

    it("on_refresh persists the new pair", function()
      assert(config.save_tokens("app", { access_token = "at1",
        refresh_token = "rt1" }, lopts))
      local opts = config.load(nil, lopts)
      opts.oauth.on_refresh({ access_token = "at2", refresh_token = "rt2",
                              expires_at = 1900000000 })
      local again = config.load(nil, lopts)
      assert.equal("at2", again.oauth.access_token)
      assert.equal("rt2", again.oauth.refresh_token)
      assert.equal("cid", again.oauth.client_id)
    end)

    -- doc/api/oauth2.md: a PKCE pair's refresh sends redirect_uri and
    -- code_verifier, so the saved pair keeps both
    it("keeps a PKCE pair's redirect_uri and code_verifier", function()
      assert(config.save_tokens("app", { access_token = "at1", refresh_token = "rt1",
        redirect_uri = "http://127.0.0.1:7171/cb", code_verifier = "v1" }, lopts))
      local opts = config.load(nil, lopts)
      assert.equal("http://127.0.0.1:7171/cb", opts.oauth.redirect_uri)
      assert.equal("v1", opts.oauth.code_verifier)
      opts.oauth.on_refresh({ access_token = "at2", refresh_token = "rt2",
        redirect_uri = "http://127.0.0.1:7171/cb", code_verifier = "v1" })
      local again = config.load(nil, lopts)
      assert.equal("rt2", again.oauth.refresh_token)
      assert.equal("v1", again.oauth.code_verifier)
      assert.equal("http://127.0.0.1:7171/cb", again.oauth.redirect_uri)
    end)

    it("asks to sign in when there are no tokens yet", function()
      local o, err = config.load(nil, lopts)
      assert.is_nil(o)
      assert.matches("sign in first", err)
    end)
  end)
end)

describe("gitlab.from_config", function()
  local helpers = require("helpers")
  local gitlab = require("gitlab")
  local oauth = require("gitlab.oauth")
  local srv, dir, lopts, warnings

  setup(function() srv = helpers.server() end)
  before_each(function()
    helpers.reset()
    dir = tmpdir()
    warnings = {}
    lopts = {
      getenv = env({ XDG_CONFIG_HOME = dir }),
      warn = function(msg) warnings[#warnings + 1] = msg end,
    }
  end)
  after_each(function() rm_rf(dir) end)

  it("builds a client for the default instance", function()
    assert(config.save({ default = "fake",
      fake = { url = srv.http, token = "glpat-root", timeout = 5, per_page = 7 },
      other = { url = srv.http, token = "glpat-alice" } }, lopts))
    local gl = assert(gitlab.from_config(nil, lopts))
    assert.equal("root", assert(gl:user()).username)
    assert.equal(7, gl.per_page)
    local alice = assert(gitlab.from_config("other", lopts))
    assert.equal("alice", assert(alice:user()).username)
  end)

  it("takes every transport setting gitlab.new takes, http2 and allow_insecure too", function()
    local certs = helpers.certs()
    assert(config.save({
      tls = { url = srv.https, token = "glpat-root", ca_file = certs.ca, http2 = false,
              max_body = 1000000, concurrency = 2, per_page = 7, retry_base = 0.1 },
      plain = { url = "http://gitlab.example.invalid", token = "glpat-root",
                allow_insecure = true },
    }, lopts))
    local gl = assert(gitlab.from_config("tls", lopts))
    local me, resp = gl:get("/user")
    assert.equal("root", me.username)
    assert.equal(1, resp.http_version)           -- http2 = false held
    assert.equal(7, gl.per_page)
    assert.equal(2, gl.concurrency)
    -- plain http with a credential to another host: refused unless allowed
    local insecure = assert(gitlab.from_config("plain", lopts))
    assert.equal("http://gitlab.example.invalid/api/v4", insecure.url)
    assert.same({}, warnings)
  end)

  it("takes the token from token_command", function()
    assert(config.save({ fake = { url = srv.http, token_command = "echo glpat-alice" } }, lopts))
    local gl = assert(gitlab.from_config("fake", lopts))
    assert.equal("alice", assert(gl:user()).username)
  end)

  it("returns nil, err for an unknown instance", function()
    assert(config.save({ fake = { url = srv.http, token = "glpat-root" } }, lopts))
    local gl, err = gitlab.from_config("nope", lopts)
    assert.is_nil(gl)
    assert.matches("no instance 'nope'", err)
  end)

  it("refreshes an expired OAuth pair and saves the new one", function()
    helpers.admin("POST", "/oauth", { device_script = { "approved" }, device_refresh_token = true })
    local t = assert(oauth.device_login{ url = srv.http, client_id = "lua-gitlab-public",
      on_code = function() end, sleep = function() end })
    write(config.path(lopts), ([[
      default = "app"
      app = { url = %q, oauth = { client_id = "lua-gitlab-public" } }
    ]]):format(srv.http))
    assert(config.save_tokens("app", { access_token = t.access_token,
      refresh_token = t.refresh_token, expires_at = os.time() - 10 }, lopts))
    local gl = assert(gitlab.from_config(nil, lopts))
    assert.equal("root", assert(gl:user()).username)
    local saved = assert(config.load(nil, lopts)).oauth
    assert.not_equal(t.access_token, saved.access_token)
    assert.not_equal(t.refresh_token, saved.refresh_token)
    assert.is_true(saved.expires_at > os.time() + 7000)
    assert.equal(tonumber("600", 8), core.file_mode(config.credentials_path(lopts)))
    -- a second client from the saved pair works without refreshing
    local gl2 = assert(gitlab.from_config(nil, lopts))
    assert(gl2:user())
    assert.equal(2, #helpers.requests{ path = "/oauth/token" })
  end)

  it("lets two processes share one saved pair", function()
    helpers.admin("POST", "/oauth", { device_script = { "approved" }, device_refresh_token = true })
    local t = assert(oauth.device_login{ url = srv.http, client_id = "lua-gitlab-public",
      on_code = function() end, sleep = function() end })
    write(config.path(lopts), ([[
      app = { url = %q, oauth = { client_id = "lua-gitlab-public" } }
    ]]):format(srv.http))
    assert(config.save_tokens("app", { access_token = t.access_token,
      refresh_token = t.refresh_token, expires_at = os.time() + 3600 }, lopts))
    -- both start from the same pair, as two programs would
    local a = assert(gitlab.from_config("app", lopts))
    local b = assert(gitlab.from_config("app", lopts))
    assert(a:user())
    helpers.admin("POST", "/oauth/expire", { token = t.access_token })
    assert.equal("root", assert(a:user()).username)    -- a refreshes and saves
    -- b's refresh token is now spent; it picks up a's pair instead of failing
    assert.equal("root", assert(b:user()).username)
    local saved = config.load("app", lopts).oauth
    -- sign-in, a's refresh, b's refused refresh
    assert.equal(3, #helpers.requests{ path = "/oauth/token", method = "POST" })
    assert.not_equal(t.access_token, saved.access_token)
  end)
end)

describe("gitlab.options", function()
  -- one list of the client's options; the core checks what it reads, so
  -- each option the list says reaches the core must be one the core takes
  local options = require("gitlab.options")
  local SAMPLE = { string = "x", number = 1, boolean = true }

  it("names only options the core takes as core options", function()
    for _, name in ipairs(options.CORE) do
      local o = options.by_name[name]
      local c = core.client{ base = "http://127.0.0.1:9/api/v4", [name] = SAMPLE[o.type] }
      c:close()
    end
    assert.has_error(function() core.client{ base = "http://127.0.0.1:9/api/v4", per_page = 1 } end,
      "client: unknown option 'per_page'")
  end)

  it("drives gitlab.new's header-line check and token headers", function()
    local gitlab = require("gitlab")
    for _, name in ipairs(options.LINES) do
      assert.has_error(function() gitlab.new{ url = "https://g.example", [name] = "a\r\nX: y" } end,
        ("gitlab.new: option '%s' must not hold line breaks or NUL bytes"):format(name))
    end
    for _, name in ipairs(options.TOKENS) do
      local gl = gitlab.new{ url = "https://g.example", [name] = "tok" }
      assert.equal(options.by_name[name].auth, gl._core:info().auth)
      gl:close()
    end
    -- a config file's token_kind names one of the same credentials
    local dir = tmpdir()
    local lopts = { getenv = env({ XDG_CONFIG_HOME = dir }), run = function() return "t" end }
    assert(config.save({ x = { url = "https://g.example", token_command = "true",
                               token_kind = "bogus" } }, lopts))
    local ok, err = config.load("x", lopts)
    rm_rf(dir)
    assert.is_nil(ok)
    assert.equal("instance 'x': token_kind must be token, oauth_token or job_token", err)
  end)

  it("replaces the environment's credential with an override's, whatever its kind", function()
    local gitlab = require("gitlab")
    local function getenv(k) return ({ GITLAB_TOKEN = "env-token" })[k] end
    for _, name in ipairs(options.TOKENS) do
      local gl = gitlab.from_env{ getenv = getenv, url = "https://g.example", [name] = "o" }
      assert.equal(options.by_name[name].auth, gl._core:info().auth)
      gl:close()
    end
  end)

  it("has one API root rule: trailing slashes, then /api/v4 once", function()
    local gitlab = require("gitlab")
    for _, url in ipairs{ "https://g.example", "https://g.example/", "https://g.example/api/v4",
                          "https://g.example/api/v4//" } do
      local gl = gitlab.new{ url = url }
      assert.equal("https://g.example/api/v4", gl.url, url)
      assert.equal("https://g.example", gl.root, url)
      gl:close()
    end
    local gl = gitlab.new{ url = "https://g.example/gitlab/" }
    assert.equal("https://g.example/gitlab/api/v4", gl.url)
    assert.equal("https://g.example/gitlab", gl.root)
    gl:close()
  end)

  it("lets a config file set every option it marks so, without a warning", function()
    local dir = tmpdir()
    local warned = {}
    local lopts = { getenv = env({ XDG_CONFIG_HOME = dir }),
                    warn = function(m) warned[#warned + 1] = m end }
    local inst = {}
    for _, o in ipairs(options.list) do
      if o.config and not o.credential and SAMPLE[o.type] ~= nil and o.name ~= "token_kind" then
        inst[o.name] = SAMPLE[o.type]
      end
    end
    inst.url = "http://127.0.0.1:9"
    assert(config.save({ x = inst }, lopts))
    local opts = assert(config.load("x", lopts))
    rm_rf(dir)
    assert.same({}, warned)
    for k, v in pairs(inst) do
      if options.by_name[k].new ~= false then assert.equal(v, opts[k]) end
    end
  end)
end)
