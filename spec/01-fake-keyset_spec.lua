-- The fake GitLab's keyset pagination, driven with the curl CLI only,
-- against GitLab's docs: doc/api/rest/_index.md "Keyset-based pagination"
-- and its "Supported resources" table; doc/api/repositories.md "List
-- repository tree". A refusal GitLab documents is a refusal here.

local helpers = require("helpers")

local NOT_AVAILABLE = "Keyset pagination is not yet available for this type of request"
local api, json = helpers.api, helpers.json_body

local function get(url)
  return helpers.curl{ url = url, headers = helpers.ROOT_TOKEN }
end

local function next_link(r)
  return helpers.links(r.headers.link).next
end

local function refused_405(r)
  assert.equal(405, r.status, r.body)
  assert.equal(NOT_AVAILABLE, json(r).error)
end

-- Every page from url on through Link rel="next": pages (arrays), responses.
local function walk(url)
  local pages, resps = {}, {}
  while url do
    local r = get(url)
    assert.equal(200, r.status, r.body)
    pages[#pages + 1] = json(r)
    resps[#resps + 1] = r
    url = next_link(r)
    assert.truthy(#pages < 100, "no end")
  end
  return pages, resps
end

describe("fake server keyset pagination", function()
  setup(function() helpers.server() end)
  before_each(function() helpers.reset() end)
  teardown(function() helpers.reset() end)

  -- "`order_by` and `sort` are both mandatory."
  it("takes no keyset request without order_by and sort", function()
    refused_405(api("/projects?pagination=keyset"))
    refused_405(api("/projects?pagination=keyset&order_by=id"))
    refused_405(api("/projects?pagination=keyset&sort=asc"))
    refused_405(api("/projects/1/jobs?pagination=keyset&order_by=id"))
    refused_405(api("/groups?pagination=keyset&order_by=name"))
    assert.equal(200, api("/projects?pagination=keyset&order_by=id&sort=asc").status)
  end)

  -- Groups: "`order_by=name`, `sort=asc` only".
  it("keysets groups by name ascending only", function()
    helpers.seed{ path = "/groups", count = 5, template = { name = "kg{n}", path = "kg{n}" } }
    refused_405(api("/groups?pagination=keyset&order_by=id&sort=asc"))
    refused_405(api("/groups?pagination=keyset&order_by=name&sort=desc"))
    local pages = walk(helpers.api_url("/groups?pagination=keyset&order_by=name&sort=asc&per_page=2"))
    local names = {}
    for _, p in ipairs(pages) do for _, g in ipairs(p) do names[#names + 1] = g.name end end
    local sorted = {}
    for i, n in ipairs(names) do sorted[i] = n end
    table.sort(sorted)
    assert.same(sorted, names)
    assert.truthy(#names >= 5)
  end)

  -- Audit events, package pipelines, project jobs: "`order_by=id`,
  -- `sort=desc` only".
  it("refuses sort=asc on the descending-only lists", function()
    helpers.seed{ path = "/projects/1/jobs", count = 3, template = { name = "j{n}" } }
    refused_405(api("/projects/1/jobs?pagination=keyset&order_by=id&sort=asc"))
    refused_405(api("/audit_events?pagination=keyset&order_by=id&sort=asc"))
    refused_405(api("/projects/1/audit_events?pagination=keyset&order_by=id&sort=asc"))
    local r = api("/projects/1/jobs?pagination=keyset&order_by=id&sort=desc&per_page=2")
    assert.equal(200, r.status)
    local ids = {}
    for _, j in ipairs(json(r)) do ids[#ids + 1] = j.id end
    assert.equal(2, #ids)
    assert.truthy(ids[1] > ids[2])
  end)

  -- "When the end of the collection is reached and there are no
  -- additional records to retrieve, the `Link` header is absent and the
  -- resulting array is empty."
  it("ends a keyset list with an empty array and no Link", function()
    helpers.seed{ path = "/projects", count = 3, template = { name = "e{n}" } }   -- 5 in all
    for _, q in ipairs{ "per_page=2&order_by=id&sort=asc", "per_page=5&order_by=id&sort=asc",
                        "per_page=2&order_by=id&sort=desc" } do
      local pages, resps = walk(helpers.api_url("/projects?pagination=keyset&" .. q))
      local n = 0
      for i, p in ipairs(pages) do
        if i < #pages then
          assert.truthy(#p > 0, q .. ": empty page " .. i .. " before the end")
          assert.is_not_nil(next_link(resps[i]))
        end
        n = n + #p
      end
      assert.equal(5, n, q)
      assert.same({}, pages[#pages], q)
      assert.is_nil(resps[#resps].headers.link, q)
    end
  end)

  -- "The `X-NEXT-CURSOR` header contains the cursor value for retrieving
  -- the next page's records, while the `X-PREV-CURSOR` header contains
  -- the cursor value for retrieving the previous page's, when available."
  -- (next to the groups example, whose Link carries `cursor=`)
  it("sends X-Next-Cursor and X-Prev-Cursor on the lists paged by cursor", function()
    helpers.seed{ path = "/groups", count = 5, template = { name = "cg{n}", path = "cg{n}" } }
    local r1 = api("/groups?pagination=keyset&order_by=name&sort=asc&per_page=2")
    local nc = assert(r1.headers["x-next-cursor"])
    assert.is_nil(r1.headers["x-prev-cursor"])           -- the first page has none
    assert.matches("cursor=" .. nc:gsub("%p", "%%%0"), next_link(r1):gsub("%%3D", "="))
    local r2 = get(next_link(r1))
    local pc = assert(r2.headers["x-prev-cursor"])
    assert.is_not_nil(r2.headers["x-next-cursor"])
    -- the previous cursor gives the first page again
    local back = api("/groups?pagination=keyset&order_by=name&sort=asc&per_page=2&cursor=" .. pc)
    assert.same(json(r1), json(back))
    -- the id_after lists (projects by id) have neither
    local rp = api("/projects?pagination=keyset&order_by=id&sort=asc&per_page=1")
    assert.is_nil(rp.headers["x-next-cursor"])
    assert.is_nil(rp.headers["x-prev-cursor"])
  end)

  -- doc/administration/instance_limits.md, "Max offset allowed by the
  -- REST API for offset-based pagination": "When using offset-based
  -- pagination in the REST API, there is a limit to the maximum requested
  -- offset into the set of results. This limit is only applied to
  -- endpoints that also support keyset-based pagination." "**Default
  -- offset pagination limit**: `50000`." doc/api/projects.md: "Use
  -- offset-based pagination to access up to 50,000 projects."; doc/api/
  -- users.md: "In GitLab 17.0 and later, keyset pagination is required for
  -- responses of 50,000 and above." The 405 and its wording are GitLab's
  -- (lib/api/helpers/pagination_strategies.rb: `page * per_page >
  -- offset_limit`).
  local function offset_refused(r, limit, type)
    assert.equal(405, r.status, r.body)
    assert.equal(("Offset pagination has a maximum allowed offset of %d for requests that return"
      .. " objects of type %s. Remaining records can be retrieved using keyset pagination.")
      :format(limit, type), json(r).error)
  end

  it("refuses an offset past 50,000 records on the keyset-capable lists only", function()
    assert.equal(50000, helpers.admin("GET", "/config").offset_pagination_limit)
    assert.equal(200, api("/projects?page=500&per_page=100").status)        -- records 49,901-50,000
    offset_refused(api("/projects?page=501&per_page=100"), 50000, "Project")
    assert.equal(200, api("/users?page=2500").status)                       -- per_page 20 by default
    offset_refused(api("/users?page=2501"), 50000, "User")
    offset_refused(api("/groups?page=51&per_page=1000"), 50000, "Group")     -- per_page as asked
    offset_refused(api("/projects/1/jobs?page=5001&per_page=10"), 50000, "Ci::Build")
    offset_refused(api("/projects/1/issues?page=501&per_page=100"), 50000, "Issue")
    -- lists without keyset have no such limit
    assert.equal(200, api("/projects/1/merge_requests?page=501&per_page=100").status)
    assert.equal(200, api("/projects/1/labels?page=100000&per_page=100").status)
    assert.equal(200, api("/groups/1/projects?page=501&per_page=100").status)
  end)

  -- "To set this limit for a GitLab Self-Managed instance [...]
  -- `offset_pagination_limit: 10000`"; "Set the limit to `0` to disable it."
  it("takes the instance's offset_pagination_limit, 0 for none", function()
    helpers.config{ offset_pagination_limit = 10 }
    assert.equal(200, api("/projects?page=2&per_page=5").status)
    offset_refused(api("/projects?page=3&per_page=5"), 10, "Project")
    offset_refused(api("/projects?per_page=11"), 10, "Project")              -- page 1 by default
    assert.equal(200, api("/projects?pagination=keyset&order_by=id&sort=asc&per_page=50").status)
    helpers.config{ offset_pagination_limit = 0 }
    assert.equal(200, api("/projects?page=100000&per_page=100").status)
  end)

  -- doc/api/projects.md, "List all projects": `id_after` "Limit results to
  -- projects with IDs greater than the specified ID.", `id_before` "Limit
  -- results to projects with IDs less than the specified ID."
  it("filters projects by id_after and id_before, by offset and by keyset", function()
    local seeded = helpers.seed{ path = "/projects", count = 8, template = { name = "f{n}" } }
    local lo, hi = seeded.first_id + 1, seeded.last_id - 1
    local function ids(r)
      assert.equal(200, r.status, r.body)
      local out = {}
      for _, p in ipairs(json(r)) do out[#out + 1] = p.id end
      return out
    end
    local want = {}
    for id = hi - 1, lo + 1, -1 do want[#want + 1] = id end
    assert.same(want, ids(api(("/projects?id_after=%d&id_before=%d&order_by=id&sort=desc"):format(lo, hi))))
    -- keyset by id descending: the Link sets id_before and keeps id_after
    local pages = walk(helpers.api_url(("/projects?pagination=keyset&order_by=id&sort=desc&per_page=2"
      .. "&id_after=%d&id_before=%d"):format(lo, hi)))
    local got = {}
    for _, p in ipairs(pages) do for _, x in ipairs(p) do got[#got + 1] = x.id end end
    assert.same(want, got)
  end)

  -- doc/api/repositories.md: "This endpoint changed to keyset-based
  -- pagination in GitLab 15.0. Iterating pages of results with a number
  -- (`?page=2`) is unsupported."; `page_token`: "The tree record ID at
  -- which to fetch the next page. Used only with keyset pagination."
  it("pages the repository tree by page_token only", function()
    local items = {}
    for i = 1, 5 do items[i] = { file_path = ("f%d.txt"):format(i), content = "x" } end
    helpers.seed{ path = "/projects/1/repository/files", items = items }
    local r = api("/projects/1/repository/tree?per_page=2&page=2")
    assert.equal(400, r.status, r.body)
    assert.matches("keyset", json(r).error)
    -- the first page still comes, its Link to page 2 leads to the refusal
    r = api("/projects/1/repository/tree?per_page=2")
    assert.equal(200, r.status)
    assert.equal(400, get(assert(next_link(r))).status)
    local pages, resps = walk(helpers.api_url("/projects/1/repository/tree?pagination=keyset&per_page=2"))
    local paths = {}
    for _, p in ipairs(pages) do for _, e in ipairs(p) do paths[#paths + 1] = e.path end end
    assert.truthy(#paths >= 5)
    for i = 2, #paths do assert.truthy(paths[i - 1] < paths[i]) end
    assert.matches("page_token=", next_link(resps[1]), 1, true)
    assert.is_nil(next_link(resps[1]):find("[?&]page="))
    assert.same({}, pages[#pages])
  end)
end)
