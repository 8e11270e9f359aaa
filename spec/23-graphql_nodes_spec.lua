-- gl:graphql_nodes() and gl:graphql_nodes_all(): a GraphQL connection
-- followed through pageInfo { hasNextPage endCursor } and $after, against
-- the fake's connections (spec/fake/routes/graphql.js), which page as
-- doc/api/graphql/getting_started.md ("Pagination") and
-- doc/api/graphql/_index.md ("Limits": 100 nodes per page) describe.
local helpers = require("helpers")
local gitlab = require("gitlab")

local MRS = [[
query($path: ID!, $after: String) {
  project(fullPath: $path) {
    mergeRequests(first: 3, after: $after) {
      nodes { iid title }
      pageInfo { hasNextPage endCursor }
    }
  }
}]]

local MRS_EDGES = [[
query($path: ID!, $after: String) {
  project(fullPath: $path) {
    mergeRequests(first: 3, after: $after) {
      edges { cursor node { iid title } }
      pageInfo { endCursor hasNextPage }
    }
  }
}]]

local VARS = { path = "group/proj" }
local PATH = "project.mergeRequests"

-- The bodies of the GraphQL requests the fake saw, decoded.
local function sent()
  local out = {}
  for _, r in ipairs(helpers.requests{ path = "/api/graphql" }) do out[#out + 1] = helpers.decode(r.body) end
  return out
end

-- Runs the loop and returns the nodes it gave and the error it raised.
local function walk(gl, query, vars, path, opts)
  local got = {}
  local ok, err = pcall(function()
    for node in gl:graphql_nodes(query, vars, path, opts) do got[#got + 1] = node end
  end)
  return got, (not ok) and err or nil
end

local function iids(list)
  local out = {}
  for i, n in ipairs(list) do out[i] = n.iid end
  return table.concat(out, " ")
end

-- An answer of the fake for every request to /api/graphql from now on.
local function answer(body, extra)
  local f = { path = "/api/graphql", status = 200, body = body, times = -1 }
  for k, v in pairs(extra or {}) do f[k] = v end
  helpers.fault(f)
end

describe("graphql_nodes", function()
  local gl
  setup(function() helpers.server() end)
  before_each(function()
    helpers.reset()
    -- 7 more merge requests: iids 2..8 beside the seeded iid 1; newest first
    helpers.seed{ path = "/projects/1/merge_requests", count = 7,
      template = { title = "MR {n}", source_branch = "b{n}", target_branch = "main" } }
    helpers.admin("DELETE", "/requests")
    gl = helpers.client()
  end)
  after_each(function() gl:close() end)

  describe("the fake's connections", function()
    it("page by first/after, at most 100 nodes, newest first", function()
      local d = assert(gl:graphql(MRS, VARS))
      local c = d.project.mergeRequests
      assert.equal("8 7 6", iids(c.nodes))
      assert.is_true(c.pageInfo.hasNextPage)
      assert.is_string(c.pageInfo.endCursor)
      d = assert(gl:graphql(MRS, { path = "group/proj", after = c.pageInfo.endCursor }))
      assert.equal("5 4 3", iids(d.project.mergeRequests.nodes))
      -- no first: 100 (the default); first over 100: 100 (the maximum)
      helpers.seed{ path = "/projects/1/merge_requests", count = 110,
        template = { title = "more {n}", source_branch = "m{n}", target_branch = "main" } }
      for _, first in ipairs{ "", "(first: 500)" } do
        d = assert(gl:graphql("{ project(fullPath: \"group/proj\") { mergeRequests" .. first
          .. " { nodes { iid } pageInfo { hasNextPage } count } } }"))
        assert.equal(100, #d.project.mergeRequests.nodes)
        assert.is_true(d.project.mergeRequests.pageInfo.hasNextPage)
        assert.equal(118, d.project.mergeRequests.count)
      end
    end)

    -- lib/gitlab/graphql/pagination/keyset/connection.rb: "Please provide
    -- a valid cursor", for a cursor that is no JSON and one without the
    -- keys of the order
    it("refuse a bad cursor as GitLab does", function()
      local foo = (require("gitlab.core").base64url('{"foo":3}'))
      for _, bad in ipairs{ "not_json_string", foo } do
        local none, err = gl:graphql(MRS, { path = "group/proj", after = bad })
        assert.is_nil(none)
        assert.equal("graphql", err.kind)
        assert.equal("Please provide a valid cursor", err.message)
        assert.same({ "project", "mergeRequests" }, err.errors[1].path)
        assert.equal(gitlab.null, err.data.project.mergeRequests)
      end
    end)
  end)

  it("follows a connection over three pages through $after", function()
    local got, err = walk(gl, MRS, VARS, PATH)
    assert.is_nil(err)
    assert.equal("8 7 6 5 4 3 2 1", iids(got))
    assert.equal("MR 8", got[1].title)
    local bodies = sent()
    assert.equal(3, #bodies)
    assert.is_nil(bodies[1].variables.after)
    assert.equal("group/proj", bodies[3].variables.path)
    -- each page after the endCursor of the one before
    for i = 2, 3 do
      assert.is_string(bodies[i].variables.after)
      assert.not_equal(bodies[i - 1].variables.after, bodies[i].variables.after)
    end
    -- the caller's variables are not changed
    assert.is_nil(VARS.after)
  end)

  it("takes the edges { node } form too", function()
    local got, err = walk(gl, MRS_EDGES, VARS, PATH)
    assert.is_nil(err)
    assert.equal("8 7 6 5 4 3 2 1", iids(got))
    assert.is_nil(got[1].cursor)                          -- the node, not the edge
    assert.equal(3, #sent())
  end)

  it("follows a top-level connection and aliases", function()
    local q = [[query($after: String) {
      all: projects(first: 1, after: $after) { nodes { fullPath: pathWithNamespace }
        pageInfo { hasNextPage endCursor } } }]]
    local list = assert(gl:graphql_nodes_all(q, nil, "all"))
    assert.equal(2, #list)
    assert.equal("group/sub/proj2", list[1].fullPath)
    assert.equal("group/proj", list[2].fullPath)
  end)

  it("starts after variables.after when given", function()
    local first = assert(gl:graphql(MRS, VARS)).project.mergeRequests.pageInfo.endCursor
    local list = assert(gl:graphql_nodes_all(MRS, { path = "group/proj", after = first }, PATH))
    assert.equal("5 4 3 2 1", iids(list))
  end)

  it("stops at max_items and max_pages", function()
    local got = walk(gl, MRS, VARS, PATH, { max_items = 4 })
    assert.equal("8 7 6 5", iids(got))
    assert.equal(2, #sent())
    helpers.admin("DELETE", "/requests")
    got = walk(gl, MRS, VARS, PATH, { max_pages = 2 })
    assert.equal("8 7 6 5 4 3", iids(got))
    assert.equal(2, #sent())
  end)

  -- as gl:paginate: max_pages = 0 or max_items = 0 is no request at all
  it("takes max_pages and max_items as gl:paginate does", function()
    for _, o in ipairs{ { max_pages = 0 }, { max_items = 0 } } do
      local got, err = walk(gl, MRS, VARS, PATH, o)
      assert.is_nil(err)
      assert.equal(0, #got)
    end
    assert.equal(0, #sent())
    local got = walk(gl, MRS, VARS, PATH, { max_pages = 1, max_items = 2 })
    assert.equal("8 7", iids(got))
    assert.equal(1, #sent())
    -- what cannot be a limit raises at the call, before any request
    for _, o in ipairs{ { max_pages = "2" }, { max_items = -1 }, { max_pages = 1.5 }, { max_items = 0 / 0 },
                        { max_pages = true } } do
      local ok, e = pcall(function() gl:graphql_nodes(MRS, VARS, PATH, o) end)
      assert.is_false(ok)
      assert.matches("graphql_nodes: max_%a+ must be an integer >= 0", e)
      assert.matches("23%-graphql_nodes_spec", e)
      ok, e = pcall(function() gl:graphql_nodes_all(MRS, VARS, PATH, o) end)
      assert.is_false(ok)
      assert.matches("graphql_nodes_all: max_%a+ must be", e)
    end
    assert.equal(1, #sent())
  end)

  it("raises GraphQL errors with their messages", function()
    local got, err = walk(gl, MRS, { path = "group/proj", after = "not_json_string" }, PATH)
    assert.equal(0, #got)
    assert.equal("graphql", err.kind)
    assert.matches("Please provide a valid cursor", tostring(err))
    -- an error on page 2: page 1's nodes came first, then the error
    answer({ errors = { { message = "Timeout on mergeRequests" }, { message = "and another" } },
             data = { project = gitlab.null } }, { skip = 1 })
    got, err = walk(gl, MRS, VARS, PATH)
    assert.equal("8 7 6", iids(got))
    assert.equal("graphql", err.kind)
    assert.equal("Timeout on mergeRequests; and another", err.message)
    assert.equal(2, #err.errors)
    -- the _all form returns it
    local none, e2 = gl:graphql_nodes_all(MRS, VARS, PATH)
    assert.is_nil(none)
    assert.equal("graphql", e2.kind)
  end)

  it("raises an HTTP failure of a page", function()
    helpers.fault{ path = "/api/graphql", status = 502, skip = 1, times = 1,
      body = { message = "502 Bad Gateway" } }
    local got, err = walk(gl, MRS, VARS, PATH)
    assert.equal("8 7 6", iids(got))
    assert.equal(502, err.status)
    local g2 = helpers.client{ token = "glpat-expired", retries = 0 }
    local none, e2 = g2:graphql_nodes_all(MRS, VARS, PATH)
    assert.is_nil(none)
    assert.equal(401, e2.status)
    g2:close()
  end)

  it("refuses an answer without the connection", function()
    -- a path the answer does not have
    local got, err = walk(gl, MRS, VARS, "project.mergeRequest")
    assert.equal(0, #got)
    assert.equal("decode", err.kind)
    assert.matches("data%.project%.mergeRequest", err.message)
    -- null on the way, without an error
    answer({ data = { project = gitlab.null } })
    got, err = walk(gl, MRS, VARS, PATH)
    assert.equal(0, #got)
    assert.equal("decode", err.kind)
    assert.matches("data%.project = null", err.message)
  end)

  it("refuses a page without pageInfo or without nodes: no list cut short", function()
    local q = [[query($path: ID!, $after: String) { project(fullPath: $path) {
      mergeRequests(first: 3, after: $after) { nodes { iid } } } }]]
    -- the page's nodes, then the error instead of the next page
    local got, err = walk(gl, q, VARS, PATH)
    assert.equal("8 7 6", iids(got))
    assert.equal(1, #sent())
    assert.equal("decode", err.kind)
    assert.matches("no pageInfo%.hasNextPage", err.message)
    assert.matches("select pageInfo { hasNextPage endCursor }", err.message, 1, true)
    -- pageInfo on page 1 only
    answer({ data = { project = { mergeRequests = { nodes = { { iid = "9" } } } } } }, { skip = 1 })
    got, err = walk(gl, MRS, VARS, PATH)
    assert.equal("8 7 6 9", iids(got))
    assert.matches("page 2 of the connection project%.mergeRequests has no pageInfo", err.message)
    -- neither nodes nor edges; an edge without node
    q = [[query($path: ID!, $after: String) { project(fullPath: $path) {
      mergeRequests(first: 3, after: $after) { pageInfo { hasNextPage endCursor } } } }]]
    helpers.admin("DELETE", "/faults")
    got, err = walk(gl, q, VARS, PATH)
    assert.equal(0, #got)
    assert.matches("neither nodes nor edges", err.message)
    answer({ data = { project = { mergeRequests = { edges = { { cursor = "x" } },
      pageInfo = { hasNextPage = false } } } } })
    got, err = walk(gl, MRS_EDGES, VARS, PATH)
    assert.equal(0, #got)
    assert.equal("decode", err.kind)
    assert.matches("edge 1 of the connection project%.mergeRequests has no node", err.message)
  end)

  it("refuses a next page that would not advance", function()
    -- hasNextPage with the same endCursor again
    answer({ data = { project = { mergeRequests = { nodes = { { iid = "1" } },
      pageInfo = { hasNextPage = true, endCursor = "c1" } } } } })
    local got, err = walk(gl, MRS, VARS, PATH)
    -- page 2 ends where it started: its nodes are page 1's again, not yielded
    assert.equal("1", iids(got))
    assert.equal("pagination", err.kind)
    assert.matches('page 2 of the connection project%.mergeRequests gives endCursor "c1", where page 2 started already',
      err.message)
    assert.equal(2, #sent())
    -- back to a cursor of two pages before (each fault answers once, in turn)
    helpers.admin("DELETE", "/faults")
    helpers.admin("DELETE", "/requests")
    for i, c in ipairs{ "c1", "c2", "c1" } do
      answer({ data = { project = { mergeRequests = { nodes = { { iid = tostring(i) } },
        pageInfo = { hasNextPage = true, endCursor = c } } } } }, { times = 1 })
    end
    got, err = walk(gl, MRS, VARS, PATH)
    assert.equal("1 2", iids(got))
    assert.equal("pagination", err.kind)
    assert.matches("where page 2 started already", err.message)
    -- $after passed to another field than the connection: GitLab answers
    -- page 1 again, whose nodes are not yielded twice
    helpers.admin("DELETE", "/faults")
    helpers.admin("DELETE", "/requests")
    local q = [[query($path: ID!, $after: String) { project(fullPath: $path) {
      mergeRequests(first: 3) { nodes { iid } pageInfo { hasNextPage endCursor } }
      issues(first: 1, after: $after) { nodes { iid } } } }]]
    got, err = walk(gl, q, VARS, PATH)
    assert.equal("8 7 6", iids(got))
    assert.equal("pagination", err.kind, err.message)
    assert.matches("where page 2 started already: the next page would not advance", err.message)
    assert.equal(2, #sent())
    -- hasNextPage without an endCursor
    helpers.admin("DELETE", "/faults")
    answer('{"data":{"project":{"mergeRequests":{"nodes":[],'
      .. '"pageInfo":{"hasNextPage":true,"endCursor":null}}}}}',
      { headers = { ["content-type"] = "application/json" } })
    got, err = walk(gl, MRS, VARS, PATH)
    assert.equal(0, #got)
    assert.equal("pagination", err.kind)
    assert.matches("hasNextPage but gives no endCursor", err.message)
  end)

  -- doc/api/graphql/getting_started.md, "Pagination": nodes and edges are
  -- lists; GitLab never answers an object there
  it("refuses nodes or edges that are not a list, and a path through a list", function()
    answer({ data = { project = { mergeRequests = { nodes = { a = 1 },
      pageInfo = { hasNextPage = false } } } } })
    local got, err = walk(gl, MRS, VARS, PATH)
    assert.equal(0, #got)
    assert.equal("decode", err.kind)
    assert.matches("nodes of the connection project%.mergeRequests is a JSON object, not a list", err.message)
    helpers.admin("DELETE", "/faults")
    answer({ data = { project = { mergeRequests = { edges = { a = 1 },
      pageInfo = { hasNextPage = false } } } } })
    got, err = walk(gl, MRS_EDGES, VARS, PATH)
    assert.equal(0, #got)
    assert.equal("decode", err.kind)
    assert.matches("edges of the connection project%.mergeRequests is a JSON object, not a list", err.message)
    -- a path through a connection's nodes: one connection is paged, not a list of them
    helpers.admin("DELETE", "/faults")
    local q = [[query($after: String) { projects(first: 5) { nodes {
      mergeRequests(first: 3, after: $after) { nodes { iid } pageInfo { hasNextPage endCursor } } } } }]]
    got, err = walk(gl, q, nil, "projects.nodes.mergeRequests")
    assert.equal(0, #got)
    assert.equal("decode", err.kind)
    assert.matches("data%.projects%.nodes is a list", err.message)
  end)

  it("follows a connection under aliases", function()
    local q = [[query($path: ID!, $after: String) { p: project(fullPath: $path) {
      open: mergeRequests(first: 3, after: $after) { list: nodes { number: iid }
        info: pageInfo { more: hasNextPage endCursor } }
      mergeRequests(first: 1) { nodes { iid } pageInfo { hasNextPage endCursor } } } }]]
    local d = assert(gl:graphql(q, VARS))
    assert.is_nil(d.project)
    assert.equal(3, #d.p.open.list)
    -- the path names the aliases; pageInfo and nodes must be selected
    -- under their own names
    local got, err = walk(gl, q, VARS, "p.open")
    assert.equal(0, #got)
    assert.matches("neither nodes nor edges", err.message)
    q = [[query($path: ID!, $after: String) { p: project(fullPath: $path) {
      open: mergeRequests(first: 3, after: $after) { nodes { number: iid }
        pageInfo { hasNextPage endCursor } } } }]]
    got, err = walk(gl, q, VARS, "p.open")
    assert.is_nil(err)
    local n = {}
    for i, x in ipairs(got) do n[i] = x.number end
    assert.equal("8 7 6 5 4 3 2 1", table.concat(n, " "))
  end)

  it("yields a null node as gitlab.null", function()
    answer({ data = { project = { mergeRequests = { nodes = { { iid = "1" }, gitlab.null, { iid = "3" } },
      pageInfo = { hasNextPage = false, endCursor = "c" } } } } })
    local list = assert(gl:graphql_nodes_all(MRS, VARS, PATH))
    assert.equal(3, #list)
    assert.equal(gitlab.null, list[2])
    assert.equal("3", list[3].iid)
  end)

  it("raises on wrong arguments, at the caller", function()
    local function raises(fn, pat)
      local ok, err = pcall(fn)
      assert.is_false(ok)
      assert.matches(pat, err)
      assert.matches("23%-graphql_nodes_spec", err)
    end
    raises(function() gl:graphql_nodes(42, nil, PATH) end, "query must be a string")
    raises(function() gl:graphql_nodes(MRS, "x", PATH) end, "variables must be a table")
    for _, p in ipairs{ "", "project..mergeRequests", "project.", ".x", "project.merge-requests" } do
      raises(function() gl:graphql_nodes(MRS, VARS, p) end, "path must name the connection")
    end
    raises(function() gl:graphql_nodes_all(MRS, VARS, nil) end, "graphql_nodes_all: path must")
    raises(function() gl:graphql_nodes("{ project(fullPath: \"group/proj\") { mergeRequests "
      .. "{ nodes { iid } pageInfo { hasNextPage endCursor } } } }", nil, PATH) end, "must take %$after")
    raises(function() gl:graphql_nodes("query($afterAll: String) { x(after: $afterAll) }", nil, "x") end,
      "must take %$after")
    assert.equal(0, #sent())
  end)

  it("examples/graphql_nodes.lua lists a connection page by page", function()
    local q = helpers.shell_quote
    local out, code = helpers.exec(("cd %s && %s env GITLAB_URL=%s GITLAB_TOKEN=glpat-root %s"
      .. " examples/graphql_nodes.lua group/proj 3 2>&1"):format(q(helpers.root), helpers.child_env(),
        q(helpers.server().http), q(helpers.lua_interpreter())))
    assert.equal(0, code, out)
    assert.matches("Issues of group/proj, 3 per request:", out, 1, true)
    assert.matches("3 issue%(s%)\nissues: 3\nmerge_requests: 8\n", out)
    assert.matches("!8    MR 8 %(b8 %-> main%)", out)
    -- 8 merge requests 3 a page, 3 issues: 3 + 1 + 1 requests
    assert.equal(5, #sent())
  end)

  describe("inside gitlab.async.run", function()
    it("yields instead of blocking, one page after the other", function()
      helpers.fault{ path = "/api/graphql", delay_ms = 150, times = -1 }
      local got, done = {}, false
      local t0 = require("gitlab.core").now()
      gitlab.async.run(function()
        for node in gl:graphql_nodes(MRS, VARS, PATH) do got[#got + 1] = node end
        done = true
      end)
      -- run() returned at the first request, before any answer
      assert.is_true(require("gitlab.core").now() - t0 < 0.12)
      assert.equal(0, #got)
      assert.is_false(done)
      gl:wait()
      assert.is_true(done)
      assert.equal("8 7 6 5 4 3 2 1", iids(got))
      assert.equal(3, #sent())
    end)

    it("runs lists side by side and raises a failed page in the coroutine", function()
      helpers.fault{ path = "/api/graphql", delay_ms = 200, times = -1 }
      local counts = {}
      local t0 = require("gitlab.core").now()
      for k = 1, 3 do
        gitlab.async.run(function()
          counts[k] = #assert(gl:graphql_nodes_all(MRS, VARS, PATH))
        end)
      end
      gl:wait()
      assert.same({ 8, 8, 8 }, counts)
      -- 3 lists x 3 pages x 200 ms one after the other would be 1.8 s
      local took = require("gitlab.core").now() - t0
      assert.is_true(took < 1.4, "took " .. took)
      helpers.admin("DELETE", "/faults")
      local caught
      gitlab.async.run(function()
        local ok, err = pcall(function()
          for _ in gl:graphql_nodes(MRS, { path = "group/proj", after = "not_json_string" }, PATH) do end
        end)
        caught = { ok = ok, err = err }
      end)
      gl:wait()
      assert.is_false(caught.ok)
      assert.equal("graphql", caught.err.kind)
      assert.matches("valid cursor", caught.err.message)
    end)

    it("leaves nothing in flight when the loop is left midway", function()
      local first
      gitlab.async.run(function()
        local next_node = gl:graphql_nodes(MRS, VARS, PATH)
        first = next_node()
      end)
      gl:wait()
      assert.equal("8", first.iid)
      assert.equal(0, gl:running())
      assert.equal(1, #sent())
    end)
  end)

  -- gl:attach(uv): the pages come in on the loop, which keeps turning
  -- (Neovim's editor stays usable) while each page is on its way
  local has_luv, luv = pcall(require, "luv")
  local describe_luv = has_luv and describe or pending
  describe_luv("from a luv callback, in gitlab.async.run", function()
    it("pages without blocking the loop", function()
      helpers.fault{ path = "/api/graphql", delay_ms = 150, times = -1 }
      gl:attach(luv)
      local got, ticks, done, finished_at = {}, 0, false, nil
      local start, tick, guard = luv.new_timer(), luv.new_timer(), luv.new_timer()
      luv.update_time()
      tick:start(20, 20, function() ticks = ticks + 1 end)
      guard:start(10000, 0, function() luv.stop() end)
      start:start(0, 0, function()
        gitlab.async.run(function()
          for node in gl:graphql_nodes(MRS, VARS, PATH) do got[#got + 1] = node end
          done, finished_at = true, ticks
          luv.stop()
        end)
      end)
      luv.run()
      for _, h in ipairs{ start, tick, guard } do h:stop(); h:close() end
      gl:close()
      luv.run("nowait")
      assert.is_true(done)
      assert.equal("8 7 6 5 4 3 2 1", iids(got))
      assert.equal(3, #sent())
      -- 3 pages of 150 ms: the 20 ms timer fired all along
      assert.is_true(finished_at >= 10, "ticks " .. tostring(finished_at))
    end)
  end)
end)
