-- The example receiver (examples/webhook/) in a real nginx with Debian's
-- Lua module: the template rendered into a temporary directory, nginx
-- started as the current user on a free loopback port, deliveries posted
-- with curl(1), signed by openssl(1). nginx is stopped in teardown, whatever
-- happened before.
--
-- Needs the Debian packages nginx-light (or nginx), libnginx-mod-http-lua
-- and luajit2 (the Makefile's DEB_PKGS), and build/jit (make build): the
-- spec fails, naming them, when one is missing.

local helpers = require("helpers")

local q = helpers.shell_quote
-- Debian's place for dynamic modules (NGINX_MODULES overrides it)
local MODULES = os.getenv("NGINX_MODULES") or "/usr/lib/nginx/modules"
local PACKAGES = "nginx-light (or nginx), libnginx-mod-http-lua and luajit2"

local TOKEN = "nginx-hook-token-4242"

local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

local function sh(cmd)
  local out, rc = helpers.exec(cmd)
  return (out:gsub("%s+$", "")), rc
end

local function openssl_hmac_b64(hexkey, data)
  local f = os.tmpname()
  helpers.write_file(f, data)
  local out, rc = sh("openssl dgst -sha256 -mac HMAC -macopt hexkey:" .. hexkey
    .. " -binary " .. q(f) .. " | openssl base64 -A")
  os.remove(f)
  assert(rc == 0, out)
  return out
end

local function openssl_signing_token()
  local hexkey = assert(sh("openssl rand -hex 32"))
  local f = os.tmpname()
  helpers.write_file(f, unhex(hexkey))
  local b64 = sh("openssl base64 -A -in " .. q(f))
  os.remove(f)
  return "whsec_" .. b64, hexkey
end

-- the checkout's absolute path: nginx resolves relative paths against its prefix
local function abs(path)
  local out, rc = sh("cd " .. q(path) .. " && pwd")
  assert(rc == 0, out)
  return out
end

local function free_port()
  local out, rc = sh([[node -e "const s=require('net').createServer();]]
    .. [[s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"]])
  assert(rc == 0 and out:match("^%d+$"), "no free port: " .. out)
  return tonumber(out)
end

-- The template filled in, in a fresh directory.
local function render(root, port)
  local dir = helpers.tmpdir()
  local conf = assert(helpers.read_file(root .. "/examples/webhook/nginx.conf.in"))
  local vars = { PREFIX = dir, PORT = tostring(port), ROOT = root, MODULES = MODULES,
                 USER = sh("id -un") .. " " .. sh("id -gn") }
  conf = conf:gsub("@(%u+)@", function(k) return assert(vars[k], k) end)
  helpers.write_file(dir .. "/nginx.conf", conf)
  return dir
end

-- Starts nginx (it daemonizes: the master's pid lands in DIR/nginx.pid).
-- Returns the exit status of the command and its output.
local function start_nginx(dir, env)
  local prefix = ""
  for k, v in pairs(env) do prefix = prefix .. k .. "=" .. q(v) .. " " end
  return sh("env -u GITLAB_WEBHOOK_TOKEN -u GITLAB_WEBHOOK_SIGNING_TOKEN " .. prefix
    .. "nginx -p " .. q(dir) .. " -c " .. q(dir .. "/nginx.conf") .. " -e "
    .. q(dir .. "/error.log") .. " 2>&1")
end

local function master_pid(dir)
  local s = helpers.read_file(dir .. "/nginx.pid")
  return s and tonumber(s:match("%d+"))
end

local function alive(pid)
  local _, rc = sh("kill -0 " .. pid .. " 2>/dev/null")
  return rc == 0
end

-- Stops the master we started (by its pid) and waits for it to go.
local function stop_nginx(dir)
  local pid = master_pid(dir)
  if pid and alive(pid) then
    sh("kill -TERM " .. pid)
    for _ = 1, 100 do
      if not alive(pid) then break end
      helpers.sleep(0.05)
    end
    if alive(pid) then sh("kill -KILL " .. pid) end
  end
end

describe("examples/webhook in nginx", function()
  local root, dir, url, st, hexkey

  setup(function()
    local missing = {}
    if select(2, sh("command -v nginx")) ~= 0 then missing[#missing + 1] = "the nginx binary" end
    for _, m in ipairs{ "ndk_http_module", "ngx_http_lua_module" } do
      if not helpers.read_file(MODULES .. "/" .. m .. ".so") then
        missing[#missing + 1] = MODULES .. "/" .. m .. ".so"
      end
    end
    if #missing > 0 then
      error("nginx receiver: missing " .. table.concat(missing, ", ")
        .. "; install the Debian packages " .. PACKAGES .. " (make deps)", 0)
    end
    root = abs(helpers.root)
    if not helpers.read_file(root .. "/build/jit/gitlab/core.so") then
      error("nginx receiver: no build/jit/gitlab/core.so (make build): nginx's LuaJIT loads it", 0)
    end
    st, hexkey = openssl_signing_token()
    -- a port another process may take between node's look and nginx's
    -- bind: a few tries
    local out
    for _ = 1, 5 do
      local port = free_port()
      dir = render(root, port)
      local rc
      out, rc = start_nginx(dir, { GITLAB_WEBHOOK_TOKEN = TOKEN, GITLAB_WEBHOOK_SIGNING_TOKEN = st })
      if rc == 0 then url = "http://127.0.0.1:" .. port .. "/webhook"; break end
      stop_nginx(dir)
      local log = helpers.read_file(dir .. "/error.log") or ""
      if not (out .. log):find("Address already in use", 1, true) then
        error("nginx did not start: " .. out .. "\n" .. log, 0)
      end
    end
    assert(url, "nginx did not start: " .. tostring(out))
    for _ = 1, 100 do
      if helpers.curl{ url = url, timeout = 2 }.status ~= 0 then break end
      helpers.sleep(0.05)
    end
  end)

  teardown(function()
    if dir then
      stop_nginx(dir)
      sh("rm -rf " .. q(dir))
    end
  end)

  local function post(t)
    local id = t.id or ("id-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e9)))
    local ts = t.ts or os.time()
    local body = t.body or '{"object_kind":"push","ref":"refs/heads/main"}'
    local headers = { "Content-Type: " .. (t.ctype or "application/json"),
                      "X-Gitlab-Event: " .. (t.event or "Push Hook"),
                      "webhook-id: " .. id, "webhook-timestamp: " .. ts,
                      "Idempotency-Key: " .. id }
    if t.token ~= false then headers[#headers + 1] = "X-Gitlab-Token: " .. (t.token or TOKEN) end
    for _, l in ipairs(t.extra or {}) do headers[#headers + 1] = l end
    if t.sign ~= false then
      headers[#headers + 1] = "webhook-signature: v1,"
        .. openssl_hmac_b64(t.hexkey or hexkey, id .. "." .. ts .. "." .. body)
    end
    local r = helpers.curl{ method = t.method or "POST", url = url, headers = headers,
                            body = body, timeout = 10 }
    r.id = id
    return r
  end

  -- 401 for a sender that did not authenticate, 400 for an authenticated
  -- request that is malformed
  local function refused(r, code, status)
    assert.are.equal(status or 401, r.status, r.body)
    assert.matches("^application/json", r.headers["content-type"])
    local e = assert(helpers.decode(r.body))
    assert.are.equal(code, e.error)
    assert.is_string(e.message)
    -- never the token, the signing token or its key in an answer
    assert.is_nil(r.body:find(TOKEN, 1, true))
    assert.is_nil(r.body:find(st:sub(7), 1, true))
    return e
  end

  it("answers 204 to a good delivery, with what it received", function()
    local r = post{}
    assert.are.equal(204, r.status, r.body)
    assert.are.equal("push", r.headers["x-webhook-kind"])
    assert.are.equal(r.id, r.headers["x-webhook-id"])
    assert.are.equal("", r.body)
  end)

  it("answers 401 to a bad or missing token", function()
    refused(post{ token = "wrong-" .. TOKEN }, "bad_token")
    local e = refused(post{ token = false }, "missing_token")
    assert.is_nil(e.message:find(TOKEN, 1, true))
  end)

  it("answers 401 to a bad or missing signature", function()
    refused(post{ hexkey = sh("openssl rand -hex 32") }, "bad_signature")
    refused(post{ sign = false }, "missing_signature")
  end)

  it("answers 401 to a stale timestamp, and to one from the future", function()
    refused(post{ ts = os.time() - 1000 }, "stale")
    refused(post{ ts = os.time() + 1000 }, "stale")
  end)

  it("answers the same webhook-id twice as handled, not again, whichever worker gets it",
     function()
    -- GitLab sends the same webhook-id on a retry and on "Resend Request",
    -- and counts any answer but a 2xx as a failure: four in a row and the
    -- hook is disabled (doc/user/project/integrations/webhooks.md, "Auto-disabled
    -- webhooks"). A repeat is answered 204, and not handled again.
    local id = "replay-" .. os.time()
    local first = post{ id = id }
    assert.are.equal(204, first.status)
    assert.is_nil(first.headers["x-webhook-replayed"])
    -- two workers: several tries, each one seen as a repeat (the guard is a
    -- shared dict)
    for _ = 1, 6 do
      local r = post{ id = id }
      assert.are.equal(204, r.status, r.body)
      assert.are.equal("true", r.headers["x-webhook-replayed"])
      assert.is_nil(r.headers["x-webhook-kind"])
      assert.are.equal("", r.body)
    end
    -- a forged repeat is still a bad signature
    refused(post{ id = id, hexkey = sh("openssl rand -hex 32") }, "bad_signature")
  end)

  it("answers 400 to an authentic delivery whose body is not JSON, or bad JSON", function()
    refused(post{ body = "payload=%7B%7D", ctype = "application/x-www-form-urlencoded" },
            "not_json", 400)
    refused(post{ body = '{"object_kind":', ctype = "application/json" }, "bad_json", 400)
    refused(post{ extra = { "X-Gitlab-Event: Note Hook" } }, "duplicate_header", 400)
  end)

  it("sees a repeated header past the hundredth (get_headers reads them all)", function()
    -- ngx.req.get_headers() reads 100 headers by default: a second
    -- X-Gitlab-Token behind 120 others would go unseen
    local extra = {}
    for i = 1, 120 do extra[i] = "X-Pad-" .. i .. ": " .. i end
    extra[#extra + 1] = "X-Gitlab-Token: " .. TOKEN
    refused(post{ extra = extra }, "bad_token")
  end)

  it("reads a body nginx kept in a temporary file", function()
    -- larger than client_body_buffer_size (1m)
    local body = '{"object_kind":"push","pad":"' .. string.rep("x", 2 * 1024 * 1024) .. '"}'
    local r = post{ body = body }
    assert.are.equal(204, r.status, r.body)
    assert.are.equal("push", r.headers["x-webhook-kind"])
  end)

  it("takes GitLab's documented payloads", function()
    local body = assert(helpers.read_file(root .. "/spec/fixtures/webhooks/merge_request.http"))
      :match("\n\n(.*)$")
    local r = post{ body = body, event = "Merge Request Hook" }
    assert.are.equal(204, r.status, r.body)
    assert.are.equal("merge_request", r.headers["x-webhook-kind"])
  end)

  it("answers 405 to another method", function()
    local r = post{ method = "PUT" }
    assert.are.equal(405, r.status)
    assert.are.equal("POST", r.headers["allow"])
  end)

  it("does not start without a token", function()
    local other = render(root, free_port())
    local out, rc = start_nginx(other, {})
    stop_nginx(other)   -- in case it started after all
    local log = helpers.read_file(other .. "/error.log") or ""
    sh("rm -rf " .. q(other))
    assert.are_not.equal(0, rc)
    assert.matches("GITLAB_WEBHOOK_TOKEN", out .. log)
  end)
end)
