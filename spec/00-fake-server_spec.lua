-- The fake GitLab server itself, driven with the curl CLI only: if these
-- fail, every other suite's failures are suspect.

local helpers = require("helpers")

local ROOT_TOKEN = helpers.ROOT_TOKEN
local api, json, links = helpers.api, helpers.json_body, helpers.links

describe("fake server", function()
  local srv

  setup(function()
    srv = helpers.server()
  end)

  before_each(function()
    helpers.reset()
  end)

  it("reports its origins", function()
    assert.matches("^http://127%.0%.0%.1:%d+$", srv.http)
    assert.matches("^http://127%.0%.0%.1:%d+$", srv.other)
    assert.matches("^https://127%.0%.0%.1:%d+$", srv.https)
    assert.are_not.equal(srv.http, srv.other)
  end)

  describe("authentication", function()
    it("answers 401 without a token, with a bad one, or with the wrong carrier", function()
      for _, h in ipairs{ {}, { ["PRIVATE-TOKEN"] = "nope" }, { Authorization = "Bearer nope" },
                          { ["JOB-TOKEN"] = "glpat-root" }, { ["PRIVATE-TOKEN"] = "oauth-root" } } do
        local r = api("/user", { headers = h })
        assert.equal(401, r.status)
        assert.same({ message = "401 Unauthorized" }, json(r))
      end
    end)

    it("accepts every GitLab carrier", function()
      local cases = {
        { headers = { ["PRIVATE-TOKEN"] = "glpat-alice" }, user = "alice" },
        { headers = { Authorization = "Bearer oauth-root" }, user = "root" },
        { headers = { Authorization = "Bearer glpat-alice" }, user = "alice" },
        { headers = { ["JOB-TOKEN"] = "job-root" }, user = "root" },
        { query = "private_token=glpat-alice", user = "alice" },
        { query = "access_token=oauth-root", user = "root" },
        { query = "job_token=job-root", user = "root" },
      }
      for _, c in ipairs(cases) do
        local r = api("/user" .. (c.query and "?" .. c.query or ""), { headers = c.headers or {} })
        assert.equal(200, r.status)
        assert.equal(c.user, json(r).username)
      end
    end)

    it("reports an expired token like GitLab", function()
      local r = api("/user", { headers = { Authorization = "Bearer oauth-expired" } })
      assert.equal(401, r.status)
      assert.same({ error = "invalid_token",
        error_description = "Token is expired. You can either do re-authorization or token refresh." }, json(r))
      assert.matches('error="invalid_token"', r.headers["www-authenticate"], 1, true)
    end)

    it("takes new tokens from the admin API", function()
      helpers.token{ token = "t-new", kind = "oauth", user = "alice" }
      local r = api("/user", { headers = { Authorization = "Bearer t-new" } })
      assert.equal("alice", json(r).username)
      helpers.token{ token = "t-old", kind = "oauth", user = 2, expired = true }
      assert.equal("invalid_token", json(api("/user", { headers = { Authorization = "Bearer t-old" } })).error)
    end)

    it("honours Sudo for admins only", function()
      local r = api("/user", { headers = { ["PRIVATE-TOKEN"] = "glpat-root", Sudo = "alice" } })
      assert.equal("alice", json(r).username)
      r = api("/user", { headers = { ["PRIVATE-TOKEN"] = "glpat-root", Sudo = "nobody" } })
      assert.equal(404, r.status)
      assert.equal("404 User with ID or username 'nobody' Not Found", json(r).message)
      r = api("/user", { headers = { ["PRIVATE-TOKEN"] = "glpat-alice", Sudo = "root" } })
      assert.equal(403, r.status)
      assert.equal("403 Forbidden - Must be admin to use sudo", json(r).message)
    end)

    it("limits job tokens to GitLab's job-token endpoints when strict", function()
      local h = { ["JOB-TOKEN"] = "job-root" }
      assert.equal(200, api("/user", { headers = h }).status)
      helpers.config{ job_token_strict = true }
      assert.equal(401, api("/user", { headers = h }).status)
      assert.equal(200, api("/projects/1/repository/branches", { headers = h }).status)
      assert.equal(401, api("/projects/1/repository/branches", { headers = h, method = "POST",
        json = { branch = "b", ref = "main" } }).status)
    end)

    it("limits read_api tokens to reads", function()
      local h = { ["PRIVATE-TOKEN"] = "glpat-alice-read" }
      assert.equal(200, api("/projects/1", { headers = h }).status)
      local r = api("/projects/1/issues", { headers = h, method = "POST", json = { title = "x" } })
      assert.equal(403, r.status)
      assert.equal("insufficient_scope", json(r).error)
    end)
  end)

  describe("REST store", function()
    it("serves the seed and the version", function()
      assert.same({ "version", "revision" }, (function()
        local v = json(api("/version"))
        return { v.version and "version", v.revision and "revision" }
      end)())
      local p = json(api("/projects/group%2Fproj"))
      assert.equal(1, p.id)
      assert.equal("group/proj", p.path_with_namespace)
      assert.equal(2, json(api("/projects/group%2Fsub%2Fproj2")).id)
      assert.equal("group/sub", json(api("/groups/group%2Fsub")).full_path)
      local issues = json(api("/projects/1/issues?state=opened"))
      assert.is_true(#issues >= 2)
      for _, i in ipairs(issues) do assert.equal("opened", i.state) end
    end)

    it("answers GitLab's 404s", function()
      local r = api("/projects/999")
      assert.equal(404, r.status)
      assert.same({ message = "404 Project Not Found" }, json(r))
      assert.same({ message = "404 Project Not Found" }, json(api("/projects/999/issues/1")))
      assert.same({ message = "404 Issue Not Found" }, json(api("/projects/1/issues/999")))
      assert.same({ message = "404 Branch Not Found" }, json(api("/projects/1/repository/branches/nope")))
      assert.same({ error = "404 Not Found" }, json(api("/no_such_thing")))
    end)

    it("creates, reads, updates and deletes", function()
      local r = api("/projects/group%2Fproj/issues", { method = "POST", json = { title = "New", labels = "a,b" } })
      assert.equal(201, r.status)
      local issue = json(r)
      assert.equal("New", issue.title)
      assert.equal(4, issue.iid)
      assert.equal(1, issue.project_id)
      assert.equal("root", issue.author.username)
      assert.same({ "a", "b" }, issue.labels)
      -- form bodies and query strings work too
      local r2 = api("/projects/1/issues?title=Q", { method = "POST" })
      assert.equal(5, json(r2).iid)
      local r3 = api("/projects/1/issues", { method = "POST", body = "title=F+orm&description=d" ,
        headers = { ["PRIVATE-TOKEN"] = "glpat-root", ["Content-Type"] = "application/x-www-form-urlencoded" } })
      assert.equal("F orm", json(r3).title)

      r = api("/projects/1/issues/4", { method = "PUT", json = { description = "more" } })
      assert.equal(200, r.status)
      assert.equal("more", json(r).description)
      assert.equal("New", json(r).title)
      r = api("/projects/1/issues/4", { method = "PUT", json = { state_event = "close" } })
      assert.equal("closed", json(r).state)

      r = api("/projects/1/issues/4", { method = "DELETE" })
      assert.equal(204, r.status)
      assert.equal("", r.body)
      assert.equal(404, api("/projects/1/issues/4").status)
    end)

    it("redirects GETs of a renamed project's old path with 301", function()
      assert.equal(200, api("/projects/1", { method = "PUT", json = { path = "renamed" } }).status)
      local r = api("/projects/group%2Fproj/issues?state=opened")
      assert.equal(301, r.status)
      local want = srv.http .. "/api/v4/projects/1/issues?state=opened"
      assert.equal(want, r.headers.location)
      assert.equal("This resource has been moved permanently to " .. want .. ".", r.body)
      assert.equal(1, json(api("/projects/group%2Frenamed")).id)
    end)

    it("answers 304 to a matching If-None-Match", function()
      local r = api("/projects/1")
      local tag = r.headers.etag
      assert.matches('^W/"%x+"$', tag)
      r = api("/projects/1", { headers = { ["PRIVATE-TOKEN"] = "glpat-root", ["If-None-Match"] = tag } })
      assert.equal(304, r.status)
      assert.equal("", r.body)
    end)

    it("validates required attributes like Grape", function()
      local r = api("/projects/1/issues", { method = "POST", json = {} })
      assert.equal(400, r.status)
      assert.same({ error = "title is missing" }, json(r))
    end)

    it("keys branches, files and variables by name", function()
      local r = api("/projects/1/repository/branches", { method = "POST", json = { branch = "feat/x", ref = "main" } })
      assert.equal(201, r.status)
      assert.equal("feat/x", json(api("/projects/1/repository/branches/feat%2Fx")).name)
      r = api("/projects/1/repository/files/docs%2Fa.md", { method = "POST",
        json = { branch = "main", content = "hello", commit_message = "add" } })
      assert.equal(201, r.status)
      assert.same({ file_path = "docs/a.md", branch = "main" }, json(r))
      assert.equal("hello", api("/projects/1/repository/files/docs%2Fa.md/raw?ref=main").body)
      api("/projects/1/variables", { method = "POST", json = { key = "K", value = "v" } })
      assert.equal("v", json(api("/projects/1/variables/K")).value)
      assert.equal("bug", json(api("/projects/1/labels/bug")).name)
    end)
  end)

  describe("pagination", function()
    it("pages offset lists with GitLab's headers and links", function()
      helpers.seed{ path = "/projects/2/issues", count = 44, template = { title = "Bulk {n}" } }  -- 45 in all
      local r = api("/projects/2/issues?per_page=20&page=2")
      local h = r.headers
      assert.equal(200, r.status)
      assert.equal("2", h["x-page"])
      assert.equal("20", h["x-per-page"])
      assert.equal("3", h["x-next-page"])
      assert.equal("1", h["x-prev-page"])
      assert.equal("45", h["x-total"])
      assert.equal("3", h["x-total-pages"])
      local l = links(h.link)
      assert.matches("page=3", l.next)
      assert.matches("page=1", l.prev)
      assert.matches("page=1", l.first)
      assert.matches("page=3", l.last)
      -- following rel="next" visits every item once
      local seen, n, url = {}, 0, helpers.api_url("/projects/2/issues?per_page=20")
      while url do
        local page = helpers.curl{ url = url, headers = ROOT_TOKEN }
        for _, i in ipairs(json(page)) do
          assert.is_nil(seen[i.id])
          seen[i.id] = true
          n = n + 1
        end
        url = links(page.headers.link).next
        if not url then
          assert.equal("", page.headers["x-next-page"])
          assert.equal("3", page.headers["x-page"])
        end
      end
      assert.equal(45, n)
      -- per_page is capped at 100
      assert.equal("100", api("/projects/2/issues?per_page=500").headers["x-per-page"])
    end)

    it("stops counting above 10,000 items", function()
      helpers.seed{ path = "/projects/2/issues", count = 10000, template = { title = "Bulk {n}" } }
      local r = api("/projects/2/issues?per_page=100&page=2")
      assert.equal(200, r.status)
      assert.equal(100, #json(r))
      assert.is_nil(r.headers["x-total"])
      assert.is_nil(r.headers["x-total-pages"])
      local l = links(r.headers.link)
      assert.is_nil(l.last)
      assert.is_not_nil(l.next)
      assert.equal("3", r.headers["x-next-page"])
    end)

    it("walks keyset pages through Link rel=next only", function()
      helpers.seed{ path = "/projects", count = 48, template = { name = "k{n}" } }  -- 50 in all
      local url = helpers.api_url("/projects?pagination=keyset&per_page=20&order_by=id&sort=asc")
      local ids, pages = {}, 0
      while url do
        local r = helpers.curl{ url = url, headers = ROOT_TOKEN }
        assert.equal(200, r.status)
        assert.is_nil(r.headers["x-total"])
        assert.is_nil(r.headers["x-next-page"])
        pages = pages + 1
        for _, p in ipairs(json(r)) do ids[#ids + 1] = p.id end
        url = links(r.headers.link).next
        if url then assert.matches("id_after=", url, 1, true) end
      end
      assert.equal(4, pages)    -- 20, 20, 10, then the empty end
      assert.equal(50, #ids)
      for i = 2, #ids do assert.is_true(ids[i] > ids[i - 1]) end
    end)

    it("refuses large offsets and keyset where GitLab does", function()
      local r = api("/projects?page=501&per_page=100")
      assert.equal(405, r.status)
      assert.matches("^Offset pagination has a maximum allowed offset of 50000", json(r).error)
      r = api("/projects/1/labels?pagination=keyset&order_by=id&sort=asc")
      assert.equal(405, r.status)
      assert.equal("Keyset pagination is not yet available for this type of request", json(r).error)
    end)

    -- doc/api/rest/_index.md: "When the end of the collection is reached
    -- and there are no additional records to retrieve, the `Link` header
    -- is absent and the resulting array is empty."
    it("pages keyset lists backwards and ends on an empty page", function()
      helpers.seed{ path = "/projects", count = 3, template = { name = "d{n}" } }  -- ids 1..5
      local r = api("/projects?pagination=keyset&per_page=2&order_by=id&sort=desc")
      local ids = {}
      for _, p in ipairs(json(r)) do ids[#ids + 1] = p.id end
      assert.same({ 5, 4 }, ids)
      assert.matches("id_before=4", links(r.headers.link).next, 1, true)
      r = api("/projects?pagination=keyset&per_page=5&order_by=id&sort=asc")
      local nxt = links(r.headers.link).next
      assert.is_not_nil(nxt)
      r = helpers.curl{ url = nxt, headers = ROOT_TOKEN }
      assert.same({}, json(r))
      assert.is_nil(r.headers.link)
    end)

    it("serves a relative URL root and keeps it in links", function()
      local r = helpers.curl{ url = srv.http .. "/gitlab/api/v4/projects?per_page=1", headers = ROOT_TOKEN }
      assert.equal(200, r.status)
      assert.matches("^" .. srv.http:gsub("%p", "%%%0") .. "/gitlab/api/v4/projects%?", links(r.headers.link).next)
    end)

    it("builds links from the configured external_url", function()
      helpers.config{ external_url = "http://gitlab.invalid:8080/gitlab" }
      local l = links(api("/projects?per_page=1").headers.link)
      assert.matches("^http://gitlab%.invalid:8080/gitlab/api/v4/projects%?", l.next)
    end)
  end)

  describe("rate limits", function()
    it("sends RateLimit headers and answers 429 when exhausted", function()
      helpers.config{ ratelimit = { limit = 10, remaining = 2, reset = 30 } }
      local r = api("/version")
      assert.equal("10", r.headers["ratelimit-limit"])
      assert.equal("1", r.headers["ratelimit-remaining"])
      assert.equal("9", r.headers["ratelimit-observed"])
      assert.is_true(tonumber(r.headers["ratelimit-reset"]) > os.time())
      assert.equal("0", api("/version").headers["ratelimit-remaining"])
      r = api("/version")
      assert.equal(429, r.status)
      assert.equal("Retry later\n", r.body)
      assert.is_true(tonumber(r.headers["retry-after"]) >= 1)
    end)

    -- lib/gitlab/rack_attack.rb (throttled_response_headers): RateLimit-Limit
    -- is the quota per 60 s, rounded up; Remaining = limit - Observed, at
    -- least 0; Observed counts the refused requests too.
    it("scales RateLimit-Limit to a minute and keeps Remaining = limit - Observed", function()
      helpers.config{ ratelimit = { limit = 10, remaining = 1, reset = 30, window = 120 } }
      local r = api("/version")
      assert.equal(200, r.status)
      assert.equal("5", r.headers["ratelimit-limit"])
      assert.equal("10", r.headers["ratelimit-observed"])
      assert.equal("0", r.headers["ratelimit-remaining"])
      r = api("/version")
      assert.equal(429, r.status)
      assert.equal("11", r.headers["ratelimit-observed"])
      assert.equal("0", r.headers["ratelimit-remaining"])
      helpers.config{ ratelimit = { limit = 7, reset = 30, window = 45 } }
      r = api("/version")
      assert.equal("10", r.headers["ratelimit-limit"])   -- ceil(7 * 60 / 45)
      assert.equal("1", r.headers["ratelimit-observed"])
      assert.equal("6", r.headers["ratelimit-remaining"])
    end)
  end)

  describe("faults", function()
    it("replies with an explicit status the given number of times", function()
      helpers.fault{ path = "/api/v4/version", status = 500, times = 2 }
      assert.equal(500, api("/version").status)
      assert.equal(500, api("/version").status)
      assert.equal(200, api("/version").status)
      local log = helpers.requests{ path = "/api/v4/version" }
      assert.equal(3, #log)
      assert.is_not_nil(log[1].fault)
      assert.is_nil(log[3].fault)
    end)

    it("matches by method, regex and skip", function()
      helpers.fault{ method = "POST", path_re = "^/api/v4/projects/\\d+/issues$", status = 503, skip = 1 }
      assert.equal(200, api("/projects/1/issues").status)
      assert.equal(201, api("/projects/1/issues", { method = "POST", json = { title = "a" } }).status)
      assert.equal(503, api("/projects/1/issues", { method = "POST", json = { title = "b" } }).status)
    end)

    it("sends 429 variants", function()
      helpers.fault{ path = "/api/v4/version", status = 429, retry_after = 7 }
      local r = api("/version")
      assert.equal(429, r.status)
      assert.equal("7", r.headers["retry-after"])
      assert.equal("Retry later\n", r.body)
      helpers.fault{ path = "/api/v4/version", status = 429, reset_in = 5,
        body = { message = { error = "This endpoint has been requested too many times. Try again later." } } }
      r = api("/version")
      assert.is_nil(r.headers["retry-after"])
      assert.is_true(tonumber(r.headers["ratelimit-reset"]) >= os.time() + 4)
      helpers.fault{ path = "/api/v4/version", status = 429, retry_after_date = 3 }
      assert.matches("GMT$", api("/version").headers["retry-after"])
      helpers.fault{ path = "/api/v4/version", status = 429, headers = { ["X-Only"] = "1" } }
      r = api("/version")
      assert.is_nil(r.headers["retry-after"])
      assert.is_nil(r.headers["ratelimit-reset"])
    end)

    it("breaks connections in the ways networks do", function()
      local cases = {
        { action = "reset_before_headers", codes = { [52] = true, [56] = true } },
        { action = "truncate", codes = { [18] = true } },
        { action = "chunked_cut", codes = { [18] = true } },
        { action = "reset_mid_body", codes = { [18] = true, [56] = true } },
      }
      for _, c in ipairs(cases) do
        helpers.fault{ path = "/api/v4/projects", action = c.action }
        local r = api("/projects")
        assert.is_true(c.codes[r.code], c.action .. ": curl exit " .. r.code .. " " .. r.error)
        assert.equal(200, api("/projects").status)
      end
      local log = helpers.requests{ path = "/api/v4/projects" }
      assert.equal("reset_before_headers", log[1].fault.action)
    end)

    it("breaks HTTP/2 streams too", function()
      helpers.fault{ path = "/api/v4/projects", action = "reset_mid_body" }
      local r = api("/projects", { origin = "https", http2 = true, cacert = helpers.certs().ca })
      assert.are_not.equal(0, r.code)
      r = api("/projects", { origin = "https", http2 = true, cacert = helpers.certs().ca })
      assert.equal(0, r.code)
      assert.equal("2", r.http_version)
    end)

    it("serves proxy HTML, huge bodies and huge headers", function()
      helpers.fault{ path = "/api/v4/version", action = "html" }
      local r = api("/version")
      assert.equal(502, r.status)
      assert.matches("^text/html", r.headers["content-type"])
      assert.matches("<center>nginx</center>", r.body, 1, true)
      helpers.fault{ path = "/api/v4/version", action = "huge_body", size = 3000000 }
      local file = os.tmpname()
      r = api("/version", { output = file })
      os.remove(file)
      assert.equal(500, r.status)
      assert.equal("3000000", r.headers["content-length"])
      helpers.fault{ path = "/api/v4/version", action = "huge_headers" }
      r = api("/version")
      assert.are_not.equal(0, r.code)
    end)

    it("sets, removes and self-links headers of the normal reply", function()
      helpers.fault{ path = "/api/v4/projects/1/issues", set_headers = {
        ["X-Total-Pages"] = "60", link = '<{self}>; rel="next"', ["x-next-page"] = false } }
      local r = api("/projects/1/issues?per_page=1&page=2")
      assert.equal(200, r.status)
      assert.equal(1, #json(r))                     -- the normal body
      assert.equal("60", r.headers["x-total-pages"])
      assert.is_nil(r.headers["x-next-page"])
      assert.equal(helpers.api_url("/projects/1/issues") .. "?per_page=1&page=2", links(r.headers.link).next)
      r = api("/projects/1/issues?per_page=1&page=2")   -- used up: GitLab's headers again
      assert.equal("3", r.headers["x-total-pages"])
      assert.equal("3", r.headers["x-next-page"])
    end)

    it("delays, drips and loops", function()
      helpers.fault{ path = "/api/v4/version", delay_ms = 300 }
      local t0 = os.time()
      assert.equal(200, api("/version").status)
      helpers.fault{ path = "/api/v4/version", action = "slow" }
      local r = api("/version", { timeout = 1 })
      assert.equal(28, r.code)
      assert.is_true(os.time() - t0 <= 4)
      helpers.fault{ path = "/api/v4/version", action = "redirect_loop" }
      r = api("/version", { follow = true, max_redirs = 5 })
      assert.equal(47, r.code)
    end)
  end)

  describe("special endpoints", function()
    it("echoes the request", function()
      local r = helpers.curl{ url = helpers.api_url("/__echo?a[]=1&a[]=2&b[c]=x+y"), method = "PATCH",
        json = { k = "v" }, headers = { ["X-Thing"] = "1" } }
      local e = json(r)
      assert.equal("PATCH", e.method)
      assert.equal("/api/v4/__echo", e.path)
      assert.equal("a[]=1&a[]=2&b[c]=x+y", e.raw_query)
      assert.same({ a = { "1", "2" }, b = { c = "x y" } }, e.query)
      assert.equal("1", e.headers["x-thing"])
      assert.equal('{"k":"v"}', e.body)
      assert.same({ k = "v" }, e.json)
    end)

    it("redirects on request", function()
      local to = helpers.urlencode(srv.other .. "/x")
      local r = helpers.curl{ url = helpers.api_url("/__redirect?status=307&to=" .. to) }
      assert.equal(307, r.status)
      assert.equal(srv.other .. "/x", r.headers.location)
    end)

    it("streams deterministic bytes with ranges", function()
      local file = os.tmpname()
      local r = helpers.curl{ url = helpers.api_url("/__bytes?size=300000&seed=s"), output = file }
      assert.equal(200, r.status)
      local digest = json(helpers.curl{ url = helpers.api_url("/__bytes?size=300000&seed=s&digest=1") }).sha256
      assert.equal(digest, helpers.sha256_file(file))
      r = helpers.curl{ url = helpers.api_url("/__bytes?size=300000&seed=s"), range = "100000-", output = file }
      assert.equal(206, r.status)
      assert.equal("bytes 100000-299999/300000", r.headers["content-range"])
      assert.equal("200000", r.headers["content-length"])
      os.remove(file)
    end)

    it("serves blobs on the other origin and records credentials sent there", function()
      local r = helpers.curl{ url = srv.other .. "/objects/a/b.zip?size=1234",
        headers = { ["PRIVATE-TOKEN"] = "leak" } }
      assert.equal(200, r.status)
      assert.equal(1234, #r.body)
      local e = helpers.last_request{ origin = "other" }
      assert.equal("/objects/a/b.zip", e.path)
      assert.same({ "private-token" }, e.credentials)
      helpers.curl{ url = srv.other .. "/objects/a/b.zip" }
      assert.same({}, helpers.last_request{ origin = "other" }.credentials)
    end)

    it("records uploads by size and digest", function()
      local file = os.tmpname()
      local f = assert(io.open(file, "wb"))
      f:write(string.rep("0123456789", 100000))
      f:close()
      local want = helpers.sha256_file(file)
      local r = helpers.curl{ url = srv.other .. "/upload", form = { "file=@" .. file, "name=x", "meta[k]=v" } }
      assert.equal(201, r.status)
      local up = json(r)
      assert.equal(1000000, up.files[1].size)
      assert.equal(want, up.files[1].sha256)
      assert.same({ name = "x", meta = { k = "v" } }, up.fields)
      r = helpers.curl{ url = srv.other .. "/objects/put.bin", upload = file }
      assert.equal(want, json(r).sha256)
      assert.equal(want, helpers.uploads()[2].sha256)
      os.remove(file)
    end)
  end)

  it("answers an overlong request target with nginx's 414", function()
    local r = api("/projects?search=" .. string.rep("x", 9000))
    assert.equal(414, r.status)
    assert.matches("414 Request%-URI Too Large", r.body)
  end)

  describe("admin", function()
    it("reset clears the log and the faults", function()
      helpers.fault{ path = "/api/v4/version", status = 500, times = -1 }
      api("/version")
      assert.equal(1, #helpers.requests())
      helpers.reset()
      assert.equal(0, #helpers.requests())
      assert.equal(200, api("/version").status)
    end)

    it("speaks HTTP/2 and HTTP/1.1 on the TLS origin", function()
      local ca = helpers.certs().ca
      assert.equal("2", api("/version", { origin = "https", http2 = true, cacert = ca }).http_version)
      assert.equal("1.1", api("/version", { origin = "https", http1 = true, cacert = ca }).http_version)
      assert.are_not.equal(0, api("/version", { origin = "https", cacert = helpers.certs().wrong_ca }).code)
    end)

    it("counts and numbers the connections of each origin", function()
      local ca = helpers.certs().ca
      helpers.admin("DELETE", "/connections")
      api("/version")
      api("/version", { origin = "https", http2 = true, cacert = ca })
      api("/version", { origin = "https", http1 = true, cacert = ca })
      local c = helpers.admin("GET", "/connections")
      assert.truthy(c.http.accepted >= 1)   -- the admin calls count too
      assert.same({ accepted = 2, tls = 2, resumed = 0 }, c.https)
      local ids = {}
      for _, e in ipairs(helpers.requests{ path = "/api/v4/version" }) do
        assert.equal("number", type(e.connection))
        assert.is_nil(ids[e.connection])
        ids[e.connection] = true
      end
      assert.equal(0, helpers.admin("DELETE", "/connections") and helpers.admin("GET", "/connections").https.accepted)
    end)
  end)
end)
