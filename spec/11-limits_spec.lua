-- What the client buffers is bounded: a 2xx answer that is not streamed is
-- held in memory, so it is capped (max_body, 64 MiB by default), and the
-- cap counts the bytes after content decoding (a small gzip answer may
-- inflate a thousandfold). Streamed downloads are not bounded.
local helpers = require("helpers")

local MiB = 1024 * 1024

local function count(method, path)
  local n = 0
  for _, r in ipairs(helpers.requests()) do
    if r.method == method and r.path == path then n = n + 1 end
  end
  return n
end

describe("buffered bodies", function()
  before_each(function() helpers.reset() end)

  it("refuse an announced 2xx body over the default 64 MiB at once, without retrying", function()
    local gl = helpers.client{ retries = 3, retry_base = 0.01 }
    helpers.fault{ path = "/api/v4/big", action = "huge_body", status = 200, size = 100 * MiB }
    local data, err = gl:get("/big")
    assert.is_nil(data)
    assert.equal("too_large", err.kind)
    assert.matches("max_body %(67108864 bytes%)", err.message)
    assert.equal(1, err.attempts)
    assert.equal(1, count("GET", "/api/v4/big"))
  end)

  it("stop a chunked gzip body once its decoded size passes max_body", function()
    local gl = helpers.client{ max_body = MiB }
    -- 16 MiB of JSON in about 16 KiB on the wire
    helpers.fault{ path = "/api/v4/bomb", action = "huge_body", status = 200, size = 16 * MiB, gzip = true }
    local data, err = gl:get("/bomb")
    assert.is_nil(data)
    assert.equal("too_large", err.kind)
    assert.matches("max_body %(1048576 bytes%)", err.message)
    local log = helpers.requests{ path = "/api/v4/bomb" }
    assert.equal(1, #log)
    assert.equal("gzip", log[1].headers and (log[1].headers["accept-encoding"] or ""):match("gzip"))
  end)

  it("decode a gzip body under the bound exactly", function()
    local gl = helpers.client{ max_body = MiB }
    helpers.fault{ path = "/api/v4/fine", action = "huge_body", status = 200, size = 512 * 1024, gzip = true }
    local data, resp = gl:get("/fine")
    assert.truthy(data, tostring(resp))
    assert.equal(512 * 1024 - #'{"message":""}', #data.message)
    assert.equal("xxxx", data.message:sub(1, 4))
  end)

  it("take a per-request max_body, and math.huge for no bound", function()
    local gl = helpers.client{ max_body = 100 }
    helpers.fault{ path = "/api/v4/mid", action = "huge_body", status = 200, size = 4096, times = 3 }
    local data, err = gl:get("/mid")
    assert.is_nil(data)
    assert.equal("too_large", err.kind)
    data = assert(gl:request("GET", "/mid", { max_body = 4096 }))
    assert.equal(4096 - #'{"message":""}', #data.message)
    data = assert(helpers.client{ max_body = math.huge }:get("/mid"))
    assert.equal(4096 - #'{"message":""}', #data.message)
  end)

  it("bound async requests the same way", function()
    local gl = helpers.client{ max_body = MiB }
    helpers.fault{ path = "/api/v4/bomb", action = "huge_body", status = 200, size = 8 * MiB, gzip = true }
    local got
    gl:request_async("GET", "/bomb", nil, function(err, data) got = { err = err, data = data } end)
    gl:wait()
    assert.is_nil(got.data)
    assert.equal("too_large", got.err.kind)
  end)

  it("do not bound a streamed download", function()
    local gl = helpers.client{ max_body = MiB }
    helpers.fault{ path = "/api/v4/big", action = "huge_body", status = 200, size = 8 * MiB }
    local dir = helpers.tmpdir()
    local ok, resp = gl:download("/big", { output = dir .. "/big.json" })
    assert.truthy(ok, tostring(resp))
    local f = assert(io.open(dir .. "/big.json", "rb"))
    assert.equal(8 * MiB, f:seek("end"))
    f:close()
    os.remove(dir .. "/big.json")
  end)

  it("refuse a bad max_body", function()
    assert.has_error(function() helpers.client{ max_body = -1 } end)
    local gl = helpers.client()
    assert.has_error(function() gl:request("GET", "/projects/1", { max_body = "big" }) end)
  end)
end)
