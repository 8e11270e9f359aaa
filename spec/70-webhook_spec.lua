-- gitlab.webhook: GitLab's deliveries checked (X-Gitlab-Token, the
-- signing token's Standard Webhooks signature, timestamps, replays) and
-- decoded, and the libcrypto primitives under them.
--
-- GitLab's side: doc/user/project/integrations/webhooks.md (X-Gitlab-Token
-- and the delivery headers: X-Gitlab-Event, X-Gitlab-Instance,
-- X-Gitlab-Webhook-UUID, X-Gitlab-Event-UUID, Idempotency-Key). The
-- signing token (webhook-id, webhook-timestamp, webhook-signature, HMAC-SHA256
-- over "{webhook-id}.{webhook-timestamp}.{body}", "v1,<base64>", key the
-- base64 after "whsec_") is gitlab-org/gitlab!230944, which follows
-- standard-webhooks/standard-webhooks spec/standard-webhooks.md; the stored
-- copies of webhooks.md predate its "Signing tokens" section. Payloads:
-- doc/user/project/integrations/webhook_events.md and
-- doc/administration/system_hooks.md, trimmed under spec/fixtures/webhooks/
-- (each names the page and commit it is from).
--
-- The signatures checked here are computed by openssl(1), never by the
-- library's own signer, plus the Standard Webhooks reference vector.

local helpers = require("helpers")
local core = require("gitlab.core")
local errors = require("gitlab.errors")
local webhook = require("gitlab.webhook")

local q = helpers.shell_quote

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

-- openssl(1) in a shell, reading `input` when given: stdout without the
-- trailing newline
local function openssl(args, input)
  local f
  if input then
    f = os.tmpname()
    helpers.write_file(f, input)
    args = args .. " -in " .. q(f)
  end
  local out, rc = helpers.exec("openssl " .. args .. " 2>&1")
  if f then os.remove(f) end
  assert(rc == 0, "openssl " .. args .. ": " .. out)
  return (out:gsub("%s+$", ""))
end

local function openssl_base64(bytes) return openssl("base64 -A", bytes) end

local function openssl_hmac_b64(hexkey, data)
  local f = os.tmpname()
  helpers.write_file(f, data)
  local out, rc = helpers.exec("openssl dgst -sha256 -mac HMAC -macopt hexkey:" .. hexkey
    .. " -binary " .. q(f) .. " | openssl base64 -A")
  os.remove(f)
  assert(rc == 0, out)
  return (out:gsub("%s+$", ""))
end

-- A signing token and its key as GitLab makes them ("whsec_" and the
-- base64 of 32 random bytes), by openssl.
local function openssl_signing_token()
  local hexkey = openssl("rand -hex 32")
  return "whsec_" .. openssl_base64(unhex(hexkey)), hexkey
end

local NOW = 1700000000
local function clock(t) return function() return t end end

local TOKEN = "hook-secret-token-0123"
local BODY = '{"object_kind":"push","ref":"refs/heads/main","total_commits_count":4}'

-- A delivery: headers as a list of lines, signed by openssl when hexkey is given.
local function delivery(t)
  local lines = { "Content-Type: application/json", "X-Gitlab-Event: Push Hook" }
  if t.token then lines[#lines + 1] = "X-Gitlab-Token: " .. t.token end
  local id, ts = t.id or "f5e5f430-f57b-4e6e-9fac-d9128cd7232f", t.ts or NOW
  lines[#lines + 1] = "webhook-id: " .. id
  lines[#lines + 1] = "webhook-timestamp: " .. ts
  lines[#lines + 1] = "Idempotency-Key: " .. id
  if t.hexkey then
    local sig = "v1," .. openssl_hmac_b64(t.hexkey, id .. "." .. ts .. "." .. (t.body or BODY))
    lines[#lines + 1] = "webhook-signature: " .. sig
  end
  for _, l in ipairs(t.extra or {}) do lines[#lines + 1] = l end
  return lines, t.body or BODY
end

local function refused(code, ev, err)
  assert.is_nil(ev)
  assert.is_table(err, "expected an error")
  assert.are.equal("webhook", err.kind)
  assert.are.equal(code, err.code, tostring(err))
  assert.is_true(errors.is_error(err))
  assert.is_string(err.message)
  return err
end

describe("gitlab.core crypto primitives for webhooks", function()
  it("hmac_sha256 matches openssl dgst -mac HMAC", function()
    for _, data in ipairs{ "", "abc", "line\nbreak\r\n", string.rep("x", 100000),
                           "\0\1\2\255 binary" } do
      local hexkey = openssl("rand -hex 32")
      local want = openssl_hmac_b64(hexkey, data)
      assert.are.equal(want, core.base64(core.hmac_sha256(unhex(hexkey), data)))
    end
    -- RFC 4231 test case 2 (a key shorter than the block)
    assert.are.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      hex(core.hmac_sha256("Jefe", "what do ya want for nothing?")))
  end)

  it("base64 matches openssl base64, and base64_decode reverses it strictly", function()
    for _, n in ipairs{ 0, 1, 2, 3, 4, 31, 32, 33, 100 } do
      local bytes = n == 0 and "" or unhex(openssl("rand -hex " .. n))
      local b64 = core.base64(bytes)
      assert.are.equal(openssl_base64(bytes), b64)
      assert.are.equal(bytes, core.base64_decode(b64))
    end
    -- non-canonical: the bits the padding leaves over are not zero (RFC 4648
    -- section 3.5), so that one string of bytes has one encoding only
    -- ("YR==" and "YWJ=" would decode as "a" and "ab")
    assert.are.equal("a", core.base64_decode("YQ=="))
    assert.are.equal("ab", core.base64_decode("YWI="))
    for _, bad in ipairs{ "abc", "ab=c", "a b=", "====", "YQ", "YQ==\n", "-_-_", "YQ=a",
                          "YR==", "Y/==", "YWJ=", "YWL=", "AAAAYWJ=" } do
      local v, msg = core.base64_decode(bad)
      assert.is_nil(v, bad)
      assert.matches("^base64: ", msg)
    end
  end)

  it("secure_compare says equal only for equal strings", function()
    assert.is_true(core.secure_compare("same", "same"))
    assert.is_true(core.secure_compare("", ""))
    assert.is_false(core.secure_compare("samf", "same"))
    assert.is_false(core.secure_compare("sam", "same"))        -- a prefix
    assert.is_false(core.secure_compare("samesame", "same"))   -- repeated: the walk wraps
    assert.is_false(core.secure_compare("same\0", "same"))
    assert.is_false(core.secure_compare("x", ""))
    assert.is_false(core.secure_compare("", "x"))
    assert.has_error(function() core.secure_compare("a") end)
  end)
end)

describe("webhook signatures", function()
  it("reproduce the Standard Webhooks reference vector", function()
    -- the test vector of the Standard Webhooks reference libraries
    -- (standard-webhooks/standard-webhooks libraries/*, svix's the same)
    local st = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    local id, ts, body = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
    local want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert.are.equal(want, webhook.sign{ signing_token = st, id = id, timestamp = ts, body = body })
    local ev, err = webhook.receive({ ["webhook-id"] = id, ["webhook-timestamp"] = tostring(ts),
      ["webhook-signature"] = want }, body, { signing_token = st, now = clock(ts) })
    assert.is_nil(err)
    assert.are.equal(2432232314, ev.data.test)
    assert.are.equal(id, ev.id)
    assert.is_true(ev.signed)
    -- the prefix may be left out, as the reference libraries allow
    assert.are.equal(want, webhook.sign{ signing_token = st:sub(7), id = id, timestamp = ts,
                                         body = body })
  end)

  it("verify what openssl signed, and sign what openssl signs", function()
    local st, hexkey = openssl_signing_token()
    for _, body in ipairs{ BODY, '{"note":"line\\nbreak","u":"\\u00e9 é"}',
                           '{}', '{"a":[1,2,3],"b":{"c":null}}\n' } do
      local lines = delivery{ hexkey = hexkey, body = body }
      local ev, err = webhook.receive(lines, body, { signing_token = st, now = clock(NOW) })
      assert.is_nil(err)
      assert.is_table(ev.data)
      local want = "v1," .. openssl_hmac_b64(hexkey,
        "f5e5f430-f57b-4e6e-9fac-d9128cd7232f." .. NOW .. "." .. body)
      assert.are.equal(want, webhook.sign{ signing_token = st,
        id = "f5e5f430-f57b-4e6e-9fac-d9128cd7232f", timestamp = NOW, body = body })
    end
  end)

  it("are over the exact bytes: a changed body, id or timestamp is refused", function()
    local st, hexkey = openssl_signing_token()
    local lines, body = delivery{ hexkey = hexkey }
    local opts = { signing_token = st, now = clock(NOW) }
    assert.is_table((webhook.receive(lines, body, opts)))
    refused("bad_signature", webhook.receive(lines, body .. " ", opts))
    refused("bad_signature", webhook.receive(lines, body:gsub("main", "mainx"), opts))
    for i, l in ipairs(lines) do
      local copy = {}
      for j, m in ipairs(lines) do copy[j] = m end
      if l:match("^webhook%-id:") then copy[i] = "webhook-id: other-id" end
      if l:match("^webhook%-timestamp:") then copy[i] = "webhook-timestamp: " .. (NOW + 1) end
      if copy[i] ~= l then refused("bad_signature", webhook.receive(copy, body, opts)) end
    end
    -- another key
    local other = openssl_signing_token()
    refused("bad_signature", webhook.receive(lines, body, { signing_token = other, now = clock(NOW) }))
  end)

  it("pass when any of several v1 entries matches; other versions are skipped", function()
    local st, hexkey = openssl_signing_token()
    local good = "v1," .. openssl_hmac_b64(hexkey, "id-1." .. NOW .. "." .. BODY)
    local wrong = "v1," .. openssl_hmac_b64(openssl("rand -hex 32"), "id-1." .. NOW .. "." .. BODY)
    local function with(sig)
      return webhook.receive({ ["webhook-id"] = "id-1", ["webhook-timestamp"] = tostring(NOW),
        ["webhook-signature"] = sig, ["content-type"] = "application/json" }, BODY,
        { signing_token = st, now = clock(NOW) })
    end
    assert.is_table((with(good)))
    assert.is_table((with(wrong .. " " .. good)))             -- key rotation: old first
    assert.is_table((with(good .. " " .. wrong)))
    assert.is_table((with("v1a,aGVsbG8= " .. wrong .. "  " .. good .. " v2,xyz")))
    refused("bad_signature", with(wrong))
    refused("bad_signature", with(wrong .. " " .. wrong))
    local err = refused("bad_signature", with("v1a," .. good:sub(4)))  -- only another version
    assert.matches("no v1", err.message)
    refused("bad_signature", with("v1," .. good:sub(4, -3)))           -- cut
    refused("bad_signature", with(good:sub(4)))                        -- no "v1,"
    refused("bad_signature", with("v1," .. good:sub(4):lower()))
  end)
end)

describe("webhook.receive", function()
  local st, hexkey
  setup(function() st, hexkey = openssl_signing_token() end)

  it("returns the event: name, kind, ids, instance, decoded data", function()
    local lines, body = delivery{ token = TOKEN, hexkey = hexkey, extra = {
      "X-Gitlab-Instance: https://gitlab.example.com",
      "X-Gitlab-Event-UUID: 13792a34-cac6-4fda-95a8-c58e00a3954e",
      "X-Gitlab-Webhook-UUID: 02affd2d-2cba-4033-917d-ec22d5dc4b38",
      "User-Agent: GitLab/18.0.0" } }
    local ev = assert(webhook.receive(lines, body, { token = TOKEN, signing_token = st,
                                                    now = clock(NOW) }))
    assert.are.equal("Push Hook", ev.name)
    assert.are.equal("push", ev.kind)
    assert.are.equal("f5e5f430-f57b-4e6e-9fac-d9128cd7232f", ev.id)
    assert.are.equal("13792a34-cac6-4fda-95a8-c58e00a3954e", ev.uuid)
    assert.are.equal("02affd2d-2cba-4033-917d-ec22d5dc4b38", ev.webhook_uuid)
    assert.are.equal("https://gitlab.example.com", ev.instance)
    assert.are.equal(NOW, ev.timestamp)
    assert.is_true(ev.signed)
    assert.are.equal(4, ev.data.total_commits_count)
    assert.are.equal(math.type and "integer" or "number",
                     math.type and math.type(ev.data.total_commits_count) or "number")
  end)

  it("takes the id from Idempotency-Key when there is no webhook-id", function()
    local ev = assert(webhook.receive({ ["X-Gitlab-Token"] = TOKEN,
      ["Idempotency-Key"] = "idem-1" }, BODY, { token = TOKEN }))
    assert.are.equal("idem-1", ev.id)
    assert.is_false(ev.signed)
    ev = assert(webhook.receive({ ["X-Gitlab-Token"] = TOKEN }, BODY, { token = TOKEN }))
    assert.is_nil(ev.id)
    assert.is_nil(ev.name)
  end)

  it("reads header names in any case, as a table or as lines", function()
    local _, body = delivery{}
    local sig = "v1," .. openssl_hmac_b64(hexkey, "id-9." .. NOW .. "." .. body)
    local forms = {
      { ["x-gitlab-token"] = TOKEN, ["WEBHOOK-ID"] = "id-9", ["Webhook-Timestamp"] = tostring(NOW),
        ["webHook-signaTure"] = sig, ["CONTENT-TYPE"] = "Application/JSON; charset=utf-8",
        ["x-GITLAB-event"] = "Push Hook" },
      { "X-GITLAB-TOKEN: " .. TOKEN, "webhook-id:id-9", "WEBHOOK-TIMESTAMP:   " .. NOW .. "  ",
        "Webhook-Signature: " .. sig .. "\r\n", "content-type: application/json",
        "X-Gitlab-Event: Push Hook" },
      -- what ngx.req.get_headers() gives: lower case, a number-free table
      { ["x-gitlab-token"] = { TOKEN }, ["webhook-id"] = "id-9",
        ["webhook-timestamp"] = tostring(NOW), ["webhook-signature"] = sig,
        ["x-gitlab-event"] = "Push Hook" },
    }
    for i, h in ipairs(forms) do
      local ev, err = webhook.receive(h, body, { token = TOKEN, signing_token = st,
                                                 now = clock(NOW) })
      assert.is_nil(err, "form " .. i)
      assert.are.equal("Push Hook", ev.name)
      assert.are.equal("id-9", ev.id)
    end
  end)

  it("refuses a header it reads given twice", function()
    local function twice(extra, opts)
      local lines, body = delivery{ token = TOKEN, hexkey = hexkey, extra = extra }
      opts = opts or { token = TOKEN, signing_token = st, now = clock(NOW) }
      return webhook.receive(lines, body, opts)
    end
    refused("bad_token", twice{ "x-gitlab-token: " .. TOKEN })     -- even the same value
    refused("bad_signature", twice{ "webhook-timestamp: " .. NOW })
    refused("bad_signature", twice{ "Webhook-Id: other" })
    refused("bad_signature", twice{ "webhook-signature: v1,AAAA" })
    refused("not_json", twice{ "content-type: application/json" })
    refused("duplicate_header", twice{ "X-Gitlab-Event: Note Hook" })
    refused("duplicate_header", twice{ "idempotency-key: x" })
    -- unsigned, webhook-id is one more informational header
    refused("duplicate_header", twice({ "webhook-id: other" }, { token = TOKEN }))
    -- a table whose value is a list (OpenResty's form of a repeated header)
    refused("bad_token", webhook.receive({ ["x-gitlab-token"] = { TOKEN, TOKEN } }, BODY,
                                         { token = TOKEN }))
    -- two names differing in case
    refused("bad_token", webhook.receive({ ["x-gitlab-token"] = TOKEN, ["X-Gitlab-Token"] = TOKEN },
                                         BODY, { token = TOKEN }))
    -- headers it does not read may repeat
    assert.is_table((twice{ "Accept: */*", "accept: text/plain" }))
  end)

  describe("err.code", function()
    it("missing_token and bad_token", function()
      refused("missing_token", webhook.receive({ "Content-Type: application/json" }, BODY,
                                               { token = TOKEN }))
      refused("missing_token", webhook.receive({ "X-Gitlab-Token:" }, BODY, { token = TOKEN }))
      refused("bad_token", webhook.receive({ "X-Gitlab-Token: " .. TOKEN .. "x" }, BODY,
                                           { token = TOKEN }))
      refused("bad_token", webhook.receive({ "X-Gitlab-Token: " .. TOKEN:sub(1, -2) }, BODY,
                                           { token = TOKEN }))
      refused("bad_token", webhook.receive({ "X-Gitlab-Token: " .. TOKEN:upper() }, BODY,
                                           { token = TOKEN }))
    end)

    it("missing_signature: no webhook-signature, webhook-id or webhook-timestamp", function()
      local opts = { signing_token = st, now = clock(NOW) }
      local lines, body = delivery{}   -- unsigned
      refused("missing_signature", webhook.receive(lines, body, opts))
      local sig = "v1," .. openssl_hmac_b64(hexkey, "id." .. NOW .. "." .. BODY)
      refused("missing_signature", webhook.receive({ ["webhook-timestamp"] = tostring(NOW),
        ["webhook-signature"] = sig }, BODY, opts))
      refused("missing_signature", webhook.receive({ ["webhook-id"] = "id",
        ["webhook-signature"] = sig }, BODY, opts))
      refused("missing_signature", webhook.receive({ ["webhook-id"] = "id",
        ["webhook-timestamp"] = tostring(NOW), ["webhook-signature"] = "" }, BODY, opts))
    end)

    it("bad_signature for a timestamp that is not an integer or an id with a '.'", function()
      local opts = { signing_token = st, now = clock(NOW) }
      for _, ts in ipairs{ "1700000000.5", "-1700000000", "1.7e9", "abc", "0x6553F100",
                           "1234567890123456" } do
        local sig = "v1," .. openssl_hmac_b64(hexkey, "id." .. ts .. "." .. BODY)
        refused("bad_signature", webhook.receive({ ["webhook-id"] = "id",
          ["webhook-timestamp"] = ts, ["webhook-signature"] = sig }, BODY, opts))
      end
      local sig = "v1," .. openssl_hmac_b64(hexkey, "a.b." .. NOW .. "." .. BODY)
      refused("bad_signature", webhook.receive({ ["webhook-id"] = "a.b",
        ["webhook-timestamp"] = tostring(NOW), ["webhook-signature"] = sig }, BODY, opts))
    end)

    it("stale: a timestamp beyond tolerance, either way, on an authentic delivery", function()
      local lines, body = delivery{ hexkey = hexkey }
      local function at(now, tolerance)
        return webhook.receive(lines, body, { signing_token = st, now = clock(now),
                                              tolerance = tolerance })
      end
      assert.is_table((at(NOW + 300)))          -- the default tolerance, 300 s, inclusive
      assert.is_table((at(NOW - 300)))
      local err = refused("stale", at(NOW + 301))
      assert.matches("behind", err.message)
      err = refused("stale", at(NOW - 301))
      assert.matches("ahead", err.message)
      refused("stale", at(NOW + 1e6))
      assert.is_table((at(NOW + 10, 10)))
      refused("stale", at(NOW + 11, 10))
      refused("stale", at(NOW + 1, 0))
      assert.is_table((at(NOW, 0)))
      -- a forged signature on a stale delivery is a bad signature first
      local forged = {}
      for i, l in ipairs(lines) do
        forged[i] = l:match("^webhook%-signature:") and "webhook-signature: v1,AAAA" or l
      end
      refused("bad_signature", webhook.receive(forged, body,
        { signing_token = st, now = clock(NOW + 1000) }))
      -- os.time by default: a 2023 timestamp is stale now
      refused("stale", webhook.receive(lines, body, { signing_token = st }))
    end)

    it("token only: webhook-timestamp is not checked", function()
      local lines, body = delivery{ token = TOKEN, ts = 1000 }
      local ev = assert(webhook.receive(lines, body, { token = TOKEN, now = clock(NOW) }))
      assert.are.equal(1000, ev.timestamp)
      lines = delivery{ token = TOKEN, ts = "soon" }
      ev = assert(webhook.receive(lines, body, { token = TOKEN }))
      assert.is_nil(ev.timestamp)
    end)

    it("both tokens: both must pass", function()
      local opts = { token = TOKEN, signing_token = st, now = clock(NOW) }
      assert.is_table((webhook.receive((delivery{ token = TOKEN, hexkey = hexkey }), BODY, opts)))
      refused("bad_token", webhook.receive((delivery{ token = "wrong", hexkey = hexkey }), BODY, opts))
      refused("missing_token", webhook.receive((delivery{ hexkey = hexkey }), BODY, opts))
      refused("missing_signature", webhook.receive((delivery{ token = TOKEN }), BODY, opts))
      refused("bad_signature", webhook.receive((delivery{ token = TOKEN,
        hexkey = openssl("rand -hex 32") }), BODY, opts))
    end)

    it("not_json: a Content-Type that is not JSON, an empty body, no { or [ without one", function()
      local function body_with(body, ctype)
        local h = { ["X-Gitlab-Token"] = TOKEN, ["Content-Type"] = ctype }
        return webhook.receive(h, body, { token = TOKEN })
      end
      refused("not_json", body_with(BODY, "application/x-www-form-urlencoded"))
      refused("not_json", body_with(BODY, "text/plain"))
      refused("not_json", body_with(BODY, "text/json"))
      refused("not_json", body_with(BODY, ""))
      refused("not_json", body_with("", "application/json"))
      refused("not_json", body_with(" \r\n\t", "application/json"))
      refused("not_json", body_with("payload=%7B%7D"))
      refused("not_json", body_with("<html></html>"))
      refused("not_json", body_with("123"))
      refused("not_json", body_with(""))
      -- JSON media types
      for _, ct in ipairs{ "application/json", "application/json; charset=utf-8",
                           "APPLICATION/JSON", " application/json ;charset=UTF-8",
                           "application/vnd.gitlab+json" } do
        assert.is_table((body_with(BODY, ct)), ct)
      end
      assert.is_table((body_with("  " .. BODY)))            -- sniffed: starts with {
    end)

    it("bad_json: presented as JSON but not a well-formed JSON object", function()
      local function body_with(body, ctype)
        local h = { ["X-Gitlab-Token"] = TOKEN, ["Content-Type"] = ctype }
        return webhook.receive(h, body, { token = TOKEN })
      end
      local err = refused("bad_json", body_with('{"a":1', "application/json"))
      assert.matches("malformed JSON", err.message)
      refused("bad_json", body_with('{"a":1,}', "application/json"))
      refused("bad_json", body_with('{"a":1} trailing', "application/json"))
      refused("bad_json", body_with('{"a": // comment\n1}', "application/json"))
      refused("bad_json", body_with("hello", "application/json"))
      refused("bad_json", body_with(string.rep("[", 2000) .. string.rep("]", 2000),
                                    "application/json"))
      err = refused("bad_json", body_with("[1,2]", "application/json"))
      assert.matches("an array", err.message)
      refused("bad_json", body_with("[]"))
      refused("bad_json", body_with('"text"', "application/json"))
      refused("bad_json", body_with("null", "application/json"))
      refused("bad_json", body_with("42", "application/json"))
      refused("bad_json", body_with("{", nil))
    end)

    it("bad_header: a header line that is folded or not \"Name: value\", never a raise",
       function()
      -- what a sender puts in its request is refused, not raised: a raise
      -- would take down a server loop that reads header lines off a socket
      -- without pcall. RFC 9112 section 5: no whitespace between the name
      -- and the colon, obs-fold (a line starting with a space or a tab)
      -- refused; no CR, LF or NUL inside a value.
      local opts = { token = TOKEN }
      local good = { "X-Gitlab-Token: " .. TOKEN, "Content-Type: application/json" }
      assert.is_table((webhook.receive(good, BODY, opts)))
      for _, line in ipairs{ "no colon", " X-Gitlab-Token: " .. TOKEN, "\tcontinued",
                             "X-Gitlab-Token : " .. TOKEN, "X Gitlab: 1", ": empty name",
                             "X-Foo: a\r\nX-Gitlab-Token: b", "X-Foo: a\nb", "X-Foo: a\0b",
                             " ", "\t\r\n" } do
        local lines = { good[1], good[2], line }
        local ok, ev, err = pcall(webhook.receive, lines, BODY, opts)
        assert.is_true(ok, ev)
        local e = refused("bad_header", ev, err)
        assert.matches("header line 3", e.message)
        assert.is_nil(e.message:find(TOKEN, 1, true))
      end
      -- the same for a value with CR or LF in a table of names
      refused("bad_header", webhook.receive({ ["X-Gitlab-Token"] = TOKEN,
        ["X-Foo"] = "a\r\nb" }, BODY, opts))
      -- refused before the token is looked at, without saying anything of it
      local e = refused("bad_header", webhook.receive({ "X-Gitlab-Token: wrong", "bad line" },
                                                      BODY, opts))
      assert.is_nil(e.message:find("wrong", 1, true))
      -- trailing CR LF and blanks around the value are the line's end, not
      -- its value; the empty line that ends the headers is skipped
      assert.is_table((webhook.receive({ "X-Gitlab-Token:\t" .. TOKEN .. " \r\n", "\r\n", "" },
                                       BODY, opts)))
    end)

    it("checks the body only once the sender is authenticated", function()
      refused("bad_token", webhook.receive({ ["X-Gitlab-Token"] = "nope",
        ["Content-Type"] = "text/plain" }, "not json", { token = TOKEN }))
      refused("missing_signature", webhook.receive({ ["Content-Type"] = "text/plain" },
        "not json", { signing_token = st }))
    end)
  end)

  it("never puts a token, key or signature in an error", function()
    local lines, body = delivery{ token = TOKEN .. "-wrong", hexkey = hexkey }
    local key_b64 = st:sub(7)
    local sig
    for _, l in ipairs(lines) do sig = sig or l:match("^webhook%-signature: v1,(.*)$") end
    local cases = {
      { webhook.receive(lines, body, { token = TOKEN, signing_token = st, now = clock(NOW) }) },
      { webhook.receive(lines, body, { signing_token = st, now = clock(NOW + 5000) }) },
      { webhook.receive(lines, body .. "x", { signing_token = st, now = clock(NOW) }) },
    }
    for _, c in ipairs(cases) do
      local s = tostring(c[2]) .. " " .. c[2].message
      assert.is_nil(s:find(TOKEN, 1, true))
      assert.is_nil(s:find(key_b64, 1, true))
      assert.is_nil(s:find(sig, 1, true))
    end
    -- nor in what it raises about a bad signing token
    local ok, msg = pcall(webhook.receive, {}, BODY, { signing_token = "whsec_" .. key_b64 .. "!" })
    assert.is_false(ok)
    assert.is_nil(msg:find(key_b64, 1, true))
  end)

  describe("raises on programmer errors", function()
    it("an unauthenticated receiver unless insecure = true", function()
      assert.has_error(function() webhook.receive({}, BODY, {}) end,
        "webhook.receive: neither token nor signing_token given (insecure = true accepts "
        .. "deliveries nobody authenticated)")
      local ev = assert(webhook.receive({}, BODY, { insecure = true }))
      assert.are.equal("push", ev.kind)
      assert.is_false(ev.signed)
      assert.has_error(function() webhook.receive({}, BODY, { insecure = false }) end)
    end)

    it("bad arguments and options", function()
      assert.has_error(function() webhook.receive(nil, BODY, { token = TOKEN }) end)
      assert.has_error(function() webhook.receive({}, nil, { token = TOKEN }) end)
      assert.has_error(function() webhook.receive({}, BODY) end)
      assert.has_error(function() webhook.receive({}, BODY, { token = TOKEN, tokn = 1 }) end,
        "webhook.receive: unknown option 'tokn'")
      assert.has_error(function() webhook.receive({}, BODY, { token = "" }) end)
      assert.has_error(function() webhook.receive({}, BODY, { token = 5 }) end)
      assert.has_error(function() webhook.receive({}, BODY, { token = TOKEN, tolerance = -1 }) end)
      assert.has_error(function() webhook.receive({}, BODY, { signing_token = "whsec_%%%%" }) end)
      assert.has_error(function() webhook.receive({}, BODY, { signing_token = "whsec_" }) end)
      local authentic = { ["X-Gitlab-Token"] = TOKEN }
      assert.has_error(function() webhook.receive(authentic, BODY, { token = TOKEN,
                                                     now = function() return 0 / 0 end }) end,
        "webhook.receive: now() must return a finite number")
      assert.has_error(function() webhook.receive(authentic, BODY, { token = TOKEN,
                                                     now = function() return math.huge end }) end)
      assert.has_error(function() webhook.receive({ 42 }, BODY, { token = TOKEN }) end)
      assert.has_error(function() webhook.receive({ x = {} , y = true }, BODY, { token = TOKEN }) end)
      assert.has_error(function() webhook.receive({}, BODY, { token = TOKEN, replay = {} }) end)
      assert.has_error(function() webhook.sign{ signing_token = st, id = "a.b", timestamp = 1,
                                                body = "" } end)
      assert.has_error(function() webhook.sign{ signing_token = st, id = "a", timestamp = 1.5,
                                                body = "" } end)
      assert.has_error(function() webhook.sign{ signing_token = st, id = "a", timestamp = 1 } end)
    end)
  end)
end)

describe("webhook.replay_guard", function()
  local st, hexkey
  setup(function() st, hexkey = openssl_signing_token() end)

  it("refuses the same webhook-id twice within its ttl", function()
    local guard = webhook.replay_guard{ ttl = 300 }
    local lines, body = delivery{ hexkey = hexkey, id = "dup-1" }
    local function at(now, l)
      return webhook.receive(l or lines, body, { signing_token = st, replay = guard,
                                                 now = clock(now) })
    end
    assert.is_table((at(NOW)))
    local err = refused("replayed", at(NOW + 1))
    assert.matches("300 s", err.message)
    refused("replayed", at(NOW + 299))
    -- another id passes; the first one again once the guard forgot it (the
    -- delivery is stale by then anyway: 301 s beyond its timestamp)
    assert.is_table((at(NOW + 2, (delivery{ hexkey = hexkey, id = "dup-2" }))))
    local fresh = delivery{ hexkey = hexkey, id = "dup-1", ts = NOW + 400 }
    assert.is_table((at(NOW + 400, fresh)))
    assert.are.equal(1, guard:count())   -- dup-1 and dup-2 of NOW expired
  end)

  it("records only accepted deliveries", function()
    local guard = webhook.replay_guard()
    local opts = { token = TOKEN, replay = guard }
    refused("bad_token", webhook.receive({ ["X-Gitlab-Token"] = "x", ["webhook-id"] = "r1" },
                                         BODY, opts))
    refused("bad_json", webhook.receive({ ["X-Gitlab-Token"] = TOKEN, ["webhook-id"] = "r1" },
                                        "{", opts))
    assert.is_table((webhook.receive({ ["X-Gitlab-Token"] = TOKEN, ["webhook-id"] = "r1" },
                                     BODY, opts)))
    refused("replayed", webhook.receive({ ["X-Gitlab-Token"] = TOKEN, ["webhook-id"] = "r1" },
                                        BODY, opts))
    -- Idempotency-Key is the id when there is no webhook-id; none: let through
    assert.is_table((webhook.receive({ ["X-Gitlab-Token"] = TOKEN, ["Idempotency-Key"] = "k1" },
                                     BODY, opts)))
    refused("replayed", webhook.receive({ ["X-Gitlab-Token"] = TOKEN, ["Idempotency-Key"] = "k1" },
                                        BODY, opts))
    assert.is_table((webhook.receive({ ["X-Gitlab-Token"] = TOKEN }, BODY, opts)))
    assert.is_table((webhook.receive({ ["X-Gitlab-Token"] = TOKEN }, BODY, opts)))
  end)

  it("holds a signed delivery's id until the delivery is stale, whatever the ttl", function()
    -- tolerance and ttl both 300 s (the defaults): a replay exactly 300 s
    -- later is not stale yet (the tolerance is inclusive), so the guard
    -- must still hold the id then
    local guard = webhook.replay_guard()
    local lines, body = delivery{ hexkey = hexkey, id = "edge-1" }
    local function at(now, l)
      return webhook.receive(l or lines, body, { signing_token = st, replay = guard,
                                                 now = clock(now) })
    end
    assert.is_table((at(NOW)))
    refused("replayed", at(NOW + 300))
    refused("stale", at(NOW + 301))
    -- GitLab's clock 100 s ahead of ours: the delivery stays fresh here
    -- until NOW + 400, and so must its id
    local ahead = delivery{ hexkey = hexkey, id = "ahead-1", ts = NOW + 100 }
    assert.is_table((at(NOW, ahead)))
    refused("replayed", at(NOW + 350, ahead))
    refused("replayed", at(NOW + 400, ahead))
    refused("stale", at(NOW + 401, ahead))
    -- a shared dict is told to keep it that long too
    local calls = {}
    local dict = {}
    function dict.add(_, k, v, exptime)
      calls[#calls + 1] = { k, v, exptime }
      return true
    end
    local shared = webhook.replay_guard{ shared = dict }
    assert.is_table((webhook.receive(ahead, body, { signing_token = st, replay = shared,
                                                    now = clock(NOW) })))
    -- fresh until NOW + 400 by a clock of whole seconds, that is until
    -- NOW + 401 by the dict's clock of milliseconds
    assert.are.same({ "gitlab.webhook:ahead-1", true, 401 }, calls[1])
    -- unsigned, the ttl alone counts
    local unsigned = webhook.replay_guard{ shared = dict }
    assert.is_table((webhook.receive({ ["X-Gitlab-Token"] = TOKEN, ["webhook-id"] = "u1",
      ["webhook-timestamp"] = tostring(NOW + 100) }, BODY, { token = TOKEN, replay = unsigned,
      now = clock(NOW) })))
    assert.are.same({ "gitlab.webhook:u1", true, 300 }, calls[2])
  end)

  it("refuses, when full, rather than forget an id it still holds", function()
    local guard = webhook.replay_guard{ size = 3, ttl = 1000 }
    for i = 1, 3 do assert.is_true(guard:first("id" .. i, NOW + i)) end
    assert.are.equal(3, guard:count())
    local new, why = guard:first("id4", NOW + 5)
    assert.is_nil(new)
    assert.matches("full", why)
    assert.is_false(guard:first("id1", NOW + 5))     -- still held: a replay is refused
    assert.are.equal(3, guard:count())
    -- through receive: guard_failed, and the replay of a held id still "replayed"
    local opts = { token = TOKEN, replay = guard, now = clock(NOW + 6) }
    local err = refused("guard_failed", webhook.receive({ ["X-Gitlab-Token"] = TOKEN,
      ["webhook-id"] = "id5" }, BODY, opts))
    assert.matches("full", err.message)
    refused("replayed", webhook.receive({ ["X-Gitlab-Token"] = TOKEN, ["webhook-id"] = "id2" },
                                        BODY, opts))
    -- room again once ids expire
    assert.is_true(guard:first("id6", NOW + 1002.5))
    assert.is_true(guard:first("id1", NOW + 1002.5))
    assert.are.equal(3, guard:count())               -- id3, id6, id1
    for i = 1, 1000 do guard:first("bulk" .. i, NOW + 1003.5) end
    assert.are.equal(3, guard:count())               -- id6, id1, bulk1
  end)

  it("does not let a shared dict evict an id it still holds", function()
    -- ngx.shared.DICT:add evicts the least recently used entries, expired
    -- or not, when the dict is full; safe_add answers nil, "no memory"
    -- instead of evicting an entry that has not expired
    local used = {}
    local dict = {}
    function dict.add() used[#used + 1] = "add"; return true end
    function dict.safe_add(_, k)
      used[#used + 1] = "safe_add"
      if k:find("full", 1, true) then return nil, "no memory" end
      return true
    end
    local guard = webhook.replay_guard{ shared = dict }
    local opts = { token = TOKEN, replay = guard }
    assert.is_table((webhook.receive({ ["X-Gitlab-Token"] = TOKEN, ["webhook-id"] = "d1" },
                                     BODY, opts)))
    local err = refused("guard_failed", webhook.receive({ ["X-Gitlab-Token"] = TOKEN,
      ["webhook-id"] = "full" }, BODY, opts))
    assert.matches("no memory", err.message)
    assert.are.same({ "safe_add", "safe_add" }, used)
  end)

  it("forgets an id on request, so that a delivery whose handling failed can be retried",
     function()
    local guard = webhook.replay_guard{ size = 2 }
    local opts = { token = TOKEN, replay = guard, now = clock(NOW) }
    local h = { ["X-Gitlab-Token"] = TOKEN, ["webhook-id"] = "f1" }
    local ev = assert(webhook.receive(h, BODY, opts))
    refused("replayed", webhook.receive(h, BODY, opts))
    guard:forget(ev.id)
    assert.are.equal(0, guard:count())
    assert.is_table((webhook.receive(h, BODY, opts)))
    refused("replayed", webhook.receive(h, BODY, opts))
    guard:forget("never-seen")                        -- no error
    -- forgetting and accepting again, many times, holds no more than size
    for i = 1, 100 do
      guard:forget("f1")
      assert.is_true(guard:first("f1", NOW + i / 1000))
    end
    assert.are.equal(1, guard:count())
    assert.is_true(guard:first("f2", NOW + 1))
    assert.is_nil((guard:first("f3", NOW + 1)))       -- full: f1 and f2
    -- with a shared dict: delete
    local deleted = {}
    local dict = { add = function() return true end,
                   delete = function(_, k) deleted[#deleted + 1] = k end }
    webhook.replay_guard{ shared = dict }:forget("f9")
    assert.are.same({ "gitlab.webhook:f9" }, deleted)
    assert.has_error(function() guard:forget(42) end)
  end)

  it("uses a shared dict's add when given one", function()
    -- the interface of ngx.shared.DICT:add(key, value, exptime)
    local calls = {}
    local dict = { store = {} }
    function dict:add(k, v, exptime)
      calls[#calls + 1] = { k, v, exptime }
      if self.store[k] then return false, "exists" end
      if k:find("full", 1, true) then return false, "no memory" end
      self.store[k] = v
      return true
    end
    local guard = webhook.replay_guard{ shared = dict, ttl = 600 }
    local opts = { token = TOKEN, replay = guard }
    local h = { ["X-Gitlab-Token"] = TOKEN, ["webhook-id"] = "s1" }
    assert.is_table((webhook.receive(h, BODY, opts)))
    refused("replayed", webhook.receive(h, BODY, opts))
    assert.are.same({ "gitlab.webhook:s1", true, 600 }, calls[1])
    local err = refused("guard_failed", webhook.receive({ ["X-Gitlab-Token"] = TOKEN,
      ["webhook-id"] = "full" }, BODY, opts))
    assert.matches("no memory", err.message)
    assert.are.equal(0, guard:count())
  end)

  it("is refused when its ttl is shorter than the tolerance", function()
    local guard = webhook.replay_guard{ ttl = 60 }
    assert.has_error(function()
      webhook.receive({}, BODY, { signing_token = st, replay = guard })
    end, "webhook.receive: the replay guard's ttl (60 s) is shorter than tolerance (300 s)")
    assert.has_no_error(function()
      webhook.receive({}, BODY, { signing_token = st, replay = guard, tolerance = 60 })
    end)
    assert.has_error(function() webhook.replay_guard{ size = 0 } end)
    assert.has_error(function() webhook.replay_guard{ ttl = 0 } end)
    assert.has_error(function() webhook.replay_guard{ shared = {} } end)
    assert.has_error(function() webhook.replay_guard{ sise = 1 } end)
  end)
end)

describe("GitLab's payloads (spec/fixtures/webhooks)", function()
  local DIR = helpers.root .. "/spec/fixtures/webhooks"
  -- file -> kind: object_kind, else event_name (system hooks; group member,
  -- project and subgroup events of group webhooks)
  local KINDS = {
    push = "push", tag_push = "tag_push", issue = "issue",
    note_commit = "note", note_merge_request = "note", note_issue = "note", note_snippet = "note",
    merge_request = "merge_request", wiki_page = "wiki_page", pipeline = "pipeline",
    job = "build", deployment = "deployment", member = "user_add_to_group",
    project = "project_create", subgroup = "subgroup_create", feature_flag = "feature_flag",
    release = "release", emoji = "emoji", access_token_project = "access_token",
    access_token_group = "access_token", vulnerability = "vulnerability", milestone = "milestone",
    system_project_create = "project_create", system_project_rename = "project_rename",
    system_user_add_to_team = "user_add_to_team", system_user_create = "user_create",
    system_user_failed_login = "user_failed_login", system_key_create = "key_create",
    system_group_rename = "group_rename", system_user_add_to_group = "user_add_to_group",
    system_push = "push", system_tag_push = "tag_push", system_merge_request = "merge_request",
    system_repository_update = "repository_update",
    system_member_approval = "gitlab_subscription_member_approval",
  }

  -- "# comments", header lines, a blank line, the body
  local function load(name)
    local text = assert(helpers.read_file(DIR .. "/" .. name .. ".http"), name)
    local head, body = text:match("^(.-)\n\n(.*)$")
    local doc, lines = nil, {}
    for line in head:gmatch("[^\n]+") do
      if line:sub(1, 1) == "#" then doc = doc or line:match("^# (doc%S*%.md)")
      else lines[#lines + 1] = line end
    end
    return lines, body, doc
  end

  it("has a fixture for every kind listed, and a kind for every fixture", function()
    local out = helpers.exec("ls " .. q(DIR))
    local seen = 0
    for f in out:gmatch("([%w_]+)%.http") do
      assert.is_string(KINDS[f], "no expected kind for " .. f)
      seen = seen + 1
    end
    local n = 0
    for _ in pairs(KINDS) do n = n + 1 end
    assert.are.equal(n, seen)
  end)

  for name, kind in pairs(KINDS) do
    it(name .. " -> " .. kind, function()
      local lines, body, doc = load(name)
      assert.is_string(doc, name .. " names no doc page")
      local st, hexkey = openssl_signing_token()
      local id = "id-" .. name
      lines[#lines + 1] = "X-Gitlab-Token: " .. TOKEN
      lines[#lines + 1] = "webhook-id: " .. id
      lines[#lines + 1] = "webhook-timestamp: " .. NOW
      lines[#lines + 1] = "webhook-signature: v1," .. openssl_hmac_b64(hexkey,
        id .. "." .. NOW .. "." .. body)
      local ev, err = webhook.receive(lines, body, { token = TOKEN, signing_token = st,
                                                      now = clock(NOW) })
      assert.is_nil(err)
      assert.are.equal(kind, ev.kind)
      local want_name
      for _, l in ipairs(lines) do want_name = want_name or l:match("^X%-Gitlab%-Event: (.*)$") end
      assert.are.equal(want_name, ev.name)
      if name:match("^system_") then assert.are.equal("System Hook", ev.name) end
      assert.are.equal(id, ev.id)
      assert.is_table(ev.data)
    end)
  end

  it("decodes with the library's decoder: integers, null, arrays", function()
    local lines, body = load("merge_request")
    local ev = assert(webhook.receive(lines, body, { insecure = true }))
    local oa = ev.data.object_attributes
    assert.are.equal(1, oa.iid)
    if math.type then assert.are.equal("integer", math.type(oa.iid)) end
    assert.are.equal(core.null, ev.data.project.avatar_url)
    assert.are.equal(core.array_mt, getmetatable(oa.assignee_ids))
    assert.are.equal("open", oa.action)
    lines, body = load("job")
    ev = assert(webhook.receive(lines, body, { insecure = true }))
    assert.are.equal(1095.588715, ev.data.build_queued_duration)
    assert.are.equal(core.null, ev.data.build_started_at)
  end)
end)

describe("the README's example (\"Receiving webhooks\")", function()
  -- the first ```lua block of the section, run with the delivery as the
  -- globals `headers` and `body`, the tokens from a fake environment
  local function example()
    local text = assert(helpers.read_file(helpers.root .. "/README.md"))
    local at = assert(text:find("## Receiving webhooks", 1, true), "README section not found")
    return assert(text:match("```lua\n(.-)```", at), "no lua block in the section")
  end

  local function run(headers, body, envvars)
    local printed = {}
    local env = setmetatable({
      headers = headers, body = body,
      os = { getenv = function(k) return envvars[k] end },
      io = { stderr = { write = function(_, ...)
        printed[#printed + 1] = (table.concat({ ... }):gsub("\n$", ""))
      end } },
      print = function(...) printed[#printed + 1] = table.concat({ ... }, " ") end,
    }, { __index = _G })
    local chunk
    if setfenv then
      chunk = assert(loadstring(example()))
      setfenv(chunk, env)
    else
      chunk = assert(load(example(), "README", "t", env))
    end
    return chunk(), table.concat(printed, "\n")
  end

  it("accepts a signed delivery and refuses a forged one", function()
    local st, hexkey = openssl_signing_token()
    local ts = os.time()
    local body = '{"object_kind":"merge_request","project":{"path_with_namespace":"g/p"},'
      .. '"object_attributes":{"action":"merge"}}'
    local headers = { ["X-Gitlab-Token"] = TOKEN, ["X-Gitlab-Event"] = "Merge Request Hook",
      ["webhook-id"] = "readme-1", ["webhook-timestamp"] = tostring(ts),
      ["webhook-signature"] = "v1," .. openssl_hmac_b64(hexkey, "readme-1." .. ts .. "." .. body),
      ["Content-Type"] = "application/json" }
    local envvars = { GITLAB_WEBHOOK_TOKEN = TOKEN, GITLAB_WEBHOOK_SIGNING_TOKEN = st }
    local status, out = run(headers, body, envvars)
    assert.are.equal(204, status)
    assert.are.equal("Merge Request Hook readme-1 g/p", out)
    headers["X-Gitlab-Token"] = "forged"
    status, out = run(headers, body, envvars)
    assert.are.equal(401, status)
    assert.are.equal("webhook: X-Gitlab-Token does not match (bad_token)", out)
  end)
end)
