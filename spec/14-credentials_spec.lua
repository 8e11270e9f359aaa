-- Credentials: where a token may go (loopback, proxies, redirects), what
-- may not travel inside it (line breaks), and that it never shows (URLs,
-- error headers, OAuth errors, logs).
local helpers = require("helpers")
local gitlab = require("gitlab")
local oauth = require("gitlab.oauth")
local config = require("gitlab.config")
local core = require("gitlab.core")

local TOKEN = "glpat-root"
local q = helpers.shell_quote

local function new_fails(opts)
  local ok, err = pcall(gitlab.new, opts)
  if ok then err:close() end
  return not ok, tostring(err)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

local lua_interpreter = helpers.lua_interpreter

-- A Lua child with an environment of its own (libcurl reads proxy
-- variables itself, and this process cannot change its own environment).
-- The script's last line of output is returned.
local function child(env, script)
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write("package.path = ", ("%q"):format(package.path), "\n",
          "package.cpath = ", ("%q"):format(package.cpath), "\n", script)
  f:close()
  local vars = { "env -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY -u no_proxy -u NO_PROXY" }
  local keys = {}
  for k in pairs(env) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do vars[#vars + 1] = k .. "=" .. q(env[k]) end
  local out = helpers.exec("cd " .. q(helpers.root) .. " && " .. helpers.child_env() ..
    table.concat(vars, " ") .. " " .. q(lua_interpreter()) .. " " .. q(file) .. " 2>&1")
  os.remove(file)
  return (out:gsub("%s+$", ""))
end

-- A tiny HTTP proxy on loopback: it records the head of every request it
-- gets (to `log`), tunnels CONNECT and answers anything else 502. It exits
-- when its stdin (our pipe) closes.
local PROXY_JS = [[
const net = require('net'), fs = require('fs');
const log = process.argv[2], ready = process.argv[3];
fs.writeFileSync(log, '');
const srv = net.createServer((c) => {
  let head = Buffer.alloc(0);
  c.on('error', () => {});
  const onData = (d) => {
    head = Buffer.concat([head, d]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    c.removeListener('data', onData);
    const text = head.slice(0, end).toString('latin1');
    fs.appendFileSync(log, text + '\n--\n');
    const m = /^CONNECT ([^ :]+):(\d+) /.exec(text);
    if (!m) { c.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'); return; }
    const up = net.connect(Number(m[2]), m[1], () => {
      c.write('HTTP/1.1 200 Connection established\r\n\r\n');
      const rest = head.slice(end + 4);
      if (rest.length) up.write(rest);
      c.pipe(up); up.pipe(c);
    });
    up.on('error', () => c.destroy());
  };
  c.on('data', onData);
});
srv.listen(0, '127.0.0.1', () => fs.writeFileSync(ready, 'http://127.0.0.1:' + srv.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
]]

local function start_proxy()
  local dir = helpers.tmpdir()
  local js, log, ready = dir .. "/proxy.js", dir .. "/log", dir .. "/ready"
  local f = assert(io.open(js, "w"))
  f:write(PROXY_JS)
  f:close()
  local proc = assert(io.popen("exec node " .. q(js) .. " " .. q(log) .. " " .. q(ready) .. " >/dev/null 2>&1", "w"))
  local url
  for _ = 1, 1000 do
    url = read(ready)
    if url ~= "" then break end
    helpers.sleep(0.01)
  end
  assert(url ~= "", "the test proxy did not start")
  return {
    url = url,
    log = function() return read(log) end,
    stop = function() proc:close(); os.execute("rm -rf " .. q(dir)) end,
  }
end

describe("credentials", function()
  local srv
  setup(function() srv = helpers.server() end)
  before_each(function() helpers.reset() end)
  teardown(function() helpers.reset() end)   -- no fault outlives this file

  describe("plain http only to loopback", function()
    it("takes loopback as an IP literal in 127/8, [::1] or exactly localhost", function()
      for _, url in ipairs{ "http://127.0.0.1", "http://127.1.2.3:8080", "http://127.255.255.255",
                            "http://[::1]:3000", "http://localhost", "http://LocalHost:9" } do
        local refused, err = new_fails{ url = url, token = TOKEN }
        assert(not refused, url .. " refused: " .. err)
      end
      for _, url in ipairs{ "http://127.attacker.example", "http://127.0.0.1.attacker.example",
                            "http://127.0.0.1.nip.io:8080", "http://localhost.attacker.example",
                            "http://localhost.", "http://127.0.0.256", "http://127.0.0",
                            "http://0127.0.0.1", "http://127.0.0.01", "http://127.0.0.1.",
                            "http://[::2]", "http://[::1%25lo]", "http://128.0.0.1",
                            "http://1.127.0.0.1" } do
        local refused, err = new_fails{ url = url, token = TOKEN }
        assert(refused, url .. " was taken for loopback")
        assert.matches("plain http", err)
        assert.not_matches(TOKEN, err)
      end
      assert.is_true((new_fails{ url = "http://[::1].attacker.example", token = TOKEN }))
    end)

    it("holds for every credential kind and for OAuth", function()
      for _, o in ipairs{ { job_token = "job-root" }, { oauth_token = "oauth-root" },
                          { oauth = { access_token = "oauth-root" } } } do
        o.url = "http://127.attacker.example"
        assert.is_true((new_fails(o)))
        o.url = "http://127.0.0.1:1"
        assert.is_false((new_fails(o)))
      end
      for _, url in ipairs{ "http://127.999.0.1", "http://127.attacker.example" } do
        assert.has_error(function()
          oauth.refresh{ url = url, client_id = "x", refresh_token = "rt-secret" }
        end)
      end
      -- the OAuth flows accept what the client accepts
      local tokens, err = oauth.refresh{ url = "http://LOCALHOST:1", client_id = "x",
                                         refresh_token = "rt-secret", retries = 0 }
      assert.is_nil(tokens)
      assert.equal("transport", err.kind)
    end)

    it("is one implementation: core.is_loopback", function()
      assert.is_true(core.is_loopback("http://127.0.0.1:8080/api/v4"))
      assert.is_true(core.is_loopback("127.9.9.9"))
      assert.is_true(core.is_loopback("::1"))
      assert.is_true(core.is_loopback("[::1]"))
      assert.is_true(core.is_loopback("localhost"))
      assert.is_false(core.is_loopback("127.attacker.example"))
      assert.is_false(core.is_loopback("http://user@127.0.0.1"))
      assert.is_false(core.is_loopback("http://127.0.0.1:80x"))
    end)
  end)

  describe("line breaks and NUL bytes", function()
    -- a second request on the same connection, if the value went out raw
    local SMUGGLE = "x\r\nContent-Length: 0\r\n\r\nDELETE /api/v4/projects/1 HTTP/1.1\r\n"
      .. "PRIVATE-TOKEN: glpat-root\r\nX-A: y"

    local function nothing_sent()
      local log = helpers.requests()
      assert.equal(0, #log, "the server got " .. #log .. " request(s)")
      assert.is_table(helpers.store("/projects/1"))
    end

    it("in a credential, sudo or user_agent raise before anything is sent", function()
      for _, field in ipairs{ "token", "oauth_token", "job_token", "sudo", "user_agent" } do
        for _, bad in ipairs{ SMUGGLE, "glpat-root\nX", "glpat-root\rX", "glpat-root\0X" } do
          local o = { url = srv.http }
          if field == "sudo" or field == "user_agent" then o.token = TOKEN end
          o[field] = bad
          local ok, err = pcall(function()
            local gl = gitlab.new(o)
            gl:get("/version")
          end)
          assert(not ok, field .. " with a control character was accepted")
          err = tostring(err)
          assert.matches(field, err, 1, true)
          assert.matches("line break", err, 1, true)
          assert.is_nil(err:find("glpat-root", 1, true))
          assert.is_nil(err:find("DELETE", 1, true))
        end
      end
      nothing_sent()
    end)

    it("in an OAuth access token or a swapped token raise too", function()
      assert.has_error(function() gitlab.new{ url = srv.http, oauth = { access_token = SMUGGLE } } end)
      local gl = helpers.client()
      assert.has_error(function() gl:_set_token("token", SMUGGLE) end)
      nothing_sent()
    end)

    it("in a token from the token endpoint end the refresh with an error", function()
      helpers.fault{ path = "/oauth/token", status = 200,
        body = { access_token = SMUGGLE, token_type = "bearer", expires_in = 7200 } }
      local tokens, err = oauth.refresh{ url = srv.http, client_id = "x", refresh_token = "rt-1" }
      assert.is_nil(tokens)
      assert.equal("invalid_response", err.code)
    end)

    it("in a header of the client or of a request raise", function()
      assert.has_error(function() gitlab.new{ url = srv.http, headers = { ["X-A"] = "a\0b" } } end)
      local gl = helpers.client()
      assert.has_error(function() gl:get("/version", nil, { headers = { ["X-A"] = "a\0b" } }) end)
      nothing_sent()
    end)

    it("in an upload's content_type or file name raise before anything is sent", function()
      local dir = helpers.tmpdir()
      local file = dir .. "/a.txt"
      local f = assert(io.open(file, "w"))
      f:write("hello\n")
      f:close()
      local gl = helpers.client()
      for _, o in ipairs{
        { content_type = "text/plain\r\nX-Injected: 1" },
        { filename = "a.txt\r\nContent-Type: text/html" },
        { filename = "a\0.txt" },
        { field = "file\r\nX: 1" },
      } do
        o.file = file
        local ok, err = pcall(gl.upload, gl, "/projects/1/uploads", o)
        assert.is_false(ok)
        assert.matches("line break", tostring(err), 1, true)
      end
      nothing_sent()
      os.execute("rm -rf " .. q(dir))
    end)

    it("in the output of token_command is refused", function()
      local dir = helpers.tmpdir()
      local lopts = { getenv = function(k) return ({ XDG_CONFIG_HOME = dir, HOME = "/nonexistent" })[k] end,
                      warn = function() end }
      local path = config.path(lopts)
      assert(core.write_private(path:match("^(.*)/[^/]*$") .. "/.keep", ""))
      for _, out in ipairs{ [[printf 'glpat-root\rDELETE']], [[printf 'glpat-root\000x']] } do
        local f = assert(io.open(path, "w"))
        f:write(("w = { url = %q, token_command = %q }\n"):format(srv.http, out))
        f:close()
        local opts, err = config.load("w", lopts)
        assert.is_nil(opts)
        assert.matches("token_command of instance 'w'", err, 1, true)
        assert.is_nil(err:find("glpat-root", 1, true))
      end
      os.execute("rm -rf " .. q(dir))
      nothing_sent()
    end)
  end)

  describe("extra headers", function()
    local HEADERS = { Authorization = "Basic dXNlcjpwYXNz", ["X-Client"] = "client-secret-1" }

    local function echoed(gl, url, opts)
      local data, resp = gl:get(url, nil, opts)
      assert(data, resp)
      return data.headers, data.origin
    end

    it("stay on the configured origin when a redirect leaves it", function()
      local gl = helpers.client{ headers = HEADERS }
      local to = srv.other .. "/__echo"
      local h = echoed(gl, "/__redirect?to=" .. helpers.urlencode(to),
                       { headers = { ["X-Request"] = "request-secret-1" } })
      assert.is_nil(h.authorization)
      assert.is_nil(h["x-client"])
      assert.is_nil(h["x-request"])
      assert.is_nil(h["private-token"])
      -- nothing of them in what the other origin logged either
      for _, e in ipairs(helpers.requests{ origin = "other" }) do
        local all = helpers.json.encode(e.headers)
        assert.is_nil(all:find("dXNlcjpwYXNz", 1, true))
        assert.is_nil(all:find("secret-1", 1, true))
      end
    end)

    it("follow a redirect within the configured origin", function()
      local gl = helpers.client{ headers = HEADERS }
      local h = echoed(gl, "/__redirect?to=" .. helpers.urlencode(helpers.api_url("/__echo")),
                       { headers = { ["X-Request"] = "request-secret-1" } })
      assert.equal("Basic dXNlcjpwYXNz", h.authorization)
      assert.equal("client-secret-1", h["x-client"])
      assert.equal("request-secret-1", h["x-request"])
    end)

    it("of the client never go to another origin; those of a request go where it is sent", function()
      local gl = helpers.client{ headers = HEADERS }
      local h = echoed(gl, srv.other .. "/__echo", { headers = { ["X-Request"] = "mine" } })
      assert.is_nil(h.authorization)
      assert.is_nil(h["x-client"])
      assert.equal("mine", h["x-request"])
    end)
  end)

  describe("proxies", function()
    local proxy
    setup(function() proxy = start_proxy() end)
    teardown(function() proxy.stop() end)

    local function proxied()
      return proxy.log()
    end

    it("refuse a credential over plain http through the proxy option", function()
      local before = proxied()
      local ok, err = pcall(function()
        local gl = gitlab.new{ url = srv.http, token = TOKEN, proxy = proxy.url, retries = 0 }
        gl:get("/user")
      end)
      assert.is_false(ok)
      assert.matches("proxy", tostring(err), 1, true)
      assert.is_nil(tostring(err):find(TOKEN, 1, true))
      assert.equal(before, proxied())
      -- OAuth secrets likewise
      assert.has_error(function()
        oauth.refresh{ url = srv.http, client_id = "x", refresh_token = "rt-secret", proxy = proxy.url }
      end)
      assert.equal(before, proxied())
    end)

    it("go through a proxy over plain http when asked (allow_insecure), and over https always", function()
      local gl = gitlab.new{ url = srv.http, token = TOKEN, proxy = proxy.url, retries = 0,
                             allow_insecure = true }
      local _, err = gl:get("/user")
      assert.equal(502, err.status)
      assert.matches("GET " .. srv.http .. "/api/v4/user", proxied(), 1, true)
      -- https through the proxy: a CONNECT tunnel; the proxy sees no token
      local before = #proxied()
      local tls = gitlab.new{ url = srv.https, ca_file = helpers.certs().ca, token = TOKEN,
                              proxy = proxy.url }
      assert.equal("root", assert(tls:get("/user")).username)
      local seen = proxied():sub(before + 1)
      assert.matches("^CONNECT 127.0.0.1:", seen)
      assert.is_nil(seen:find(TOKEN, 1, true))
    end)

    -- the client's User-Agent is a line of its header lists, not libcurl's
    -- CURLOPT_USERAGENT: a CONNECT gets it from CURLOPT_PROXYHEADER, and a
    -- plain-http request through the proxy must not get it twice
    it("tell the proxy the client's User-Agent once, and nothing else of the client", function()
      local function count(text, pat)
        local n = 0
        for _ in text:gmatch(pat) do n = n + 1 end
        return n
      end
      local before = #proxied()
      local gl = gitlab.new{ url = srv.http, token = TOKEN, proxy = proxy.url, retries = 0,
                             allow_insecure = true, user_agent = "mine/3" }
      gl:get("/user")
      local seen = proxied():sub(before + 1)
      assert.matches("^GET " .. srv.http, seen)
      assert.equal(1, count(seen, "\n[Uu]ser%-[Aa]gent: mine/3[\r\n]"))
      assert.equal(1, count(seen, "\n[Aa]ccept%-[Ee]ncoding: "))
      -- a CONNECT: the User-Agent, never the credential, the client's
      -- extra headers or an Accept-Encoding (those go inside the tunnel)
      for _, ua in ipairs{ "mine/4", "" } do
        before = #proxied()
        local tls = gitlab.new{ url = srv.https, ca_file = helpers.certs().ca, token = TOKEN,
                                proxy = proxy.url, user_agent = ua, headers = { ["X-Trace"] = "7" } }
        local e = assert(tls:get("/__echo"))
        seen = proxied():sub(before + 1)
        assert.matches("^CONNECT 127.0.0.1:", seen)
        assert.equal(ua == "" and 0 or 1, count(seen, "\n[Uu]ser%-[Aa]gent: mine/4[\r\n]"))
        assert.equal(ua == "" and 0 or 1, count(seen, "\n[Uu]ser%-[Aa]gent:"))
        assert.is_nil(seen:find(TOKEN, 1, true))
        assert.is_nil(seen:lower():find("x-trace", 1, true))
        assert.is_nil(seen:lower():find("accept-encoding", 1, true))
        assert.equal(TOKEN, e.headers["private-token"])
        assert.equal("7", e.headers["x-trace"])
        assert.equal(ua ~= "" and ua or nil, e.headers["user-agent"])
      end
    end)

    local SCRIPT = [[
      local gitlab = require("gitlab")
      local ok, gl = pcall(gitlab.new, { url = %q, token = "glpat-root", retries = 0 })
      if not ok then print("refused: " .. tostring(gl)) return end
      local data, err = gl:get("/user")
      print(data and ("ok " .. data.username) or ("error " .. tostring(err)))
    ]]

    it("from the environment are refused too (http_proxy, all_proxy, ALL_PROXY)", function()
      local before = proxied()
      for _, var in ipairs{ "http_proxy", "all_proxy", "ALL_PROXY" } do
        local out = child({ [var] = proxy.url }, SCRIPT:format(srv.http))
        assert.matches("^refused: .*proxy", out)
        assert.matches(var, out, 1, true)
        assert.is_nil(out:find(TOKEN, 1, true))
      end
      assert.equal(before, proxied())
    end)

    it("that libcurl does not use for the host are no reason to refuse", function()
      local before = proxied()
      -- libcurl never reads HTTP_PROXY for http (it could come from a CGI
      -- request's Proxy header); no_proxy exempts the host
      assert.equal("ok root", child({ HTTP_PROXY = proxy.url }, SCRIPT:format(srv.http)))
      assert.equal("ok root", child({ http_proxy = proxy.url, no_proxy = "localhost,127.0.0.1" },
                                    SCRIPT:format(srv.http)))
      assert.equal("ok root", child({ http_proxy = proxy.url, NO_PROXY = "127.0.0.0/8" },
                                    SCRIPT:format(srv.http)))
      assert.equal("ok root", child({ http_proxy = proxy.url }, ([[
        local gitlab = require("gitlab")
        local gl = gitlab.new{ url = %q, token = "glpat-root", proxy = "" }
        print("ok " .. assert(gl:get("/user")).username)
      ]]):format(srv.http)))
      assert.equal(before, proxied())
    end)

    it("never carry a credential installed later (OAuth refresh) over plain http", function()
      local before = proxied()
      local out = child({ http_proxy = proxy.url }, ([[
        local gitlab = require("gitlab")
        local gl = gitlab.new{ url = %q, retries = 0 }
        gl:_set_token("token", "glpat-root")
        local data, err = gl:get("/user")
        print(data and ("ok " .. data.username) or ("error " .. tostring(err)))
      ]]):format(srv.http))
      assert.equal("ok root", out)
      assert.equal(before, proxied())
    end)
  end)

  describe("URLs", function()
    it("with a user name or password are refused, without echoing the password", function()
      for _, url in ipairs{ "https://user:s3cret-pw@gitlab.example.com",
                            "http://user:s3cret-pw@gitlab.example.com",
                            "http://user:s3cret-pw@127.0.0.1:1",
                            "https://s3cret-pw@gitlab.example.com/api/v4",
                            "ftp://user:s3cret-pw@gitlab.example.com" } do
        for _, o in ipairs{ { url = url, token = TOKEN }, { url = url } } do
          local refused, err = new_fails(o)
          assert(refused, url .. " was accepted")
          assert.is_nil(err:find("s3cret-pw", 1, true))
        end
      end
      assert.has_error(function() core.client{ base = "https://u:s3cret-pw@h.example/api/v4" } end)
    end)

    it("keep no credential from the query in next_url and links", function()
      local gl = helpers.client()
      local data, resp = gl:get("/projects", { private_token = TOKEN, feed_token = "feed-secret-1",
                                               per_page = 1 })
      assert(data, resp)
      assert.is_string(resp.next_url)
      assert.is_nil(resp.next_url:find(TOKEN, 1, true))
      assert.is_nil(resp.next_url:find("feed-secret-1", 1, true))
      assert.matches("private_token=[REDACTED]", resp.next_url, 1, true)
      for rel, u in pairs(resp.links) do
        assert(not u:find(TOKEN, 1, true), rel .. ": " .. u)
      end
      -- pagination still carries on with the real query
      local anon = helpers.client{ anonymous = true }
      local n = 0
      for _ in anon:paginate("/projects", { private_token = TOKEN, per_page = 1 }) do n = n + 1 end
      assert.equal(2, n)
    end)
  end)

  describe("redaction", function()
    it("covers feed_token and rss_token in error URLs and log lines", function()
      local lines = {}
      local gl = helpers.client{ log = function(l) lines[#lines + 1] = l end }
      local _, err = gl:get("/projects/999999", { feed_token = "feed-secret-1", rss_token = "rss-secret-1" })
      assert.equal(404, err.status)
      assert.matches("feed_token=[REDACTED]", err.url, 1, true)
      assert.matches("rss_token=[REDACTED]", err.url, 1, true)
      assert.is_true(#lines > 0)
      for _, s in ipairs{ err.url, tostring(err), table.concat(lines, "\n") } do
        assert.is_nil(s:find("feed-secret-1", 1, true))
        assert.is_nil(s:find("rss-secret-1", 1, true))
      end
      assert.equal("feed_token=[REDACTED]&rss_token=[REDACTED]",
        core.redact_url("https://h/x?feed_token=a&rss_token=b"):match("%?(.*)$"))
    end)

    it("covers credentials a server echoes in response headers", function()
      helpers.fault{ path = "/api/v4/user", status = 403, headers = {
        ["private-token"] = TOKEN, authorization = "Bearer " .. TOKEN,
        ["set-cookie"] = "_gitlab_session=sess-secret-1; path=/; HttpOnly",
        ["job-token"] = "job-root", ["x-debug"] = "token was " .. TOKEN } }
      local gl = helpers.client()
      local _, err = gl:get("/user")
      assert.equal(403, err.status)
      for _, h in ipairs{ err.headers, err.response.headers } do
        for k, v in pairs(h) do
          assert(not v:find(TOKEN, 1, true), k .. ": " .. v)
          assert(not v:find("sess-secret-1", 1, true), k .. ": " .. v)
          assert(not v:find("job-root", 1, true), k .. ": " .. v)
        end
        assert.equal("[REDACTED]", h["set-cookie"])
        assert.equal("[REDACTED]", h["Private-Token"])
      end
    end)

    it("covers a refresh token the token endpoint echoes", function()
      local RT = "rt-secret-echoed-1"
      helpers.fault{ path = "/oauth/token", status = 400, times = -1, body = {
        error = "invalid_grant",
        error_description = "The refresh token " .. RT .. " is invalid, expired or revoked" } }
      local tokens, err = oauth.refresh{ url = srv.http, client_id = "app", refresh_token = RT }
      assert.is_nil(tokens)
      assert.equal("invalid_grant", err.code)
      for _, s in ipairs{ tostring(err), err.message, err.body or "" } do
        assert.is_nil(s:find(RT, 1, true))
      end
      -- the client's automatic refresh
      local gl = gitlab.new{ url = srv.http, oauth = { client_id = "app", access_token = "oauth-expired",
                                                       refresh_token = RT, expires_at = os.time() - 10 } }
      local _, e = gl:get("/user")
      assert.equal(401, e.status)
      local rerr = e.refresh_error
      assert.is_table(rerr)
      for _, s in ipairs{ tostring(rerr), rerr.message, rerr.body or "" } do
        assert.is_nil(s:find(RT, 1, true))
      end
    end)
  end)

  describe("verify = false and oversized headers", function()
    it("verify = false with a credential warns once through log, without the credential", function()
      local lines = {}
      local gl = gitlab.new{ url = srv.https, token = TOKEN, verify = false,
                             log = function(l) lines[#lines + 1] = l end }
      assert.equal("root", assert(gl:get("/user")).username)
      assert.equal("root", assert(gl:get("/user")).username)
      local warned = {}
      for _, l in ipairs(lines) do
        assert.is_nil(l:find(TOKEN, 1, true))
        if l:find("verify", 1, true) then warned[#warned + 1] = l end
      end
      assert.equal(1, #warned)
      assert.is_nil(warned[1]:find("\n", 1, true))
      -- no credential, no warning
      lines = {}
      gitlab.new{ url = srv.https, verify = false, log = function(l) lines[#lines + 1] = l end }
      assert.equal(0, #lines)
    end)

    it("headers over 300 KB in many lines are too_large, not retried", function()
      local h = {}
      for i = 1, 50 do h["x-filler-" .. i] = ("f"):rep(8000) end
      helpers.fault{ path = "/api/v4/user", status = 200, headers = h, body = { username = "root" }, times = -1 }
      local gl = helpers.client{ retries = 2, retry_base = 0.01 }
      local data, err = gl:get("/user")
      assert.is_nil(data)
      assert.equal("too_large", err.kind)
      assert.equal(1, #helpers.requests{ path = "/api/v4/user" })
    end)
  end)
end)
