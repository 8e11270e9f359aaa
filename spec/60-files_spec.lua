-- Streaming downloads and uploads: files, sinks, progress, redirects to
-- object storage without credentials, atomic and resumable downloads,
-- multipart and raw uploads checked byte for byte, and the file
-- conveniences of gitlab.files (artifacts, archives, packages, releases,
-- uploads, avatars, import).
local helpers = require("helpers")
local files = require("gitlab.files")
local core = require("gitlab.core")

local TOKEN = "glpat-root"

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function size_of(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local n = f:seek("end")
  f:close()
  return n
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Deterministic test file of `n` bytes.
local function make_file(path, n)
  local f = assert(io.open(path, "wb"))
  local block = {}
  for i = 0, 4095 do block[#block + 1] = string.char((i * 7 + 3) % 256) end
  block = table.concat(block)
  local left = n
  while left > 0 do
    f:write(block:sub(1, math.min(left, #block)))
    left = left - #block
  end
  f:close()
  return path
end

local function digest(gl, size, seed)
  local d = assert(gl:get("/__bytes", { size = size, seed = seed or "bytes", digest = 1 }))
  return d.sha256
end

local function credentials_sent(entry)
  local h = entry.headers
  return h["private-token"] or h["authorization"] or h["job-token"]
end

-- No request to the other origin carried a credential, and at least one
-- request went there.
local function assert_other_clean()
  local seen = 0
  for _, r in ipairs(helpers.requests{ origin = "other" }) do
    seen = seen + 1
    assert.is_nil(credentials_sent(r), "credential sent to " .. r.path)
    for _, v in pairs(r.headers) do assert.not_matches(TOKEN, tostring(v), 1, true) end
  end
  assert.is_true(seen > 0, "nothing reached the other origin")
end

describe("gl:download", function()
  local srv, gl, dir
  setup(function()
    srv = helpers.server()
    gl = helpers.client()
    dir = helpers.tmpdir()
  end)
  before_each(function() helpers.reset() end)

  it("streams to a file, atomically, with progress up to the total", function()
    local out = dir .. "/bytes.bin"
    local calls, last_done, last_total, monotonic = 0, 0, nil, true
    local ok, resp = gl:download("/__bytes", { query = { size = 3000000, seed = "dl" }, output = out,
      progress = function(done, total)
        calls = calls + 1
        if done < last_done then monotonic = false end
        last_done, last_total = done, total
        -- the final name appears only once the download is whole
        assert.is_false(exists(out))
      end })
    assert.is_true(ok, tostring(resp))
    assert.equal(200, resp.status)
    assert.equal(3000000, resp.size)
    assert.equal(3000000, size_of(out))
    assert.is_false(exists(out .. ".part"))
    assert.equal(digest(gl, 3000000, "dl"), helpers.sha256_file(out))
    assert.is_true(calls > 0)
    assert.is_true(monotonic)
    assert.equal(3000000, last_done)
    assert.equal(3000000, last_total)
  end)

  it("streams to a sink function, chunk by chunk", function()
    local n, chunks, biggest = 0, 0, 0
    local ok, resp = gl:download("/__bytes", { query = { size = 2000000 }, sink = function(chunk)
      n = n + #chunk
      chunks = chunks + 1
      if #chunk > biggest then biggest = #chunk end
    end })
    assert.is_true(ok, tostring(resp))
    assert.equal(2000000, n)
    assert.equal(2000000, resp.size)
    assert.is_true(chunks > 1)
    assert.is_true(biggest <= 1024 * 1024, "a chunk of " .. biggest .. " bytes")
    assert.is_nil(resp.body)
  end)

  it("streams to an open file handle", function()
    local out = dir .. "/handle.bin"
    local fh = assert(io.open(out, "wb"))
    fh:write("HEAD")
    local ok, resp = gl:download("/__bytes", { query = { size = 100000, seed = "fh" }, output = fh })
    fh:close()
    assert.is_true(ok, tostring(resp))
    assert.equal(100004, size_of(out))
    assert.equal("HEAD", read(out):sub(1, 4))
  end)

  it("reports progress without a total for a chunked body", function()
    local totals = {}
    local ok = gl:download("/__bytes", { query = { size = 300000, chunked = 1 }, sink = function() end,
      progress = function(_, total) totals[#totals + 1] = total == nil and "nil" or total end })
    assert.is_true(ok)
    assert.equal("nil", totals[#totals])
  end)

  it("follows the redirect to object storage without the token", function()
    local out = dir .. "/redirected.bin"
    local target = srv.other .. "/objects/store/a.bin?size=200000&seed=obj"
    local ok, resp = gl:download("/__redirect", { query = { to = target }, output = out })
    assert.is_true(ok, tostring(resp))
    assert.equal(1, resp.redirects)
    assert.equal(200000, size_of(out))
    local d = assert(gl:request("GET", srv.other .. "/objects/store/a.bin",
      { query = { size = 200000, seed = "obj", digest = 1 } }))
    assert.equal(d.sha256, helpers.sha256_file(out))
    -- the API request carried the token, the object storage request did not
    local main = helpers.requests{ path = "/api/v4/__redirect" }
    assert.equal(TOKEN, main[1].headers["private-token"])
    assert_other_clean()
  end)

  it("leaves no file when the connection breaks mid-body, and keeps an older file", function()
    local out = dir .. "/broken.bin"
    write(out, "previous version")
    helpers.fault{ path = "/api/v4/__bytes", action = "reset_mid_body", times = -1 }
    local ok, err = gl:download("/__bytes", { query = { size = 1000000 }, output = out, retries = 1 })
    assert.is_nil(ok)
    assert.equal("transport", err.kind)
    assert.equal("previous version", read(out))
    assert.is_false(exists(out .. ".part"))
    local fresh = dir .. "/broken-new.bin"
    ok = gl:download("/__bytes", { query = { size = 1000000 }, output = fresh, retries = 0 })
    assert.is_nil(ok)
    assert.is_false(exists(fresh))
    assert.is_false(exists(fresh .. ".part"))
  end)

  it("leaves no file on an HTTP error and returns the error", function()
    local out = dir .. "/missing.bin"
    local ok, err = gl:download("/projects/999999/jobs/1/artifacts", { output = out })
    assert.is_nil(ok)
    assert.equal(404, err.status)
    assert.is_false(exists(out))
    assert.is_false(exists(out .. ".part"))
  end)

  it("resumes an interrupted download with Range", function()
    local out = dir .. "/resumed.bin"
    os.remove(out .. ".part")
    helpers.fault{ path = "/api/v4/__bytes", action = "reset_mid_body", bytes = 400000, times = 1 }
    local q = { size = 1000000, seed = "resume" }
    local ok, err = gl:download("/__bytes", { query = q, output = out, resume = true, retries = 0 })
    assert.is_nil(ok, "the first attempt should fail")
    assert.equal("transport", err.kind)
    assert.is_false(exists(out))
    local have = size_of(out .. ".part")
    assert.is_true(have > 0 and have < 1000000, "part holds " .. tostring(have))
    local first
    ok, err = gl:download("/__bytes", { query = q, output = out, resume = true,
      progress = function(done, total)
        first = first or done
        assert.equal(1000000, total)
      end })
    assert.is_true(ok, tostring(err))
    assert.equal(206, err.status)
    local last = helpers.last_request{ path = "/api/v4/__bytes" }
    assert.equal("bytes=" .. have .. "-", last.headers.range)
    assert.is_false(exists(out .. ".part"))
    assert.equal(digest(gl, 1000000, "resume"), helpers.sha256_file(out))
    assert.is_true(first >= have, "progress counts the bytes already there")
  end)

  it("retries a download cut mid-body by asking only for the missing bytes", function()
    local out = dir .. "/retried.bin"
    helpers.fault{ path = "/api/v4/__bytes", action = "reset_mid_body", bytes = 300000, times = 1 }
    local q = { size = 1000000, seed = "retry" }
    local ok, resp = gl:download("/__bytes", { query = q, output = out })
    assert.is_true(ok, tostring(resp))
    assert.equal(2, resp.attempts)
    local log = helpers.requests{ path = "/api/v4/__bytes" }
    assert.equal(2, #log)
    assert.is_nil(log[1].headers.range)
    local from = tonumber(log[2].headers.range:match("^bytes=(%d+)%-$"))
    assert.is_true(from > 0 and from <= 300000)
    assert.equal(digest(gl, 1000000, "retry"), helpers.sha256_file(out))
  end)

  it("finishes a resume whose part file is already whole (416)", function()
    local out = dir .. "/whole.bin"
    local ok = gl:download("/__bytes", { query = { size = 5000, seed = "w" }, output = out .. ".tmp" })
    assert.is_true(ok)
    os.rename(out .. ".tmp", out .. ".part")
    local resp
    ok, resp = gl:download("/__bytes", { query = { size = 5000, seed = "w" }, output = out, resume = true })
    assert.is_true(ok, tostring(resp))
    assert.equal(5000, size_of(out))
    assert.equal(digest(gl, 5000, "w"), helpers.sha256_file(out))
  end)

  it("starts over when the part file is longer than the file now is", function()
    local out = dir .. "/shrunk.bin"
    write(out .. ".part", ("x"):rep(9000))
    local ok, resp = gl:download("/__bytes", { query = { size = 5000, seed = "s" }, output = out,
      resume = true })
    assert.is_true(ok, tostring(resp))
    assert.equal(digest(gl, 5000, "s"), helpers.sha256_file(out))
    assert.is_false(exists(out .. ".part"))
  end)

  it("starts over when the server ignores Range", function()
    -- raw repository files are served whole whatever the Range
    local content = ("0123456789"):rep(5000)
    assert(gl:post("/projects/1/repository/files/norange.txt",
      { branch = "main", content = content, commit_message = "add" }))
    local out = dir .. "/norange.txt"
    write(out .. ".part", ("x"):rep(1234))
    local ok, resp = gl:download("/projects/1/repository/files/norange.txt/raw",
      { query = { ref = "main" }, output = out, resume = true })
    assert.is_true(ok, tostring(resp))
    assert.equal(200, resp.status)
    assert.equal("bytes=1234-", helpers.last_request{ path_re = "norange" }.headers.range)
    assert.equal(content, read(out))
  end)

  it("streams inside gitlab.async.run while other requests run", function()
    local gitlab = require("gitlab")
    local out = dir .. "/async.bin"
    local done, user, got
    gitlab.async.run(function()
      done = { gl:download("/__bytes", { query = { size = 2000000, seed = "as" }, output = out }) }
    end)
    gl:request_async("GET", "/user", nil, function(err, data) user = err or data end)
    local n = 0
    gitlab.async.run(function()
      got = { gl:download("/__bytes", { query = { size = 500000 }, sink = function(c) n = n + #c end }) }
    end)
    gl:wait()
    assert.is_true(done[1], tostring(done[2]))
    assert.equal(digest(gl, 2000000, "as"), helpers.sha256_file(out))
    assert.is_true(got[1])
    assert.equal(500000, n)
    assert.equal("root", user.username)
  end)

  it("stops when progress or the sink raises, leaving no file", function()
    local out = dir .. "/stopped.bin"
    local ok, err = gl:download("/__bytes", { query = { size = 2000000 }, output = out,
      progress = function(done) if done > 100000 then error("enough") end end })
    assert.is_nil(ok)
    assert.equal("callback", err.kind)
    assert.matches("enough", tostring(err.cause))
    assert.is_false(exists(out))
    assert.is_false(exists(out .. ".part"))
    ok, err = gl:download("/__bytes", { query = { size = 2000000 }, sink = function() error("full") end })
    assert.is_nil(ok)
    assert.equal("callback", err.kind)
    assert.equal(1, err.attempts)
  end)

  it("streams over TLS and HTTP/2, and refuses a redirect down to plain http", function()
    local tls = helpers.client{ https = true, http2 = true }
    local out = dir .. "/tls.bin"
    local ok, resp = tls:download("/__bytes", { query = { size = 1500000, seed = "tls" }, output = out })
    assert.is_true(ok, tostring(resp))
    assert.equal(2, resp.http_version)
    assert.equal(digest(gl, 1500000, "tls"), helpers.sha256_file(out))
    local up = assert(tls:upload("/__echo", { file = out }))
    assert.equal(helpers.sha256_file(out), up.files[1].sha256)
    local err
    ok, err = tls:download("/__redirect", { query = { to = srv.other .. "/objects/x.bin" },
      output = dir .. "/down.bin" })
    assert.is_nil(ok)
    assert.equal("redirect", err.kind)
    assert.is_false(exists(dir .. "/down.bin"))
  end)

  it("rejects bad arguments", function()
    assert.has_error(function() gl:download("/__bytes", { }) end)
    assert.has_error(function() gl:download("/__bytes") end)
    assert.has_error(function() gl:download("/__bytes", { output = "x", sink = print }) end)
    assert.has_error(function() gl:download("/__bytes", { output = "x", outptu = 1 }) end)
    assert.has_error(function() gl:download("/__bytes", { output = 42 }) end)
  end)

  it("reports an output file that cannot be created as an io error", function()
    local ok, err = gl:download("/__bytes", { query = { size = 10 }, output = dir .. "/no/such/dir/x.bin" })
    assert.is_nil(ok)
    assert.equal("io", err.kind)
  end)

  it("keeps memory flat for a large sink download", function()
    -- the chunks are garbage as soon as the sink returns; a collector that
    -- starts each cycle at once shows what the library itself holds
    local pause = collectgarbage("setpause", 100)
    local stepmul = collectgarbage("setstepmul", 1000)
    collectgarbage()
    local before = collectgarbage("count")
    local peak = before
    local n = 0
    local chunks = 0
    local ok = gl:download("/__bytes", { query = { size = 64 * 1024 * 1024 }, sink = function(c)
      n = n + #c
      chunks = chunks + 1
      -- a full collection now and then: what stays is what is held, not
      -- the collector's lag (which other specs' garbage can stretch)
      if chunks % 256 == 0 then collectgarbage() end
      local now = collectgarbage("count")
      if now > peak then peak = now end
    end })
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    assert.is_true(ok)
    assert.equal(64 * 1024 * 1024, n)
    -- holding the body would take 64 MiB
    assert.is_true(peak - before < 24 * 1024, ("Lua heap grew by %.0f KiB"):format(peak - before))
    collectgarbage()
    assert.is_true(collectgarbage("count") - before < 1024, "the download left memory behind")
  end)
end)

describe("gl:upload and streamed request bodies", function()
  local srv, gl, dir, small, big
  setup(function()
    srv = helpers.server()
    gl = helpers.client()
    dir = helpers.tmpdir()
    small = make_file(dir .. "/small.bin", 70000)
    big = make_file(dir .. "/big.bin", 5 * 1024 * 1024 + 17)
  end)
  before_each(function() helpers.reset() end)

  it("sends a multipart file checked byte for byte, with fields and progress", function()
    local last_done, last_total = 0, nil
    local data, resp = gl:upload("/__echo", { file = big, fields = { a = 1, b = "two", c = { x = "y" } },
      progress = function(done, total) last_done, last_total = done, total end })
    assert.truthy(data, tostring(resp))
    assert.equal(1, #data.files)
    local f = data.files[1]
    assert.equal("file", f.name)
    assert.equal("big.bin", f.filename)
    assert.equal(5 * 1024 * 1024 + 17, f.size)
    assert.equal(helpers.sha256_file(big), f.sha256)
    assert.same({ a = "1", b = "two", c = { x = "y" } }, data.form)
    assert.equal(TOKEN, data.headers["private-token"])
    assert.is_true(last_total and last_total > f.size)
    assert.equal(last_total, last_done)
  end)

  it("names the field, the file name and the content type", function()
    local data = assert(gl:upload("/__echo", { file = small, field = "avatar", filename = "me.png",
      content_type = "image/png", method = "PUT" }))
    assert.equal("PUT", data.method)
    assert.equal("avatar", data.files[1].name)
    assert.equal("me.png", data.files[1].filename)
    assert.equal("image/png", data.files[1].type)
  end)

  it("uploads to another origin (object storage) without the token", function()
    local data = assert(gl:upload(srv.other .. "/bucket/put", { file = small }))
    assert.equal(helpers.sha256_file(small), data.files[1].sha256)
    assert_other_clean()
  end)

  it("streams a raw PUT body from disk", function()
    local data, resp = gl:request("PUT", srv.other .. "/objects/raw.bin", { file = big })
    assert.truthy(data, tostring(resp))
    assert.equal(helpers.sha256_file(big), data.sha256)
    assert.equal(5 * 1024 * 1024 + 17, data.size)
    assert.equal("application/octet-stream", data.content_type)
    local echo = assert(gl:upload("/__echo", { file = small, raw = true, content_type = "text/plain" }))
    assert.equal("PUT", echo.method)
    assert.equal(helpers.sha256_file(small), echo.body_sha256)
    assert.equal("text/plain", echo.headers["content-type"])
  end)

  it("sends one Content-Type on a raw upload, content_type winning over a header of any case", function()
    local echo = assert(gl:upload("/__echo", { file = small, raw = true, content_type = "text/plain",
                                               headers = { ["content-type"] = "application/x-old" } }))
    assert.same({ "text/plain" }, helpers.header_lines(echo, "content-type"))
  end)

  it("does not cut a slow multipart upload at the request timeout", function()
    local slow = helpers.client{ timeout = 1 }
    local t0 = os.time()
    local data, err = slow:upload("/__echo", { file = big, progress = function() core.sleep(0.02) end })
    assert.truthy(data, tostring(err))
    assert.equal(helpers.sha256_file(big), data.files[1].sha256)
    assert.is_true(os.time() - t0 >= 1, "the upload should outlast the timeout")
  end)

  it("returns an io error for a missing file or a directory", function()
    local data, err = gl:upload("/__echo", { file = dir .. "/nope" })
    assert.is_nil(data)
    assert.equal("io", err.kind)
    data, err = gl:upload("/__echo", { file = dir })
    assert.is_nil(data)
    assert.equal("io", err.kind)
    data, err = gl:request("PUT", "/__echo", { file = dir .. "/nope" })
    assert.is_nil(data)
    assert.equal("io", err.kind)
  end)

  it("rejects bad arguments", function()
    assert.has_error(function() gl:upload("/__echo", {}) end)
    assert.has_error(function() gl:upload("/__echo", { file = small, flie = 1 }) end)
    assert.has_error(function() gl:upload("/__echo", { file = small, raw = true, field = "x" }) end)
  end)
end)

describe("gitlab.files", function()
  local gl, dir, blob
  setup(function()
    gl = helpers.client()
    dir = helpers.tmpdir()
    blob = make_file(dir .. "/tool.tar.gz", 300001)
  end)
  before_each(function() helpers.reset() end)

  it("downloads a job's artifacts from object storage without the token", function()
    local a = helpers.admin("POST", "/files/artifact", { project = 1, job = 41, size = 700000 })
    local out = dir .. "/artifacts.zip"
    local ok, resp = files.job_artifacts(gl, 1, 41, { output = out })
    assert.is_true(ok, tostring(resp))
    assert.equal(a.sha256, helpers.sha256_file(out))
    assert_other_clean()
    -- a resource object or a path names the project as well
    local p = assert(gl:get("/projects/1"))
    ok = files.job_artifacts(gl, p, 41, { output = out })
    assert.is_true(ok)
    ok = files.job_artifacts(gl, p.path_with_namespace, 41.0, { output = out })
    assert.is_true(ok)
  end)

  it("streams through the resource objects' download actions too", function()
    local a = helpers.admin("POST", "/files/artifact", { project = 1, job = 43, ref = "main",
      name = "build", size = 54321 })
    local out = dir .. "/via-object.zip"
    local job = gl.projects:lazy(1).jobs:lazy(43)
    local ok, resp = job:download_artifacts{ output = out }
    assert.is_true(ok, tostring(resp))
    assert.equal(a.sha256, helpers.sha256_file(out))
    ok = gl.projects:lazy(1).jobs:artifacts_archive("main", { job = "build", output = out })
    assert.is_true(ok)
    assert.equal(a.sha256, helpers.sha256_file(out))
    assert_other_clean()
  end)

  it("fetches one artifact file, by job and by ref and job name", function()
    helpers.admin("POST", "/files/artifact", { project = 1, job = 42, ref = "release/1", name = "pack",
      size = 1000, files = { ["dist/report.txt"] = 321 } })
    local body, resp = files.job_artifact(gl, 1, 42, "dist/report.txt")
    assert.equal(321, #body, tostring(resp))
    local again = files.ref_artifact(gl, 1, "release/1", "pack", "dist/report.txt")
    assert.equal(body, again)
    local r = helpers.last_request{ path_re = "/raw/" }
    assert.equal("/api/v4/projects/1/jobs/artifacts/release%2F1/raw/dist/report%2Etxt", r.path)
    assert.equal("job=pack", r.query)
    local out = dir .. "/by-ref.zip"
    local ok = files.ref_artifacts(gl, 1, "release/1", "pack", { output = out })
    assert.is_true(ok)
    assert.equal(1000, size_of(out))
    local missing, err = files.ref_artifacts(gl, 1, "main", "nope", { output = out .. "2" })
    assert.is_nil(missing)
    assert.equal(404, err.status)
  end)

  it("downloads a repository archive in a format", function()
    local out = dir .. "/src.zip"
    local ok, resp = files.archive(gl, 1, { format = "zip", sha = "v1.0", output = out })
    assert.is_true(ok, tostring(resp))
    assert.truthy(size_of(out) > 65536)
    local r = helpers.last_request{ path_re = "archive" }
    assert.equal("/api/v4/projects/1/repository/archive.zip", r.path)
    assert.equal("sha=v1.0", r.query)
    assert.has_error(function() files.archive(gl, 1, { format = "../x" }) end)
  end)

  it("returns a raw repository file as a string", function()
    assert(gl:post("/projects/1/repository/files/" .. core.encode("docs/a b.md"),
      { branch = "main", content = "hello\n", commit_message = "add" }))
    local body, resp = files.raw_file(gl, 1, "docs/a b.md", "main")
    assert.equal("hello\n", body, tostring(resp))
    local r = helpers.last_request{ path_re = "/raw$" }
    assert.equal("/api/v4/projects/1/repository/files/docs%2Fa%20b%2Emd/raw", r.path)
  end)

  it("publishes a generic package with PUT and gets it back", function()
    local rec, resp = files.generic_upload(gl, 1, "tool", "1.2.0", "bin/tool.tar.gz",
      { file = blob, select = "package_file" })
    assert.truthy(rec, tostring(resp))
    assert.equal(201, resp.status)
    assert.equal(helpers.sha256_file(blob), rec.file_sha256)
    assert.equal(300001, rec.size)
    local put = helpers.last_request{ method = "PUT" }
    assert.equal("/api/v4/projects/1/packages/generic/tool/1%2E2%2E0/bin/tool%2Etar%2Egz", put.path)
    assert.equal(helpers.sha256_file(blob), put.body_sha256)
    assert.equal("application/octet-stream", put.headers["content-type"])
    helpers.admin("DELETE", "/requests")
    local out = dir .. "/tool-back.tar.gz"
    local ok, derr = files.generic_download(gl, 1, "tool", "1.2.0", "bin/tool.tar.gz", { output = out })
    assert.is_true(ok, tostring(derr))
    assert.equal(helpers.sha256_file(blob), helpers.sha256_file(out))
    assert_other_clean()
    -- and by package id through the package files API
    local out2 = dir .. "/tool-by-id.tar.gz"
    ok, derr = files.package_file(gl, 1, rec.package_id, "bin/tool.tar.gz", { output = out2 })
    assert.is_true(ok, tostring(derr))
    assert.equal(helpers.sha256_file(blob), helpers.sha256_file(out2))
    local none
    none, derr = files.package_file(gl, 1, rec.package_id, "other.bin", { output = out2 })
    assert.is_nil(none)
    assert.equal("not_found", derr.kind)
  end)

  it("publishes and downloads a release asset through its redirects", function()
    assert(gl:post("/projects/1/releases", { tag_name = "v1.0", name = "One", ref = "main" }))
    local link, err = files.publish_release_asset(gl, 1, "v1.0",
      { file = blob, package_name = "tool" })
    assert.truthy(link, tostring(err))
    assert.equal("/tool.tar.gz", link.direct_asset_path)
    assert.equal("package", link.link_type)
    helpers.admin("DELETE", "/requests")
    local out = dir .. "/asset.tar.gz"
    local ok, resp = files.release_asset(gl, 1, "v1.0", "/tool.tar.gz", { output = out })
    assert.is_true(ok, tostring(resp))
    assert.equal(2, resp.redirects)
    assert.equal(helpers.sha256_file(blob), helpers.sha256_file(out))
    -- GitLab's own hops carry the token, object storage does not
    for _, r in ipairs(helpers.requests{ origin = "main" }) do
      assert.equal(TOKEN, r.headers["private-token"])
    end
    assert_other_clean()
  end)

  it("uploads a project file for Markdown", function()
    local png = make_file(dir .. "/shot.png", 2048)
    local up, err = files.project_upload(gl, 1, png)
    assert.truthy(up, tostring(err))
    assert.matches("^!%[shot%]%(/uploads/%x+/shot%.png%)$", up.markdown)
    local r = helpers.last_request{ path = "/api/v4/projects/1/uploads" }
    assert.equal(helpers.sha256_file(png), r.files[1].sha256)
    assert.equal("file", r.files[1].name)
  end)

  it("sets and downloads a project avatar", function()
    local png = make_file(dir .. "/avatar.png", 4096)
    local p, err = files.set_avatar(gl, 1, png)
    assert.truthy(p, tostring(err))
    assert.matches("/avatar%.png$", p.avatar_url)
    local r = helpers.last_request{ method = "PUT" }
    assert.equal("avatar", r.files[1].name)
    local body = files.avatar(gl, 1)
    assert.equal(read(png), body)
  end)

  it("imports a project from an export archive", function()
    local export = make_file(dir .. "/export.tar.gz", 123457)
    local rec, err = files.import_project(gl, export, { path = "imported", namespace = "root",
      override_params = { visibility = "private" } })
    assert.truthy(rec, tostring(err))
    assert.equal("scheduled", rec.import_status)
    local r = helpers.last_request{ path = "/api/v4/projects/import" }
    assert.equal(helpers.sha256_file(export), r.files[1].sha256)
    assert.equal("imported", r.form.path)
    assert.same({ visibility = "private" }, r.form.override_params)
    assert.truthy(gl:get(("/projects/%d"):format(rec.id)))
  end)

  -- gitlab.files and the catalog reach the same endpoints: the same
  -- request must go out either way, one encoder for both (a '.' in a ref
  -- or a file name too, as doc/api/rest/_index.md asks of path parameters).
  it("sends the request path the catalog's action sends for the same endpoint", function()
    local function path_of(fn)
      helpers.admin("DELETE", "/requests")
      fn()
      local r = helpers.last_request{ path_re = "^/api/v4/projects/1/" }
      return r and r.path
    end
    local p = gl.projects:lazy(1)
    local out = dir .. "/same.bin"
    local pairs_of = {
      { function() files.ref_artifacts(gl, 1, "v1.0", "build") end,
        function() p.jobs:artifacts_archive("v1.0", { job = "build" }) end },
      { function() files.ref_artifact(gl, 1, "v1.0", "build", "dist/a.txt") end,
        function() p.jobs:artifact_file("v1.0", "dist/a.txt", { job = "build" }) end },
      { function() files.job_artifact(gl, 1, 7, "dist/a.txt") end,
        function() p.jobs:lazy(7):artifact_file("dist/a.txt") end },
      { function() files.generic_download(gl, 1, "tool", "1.2.0", "bin/t.tar.gz", { output = out }) end,
        function() p.generic_packages:download("tool", "1.2.0", "bin/t.tar.gz", { output = out }) end },
      { function() files.release_asset(gl, 1, "v1.0", "/bin/t.tar.gz") end,
        function() p.releases:lazy("v1.0"):download_asset("bin/t.tar.gz") end },
      { function() files.raw_file(gl, 1, "docs/a.md", "main") end,
        function() p.repository.files:lazy("docs/a.md"):raw{ ref = "main" } end },
    }
    for i, c in ipairs(pairs_of) do
      local via_files, via_catalog = path_of(c[1]), path_of(c[2])
      assert.is_string(via_files, "case " .. i)
      assert.equal(via_catalog, via_files, "case " .. i)
    end
  end)

  it("refuses progress or resume without output and bad arguments", function()
    assert.has_error(function() files.job_artifacts(gl, 1, 1, { progress = print }) end)
    assert.has_error(function() files.job_artifacts(gl, nil, 1) end)
    assert.has_error(function() files.job_artifacts({}, 1, 1) end)
    assert.has_error(function() files.generic_upload(gl, 1, "p", "1", "f", {}) end)
  end)
end)

describe("package uploads through the resource layer", function()
  it("sends a generic package as the raw PUT body, parameters in the query", function()
    helpers.reset()
    local gl = helpers.client()
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb"))
    f:write(("0123456789"):rep(100))
    f:close()
    local rec, err = gl.projects:lazy(1).generic_packages:upload("tool", "1.2.0", "a.bin",
      { file = tmp, status = "default" })
    assert.truthy(rec, tostring(err))
    local put = helpers.last_request{ method = "PUT" }
    assert.matches("/projects/1/packages/generic/tool/", put.path)
    assert.equal("status=default", put.query)
    assert.not_matches("multipart", put.headers["content-type"] or "")
    assert.equal(helpers.sha256_file(tmp), put.body_sha256 or put.sha256)
    os.remove(tmp)
  end)
end)
