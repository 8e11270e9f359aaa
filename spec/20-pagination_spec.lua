-- Pagination: offset and keyset, parallel prefetch, big lists, foreign
-- Link hosts, and failures that must never end a loop silently.
local helpers = require("helpers")
local errors = require("gitlab.errors")

local function ids_of(list)
  local ids = {}
  for i, x in ipairs(list) do ids[i] = x.id end
  return ids
end

local function assert_unique_in_order(list)
  local seen = {}
  for i, x in ipairs(list) do
    assert.is_nil(seen[x.id], "duplicate id " .. tostring(x.id))
    seen[x.id] = true
    if i > 1 then assert.truthy(x.id > list[i - 1].id, "out of order at " .. i) end
  end
end

describe("pagination", function()
  local gl
  local path = "/projects/2/issues"
  setup(function()
    helpers.reset()
    gl = helpers.client{ retry_base = 0.01 }
    helpers.seed{ path = path, count = 25, template = { title = "issue {n}" }, clear = true }
  end)
  before_each(function() helpers.admin("DELETE", "/faults") end)

  local function listed(query, opts)
    local out = {}
    for x in gl:paginate(path, query, opts) do out[#out + 1] = x end
    return out
  end

  it("yields the items of several offset pages in order", function()
    local list = listed({ per_page = 10, sort = "asc", order_by = "id" }, { concurrency = 1 })
    assert.equal(25, #list)
    assert_unique_in_order(list)
  end)

  it("yields pages with their responses", function()
    local n, sizes = 0, {}
    for page, resp in gl:pages(path, { per_page = 10, sort = "asc" }, { concurrency = 1 }) do
      n = n + 1
      sizes[n] = #page
      assert.equal(n, resp.page)
      assert.equal(25, resp.total)
      assert.equal(3, resp.total_pages)
    end
    assert.same({ 10, 10, 5 }, sizes)
  end)

  it("follows keyset pagination through Link only", function()
    local list = listed({ pagination = "keyset", order_by = "id", sort = "asc", per_page = 10 })
    assert.equal(25, #list)
    assert_unique_in_order(list)
    local urls = {}
    for _, r in ipairs(helpers.requests()) do
      if r.path:find("/issues$") then urls[#urls + 1] = r.query end
    end
    assert.truthy(#urls >= 3)
    assert.truthy(urls[#urls]:find("id_after", 1, true))
  end)

  it("prefetches in parallel and yields the same sequence as sequential", function()
    local seq = listed({ per_page = 5, sort = "asc" }, { concurrency = 1 })
    local par = listed({ per_page = 5, sort = "asc" }, { concurrency = 4 })
    assert.same(ids_of(seq), ids_of(par))
    assert.equal(25, #par)
  end)

  it("prefetch overlaps slow pages", function()
    helpers.fault{ path_re = "/projects/2/issues$", delay_ms = 300, times = -1, skip = 1 }
    local now = require("gitlab.core").now
    local t0 = now()
    local list = listed({ per_page = 5, sort = "asc" }, { concurrency = 4 })
    assert.equal(25, #list)
    -- 4 slow pages at 300 ms each: a sequential run takes 1.2 s or more
    assert.truthy(now() - t0 < 0.9, "took " .. (now() - t0))
  end)

  it("honours max_items and max_pages", function()
    assert.equal(7, #assert(gl:all(path, { per_page = 5 }, { max_items = 7 })))
    assert.equal(10, #assert(gl:all(path, { per_page = 5 }, { max_pages = 2 })))
  end)

  it("refuses a max_items or max_pages that is no integer >= 0, at the call, sending nothing", function()
    for _, bad in ipairs{ "2", -1, 1.5, 0 / 0, true } do
      for _, k in ipairs{ "max_items", "max_pages" } do
        local reqs = helpers.traced(function()
          local ok, err = pcall(function()
            for _ in gl:paginate(path, { per_page = 5 }, { [k] = bad }) do end
          end)
          assert.is_false(ok)
          assert.matches(k .. " must be an integer >= 0", tostring(err))
          -- raised where the caller called, not inside the library
          assert.matches("20%-pagination_spec%.lua", tostring(err))
        end)
        assert.same({}, reqs)
      end
    end
    -- 0 pages: no request at all, as graphql_nodes takes it
    local reqs = helpers.traced(function()
      assert.same({}, assert(gl:all(path, { per_page = 5 }, { max_pages = 0 })))
    end)
    assert.same({}, reqs)
  end)

  it("keeps the configured base URL when Link names another host", function()
    helpers.config({ external_url = "http://gitlab.invalid:1" })
    local ok, list = pcall(listed, { per_page = 10, pagination = "keyset", order_by = "id" })
    helpers.config({ external_url = false })
    assert.is_true(ok, tostring(list))
    assert.equal(25, #list)
  end)

  it("raises the error object when a page fails mid-iteration", function()
    helpers.fault{ path_re = "/projects/2/issues$", query_re = "page=2", status = 500,
      times = -1, body = '{"message":"500 Internal Server Error"}' }
    local got = 0
    local ok, err = pcall(function()
      for _ in gl:paginate(path, { per_page = 10 }, { concurrency = 1 }) do got = got + 1 end
    end)
    assert.is_false(ok)
    assert.is_true(errors.is_error(err))
    assert.equal(500, err.status)
    assert.equal(10, got)
    local list, err2 = gl:all(path, { per_page = 10 })
    assert.is_nil(list)
    assert.equal(500, err2.status)
  end)

  it("raises when a prefetched page fails", function()
    helpers.fault{ path_re = "/projects/2/issues$", query_re = "page=3", status = 404,
      times = -1, body = '{"message":"404 Not Found"}' }
    local ok, err = pcall(function()
      for _ in gl:paginate(path, { per_page = 5 }, { concurrency = 4 }) do end
    end)
    assert.is_false(ok)
    assert.equal(404, err.status)
  end)

  it("explains the offset limit with a pointer to keyset", function()
    local _, err = gl:get("/projects", { page = 600, per_page = 100 })
    assert.equal(405, err.status)
    assert.matches("keyset", err.message)
  end)
end)

-- A next page that does not advance is a loop, not more items: an error
-- of kind "pagination" naming the page. GitLab's doc/api/rest/_index.md,
-- "Pagination `Link` header": "`Link` headers are returned with each
-- response. They have `rel` set to `prev`, `next`, `first`, or `last` and
-- contain the relevant URL. Be sure to use these links instead of
-- generating your own URLs."; "Other pagination headers": "`x-next-page`
-- The index of the next page. `x-page` The index of the current page
-- (starting at 1). [...] `x-total-pages` The total number of pages.";
-- keyset: "The link to the next page contains an additional filter
-- `id_after=42` that excludes already-retrieved records." and "When the
-- end of the collection is reached and there are no additional records to
-- retrieve, the `Link` header is absent and the resulting array is empty."
describe("pagination that does not advance", function()
  local gl
  local path = "/projects/2/issues"
  local issues_re = "/projects/2/issues$"
  setup(function()
    helpers.reset()
    gl = helpers.client{ retries = 0 }
    helpers.seed{ path = path, count = 25, template = { title = "issue {n}" }, clear = true }
  end)
  before_each(function()
    helpers.admin("DELETE", "/faults")
    helpers.admin("DELETE", "/requests")
  end)
  teardown(function() helpers.reset() end)

  -- Every item until the loop raises; ok, err, items.
  local function collect(query, opts)
    local out = {}
    local ok, err = pcall(function()
      for x in gl:paginate(path, query, opts) do out[#out + 1] = x end
    end)
    return ok, err, out
  end

  local function page_requests()
    return helpers.requests{ path_re = issues_re }
  end

  local function pagination_error(err, words)
    assert.is_true(errors.is_error(err), tostring(err))
    assert.equal("pagination", err.kind)
    assert.matches(words, err.message, 1, true)
    assert.matches("^GET /projects/2/issues: ", tostring(err))
  end

  -- The bounded faults (times = 3) stop repeating after a few answers, so
  -- a client that loops shows duplicates instead of hanging the suite.
  it("X-Next-Page naming the page itself is an error, not page 2 again and again", function()
    -- faults apply in the order they were added: the specific one first
    helpers.fault{ path_re = issues_re, query_re = "(^|&)page=2(&|$)", times = 3,
      set_headers = { ["x-next-page"] = "2", link = false, ["x-total-pages"] = false } }
    helpers.fault{ path_re = issues_re, set_headers = { link = false, ["x-total-pages"] = false },
      times = -1 }
    local ok, err, items = collect({ per_page = 10 }, { concurrency = 1 })
    assert.is_false(ok, "no error after " .. #items .. " items")
    pagination_error(err, "page 2")
    assert.equal(20, #items)
    assert.equal(2, #page_requests())
  end)

  it("X-Next-Page going back is an error too", function()
    helpers.fault{ path_re = issues_re, query_re = "(^|&)page=3(&|$)", times = 3,
      set_headers = { ["x-next-page"] = "1", link = false, ["x-total-pages"] = false } }
    helpers.fault{ path_re = issues_re, set_headers = { link = false }, times = -1 }
    local ok, err, items = collect({ per_page = 10 }, { concurrency = 1 })
    assert.is_false(ok, "no error after " .. #items .. " items")
    pagination_error(err, "page 3")
    assert.equal(25, #items)
  end)

  it("a Link rel=next to the page itself is an error", function()
    helpers.fault{ path_re = issues_re, query_re = "(^|&)page=2(&|$)", times = 3,
      set_headers = { link = '<{self}>; rel="next"', ["x-next-page"] = false } }
    local ok, err, items = collect({ per_page = 10 }, { concurrency = 1 })
    assert.is_false(ok, "no error after " .. #items .. " items")
    pagination_error(err, "page 2")
    assert.equal(20, #items)
    assert.equal(2, #page_requests())
  end)

  it("a Link rel=next with a '..' segment is an error, never a request elsewhere", function()
    local evil = helpers.server().http .. "/api/v4/projects/2/issues/../../../user?page=3&per_page=10"
    helpers.fault{ path_re = issues_re, query_re = "(^|&)page=2(&|$)", times = 3,
      set_headers = { link = "<" .. evil .. '>; rel="next"', ["x-next-page"] = false } }
    local ok, err, items = collect({ per_page = 10 }, { concurrency = 1 })
    assert.is_false(ok, "no error after " .. #items .. " items")
    pagination_error(err, "segment")
    assert.equal(20, #items)
    assert.equal(0, #helpers.requests{ path = "/api/v4/user" })
  end)

  it("a keyset cursor that repeats is an error", function()
    local q = { pagination = "keyset", order_by = "id", sort = "asc", per_page = 10 }
    helpers.fault{ path_re = issues_re, query_re = "id_after=", times = 3,
      set_headers = { link = '<{self}>; rel="next"' } }
    local ok, err, items = collect(q)
    assert.is_false(ok, "no error after " .. #items .. " items")
    pagination_error(err, "already fetched")
    assert.equal(20, #items)
  end)

  it("a keyset Link leading back to an earlier page is an error", function()
    local q = { pagination = "keyset", order_by = "id", sort = "asc", per_page = 10 }
    local _, first = assert(gl:get(path, q))
    local second = assert(first.links.next)     -- id_after=<10th id>
    local _, r2 = assert(gl:get(second))
    local after = assert(assert(r2.links.next):match("id_after=(%d+)"))
    helpers.admin("DELETE", "/requests")
    -- the third page links back to the second
    helpers.fault{ path_re = issues_re, query_re = "id_after=" .. after .. "(&|$)",
      times = 3, set_headers = { link = "<" .. second .. '>; rel="next"' } }
    local ok, err, items = collect(q)
    assert.is_false(ok, "no error after " .. #items .. " items")
    pagination_error(err, "already fetched")
    assert.equal(25, #items)
    assert.equal(3, #page_requests())
  end)

  it("follows the Link's own query: its per_page, its other parameters, once each", function()
    helpers.fault{ path_re = issues_re, times = 1, set_headers = {
      link = "<" .. helpers.api_url(path) .. '?extra=kept&page=2&per_page=5>; rel="next"',
      ["x-next-page"] = false, ["x-total-pages"] = false } }
    local ok, err = collect({ per_page = 10 }, { concurrency = 1 })
    assert.is_true(ok, tostring(err))
    local reqs = page_requests()
    assert.equal("per_page=10", reqs[1].query)
    assert.equal("extra=kept&page=2&per_page=5", reqs[2].query)
    for i = 3, #reqs do
      assert.matches("extra=kept", reqs[i].query, 1, true)
      assert.is_nil(reqs[i].query:find("per_page=.*per_page="), reqs[i].query)
    end
  end)

  it("prefetching keeps the Link's query too", function()
    helpers.fault{ path_re = issues_re, times = 1, set_headers = {
      link = "<" .. helpers.api_url(path) .. '?extra=kept&page=2&per_page=5>; rel="next"' } }
    local ok, err, items = collect({ per_page = 5 }, { concurrency = 4 })
    assert.is_true(ok, tostring(err))
    assert.equal(25, #items)
    assert_unique_in_order(items)
    local reqs = page_requests()
    assert.equal(5, #reqs)
    for i = 2, #reqs do
      assert.matches("^extra=kept&page=%d&per_page=5$", reqs[i].query)
    end
  end)

  it("a lying X-Total-Pages (too many) neither loops nor repeats: the last page ends it", function()
    helpers.fault{ path_re = issues_re, times = 1,
      set_headers = { ["x-total-pages"] = "60", ["x-total"] = "600" } }
    local ok, err, items = collect({ per_page = 10, sort = "asc" }, { concurrency = 4 })
    assert.is_true(ok, tostring(err))
    assert.equal(25, #items)
    assert_unique_in_order(items)
    -- page 3 says it is the last: what was fetched ahead beyond it (at
    -- most `concurrency` pages) is dropped, nothing more is asked
    assert.truthy(#page_requests() <= 3 + 4, #page_requests() .. " requests")
  end)

  it("a lying X-Total-Pages (too few) still reaches the last item", function()
    helpers.fault{ path_re = issues_re, times = 1, set_headers = { ["x-total-pages"] = "3" } }
    local ok, err, items = collect({ per_page = 5, sort = "asc" }, { concurrency = 4 })
    assert.is_true(ok, tostring(err))
    assert.equal(25, #items)
    assert_unique_in_order(items)
  end)

  it("a prefetched page naming itself as the next one is an error", function()
    helpers.fault{ path_re = issues_re, query_re = "(^|&)page=5(&|$)", times = 3,
      set_headers = { ["x-next-page"] = "5", link = '<{self}>; rel="next"' } }
    local ok, err, items = collect({ per_page = 5, sort = "asc" }, { concurrency = 4 })
    assert.is_false(ok, "no error after " .. #items .. " items")
    pagination_error(err, "page 5")
    assert.equal(25, #items)
  end)

  it("a prefetched page that is not the page asked for is an error", function()
    -- a server that ignores `page` answers page 1 every time
    helpers.fault{ path_re = issues_re, query_re = "(^|&)page=3(&|$)", times = 1,
      set_headers = { ["x-page"] = "1" } }
    local ok, err, items = collect({ per_page = 5, sort = "asc" }, { concurrency = 4 })
    assert.is_false(ok, "no error after " .. #items .. " items")
    pagination_error(err, "page 3")
    assert.equal(10, #items)
  end)
end)

describe("pagination above 10,000 rows", function()
  local gl
  local path = "/projects/1/issues"
  setup(function()
    helpers.reset()
    gl = helpers.client()
    helpers.seed{ path = path, count = 10050, template = { title = "bulk {n}" }, clear = true }
  end)
  teardown(function() helpers.reset() end)

  it("lists every item although X-Total is absent", function()
    local _, resp = gl:get(path, { per_page = 100 })
    assert.is_nil(resp.total)
    assert.is_nil(resp.total_pages)
    local list = assert(gl:all(path, { per_page = 100, sort = "asc" }))
    assert.equal(10050, #list)
    assert_unique_in_order(list)
  end)

  it("lists every item with keyset", function()
    local n = 0
    for _ in gl:paginate(path, { per_page = 100, pagination = "keyset", order_by = "id" }) do n = n + 1 end
    assert.equal(10050, n)
  end)
end)

describe("link parsing", function()
  local core = require("gitlab.core")
  it("reads several links, quoted and unquoted params, odd spacing", function()
    local l = assert(core.parse_link('<https://h/api/v4/x?page=2>;rel="next" ,  '
      .. '<https://h/api/v4/x?page=1> ; rel=first;title="a, b",'
      .. '<https://h/api/v4/x?page=9>; rel="last prev"'))
    assert.equal("https://h/api/v4/x?page=2", l.next)
    assert.equal("https://h/api/v4/x?page=1", l.first)
    assert.equal("https://h/api/v4/x?page=9", l.last)
    assert.equal("https://h/api/v4/x?page=9", l.prev)
  end)
  it("reports malformed input as an error, never a crash", function()
    for _, s in ipairs{ "<", "<a", "a>; rel=next", "<a>; =x", '<a>; rel="x', "<a> junk" } do
      local l, err = core.parse_link(s)
      assert.is_nil(l)
      assert.matches("malformed Link header", err)
    end
  end)
  it("rebases a next URL on the configured base", function()
    assert.equal("http://127.0.0.1:9/gitlab/api/v4/projects?page=2",
      core.rebase("http://127.0.0.1:9/gitlab/api/v4", "https://wrong.example/api/v4/projects?page=2"))
  end)
end)

-- Keyset as GitLab documents it: doc/api/rest/_index.md, "Keyset-based
-- pagination" ("`order_by` and `sort` are both mandatory"; "When the end
-- of the collection is reached and there are no additional records to
-- retrieve, the `Link` header is absent and the resulting array is
-- empty"; "The `X-NEXT-CURSOR` header contains the cursor value for
-- retrieving the next page's records, while the `X-PREV-CURSOR` header
-- contains the cursor value for retrieving the previous page's, when
-- available") and its "Supported resources" table (project jobs and
-- audit events "`order_by=id`, `sort=desc` only", groups "`order_by=name`,
-- `sort=asc` only"); doc/api/repositories.md, "List repository tree":
-- "This endpoint changed to keyset-based pagination in GitLab 15.0.
-- Iterating pages of results with a number (`?page=2`) is unsupported."
describe("keyset pagination as GitLab documents it", function()
  local gl
  setup(function()
    helpers.reset()
    gl = helpers.client{ retries = 0 }
  end)
  before_each(function()
    helpers.admin("DELETE", "/faults")
    helpers.admin("DELETE", "/requests")
  end)
  teardown(function() helpers.reset() end)

  local function queries(path_re)
    local out = {}
    for i, r in ipairs(helpers.requests{ path_re = path_re }) do out[i] = r.query end
    return out
  end

  it("sends the mandatory order_by and sort: the list's documented defaults", function()
    helpers.seed{ path = "/projects/1/jobs", count = 5, template = { name = "kj{n}" }, clear = true }
    local list = assert(gl:all("/projects/1/jobs", { pagination = "keyset", per_page = 2 }))
    assert.equal(5, #list)
    for i = 2, #list do assert.truthy(list[i].id < list[i - 1].id, "not descending at " .. i) end
    local qs = queries("/projects/1/jobs$")
    assert.matches("order_by=id", qs[1], 1, true)
    assert.matches("sort=desc", qs[1], 1, true)
  end)

  it("sends the caller's order_by and sort as given", function()
    helpers.seed{ path = "/projects", count = 3, template = { name = "ko{n}" } }
    local list = assert(gl:all("/projects", { pagination = "keyset", order_by = "id", sort = "asc",
                                              per_page = 2 }))
    assert_unique_in_order(list)
    assert.matches("sort=asc", queries("/projects$")[1], 1, true)
    -- no sort given: projects' documented default, desc
    list = assert(gl:all("/projects", { pagination = "keyset", order_by = "id", per_page = 2 }))
    for i = 2, #list do assert.truthy(list[i].id < list[i - 1].id) end
  end)

  it("refuses sort=asc on a descending-only list before sending anything", function()
    for _, path in ipairs{ "/projects/1/jobs", "/audit_events", "/groups/1/audit_events",
                           "/projects/1/audit_events" } do
      local ok, err = pcall(function()
        local it = gl:pages(path, { pagination = "keyset", sort = "asc" })
        return it
      end)
      assert.is_false(ok, path)
      assert.matches("sort=desc` only", err, 1, true)
      assert.matches("Supported resources", err, 1, true)
      assert.matches("spec/20%-pagination_spec%.lua:%d+:", err)   -- the caller's line
    end
    local ok, err = pcall(gl.all, gl, "/groups", { pagination = "keyset", order_by = "id" })
    assert.is_false(ok)
    assert.matches("`order_by=name`, `sort=asc` only", err, 1, true)
    ok = pcall(gl.pages, gl, "/projects", { pagination = "keyset", order_by = "name" })
    assert.is_false(ok)
    assert.equal(0, #helpers.requests())
  end)

  it("takes pagination = \"keyset\" from the options too (the resource layer's way)", function()
    helpers.seed{ path = "/projects/1/jobs", count = 3, template = { name = "kp{n}" }, clear = true }
    assert.equal(3, #assert(gl:all("/projects/1/jobs", nil, { pagination = "keyset", per_page = 2 })))
    local n = 0
    for _ in gl.projects:lazy(1).jobs:list(nil, { pagination = "keyset", per_page = 2 }) do n = n + 1 end
    assert.equal(3, n)
    for _, q in ipairs(queries("/projects/1/jobs$")) do
      assert.matches("pagination=keyset", q, 1, true)
      assert.is_nil(q:find("^page=") or q:find("&page="), q)
    end
  end)

  it("pages the repository tree by keyset only, one page after the other", function()
    local items = {}
    for i = 1, 7 do items[i] = { file_path = ("t/f%d.txt"):format(i), content = "x" } end
    helpers.seed{ path = "/projects/1/repository/files", items = items }
    local want = #assert(gl:all("/projects/1/repository/tree", { recursive = true, per_page = 100 }))
    helpers.admin("DELETE", "/requests")
    local list = assert(gl:all("/projects/1/repository/tree", { recursive = true, per_page = 2 },
                               { concurrency = 4 }))
    assert.equal(want, #list)
    assert.truthy(#list >= 8)
    local qs = queries("/repository/tree$")
    -- a page for every two entries, then the empty end: nothing ahead
    assert.equal(math.ceil(#list / 2) + 1, #qs)
    for i, q in ipairs(qs) do
      assert.matches("pagination=keyset", q, 1, true)
      assert.is_nil(q:find("^page=") or q:find("&page="), q)
      if i > 1 then assert.matches("page_token=", q, 1, true) end
    end
    local n = 0
    for _ in gl.projects:lazy(1).repository:tree{ recursive = true, per_page = 3 } do n = n + 1 end
    assert.equal(want, n)
  end)

  it("ends on the empty last page: not yielded, nothing asked after it, nothing lost", function()
    local path = "/projects/2/issues"
    helpers.seed{ path = path, count = 10, template = { title = "end {n}" }, clear = true }
    local sizes, items = {}, 0
    for page in gl:pages(path, { pagination = "keyset", order_by = "id", sort = "asc", per_page = 5 }) do
      sizes[#sizes + 1] = #page
      items = items + #page
    end
    assert.same({ 5, 5 }, sizes)
    assert.equal(10, items)
    assert.equal(3, #helpers.requests{ path_re = "/projects/2/issues$" })
    -- an empty list is still one (empty) page with its response
    helpers.seed{ path = path, clear = true }
    local n = 0
    for page, resp in gl:pages(path, { pagination = "keyset", order_by = "id", sort = "asc" }) do
      n = n + 1
      assert.same({}, page)
      assert.equal(200, resp.status)
    end
    assert.equal(1, n)
  end)

  it("shows X-Next-Cursor and X-Prev-Cursor on the page's response, and follows Link", function()
    helpers.seed{ path = "/groups", count = 5, template = { name = "xc{n}", path = "xc{n}" } }
    local want = #assert(gl:all("/groups", { per_page = 100 }))
    local n, got = 0, 0
    local q = { pagination = "keyset", order_by = "name", sort = "asc", per_page = 2 }
    for page, resp in gl:pages("/groups", q) do
      n = n + 1
      got = got + #page
      assert.equal(resp.headers["x-next-cursor"], resp.next_cursor)
      assert.is_string(resp.next_cursor)
      if n == 1 then assert.is_nil(resp.prev_cursor) else assert.is_string(resp.prev_cursor) end
    end
    assert.equal(want, got)
    -- the Link is what is followed: without the cursor headers, or with
    -- wrong ones, every group still comes once
    helpers.fault{ path_re = "/groups$", times = -1,
      set_headers = { ["x-next-cursor"] = "bogus", ["x-prev-cursor"] = false } }
    local names = {}
    for g in gl:paginate("/groups", { pagination = "keyset", per_page = 2 }) do
      assert.is_nil(names[g.name], "twice: " .. g.name)
      names[g.name] = true
      got = got - 1
    end
    assert.equal(0, got)
  end)
end)

-- The offset limit as GitLab documents it. doc/administration/
-- instance_limits.md, "Max offset allowed by the REST API for offset-based
-- pagination": "When using offset-based pagination in the REST API, there
-- is a limit to the maximum requested offset into the set of results. This
-- limit is only applied to endpoints that also support keyset-based
-- pagination." "**Default offset pagination limit**: `50000`." "Set the
-- limit to `0` to disable it." doc/api/projects.md: "Use offset-based
-- pagination to access up to 50,000 projects. Use keyset-based pagination
-- to list more than 50,000 projects." The fake's limit is lowered through
-- its instance setting, and the client's `offset_limit` with it, so a few
-- dozen items reach it; the documented 50,000 is tested once, first.
describe("the offset limit", function()
  local LIMIT, PER = 30, 10        -- three pages of ten by offset
  local gl
  setup(function()
    helpers.reset()
    gl = helpers.client{ retries = 0, offset_limit = LIMIT }
    helpers.seed{ path = "/projects", count = 72, template = { name = "ol{n}" } }
    helpers.seed{ path = "/users", count = 45, template = { username = "ol{n}", name = "OL {n}" } }
    helpers.seed{ path = "/projects/1/merge_requests", count = 45,
                  template = { title = "mr {n}", source_branch = "b{n}", target_branch = "main" } }
  end)
  before_each(function()
    helpers.admin("DELETE", "/faults")
    helpers.config{ offset_pagination_limit = LIMIT }
    helpers.admin("DELETE", "/requests")
  end)
  teardown(function() helpers.reset() end)

  local function store_ids(path, desc)
    local ids = {}
    for i, x in ipairs(helpers.store(path).items) do ids[i] = x.id end
    table.sort(ids, desc and function(a, b) return a > b end or nil)
    return ids
  end

  -- ok, err, items of a loop over gl:paginate
  local function collect(client, path, query, opts)
    local out = {}
    local ok, err = pcall(function()
      for x in client:paginate(path, query, opts) do out[#out + 1] = x end
    end)
    return ok, err, out
  end

  -- the page number of a logged request (1 when it names none), or nil
  -- for a keyset request
  local function page_of(r)
    if r.query:find("pagination=keyset", 1, true) then return nil end
    return tonumber(("&" .. r.query):match("&page=(%d+)")) or 1
  end

  local function logged(path_re)
    local out = {}
    for i, r in ipairs(helpers.requests{ path_re = path_re }) do out[i] = r end
    return out
  end

  local function refused_none(path_re)
    for _, r in ipairs(logged(path_re)) do
      assert.are_not.equal(405, r.status, "refused: " .. r.path .. "?" .. r.query)
    end
  end

  local function limit_error(err, path, words)
    assert.is_true(errors.is_error(err), tostring(err))
    assert.equal("pagination", err.kind)
    assert.matches("^GET " .. path:gsub("%p", "%%%0") .. ": ", tostring(err))
    assert.matches('pagination = "keyset"', err.message, 1, true)
    for _, w in ipairs(words or {}) do assert.matches(w, err.message, 1, true) end
  end

  it("is 50,000 records unless told otherwise, as documented", function()
    helpers.config{ offset_pagination_limit = 50000 }
    local plain = helpers.client{ retries = 0 }
    assert.equal(50000, plain.offset_limit)
    -- page 500 of 100 ends at record 50,000: asked; page 501 would be refused
    assert.equal(200, select(2, plain:get("/projects", { page = 500, per_page = 100 })).status)
    helpers.admin("DELETE", "/requests")
    local ok, err = collect(plain, "/projects", { page = 501, per_page = 100 })
    assert.is_false(ok)
    limit_error(err, "/projects", { "50000" })
    assert.same({}, logged("/projects$"))
    -- the same first page where the instance has no limit: asked
    local free = helpers.client{ retries = 0, offset_limit = 0 }
    helpers.config{ offset_pagination_limit = 0 }
    assert.is_true((collect(free, "/projects", { page = 501, per_page = 100 })))
  end)

  -- packages.md "List package pipelines": "The results are paginated"
  -- (linked to keyset-based pagination); GitLab's lib/api/package_pipelines
  -- route sets `params[:pagination] = 'keyset'` ("keyset is the only
  -- available pagination") and declares only per_page and cursor: the list
  -- is keyset whatever is asked, so the offset limit never applies to it
  it("pages package pipelines by keyset, past the offset limit", function()
    helpers.seed{ path = "/projects/1/packages", count = 1, template = { name = "pp", version = "1.0.0" } }
    local pkg = helpers.store("/projects/1/packages").items[1]
    local pp = "/projects/1/packages/" .. helpers.int(pkg.id) .. "/pipelines"
    helpers.seed{ path = pp, count = 45, template = { ref = "v{n}" } }
    helpers.admin("DELETE", "/requests")
    local ok, err, items = collect(gl, pp, { per_page = PER })
    assert.is_true(ok, tostring(err))
    assert.equal(45, #items)
    local want = store_ids(pp, true)
    for i, x in ipairs(items) do assert.equal(want[i], x.id) end
    for _, r in ipairs(logged("/pipelines$")) do
      assert.matches("pagination=keyset", r.query)
      assert.is_nil(("&" .. r.query):match("&page=%d"), r.query)
    end
  end)

  it("prefetches no page past the limit, and raises before asking for it", function()
    local ok, err, items = collect(gl, "/projects", { per_page = PER }, { concurrency = 4 })
    assert.is_false(ok)
    limit_error(err, "/projects", { tostring(LIMIT), "order_by" })
    assert.equal(LIMIT, #items)                 -- every record offset can give, then the error
    local pages = {}
    for _, r in ipairs(logged("/projects$")) do pages[#pages + 1] = page_of(r) end
    table.sort(pages)
    assert.same({ 1, 2, 3 }, pages)
    refused_none("/projects$")
  end)

  it("never sends a first page past the limit either", function()
    local ok, err = collect(gl, "/projects", { per_page = PER, page = 4 })
    assert.is_false(ok)
    limit_error(err, "/projects")
    local ok2, err2 = collect(gl, "/projects", { per_page = LIMIT + 1 })   -- page 1 * 31 > 30
    assert.is_false(ok2)
    limit_error(err2, "/projects")
    assert.same({}, logged("/projects$"))
  end)

  -- doc/api/projects.md: `id_after` "Limit results to projects with IDs
  -- greater than the specified ID.", `id_before` "Limit results to
  -- projects with IDs less than the specified ID."; doc/api/rest/_index.md,
  -- "Keyset-based pagination": projects take "`order_by=id` only", and
  -- "The link to the next page contains an additional filter `id_after=42`
  -- that excludes already-retrieved records." Ordered by id, the rest of
  -- the list is the keyset list past the last id offset gave.
  for _, sort in ipairs{ "desc", "asc" } do
    for _, conc in ipairs{ 1, 4 } do
      it(("goes on by keyset past the limit when ordered by id (%s, concurrency %d)"):format(sort, conc), function()
        local items = assert(gl:all("/projects", { per_page = PER, order_by = "id", sort = sort },
                                    { concurrency = conc }))
        assert.same(store_ids("/projects", sort == "desc"), ids_of(items))
        refused_none("/projects$")
        local log = logged("/projects$")
        local offset, keyset = 0, 0
        for _, r in ipairs(log) do
          if r.query:find("pagination=keyset", 1, true) then keyset = keyset + 1
          else offset = offset + 1 end
        end
        assert.equal(LIMIT / PER, offset)
        assert.truthy(keyset >= 2)
        -- the first keyset request starts after the last record offset gave
        local bound = sort == "desc" and "id_before" or "id_after"
        local first_keyset
        for _, r in ipairs(log) do
          if r.query:find("pagination=keyset", 1, true) then first_keyset = r break end
        end
        assert.equal(items[LIMIT].id, tonumber(first_keyset.query:match(bound .. "=(%d+)")))
        assert.is_nil(("&" .. first_keyset.query):find("&page=", 1, true))
      end)
    end
  end

  it("keeps the caller's own id filter when it goes on by keyset", function()
    local ids = store_ids("/projects", true)
    local floor = ids[#ids - 5]                 -- all but the five lowest ids
    local items = assert(gl:all("/projects", { per_page = PER, order_by = "id", id_after = floor }))
    local want = {}
    for _, id in ipairs(ids) do if id > floor then want[#want + 1] = id end end
    assert.truthy(#want > LIMIT)
    assert.same(want, ids_of(items))
    refused_none("/projects$")
  end)

  -- doc/api/rest/_index.md, "Pagination": "Offset-based pagination. The
  -- default method and available on all endpoints except, in GitLab 16.5
  -- and later, the `users` endpoint."; "Use keyset-based pagination for
  -- this endpoint instead."; doc/api/users.md: `order_by` "Default is
  -- `id`", `sort` "Default is `desc`".
  it("lists /users by keyset from the start: the same order as its default", function()
    local items = assert(gl:all("/users", { per_page = PER }, { concurrency = 4 }))
    assert.same(store_ids("/users", true), ids_of(items))
    assert.truthy(#items > LIMIT)
    for _, r in ipairs(logged("/users$")) do
      assert.matches("pagination=keyset", r.query, 1, true)
      assert.matches("order_by=id", r.query, 1, true)
      assert.matches("sort=desc", r.query, 1, true)
      assert.is_nil(("&" .. r.query):find("&page=", 1, true))
    end
    -- ascending by id is the same by either method too
    local asc = assert(gl:all("/users", { per_page = PER, order_by = "id", sort = "asc" }))
    assert.same(store_ids("/users"), ids_of(asc))
    -- resource layer
    assert.equal(#items, #assert(gl.users:list():all()))
  end)

  it("lists /users by page number when asked for, and raises at the limit", function()
    local ok, err, items = collect(gl, "/users", { per_page = PER, page = 1 })
    assert.is_false(ok)
    limit_error(err, "/users", { tostring(LIMIT) })
    assert.equal(LIMIT, #items)
    -- an order keyset gives differently (ties by name) stays offset too
    ok, err = collect(gl, "/users", { per_page = PER, order_by = "name", sort = "asc" })
    assert.is_false(ok)
    limit_error(err, "/users")
    refused_none("/users$")
  end)

  it("lists /users by offset where keyset is refused (GitLab before 16.5)", function()
    helpers.fault{ path_re = "/users$", query_re = "pagination=keyset", status = 405, times = -1,
                   body = '{"error":"Keyset pagination is not yet available for this type of request"}' }
    helpers.config{ offset_pagination_limit = 0 }
    local free = helpers.client{ retries = 0, offset_limit = 0 }
    -- (sort given: the fake's offset lists are in id order without one)
    local items = assert(free:all("/users", { per_page = PER, sort = "desc" }))
    assert.same(store_ids("/users", true), ids_of(items))
    local log = logged("/users$")
    assert.matches("pagination=keyset", log[1].query, 1, true)
    assert.truthy(#log > 2)
    for i = 2, #log do
      assert.is_nil(log[i].query:find("pagination=", 1, true))
      assert.is_nil(log[i].query:find("order_by=", 1, true))
    end
  end)

  it("leaves lists without keyset alone", function()
    local items = assert(gl:all("/projects/1/merge_requests", { per_page = PER }, { concurrency = 4 }))
    assert.equal(#store_ids("/projects/1/merge_requests"), #items)
    assert.truthy(#items > LIMIT)
  end)

  it("takes offset_limit per call, 0 for none", function()
    helpers.config{ offset_pagination_limit = 0 }
    local items = assert(gl:all("/projects", { per_page = PER }, { offset_limit = 0, concurrency = 4 }))
    assert.equal(#store_ids("/projects"), #items)
    assert.has_error(function() gl:pages("/projects", nil, { offset_limit = -1 }) end)
    assert.has_error(function() helpers.client{ offset_limit = "many" } end)
  end)
end)
