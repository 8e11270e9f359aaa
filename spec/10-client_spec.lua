-- Foundation: construction, credentials, encoding, errors, TLS, redirects,
-- and that no token ever reaches what the user sees.
local helpers = require("helpers")
local gitlab = require("gitlab")

local TOKEN = "glpat-root"

local function echo(gl, method, path, opts)
  local data, resp = gl:request(method or "GET", path or "/__echo", opts)
  assert(data, resp)
  return data, resp
end

describe("gitlab.new", function()
  local srv
  setup(function() srv = helpers.server() end)

  it("appends /api/v4 unless present and keeps a sub-path", function()
    assert.equal("https://h.example/api/v4", gitlab.new{ url = "https://h.example" }.url)
    assert.equal("https://h.example/api/v4", gitlab.new{ url = "https://h.example/api/v4/" }.url)
    assert.equal("https://h.example/gitlab/api/v4", gitlab.new{ url = "https://h.example/gitlab" }.url)
    assert.equal("https://gitlab.com/api/v4", gitlab.new{}.url)
  end)

  it("rejects two credentials, unknown options and bad types", function()
    assert.has_error(function() gitlab.new{ token = "a", job_token = "b" } end,
      "gitlab.new: give only one of token, oauth_token, job_token and oauth")
    assert.has_error(function() gitlab.new{ tokn = "a" } end, "gitlab.new: unknown option 'tokn'")
    assert.has_error(function() gitlab.new{ timeout = "5" } end)
    assert.has_error(function() gitlab.new{ url = "ftp://x" } end)
  end)

  it("refuses a token over plain http to a non-loopback host unless allowed", function()
    local ok, err = pcall(gitlab.new, { url = "http://gitlab.example.com", token = TOKEN })
    assert.is_false(ok)
    assert.matches("plain http", err)
    assert.not_matches(TOKEN, err)
    assert.truthy(gitlab.new{ url = "http://gitlab.example.com", token = TOKEN, allow_insecure = true })
    assert.truthy(gitlab.new{ url = srv.http, token = TOKEN })   -- loopback is fine
  end)

  it("works under a sub-path (relative URL root), pages included", function()
    local gl = gitlab.new{ url = srv.http .. "/gitlab", token = TOKEN }
    assert.equal(srv.http .. "/gitlab/api/v4", gl.url)
    assert.equal("root", assert(gl:user()).username)
    local n = 0
    for _ in gl:paginate("/projects", { per_page = 1 }, { concurrency = 1 }) do n = n + 1 end
    assert.truthy(n >= 2)
    for _, r in ipairs(helpers.requests()) do
      if r.path:find("/projects$") then assert.matches("^/gitlab/api/v4/", r.path) end
    end
  end)

  it("never shows the token in tostring", function()
    local gl = gitlab.new{ url = srv.http, token = TOKEN }
    assert.not_matches(TOKEN, tostring(gl))
    assert.not_matches(TOKEN, tostring(gl._core))
  end)
end)

describe("the client's methods", function()
  local PARTS = { "pages", "graphql", "transfer", "async" }

  it("are every export of the parts loaded on first use, and only those", function()
    local lazy = require("gitlab.client")._lazy_parts
    local gl = gitlab.new{ url = helpers.server().http, token = TOKEN }
    local listed = {}
    for _, part in ipairs(PARTS) do
      for name, fn in pairs(require("gitlab.client." .. part)) do
        assert.equal(part, lazy[name], name .. " of gitlab.client." .. part .. " is not listed")
        assert.equal(fn, gl[name], name)
        listed[name] = true
      end
    end
    for name in pairs(lazy) do assert.is_true(listed[name], name .. " is listed but no part has it") end
    for name, fn in pairs(require("gitlab.client.api")) do assert.equal(fn, gl[name], name) end
  end)

  it("leave a part unloaded until one of its methods is used", function()
    -- a child process: this one has loaded everything already
    local q = helpers.shell_quote
    local script = os.tmpname()
    helpers.write_file(script, table.concat({
      "package.path = " .. ("%q"):format(package.path),
      "package.cpath = " .. ("%q"):format(package.cpath),
      "local gl = require('gitlab').new{ url = 'http://127.0.0.1:9' }",
      "local function loaded() local t = {} for _, p in ipairs{ 'pages', 'graphql', 'transfer', 'async' } do",
      "  t[#t + 1] = package.loaded['gitlab.client.' .. p] and p or '-' end return table.concat(t, ' ') end",
      "print(loaded())",
      "assert(type(gl.paginate) == 'function') print(loaded())",
      "assert(type(gl.request_async) == 'function') print(loaded())",
      "assert(gl:running() == 0) print(loaded())",
    }, "\n"))
    local out = helpers.exec("cd " .. q(helpers.root) .. " && " .. helpers.child_env() ..
      q(helpers.lua_interpreter()) .. " " .. q(script) .. " 2>&1")
    os.remove(script)
    assert.equal("- - - -\npages - - -\npages - - async\npages - - async\n", out)
  end)
end)

describe("credentials", function()
  local srv
  setup(function() srv = helpers.server() end)
  before_each(function() helpers.reset() end)

  it("sends PRIVATE-TOKEN for token", function()
    local gl = gitlab.new{ url = srv.http, token = TOKEN }
    local e = echo(gl)
    assert.equal(TOKEN, e.headers["private-token"])
    assert.is_nil(e.headers["authorization"])
    assert.equal("root", assert(gl:user()).username)
  end)

  it("sends Authorization: Bearer for oauth_token", function()
    local gl = gitlab.new{ url = srv.http, oauth_token = "oauth-root" }
    local e = echo(gl)
    assert.equal("Bearer oauth-root", e.headers["authorization"])
    assert.is_nil(e.headers["private-token"])
    assert.equal("root", assert(gl:user()).username)
  end)

  it("sends JOB-TOKEN for job_token", function()
    local gl = gitlab.new{ url = srv.http, job_token = "job-root" }
    local e = echo(gl)
    assert.equal("job-root", e.headers["job-token"])
  end)

  it("sends Sudo and acts as that user", function()
    local gl = gitlab.new{ url = srv.http, token = TOKEN, sudo = "alice" }
    assert.equal("alice", echo(gl).headers["sudo"])
    assert.equal("alice", assert(gl:user()).username)
  end)

  it("sends a user agent and extra headers", function()
    local gl = gitlab.new{ url = srv.http, token = TOKEN, headers = { ["X-Trace"] = "1" } }
    local e = echo(gl)
    assert.matches("^lua%-gitlab/", e.headers["user-agent"])
    assert.equal("1", e.headers["x-trace"])
    gl = gitlab.new{ url = srv.http, token = TOKEN, user_agent = "mine/2" }
    assert.equal("mine/2", echo(gl).headers["user-agent"])
  end)

  -- User-Agent and Accept-Encoding are lines of the client's header lists
  -- (libcurl would format its own anew for every request): each goes out
  -- once, gives way to a request's or the client's own header of that
  -- name, and a download or an upload asks for no encoding (libcurl passes
  -- the bytes as sent; only a buffered answer is decoded).
  describe("the client's own header lines", function()
    local lines = helpers.header_lines

    it("send User-Agent and Accept-Encoding once, with or without the credential", function()
      local gl = gitlab.new{ url = srv.http, token = TOKEN, ca_file = helpers.certs().ca }
      for _, opts in ipairs{ {}, { auth = false } } do
        local e = echo(gl, "GET", "/__echo", { auth = opts.auth })
        assert.same({ gitlab._VERSION }, lines(e, "user-agent"))
        local ae = lines(e, "accept-encoding")
        assert.equal(1, #ae)
        assert.matches("gzip", ae[1], 1, true)
        assert.same(opts.auth == false and {} or { TOKEN }, lines(e, "private-token"))
      end
      -- the same lines on the engine, and to another origin (no credential;
      -- https, the instance's other listener)
      local got
      gl:request_async("GET", "/__echo", nil, function(err, d) got = err or d end)
      gl:wait()
      assert.equal(1, #lines(got, "user-agent"))
      assert.equal(1, #lines(got, "accept-encoding"))
      local e = assert(gl:get(srv.https .. "/api/v4/__echo"))
      assert.same({ gitlab._VERSION }, lines(e, "user-agent"))
      assert.equal(1, #lines(e, "accept-encoding"))
      assert.same({}, lines(e, "private-token"))
    end)

    it("give way to a request's own User-Agent and Accept-Encoding, in any case", function()
      local gl = gitlab.new{ url = srv.http, token = TOKEN, headers = { ["X-Trace"] = "1" } }
      local e = echo(gl, "GET", "/__echo", { headers = { ["user-AGENT"] = "mine/9",
                                                         ["ACCEPT-encoding"] = "identity" } })
      assert.same({ "mine/9" }, lines(e, "user-agent"))
      assert.same({ "identity" }, lines(e, "accept-encoding"))
      assert.same({ TOKEN }, lines(e, "private-token"))
      assert.same({ "1" }, lines(e, "x-trace"))
      -- one of them only: the other stays the client's
      e = echo(gl, "GET", "/__echo", { headers = { ["User-Agent"] = "mine/10" } })
      assert.same({ "mine/10" }, lines(e, "user-agent"))
      assert.equal(1, #lines(e, "accept-encoding"))
      -- and the next request has the client's again
      e = echo(gl)
      assert.same({ gitlab._VERSION }, lines(e, "user-agent"))
    end)

    it("give way to the client's headers on its origin only, and user_agent = '' sends none", function()
      local gl = gitlab.new{ url = srv.http, token = TOKEN, ca_file = helpers.certs().ca,
                             headers = { ["User-Agent"] = "extra/1", ["Accept-Encoding"] = "gzip" } }
      local e = echo(gl)
      assert.same({ "extra/1" }, lines(e, "user-agent"))
      assert.same({ "gzip" }, lines(e, "accept-encoding"))
      -- another origin gets neither the client's headers nor its credential
      e = assert(gl:get(srv.https .. "/api/v4/__echo"))
      assert.same({ gitlab._VERSION }, lines(e, "user-agent"))
      assert.equal(1, #lines(e, "accept-encoding"))
      assert.matches("deflate", lines(e, "accept-encoding")[1], 1, true)
      gl = gitlab.new{ url = srv.http, token = TOKEN, user_agent = "" }
      assert.same({}, lines(echo(gl), "user-agent"))
    end)

    it("ask for no encoding on a download or an upload, and decode a gzip answer", function()
      local gl = gitlab.new{ url = srv.http, token = TOKEN }
      local out = helpers.tmpdir() .. "/echo.json"
      assert(gl:download("/__echo", { output = out }))
      local f = assert(io.open(out, "rb"))
      local e = assert(gitlab.core.json_decode(f:read("a")))
      f:close()
      assert.same({ gitlab._VERSION }, lines(e, "user-agent"))
      assert.same({}, lines(e, "accept-encoding"))
      assert.same({ TOKEN }, lines(e, "private-token"))
      local chunks = {}
      assert(gl:download("/__echo", { sink = function(c) chunks[#chunks + 1] = c end }))
      e = assert(gitlab.core.json_decode(table.concat(chunks)))
      assert.same({}, lines(e, "accept-encoding"))
      assert.equal(1, #lines(e, "user-agent"))
      -- a buffered answer in gzip is decoded (libcurl still decodes it)
      helpers.fault{ path = "/api/v4/__echo", gzip = true }
      e = echo(gl)
      assert.equal(1, #lines(e, "accept-encoding"))
      assert.equal("GET", e.method)
    end)
  end)

  it("gives an auth error object for a bad token", function()
    local gl = gitlab.new{ url = srv.http, token = "glpat-wrong-secret" }
    local data, err = gl:get("/user")
    assert.is_nil(data)
    assert.equal(401, err.status)
    assert.equal("auth", err.kind)
    assert.equal("GET /user: 401 Unauthorized", tostring(err))
    assert.not_matches("glpat%-wrong%-secret", tostring(err))
  end)
end)

describe("gitlab.from_env", function()
  local function env(t) return { getenv = function(k) return t[k] end } end
  local function kind(gl) return gl._core:info().auth end

  it("prefers GITLAB_TOKEN, then GITLAB_ACCESS_TOKEN, then OAUTH_TOKEN", function()
    local gl = gitlab.from_env(env{ GITLAB_TOKEN = "a", GITLAB_ACCESS_TOKEN = "b", OAUTH_TOKEN = "c" })
    assert.equal("PRIVATE-TOKEN", kind(gl))
    gl = gitlab.from_env(env{ GITLAB_ACCESS_TOKEN = "b", OAUTH_TOKEN = "c" })
    assert.equal("PRIVATE-TOKEN", kind(gl))
    gl = gitlab.from_env(env{ OAUTH_TOKEN = "c" })
    assert.equal("Authorization", kind(gl))
  end)

  it("reads the host from GITLAB_URL, GITLAB_HOST, CI_SERVER_URL", function()
    assert.equal("https://a.example/api/v4",
      gitlab.from_env(env{ GITLAB_URL = "https://a.example", GITLAB_HOST = "b.example" }).url)
    assert.equal("https://b.example/api/v4",
      gitlab.from_env(env{ GITLAB_HOST = "b.example", CI_SERVER_URL = "https://c.example" }).url)
    assert.equal("https://c.example/api/v4", gitlab.from_env(env{ CI_SERVER_URL = "https://c.example" }).url)
    assert.equal("https://gitlab.com/api/v4", gitlab.from_env(env{}).url)
  end)

  it("uses CI_JOB_TOKEN only inside a CI job and only without another token", function()
    assert.equal("JOB-TOKEN", kind(gitlab.from_env(env{ GITLAB_CI = "true", CI_JOB_TOKEN = "j" })))
    assert.is_nil(kind(gitlab.from_env(env{ CI_JOB_TOKEN = "j" })))
    assert.equal("PRIVATE-TOKEN",
      kind(gitlab.from_env(env{ GITLAB_CI = "true", CI_JOB_TOKEN = "j", GITLAB_TOKEN = "t" })))
  end)

  -- from_env and from_config (without an instance name) read the same
  -- variables through one function: README "OAuth and configuration files",
  -- DESIGN.md: GITLAB_TOKEN, GITLAB_URL/GITLAB_HOST (a bare host is https)
  it("reads the environment as from_config does", function()
    local cases = {
      { { GITLAB_URL = "gitlab.example.com", GITLAB_TOKEN = "t" },
        "https://gitlab.example.com/api/v4", "PRIVATE-TOKEN" },
      { { GITLAB_HOST = "gitlab.example.com:8443", OAUTH_TOKEN = "o" },
        "https://gitlab.example.com:8443/api/v4", "Authorization" },
      { { GITLAB_HOST = "gitlab.example.com", GITLAB_OAUTH_TOKEN = "o" },
        "https://gitlab.example.com/api/v4", "Authorization" },
      { { GITLAB_URL = "https://a.example", GITLAB_ACCESS_TOKEN = "b" },
        "https://a.example/api/v4", "PRIVATE-TOKEN" },
      { { GITLAB_URL = "https://a.example", GITLAB_TOKEN = "a", GITLAB_OAUTH_TOKEN = "o" },
        "https://a.example/api/v4", "PRIVATE-TOKEN" },
    }
    for _, case in ipairs(cases) do
      local vars = case[1]
      vars.GITLAB_CONFIG = "/nonexistent/lua-gitlab/config.lua"
      local e = env(vars)
      for _, gl in ipairs{ gitlab.from_env(e), assert(gitlab.from_config(nil, e)) } do
        assert.equal(case[2], gl.url)
        assert.equal(case[3], kind(gl))
      end
    end
  end)

  it("talks to the server it names", function()
    local srv = helpers.server()
    local gl = gitlab.from_env(env{ GITLAB_URL = srv.http, GITLAB_TOKEN = TOKEN })
    assert.equal("root", assert(gl:user()).username)
  end)
end)

describe("encoding", function()
  local gl
  setup(function() gl = helpers.client() end)

  it("encodes path ids as one segment", function()
    assert.equal("group%2Fsub%2Fproj", gitlab.encode("group/sub/proj"))
    assert.equal("feature%2Fx", gitlab.encode("feature/x"))
    assert.equal("lib%2Fa%2Erb", gitlab.encode("lib/a.rb"))
    assert.equal("42", gitlab.encode(42))
    assert.equal("a%20b%2B%26%3F%23", gitlab.encode("a b+&?#"))
    local p = assert(gl:get("/projects/" .. gitlab.encode("group/sub/proj2")))
    assert.equal("group/sub/proj2", p.path_with_namespace)
  end)

  it("encodes query arrays, tables, booleans and special characters GitLab's way", function()
    local e = echo(gl, "GET", "/__echo", { query = {
      labels = { "bug", "needs review" }, confidential = true, archived = false,
      page = 2, search = "a&b=c+d/é", created_after = "2024-01-01T00:00:00+01:00",
      filter = { state = "opened", author = { id = 3 } },
      variables = { { key = "K1", value = "v1" }, { key = "K2", value = "v 2" } },
    } })
    local raw = e.query_raw or e.raw_query or e.rawQuery
    assert.is_string(raw)
    assert.truthy(raw:find("labels[]=bug&labels[]=needs%20review", 1, true))
    assert.truthy(raw:find("confidential=true", 1, true))
    assert.truthy(raw:find("archived=false", 1, true))
    assert.truthy(raw:find("page=2", 1, true))
    assert.truthy(raw:find("search=a%26b%3Dc%2Bd%2F%C3%A9", 1, true))
    assert.truthy(raw:find("created_after=2024-01-01T00%3A00%3A00%2B01%3A00", 1, true))
    assert.truthy(raw:find("filter[state]=opened", 1, true))
    assert.truthy(raw:find("filter[author][id]=3", 1, true))
    assert.truthy(raw:find("variables[0][key]=K1&variables[0][value]=v1", 1, true))
    assert.truthy(raw:find("variables[1][value]=v%202", 1, true))
  end)

  it("produces the same query string every time (sorted keys)", function()
    local q = { b = 1, a = 2, c = { "x" } }
    assert.equal("a=2&b=1&c[]=x", gitlab.core.query(q))
    assert.equal(gitlab.core.query(q), gitlab.core.query(q))
  end)

  it("rejects values that cannot go in a query", function()
    assert.has_error(function() gl:get("/__echo", { f = function() end }) end)
  end)

  it("sends JSON and form bodies", function()
    local e = echo(gl, "POST", "/__echo", { body = { title = "x", labels = { "a" } } })
    assert.matches("application/json", e.headers["content-type"])
    assert.same({ title = "x", labels = { "a" } }, require("cjson").decode(e.body))
    e = echo(gl, "PUT", "/__echo", { form = { title = "a b", n = 1 } })
    assert.matches("application/x%-www%-form%-urlencoded", e.headers["content-type"])
    assert.equal("n=1&title=a%20b", e.body)
    e = echo(gl, "PATCH", "/__echo", { body = "raw", headers = { ["Content-Type"] = "text/plain" } })
    assert.equal("PATCH", e.method)
    assert.equal("raw", e.body)
  end)

  it("supports every method", function()
    for _, m in ipairs{ "GET", "POST", "PUT", "PATCH", "DELETE" } do
      assert.equal(m, echo(gl, m).method)
    end
    local ok, resp = gl:head("/__echo")
    assert.is_true(ok)
    assert.equal(200, resp.status)
  end)
end)

describe("errors", function()
  local gl
  setup(function() gl = helpers.client() end)
  before_each(function() helpers.reset() end)

  local function fail_with(status, body, headers)
    helpers.fault{ path = "/api/v4/projects/42", status = status, body = body, headers = headers }
    local data, err = gl:get("/projects/42", nil, { retries = 0 })
    assert.is_nil(data)
    assert.equal(status, err.status)
    return err
  end

  it("flattens a message string", function()
    local err = fail_with(404, '{"message":"404 Project Not Found"}', { ["Content-Type"] = "application/json" })
    assert.equal("GET /projects/42: 404 Project Not Found", tostring(err))
    assert.equal("404 Project Not Found", err.message)
    assert.equal("http", err.kind)
    assert.matches("/api/v4/projects/42$", err.url)
  end)

  it("flattens field errors", function()
    local err = fail_with(400, '{"message":{"title":["can\'t be blank"],"labels":["is invalid","too long"]}}',
      { ["Content-Type"] = "application/json" })
    assert.equal("labels is invalid, too long; title can't be blank", err.message)
    assert.equal("GET /projects/42: 400 labels is invalid, too long; title can't be blank", tostring(err))
  end)

  it("flattens {error} and {error, error_description}", function()
    assert.equal("insufficient_scope", fail_with(403, '{"error":"insufficient_scope"}',
      { ["Content-Type"] = "application/json" }).message)
    assert.equal("invalid_token: Token is expired.", fail_with(401,
      '{"error":"invalid_token","error_description":"Token is expired."}',
      { ["Content-Type"] = "application/json" }).message)
  end)

  it("gives a clear error for an HTML page or an empty body", function()
    helpers.fault{ path = "/api/v4/projects/42", action = "html", status = 502 }
    local _, err = gl:get("/projects/42", nil, { retries = 0 })
    assert.equal(502, err.status)
    assert.matches("^GET /projects/42: 502 Bad Gateway", tostring(err))
    local e2 = fail_with(404, "")
    assert.equal("GET /projects/42: 404 Not Found", tostring(e2))
    local e3 = fail_with(429, "Retry later", { ["Content-Type"] = "text/plain" })
    assert.equal("rate_limit", e3.kind)
  end)

  it("reports invalid JSON from the server as a decode error", function()
    helpers.fault{ path = "/api/v4/projects/42", status = 200, body = '{"id": 1,',
      headers = { ["Content-Type"] = "application/json" } }
    local data, err = gl:get("/projects/42")
    assert.is_nil(data)
    assert.equal("decode", err.kind)
  end)

  it("times out with a timeout error", function()
    helpers.fault{ path = "/api/v4/projects/1", delay_ms = 3000 }
    local slow = helpers.client{ timeout = 0.3, retries = 0 }
    local t0 = os.time()
    local data, err = slow:get("/projects/1")
    assert.is_nil(data)
    assert.equal("timeout", err.kind)
    assert.is_nil(err.status)
    assert.truthy(os.time() - t0 <= 2)
  end)

  it("gives a transport error for a refused connection", function()
    local gl2 = gitlab.new{ url = "http://127.0.0.1:1", token = TOKEN, retries = 0 }
    local _, err = gl2:get("/projects")
    assert.equal("transport", err.kind)
    assert.matches("^GET /projects: ", tostring(err))
  end)
end)

describe("TLS", function()
  local srv, certs
  setup(function() srv = helpers.server(); certs = helpers.certs() end)

  it("fails verification with the wrong CA", function()
    local gl = gitlab.new{ url = srv.https, token = TOKEN, ca_file = certs.wrong_ca, retries = 0 }
    local data, err = gl:get("/user")
    assert.is_nil(data)
    assert.equal("tls", err.kind)
  end)

  it("fails with the system CAs (self-signed test CA)", function()
    local gl = gitlab.new{ url = srv.https, token = TOKEN, retries = 0 }
    local _, err = gl:get("/user")
    assert.equal("tls", err.kind)
  end)

  it("succeeds with the right CA", function()
    local gl = gitlab.new{ url = srv.https, token = TOKEN, ca_file = certs.ca }
    local u, resp = gl:get("/user")
    assert.equal("root", u.username)
    assert.is_true(resp.http_version == 2 or resp.http_version == 1)
  end)

  it("uses HTTP/2 over TLS when the server offers it", function()
    if not gitlab.core.http2 then return end
    local gl = gitlab.new{ url = srv.https, token = TOKEN, ca_file = certs.ca }
    local _, resp = gl:get("/user")
    assert.equal(2, resp.http_version)
  end)

  it("refuses an expired or wrong-host certificate", function()
    for _, url in ipairs{ srv.https_expired, srv.https_wrong_host } do
      local gl = gitlab.new{ url = url, token = TOKEN, ca_file = certs.ca, retries = 0 }
      local _, err = gl:get("/user")
      assert.equal("tls", err.kind)
    end
  end)

  it("can skip verification when asked", function()
    local gl = gitlab.new{ url = srv.https, token = TOKEN, verify = false }
    assert.equal("root", assert(gl:get("/user")).username)
  end)

  it("reads the CA file once per client, not for each new connection", function()
    -- (libcurl alone reads it for every connection: 30 ms and more with a
    -- system bundle.) The server closes each connection after its answer;
    -- the file is gone before the second and third requests connect.
    helpers.reset()
    helpers.fault{ path = "/api/v4/user", set_headers = { connection = "close" }, times = -1 }
    helpers.admin("DELETE", "/connections")
    local ca = os.tmpname()
    helpers.write_file(ca, helpers.read_file(certs.ca))
    local gl = gitlab.new{ url = srv.https, token = TOKEN, ca_file = ca, http2 = false, retries = 0 }
    assert.equal("root", assert(gl:get("/user")).username)
    os.remove(ca)
    local u, err = gl:get("/user")
    assert.equal("root", u and u.username, err and err.message)
    gl:request_async("GET", "/user", nil, function(e, data) u, err = data, e end)
    gl:wait()
    assert.equal("root", u and u.username, err and err.message)
    assert.equal(3, helpers.admin("GET", "/connections").https.tls)   -- three handshakes
    gl:close()
    helpers.reset()
  end)

  it("reports a CA file it cannot read in libcurl's words", function()
    for _, path in ipairs{ "/nonexistent/ca.pem", "/etc" } do
      local gl = gitlab.new{ url = srv.https, token = TOKEN, ca_file = path, retries = 0 }
      local _, err = gl:get("/user")
      assert.equal("tls", err.kind)
      assert.equal("error setting certificate file: " .. path, err.message)
      gl:close()
    end
  end)
end)

describe("redirects", function()
  local srv, gl
  setup(function() srv = helpers.server(); gl = helpers.client() end)
  before_each(function() helpers.reset() end)

  local function saw_credentials(origin)
    for _, r in ipairs(helpers.requests()) do
      if r.origin == origin then
        local h = r.headers
        if h["private-token"] or h["authorization"] or h["job-token"] then return true end
      end
    end
    return false
  end

  it("follows a GET to another host without the token", function()
    local data, resp = gl:get("/__redirect", { to = srv.other .. "/objects/blob.json", status = 302 },
      { raw = true })
    assert.truthy(data, resp)
    assert.equal(200, resp.status)
    assert.equal(1, resp.redirects)
    assert.is_false(saw_credentials("other"))
  end)

  it("keeps the token on a same-origin redirect", function()
    local data = assert(gl:get("/__redirect", { to = srv.http .. "/api/v4/user", status = 301 }))
    assert.equal("root", data.username)
  end)

  it("refuses an https to http downgrade", function()
    local certs = helpers.certs()
    local tls = gitlab.new{ url = srv.https, token = TOKEN, ca_file = certs.ca }
    local data, err = tls:get("/__redirect", { to = srv.http .. "/api/v4/user" })
    assert.is_nil(data)
    assert.equal("redirect", err.kind)
    assert.matches("https to plain http", err.message)
  end)

  it("never turns a redirected POST into a GET", function()
    helpers.fault{ method = "POST", path = "/api/v4/projects/1/issues", status = 307,
      headers = { Location = srv.http .. "/api/v4/projects/2/issues" } }
    local data, err = gl:post("/projects/1/issues", { title = "x" })
    assert.is_nil(data)
    assert.equal("redirect", err.kind)
    assert.matches("POST", err.message)
    local posts = 0
    for _, r in ipairs(helpers.requests()) do if r.method ~= "GET" then posts = posts + 1 end end
    assert.equal(1, posts)
  end)

  it("stops after 5 redirects", function()
    helpers.fault{ path = "/api/v4/projects/1", action = "redirect_loop", times = -1 }
    local data, err = gl:get("/projects/1")
    assert.is_nil(data)
    assert.equal("redirect", err.kind)
    assert.matches("too many redirects", err.message)
  end)
end)

describe("credentials never leak", function()
  local SECRET = "glpat-very-secret-value"
  local srv
  setup(function()
    srv = helpers.server()
    helpers.token{ token = SECRET, kind = "private", user = 1 }
  end)

  it("keeps the token out of errors, bodies, URLs and logs", function()
    local lines = {}
    local gl = gitlab.new{ url = srv.http, token = SECRET, retries = 1, retry_base = 0.01,
      log = function(l) lines[#lines + 1] = l end }
    local errs = {}
    local _, e1 = gl:get("/projects/999999"); errs[#errs + 1] = e1
    helpers.fault{ path = "/api/v4/projects/1", status = 500, times = -1,
      body = '{"message":"token ' .. SECRET .. ' rejected"}', headers = { ["Content-Type"] = "application/json" } }
    local _, e2 = gl:get("/projects/1"); errs[#errs + 1] = e2
    helpers.reset()
    local _, e3 = gl:get("/projects/999?private_token=" .. SECRET); errs[#errs + 1] = e3
    local bad = gitlab.new{ url = "http://127.0.0.1:1", token = SECRET, retries = 0 }
    local _, e4 = bad:get("/x"); errs[#errs + 1] = e4
    for _, e in ipairs(errs) do
      assert.truthy(e)
      for _, s in ipairs{ tostring(e), e.message or "", e.url or "", e.body or "", e.path or "" } do
        assert.is_nil(s:find(SECRET, 1, true), s)
      end
    end
    assert.truthy(#lines > 0)
    for _, l in ipairs(lines) do assert.is_nil(l:find(SECRET, 1, true), l) end
  end)
end)

describe("per-request options", function()
  before_each(function() helpers.reset() end)

  it("takes a per-request timeout over the client's", function()
    local gl = helpers.client{ timeout = 10, retries = 0 }
    helpers.fault{ path = "/api/v4/projects/1", delay_ms = 2000 }
    local now = require("gitlab.core").now
    local t0 = now()
    local data, err = gl:get("/projects/1", nil, { timeout = 0.3 })
    assert.is_nil(data)
    assert.equal("timeout", err.kind)
    assert.truthy(now() - t0 < 1.5)
    assert.truthy(gl:get("/projects/1"))   -- the client's own timeout again
  end)

  it("takes a per-request retry count", function()
    local gl = helpers.client{ retry_base = 0.01 }
    helpers.fault{ path = "/api/v4/projects/1", status = 503, times = -1 }
    local _, err = gl:get("/projects/1", nil, { retries = 1 })
    assert.equal(2, err.attempts)
  end)
end)

describe("a multipart part whose file cannot be read", function()
  setup(function() helpers.server() end)
  before_each(function() helpers.reset() end)

  -- Bad input loses nothing and sends nothing: the request must not go out
  -- with the part missing or cut (blocking and async alike).
  it("fails with kind file before anything is sent", function()
    local gl = helpers.client()
    local missing = helpers.tmpdir() .. "/no-such-file"
    local parts = { { name = "file", file = missing } }
    local data, err = gl:request("POST", "/projects/1/uploads", { multipart = parts })
    assert.is_nil(data)
    assert.equal("file", err.kind)
    local got
    gl:request_async("POST", "/projects/1/uploads", { multipart = parts }, function(e) got = e end)
    gl:wait()
    assert.equal("file", got.kind)
    assert.same({}, helpers.requests{ path = "/api/v4/projects/1/uploads" })
  end)
end)
