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
