-- "." and ".." path segments: libcurl and servers resolve them away (RFC
-- 3986 section 5.2.4), some after percent-decoding, so a name such as
-- "../../../../admin/T1" in an artifact path, or a package file name the
-- server lists, would send the credential to another endpoint. Every path
-- lua-gitlab builds (gitlab.files, the resource catalog) refuses them, and
-- so does the raw API; the server's request log shows what reached it.
--
-- GitLab's convention (doc/api/rest/_index.md, "File path, branches, and
-- tags name"; doc/api/repository_files.md: file_path "URL-encoded full
-- path ... For example: lib%2Fclass%2Erb"): path parameters are
-- URL-encoded, so a name never needs a bare dot segment.
local helpers = require("helpers")
local files = require("gitlab.files")

-- Every request the server saw since the last reset is under `prefix`.
local function assert_stayed_under(prefix, what)
  for _, r in ipairs(helpers.requests()) do
    assert.equal(prefix, r.path:sub(1, #prefix),
      what .. ": a request left " .. prefix .. ": " .. r.method .. " " .. r.path)
  end
end

-- The call raised or returned an error, and it names the dot segment.
local function assert_refused(what, ok, a, b)
  local msg
  if not ok then msg = tostring(a)
  elseif a == nil then msg = tostring(b)
  else error(what .. ": the call succeeded") end
  assert.truthy(msg:find("'.' or '..'", 1, true), what .. ": unclear error: " .. msg)
end

describe("dot segments", function()
  -- one test (gitlab.util.is_dot_segment) behind the raw API's check, the
  -- catalog's paths and gitlab.files: a copy that differs shows here
  it("are one test for raw paths, catalog paths and gitlab.files names", function()
    local util = require("gitlab.util")
    local path = require("gitlab.resources.path")
    local request = require("gitlab.client.request")
    local SEGMENTS = { ["."] = true, [".."] = true, ["%2e"] = true, ["%2E"] = true,
      ["%2e%2E"] = true, ["%2E%2e"] = true, [".%2e"] = true, ["%2E."] = true,
      [""] = false, ["..."] = false, ["%2E%2E%2E"] = false, ["a..b"] = false, [".a"] = false,
      ["%2f"] = false, ["%2e%2f"] = false, ["%252e"] = false, ["%2"] = false, ["%"] = false }
    for seg, dot in pairs(SEGMENTS) do
      assert.equal(dot, util.is_dot_segment(seg), seg)
      assert.equal(dot, path.dot(seg), "path.dot " .. seg)
      assert.equal(dot, path.has_dot("a/" .. seg .. "/b"), "path.has_dot " .. seg)
      assert.equal(dot, util.has_dot_segment(seg), "first segment " .. seg)
      assert.equal(dot, request.has_dot_segment("https://h/api/v4/x/" .. seg), "last segment " .. seg)
      assert.equal(dot, request.has_dot_segment("https://h/api/v4/" .. seg .. "/x?q=1#f"), seg)
      -- the query and the fragment are not the path
      assert.is_false(request.has_dot_segment("https://h/api/v4/x?q=/" .. seg))
      assert.is_false(request.has_dot_segment("https://h/api/v4/x#/" .. seg))
    end
    assert.is_false(util.is_dot_segment(1))
    assert.is_false(path.dot(nil))
  end)

  it("agree with RFC 3986's reading on random paths and URLs", function()
    -- the test is in C (core.has_dot_segment, core.is_dot_segment); the
    -- model here says it the long way: split at "/" (a URL before "?" or
    -- "#"), decode each "%2e" or "%2E", and look for "." or ".."
    local util = require("gitlab.util")
    local function model_seg(seg)
      if type(seg) ~= "string" then return false end
      local d = seg:gsub("%%2[eE]", ".")
      return d == "." or d == ".."
    end
    local function model(s, url)
      if type(s) ~= "string" then return false end
      if url then s = s:match("^[^?#]*") end
      for seg in (s .. "/"):gmatch("([^/]*)/") do
        if model_seg(seg) then return true end
      end
      return false
    end
    local pieces = { ".", "..", "%", "%2", "%2e", "%2E", "%2f", "2", "e", "/", "/.", "?", "#", "a", "\0" }
    math.randomseed(62)
    for _ = 1, 20000 do
      local t = {}
      for i = 1, math.random(0, 8) do t[i] = pieces[math.random(#pieces)] end
      local s = table.concat(t)
      assert.equal(model_seg(s), util.is_dot_segment(s), s)
      assert.equal(model(s, false), util.has_dot_segment(s), s)
      assert.equal(model(s, true), util.has_dot_segment(s, true), "url " .. s)
    end
    for _, v in ipairs{ 1, true, {} } do
      assert.is_false(util.is_dot_segment(v))
      assert.is_false(util.has_dot_segment(v, true))
    end
  end)

  local gl, dir, blob
  setup(function()
    gl = helpers.client()
    dir = helpers.tmpdir()
    blob = dir .. "/blob.bin"
    local f = assert(io.open(blob, "wb"))
    f:write(("x"):rep(1000))
    f:close()
  end)
  before_each(function() helpers.reset() end)

  describe("in gitlab.files arguments", function()
    local link = { name = "n", url = "https://example.invalid/x" }
    -- { what, call, where every request must stay }
    local cases = {
      { "job_artifact path", function() return files.job_artifact(gl, 1, 9, "../../../../../../admin/T1") end,
        "/api/v4/projects/1/jobs/9/artifacts/" },
      { "job_artifact path, middle", function() return files.job_artifact(gl, 1, 9, "dist/../../../../x") end,
        "/api/v4/projects/1/jobs/9/artifacts/" },
      { "job_artifacts project", function() return files.job_artifacts(gl, "..", 9) end,
        "/api/v4/projects/" },
      { "ref_artifacts ref", function() return files.ref_artifacts(gl, 1, "..", "build") end,
        "/api/v4/projects/1/jobs/artifacts/" },
      { "ref_artifact path", function() return files.ref_artifact(gl, 1, "main", "build", "./../../../../../x") end,
        "/api/v4/projects/1/jobs/artifacts/main/raw/" },
      { "raw_file path", function() return files.raw_file(gl, 1, "..") end,
        "/api/v4/projects/1/repository/files/" },
      { "raw_file path, inside", function() return files.raw_file(gl, 1, "docs/../../x") end,
        "/api/v4/projects/1/repository/files/" },
      { "generic_download file", function()
          return files.generic_download(gl, 1, "tool", "1.0", "../../../../../../user/keys") end,
        "/api/v4/projects/1/packages/generic/tool/1.0/" },
      { "generic_download version", function() return files.generic_download(gl, 1, "tool", "..", "x") end,
        "/api/v4/projects/1/packages/generic/tool/" },
      { "generic_upload file", function()
          return files.generic_upload(gl, 1, "tool", "1.0", "../../../../../x", { file = blob }) end,
        "/api/v4/projects/1/packages/generic/tool/1.0/" },
      { "release_asset path", function() return files.release_asset(gl, 1, "v1.0", "/../../../../../../user") end,
        "/api/v4/projects/1/releases/v1.0/downloads/" },
      { "release_asset tag", function() return files.release_asset(gl, 1, "..", "x") end,
        "/api/v4/projects/1/releases/" },
      { "release_link tag", function() return files.release_link(gl, 1, "..", link) end,
        "/api/v4/projects/1/releases/" },
      { "publish_release_asset file_name", function()
          return files.publish_release_asset(gl, 1, "v1.0", { file = blob, package_name = "tool",
            file_name = "../../../../x" }) end,
        "/api/v4/projects/1/packages/generic/tool/" },
      { "avatar project", function() return files.avatar(gl, "..") end, "/api/v4/projects/" },
      { "set_avatar project", function() return files.set_avatar(gl, "..", blob) end, "/api/v4/projects/" },
      { "project_upload project", function() return files.project_upload(gl, "..", blob) end, "/api/v4/projects/" },
      { "export_download project", function() return files.export_download(gl, "..") end, "/api/v4/projects/" },
      -- encoded: a name that is a dot segment once percent-decoded is
      -- refused as the raw API path "/projects/1/%2e%2E/user" is (one test,
      -- gitlab.util.is_dot_segment): a server or proxy that decodes twice
      -- would resolve it
      { "job_artifact path, encoded", function() return files.job_artifact(gl, 1, 9, "%2e%2E/%2E%2e/admin") end,
        "/api/v4/projects/1/jobs/9/artifacts/" },
      { "raw_file path, half-encoded", function() return files.raw_file(gl, 1, "docs/.%2e/x") end,
        "/api/v4/projects/1/repository/files/" },
      { "generic_download version, encoded", function() return files.generic_download(gl, 1, "tool", "%2E", "x") end,
        "/api/v4/projects/1/packages/generic/tool/" },
      { "avatar project, encoded", function() return files.avatar(gl, "%2e%2e") end, "/api/v4/projects/" },
    }
    for _, c in ipairs(cases) do
      it("keeps " .. c[1] .. " under " .. c[3], function()
        local ok, a, b = pcall(c[2])
        assert_stayed_under(c[3], c[1])
        assert_refused(c[1], ok, a, b)
      end)
    end

    -- a "." inside a name is sent encoded (%2E), as every path parameter is
    it("keeps dots inside a segment: the request reaches the endpoint asked for", function()
      files.job_artifact(gl, 1, 42, "dist/.hidden/a..b.txt")
      assert.equal("/api/v4/projects/1/jobs/42/artifacts/dist/%2Ehidden/a%2E%2Eb%2Etxt",
        helpers.last_request().path)
      files.generic_download(gl, 1, "tool", "1.0.0", "..tool/.x")
      assert.equal("/api/v4/projects/1/packages/generic/tool/1%2E0%2E0/%2E%2Etool/%2Ex",
        helpers.last_request().path)
      files.raw_file(gl, 1, ".gitlab-ci.yml")
      assert.equal("/api/v4/projects/1/repository/files/%2Egitlab-ci%2Eyml/raw", helpers.last_request().path)
    end)
  end)

  describe("in names the server supplies", function()
    local function plant(pkg)
      return helpers.admin("POST", "/files/package", pkg)
    end

    it("refuses a package file name that climbs out (files.package_file)", function()
      local evil = "../../../../../../../../user/keys"
      for _, by in ipairs({ "name", "id" }) do
        helpers.reset()
        local pkg = plant{ project = 1, name = "pkg", version = "1.0.0", package_type = "npm",
          files = { { file_name = evil } } }
        local ok, err = files.package_file(gl, 1, pkg.id, by == "name" and evil or pkg.files[1],
          { output = dir .. "/keys" })
        assert_stayed_under("/api/v4/projects/1/packages/", "package_file by " .. by)
        assert.is_nil(ok)
        assert.equal("unsafe_path", err.kind)
        assert.matches("'%.' or '%.%.'", err.message)
        -- only the two look-ups reached the server
        assert.equal(2, #helpers.requests())
      end
    end)

    it("refuses a server's package version that is a dot segment", function()
      local pkg = plant{ project = 1, name = "tool", version = "..", package_type = "generic",
        files = { { file_name = "x.bin" } } }
      local ok, err = files.package_file(gl, 1, pkg.id, "x.bin")
      assert_stayed_under("/api/v4/projects/1/packages/", "package_file")
      assert.is_nil(ok)
      assert.equal("unsafe_path", err.kind)
    end)

    it("reports a package record without a name instead of raising", function()
      local pkg = plant{ project = 1, version = "1.0", package_type = "nuget", files = { { file_name = "a.nupkg" } } }
      local ok, err = files.package_file(gl, 1, pkg.id, "a.nupkg")
      assert.is_nil(ok)
      assert.equal("unsafe_path", err.kind)
    end)

    it("downloads a well-named package file from its registry path", function()
      local pkg = plant{ project = 1, name = "pkg", version = "1.0.0", package_type = "npm",
        files = { { file_name = "pkg-1.0.0.tgz" } } }
      files.package_file(gl, 1, pkg.id, "pkg-1.0.0.tgz")
      assert.equal("/api/v4/projects/1/packages/npm/pkg/-/pkg-1%2E0%2E0%2Etgz", helpers.last_request().path)
    end)
  end)

  describe("in raw API paths", function()
    local srv
    setup(function() srv = helpers.server() end)

    local cases = {
      { "a relative path", function() return gl:get("/projects/../user") end },
      { "a path without the leading slash", function() return gl:get("projects/1/../../user") end },
      { "a trailing dot segment", function() return gl:get("/projects/1/issues/..") end },
      { "an encoded dot segment", function() return gl:get("/projects/1/%2e%2E/%2E%2E/user") end },
      { "a half-encoded dot segment", function() return gl:get("/projects/1/.%2e/.%2E/user") end },
      { "an encoded single dot", function() return gl:get("/projects/1/%2E/../user") end },
      { "a dot segment before the query", function() return gl:get("/projects/1/..?a=/x") end },
      { "an absolute URL", function() return gl:get(srv.http .. "/api/v4/projects/1/../../user") end },
      { "a download", function() return gl:download("/projects/1/../../user", { output = dir .. "/u" }) end },
      { "a request", function() return gl:request("DELETE", "/projects/1/./../../user") end },
      { "an upload", function() return gl:upload("/projects/../uploads", { file = blob }) end },
      { "an async request", function()
          return gl:request_async("GET", "/projects/../user", nil, function() end) end },
      { "a paginated list", function() return gl:all("/projects/../users") end },
    }
    for _, c in ipairs(cases) do
      it("refuses " .. c[1] .. " before sending it", function()
        local ok, a, b = pcall(c[2])
        gl:wait()
        assert_stayed_under("/api/v4/projects/", c[1])
        assert_refused(c[1], ok, a, b)
        assert.equal(0, #helpers.requests())
      end)
    end

    it("keeps encoded dots that are not whole segments", function()
      gl:get("/projects/1/repository/files/%2E%2E%2E/raw")
      assert.equal("/api/v4/projects/1/repository/files/%2E%2E%2E/raw", helpers.last_request().path)
      gl:get("/projects/1/repository/files/%2Egitlab-ci%2Eyml/raw")
      assert.equal("/api/v4/projects/1/repository/files/%2Egitlab-ci%2Eyml/raw", helpers.last_request().path)
    end)

    it("keeps dots that are not whole segments, and dots in the query", function()
      assert(gl:get("/projects/1", { search = "../x" }))
      local r = helpers.last_request()
      assert.equal("/api/v4/projects/1", r.path)
      gl:get("/projects/1/repository/files/a..b/raw")
      assert.equal("/api/v4/projects/1/repository/files/a..b/raw", helpers.last_request().path)
    end)
  end)

  describe("in resource paths", function()
    it("refuses an id that is a dot segment", function()
      local ok, err = pcall(function() return gl.projects:get("..") end)
      assert.is_false(ok)
      assert.matches("'%.' or '%.%.'", tostring(err))
      ok, err = pcall(function() return gl.projects:lazy(1).issues:get(".") end)
      assert.is_false(ok)
      assert.matches("'%.' or '%.%.'", tostring(err))
      assert.equal(0, #helpers.requests())
    end)

    -- the same test as gitlab.files and the raw API: encoded, half-encoded
    it("refuses an id or argument that is an encoded dot segment", function()
      for _, call in ipairs{
        function() return gl.projects:get("%2e%2E") end,
        function() return gl.projects:lazy(1).issues:get(".%2e") end,
        function() return gl.projects:lazy("%2E").issues:list():first(1) end,
      } do
        local ok, err = pcall(call)
        assert.is_false(ok)
        assert.matches("'%.' or '%.%.'", tostring(err))
      end
      assert.equal(0, #helpers.requests())
    end)
  end)
end)
