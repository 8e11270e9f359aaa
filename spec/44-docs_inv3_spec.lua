-- The catalog against the doc pages of issues, merge requests, merge
-- request approvals, notes, discussions, emoji reactions, labels,
-- milestones, boards and snippets (gitlabhq/gitlabhq doc/api/*.md; the
-- commits are in docs/inventory/<page>.tsv): every endpoint added to the
-- resource layer or changed there is called through it, and the fake
-- (spec/fake/routes/docs_inv3.js answers as the docs say, and refuses the
-- old path or shape as GitLab does) must see the documented method and path;
-- the result has the documented shape (object, lazy list or raw body).
local helpers = require("helpers")
local resources = require("gitlab.resources")
local List = require("gitlab.resources.list").List

local gl

local int = helpers.int

local sends = helpers.sends

local function is_list(v) return getmetatable(v) == List end

describe("catalog against the docs of issues, merge requests, labels, snippets", function()
  local p, mr

  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
    p = gl.projects:lazy(1)
    mr = p.merge_requests:lazy(1)
  end)

  describe("merge requests (merge_requests.md)", function()
    it("reviewers are a paginated list: GET .../reviewers", function()
      assert(p.merge_requests:update(1, { reviewer_ids = { 2 } }))
      local list = mr:reviewers()
      assert.is_true(is_list(list))
      local items = sends("GET /projects/1/merge_requests/1/reviewers", function() return list:all() end)
      assert.equal(1, #items)
      assert.equal("alice", items[1].user.username)
      assert.equal("unreviewed", items[1].state)
    end)

    it("raw diffs are a plain-text body: GET .../raw_diffs", function()
      local body = sends("GET /projects/1/merge_requests/1/raw_diffs", function() return mr:raw_diffs() end)
      assert.equal("string", type(body))
      assert.matches("^diff %-%-git a/README.md b/README.md\n", body)
    end)

    it("raw diffs stream to a file with output =", function()
      local out = helpers.tmpdir() .. "/mr.diff"
      sends("GET /projects/1/merge_requests/1/raw_diffs",
        function() return mr:raw_diffs{ output = out } end)
      local f = assert(io.open(out, "rb"))
      local text = f:read("a")
      f:close()
      assert.matches("^diff %-%-git", text)
    end)

    it("dependencies: list, create and delete .../blocks, list .../blockees", function()
      local blocker = assert(p.merge_requests:create{ title = "blocker", source_branch = "b", target_branch = "main" })
      local dep = sends("POST /projects/1/merge_requests/1/blocks",
        function() return mr.blocks:create{ blocking_merge_request_id = blocker.id } end)
      assert.is_true(resources.is_object(dep))
      assert.equal(blocker.id, dep.blocking_merge_request.id)
      local blocks = mr.blocks:list()
      assert.is_true(is_list(blocks))
      local items = sends("GET /projects/1/merge_requests/1/blocks", function() return blocks:all() end)
      assert.equal(1, #items)
      assert.equal(dep.id, items[1].id)
      local blockees = p.merge_requests:lazy(blocker.iid):blockees()
      assert.is_true(is_list(blockees))
      local blocked = sends("GET /projects/1/merge_requests/" .. int(blocker.iid) .. "/blockees",
        function() return blockees:all() end)
      assert.equal(1, #blocked)
      assert.equal(1, blocked[1].blocked_merge_request.iid)
      local ok = sends("DELETE /projects/1/merge_requests/1/blocks/" .. int(dep.id),
        function() return items[1]:delete() end)
      assert.is_true(ok)
      assert.same({}, sends("GET /projects/1/merge_requests/1/blocks", function() return mr.blocks:list():all() end))
    end)
  end)

  describe("labels (labels.md)", function()
    it("the older promote by name: PUT /projects/:id/labels/promote", function()
      local label = sends("PUT /projects/1/labels/promote",
        function() return p.labels:promote_by_name{ name = "bug" } end)
      assert.equal("bug", label.name)
      assert.is_false(label.is_project_label)
    end)

    it("the older endpoints are marked deprecated in docs/reference.md", function()
      local reference = assert(helpers.read_file(helpers.root .. "/docs/reference.md"))
      local at = assert(reference:find("\n## project.labels `/projects/:id/labels`\n", 1, true))
      local section = reference:sub(at, reference:find("\n## ", at + 1, true))
      assert.matches("are deprecated", section)
      assert.matches("promote_by_name", section)
    end)
  end)

  describe("snippet repository files (snippets.md, project_snippets.md)", function()
    -- GitLab takes the file path as one URL-encoded segment (snippet%2Erb);
    -- lib/api/snippets.rb requires file_path to have no slash
    it("GET /snippets/:id/files/:ref/:file_path/raw encodes the path as one segment", function()
      local snip = assert(gl.snippets:create{ title = "s",
        files = { { file_path = "dir/a.rb", content = "puts 1\n" } } })
      local id = int(snip.id)
      local body = sends("GET /snippets/" .. id .. "/files/main/dir%2Fa%2Erb/raw",
        function() return gl.snippets:lazy(snip.id):file_raw("main", "dir/a.rb") end)
      assert.equal("puts 1\n", body)
    end)

    it("GET /projects/:id/snippets/:snippet_id/files/:ref/:file_path/raw too", function()
      local snip = assert(p.snippets:create{ title = "s", files = { { file_path = "lib/b.rb", content = "b\n" } } })
      local id = int(snip.id)
      local body = sends("GET /projects/1/snippets/" .. id .. "/files/main/lib%2Fb%2Erb/raw",
        function() return p.snippets:lazy(snip.id):file_raw("main", "lib/b.rb") end)
      assert.equal("b\n", body)
    end)

    it("the path with its slashes reaches no route (404)", function()
      local snip = assert(gl.snippets:create{ title = "s", files = { { file_path = "dir/a.rb", content = "x" } } })
      local data, err = gl:request("GET", "/snippets/" .. int(snip.id) .. "/files/main/dir/a.rb/raw")
      assert.is_nil(data)
      assert.equal(404, err.status)
    end)
  end)
end)
