-- Resource objects that behave as GitLab's documents (gitlabhq/gitlabhq
-- doc/api/**) say GitLab does: an object renamed by save() follows its new
-- address, a 2xx answer that reports a failure is an error, an object has
-- only the methods its placement's ops allow, epic notes and discussions
-- go to the epic's global id, and every documented error shape gives a
-- clear err.message with the structured detail kept.
local helpers = require("helpers")
local resources = require("gitlab.resources")

local gl

local int = helpers.int

local function sent(fn) return helpers.sent(fn, true) end

local sends = helpers.sends

-- fn raises an error whose message has every one of `words`, and sends nothing
local function refuses(fn, words)
  local ok, msg
  local reqs = sent(function() ok, msg = pcall(fn) end)
  assert.is_false(ok)
  assert.same({}, reqs)
  msg = tostring(msg)
  for _, w in ipairs(words or {}) do
    assert.is_truthy(msg:find(w, 1, true), ("%q not in %q"):format(w, msg))
  end
  return msg
end

describe("objects as GitLab documents them", function()
  local p, g

  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
    p = gl.projects:lazy(1)
    g = gl.groups:lazy(1)
  end)

  ------------------------------------------------------------------------
  describe("re-address after save", function()
    it("a wiki page renamed through its title moves to the new slug (wikis.md)", function()
      local page = assert(p.wikis:create{ title = "Old page", content = "first" })
      assert.equal("Old-page", page.slug)
      page.title = "New page"
      sends("PUT /projects/1/wikis/Old-page", function() return page:save() end)
      assert.equal("New-page", page.slug)
      assert.equal("/projects/1/wikis/New-page", page:rest_path())
      -- GitLab moved the page: the old slug is gone
      local none, err = gl:get("/projects/1/wikis/Old-page")
      assert.is_nil(none)
      assert.equal(404, err.status)
      sends("GET /projects/1/wikis/New-page", function() return page:refresh() end)
      page.content = "second"
      sends("PUT /projects/1/wikis/New-page", function() return page:save() end)
      assert.equal("second", assert(p.wikis:get("New-page")).content)
      sends("DELETE /projects/1/wikis/New-page", function() return page:delete() end)
    end)

    it("a group wiki page too (group_wikis.md)", function()
      local page = assert(g.wikis:create{ title = "Draft", content = "x" })
      page.title = "Final"
      sends("PUT /groups/1/wikis/Draft", function() return page:save() end)
      sends("DELETE /groups/1/wikis/Final", function() return page:delete() end)
    end)

    it("a feature flag renamed through its name (feature_flags.md)", function()
      local flag = assert(p.feature_flags:create{ name = "old_flag", version = "new_version_flag" })
      flag.name = "new_flag"
      sends("PUT /projects/1/feature_flags/old_flag", function() return flag:save() end)
      assert.equal("/projects/1/feature_flags/new_flag", flag:rest_path())
      local none, err = gl:get("/projects/1/feature_flags/old_flag")
      assert.is_nil(none)
      assert.equal(404, err.status)
      flag.description = "renamed"
      sends("PUT /projects/1/feature_flags/new_flag", function() return flag:save() end)
      sends("GET /projects/1/feature_flags/new_flag", function() return flag:refresh() end)
      assert.equal("renamed", flag.description)
      sends("DELETE /projects/1/feature_flags/new_flag", function() return flag:delete() end)
    end)

    it("an object whose answer keeps its id keeps its address", function()
      local issue = assert(p.issues:get(1))
      issue.title = "same iid"
      sends("PUT /projects/1/issues/1", function() return issue:save() end)
      assert.equal("/projects/1/issues/1", issue:rest_path())
    end)
  end)

  ------------------------------------------------------------------------
  describe("a 2xx answer whose body reports a failure", function()
    -- invitations.md: POST .../invitations answers {"status": "error",
    -- "message": {email: reason}} (with Grape's 201 for a POST) when an
    -- invitation fails, e.g. an email already invited
    it("is an error from the resource layer (invitations.md)", function()
      assert(p.invitations:create{ email = "a@example.com", access_level = 30 })
      local none, err = p.invitations:create{ email = "a@example.com", access_level = 30 }
      assert.is_nil(none)
      assert.equal("service", err.kind)
      assert.equal(201, err.status)
      assert.equal("a@example.com: Invite email has already been taken", err.message)
      assert.same({ ["a@example.com"] = "Invite email has already been taken" }, err.details)
      assert.equal("error", err.json.status)
      assert.equal("POST /projects/1/invitations: a@example.com: Invite email has already been taken",
                   tostring(err))
    end)

    it("and from the raw API; the other emails are invited", function()
      assert(gl:post("/groups/1/invitations", { email = "a@example.com", access_level = 30 }))
      local none, err = gl:post("/groups/1/invitations",
                                { email = "b@example.com,a@example.com", access_level = 30 })
      assert.is_nil(none)
      assert.equal("service", err.kind)
      assert.equal("a@example.com: Invite email has already been taken", err.message)
      local emails = {}
      for inv in g.invitations:list() do emails[#emails + 1] = inv.invite_email end
      assert.same({ "a@example.com", "b@example.com" }, emails)
    end)

    -- invitations.md: the list answers `invite_email`; PUT and DELETE
    -- address an invitation by that email
    it("a listed invitation is addressed by its invite_email", function()
      assert(p.invitations:create{ email = "e@example.com", access_level = 30 })
      local inv
      for i in p.invitations:list() do if i.invite_email == "e@example.com" then inv = i end end
      assert.truthy(inv)
      inv.access_level = 40
      sends("PUT /projects/1/invitations/e%40example%2Ecom", function() return inv:save() end)
      sends("DELETE /projects/1/invitations/e%40example%2Ecom", function() return inv:delete() end)
    end)

    it("is an error on the engine too; an empty message or a 4xx is not one", function()
      -- the core tells (src/result.c); request_async, gitlab.async and the
      -- blocking call all read it
      local function hash(body, status)
        helpers.fault{ method = "POST", path = "/api/v4/projects/1/invitations", status = status or 201,
                       headers = { ["Content-Type"] = "application/json" }, body = body }
      end
      hash{ status = "error", message = "boom" }
      local got
      gl:request_async("POST", "/projects/1/invitations", { body = { email = "x@example.com" } },
        function(err, data) got = { err = err, data = data } end)
      gl:wait()
      assert.is_nil(got.data)
      assert.equal("service", got.err.kind)
      assert.equal("boom", got.err.message)
      hash{ status = "error", message = "in a coroutine" }
      local co_err
      require("gitlab.async").run(function()
        local _, e = gl:post("/projects/1/invitations", { email = "x@example.com" })
        co_err = e
      end)
      gl:wait()
      assert.equal("service", co_err.kind)
      assert.equal("in a coroutine", co_err.message)
      hash{ status = "error", message = {} }
      local data = assert(gl:post("/projects/1/invitations", { email = "x@example.com" }))
      assert.equal("error", data.status)
      hash({ status = "error", message = "refused" }, 422)
      local _, e4 = gl:post("/projects/1/invitations", { email = "x@example.com" })
      assert.equal("http", e4.kind)
      assert.equal(422, e4.status)
    end)

    it("a success answer stays a success (invitations.md: {\"status\": \"success\"})", function()
      local data = assert(gl:post("/projects/1/invitations", { email = "c@example.com", access_level = 30 }))
      assert.same({ status = "success" }, data)
    end)

    it("an object with a status field is never taken for one", function()
      helpers.seed{ path = "/projects/1/pipelines", items = { { ref = "main", status = "failed" } } }
      helpers.seed{ path = "/projects/1/deployments", items = { { ref = "main", status = "failed" } } }
      helpers.seed{ path = "/projects/1/repository/commits",
                    items = { { id = "c0ffee", title = "fix", message = "fix", status = "failed" } } }
      helpers.seed{ path = "/projects/1/jobs", items = { { name = "build", status = "failed" } } }
      assert.equal("failed", assert(p.pipelines:get(1)).status)
      assert.equal("failed", assert(p.deployments:get(1)).status)
      assert.equal("failed", assert(p.repository.commits:get("c0ffee")).status)
      assert.equal("failed", assert(p.jobs:get(1)).status)
      -- "error" without a message, or a message without the status, is data
      helpers.seed{ path = "/projects/1/deployments", items = { { ref = "x", status = "error" } } }
      assert.equal("error", assert(p.deployments:get(2)).status)
      local list = assert(gl:get("/projects/1/deployments"))
      assert.equal(2, #list)
    end)
  end)

  ------------------------------------------------------------------------
  describe("object methods respect the placement's ops", function()
    it("a to-do item has no delete, save or refresh (todos.md)", function()
      helpers.seed{ path = "/todos", items = { { action_name = "marked", state = "pending" } } }
      local todo = assert(gl.todos:list():first(1))[1]
      refuses(function() todo:delete() end, { "todo", "delete", "list" })
      todo.state = "done"
      refuses(function() todo:save() end, { "todo", "save", "list" })
      refuses(function() todo:refresh() end, { "todo", "refresh", "list" })
      -- its action stays
      sends("POST /todos/" .. int(todo.id) .. "/mark_as_done", function() return todo:mark_as_done() end)
    end)

    it("an epic issue has no save (epic_issues.md)", function()
      local epic = assert(g.epics:create{ title = "e" })
      assert(epic.issues:assign(1))
      local item = assert(epic.issues:list():first(1))[1]
      item.title = "renamed"
      refuses(function() item:save() end, { "epic_issue", "save", "list, delete" })
      sends("DELETE /groups/1/epics/1/issues/" .. int(item.epic_issue_id), function() return item:delete() end)
    end)

    it("the managers refuse the same, with the same words", function()
      refuses(function() gl.todos:delete(1) end, { "todo", "delete", "list" })
      refuses(function() gl.todos:get(1) end, { "todo", "get", "list" })
      refuses(function() gl.todos:create{} end, { "todo", "create", "list" })
      refuses(function() gl.todos:update(1, { state = "done" }) end, { "todo", "update", "list" })
      refuses(function() g.epics:lazy(1).issues:update(1, {}) end, { "epic_issue", "update" })
      refuses(function() p.invitations:get("a@example.com") end, { "invitation", "get" })
    end)

    it("an object listed elsewhere keeps the ops of its home (issues.md)", function()
      local issue = assert(g.issues:list():first(1))[1]
      issue.title = "from the group list"
      local at = "/projects/" .. int(issue.project_id) .. "/issues/" .. int(issue.iid)
      sends("PUT " .. at, function() return issue:save() end)
      sends("GET " .. at, function() return issue:refresh() end)
    end)

    it("an object listed where GitLab serves only the list has no save or delete (members.md)", function()
      helpers.seed{ path = "/groups/1/pending_members", items = { { username = "carol", state = "awaiting" } } }
      local member = assert(g.pending_members:list():first(1))[1]
      member.access_level = 40
      refuses(function() member:save() end, { "member", "save", "list" })
      refuses(function() member:delete() end, { "member", "delete", "list" })
      refuses(function() member:refresh() end, { "member", "refresh", "list" })
    end)
  end)

  ------------------------------------------------------------------------
  describe("epic notes and discussions by the epic's global id (notes.md)", function()
    local epic

    before_each(function()
      epic = helpers.epic_apart(gl)
    end)

    it("epic.notes and epic.discussions go to /groups/:id/epics/<epic.id>", function()
      local note = sends("POST /groups/1/epics/2/notes", function() return epic.notes:create{ body = "hi" } end)
      local list = sends("GET /groups/1/epics/2/notes", function() return epic.notes:list():all() end)
      assert.equal(1, #list)
      assert.equal(note.id, list[1].id)
      note.body = "edited"
      sends("PUT /groups/1/epics/2/notes/" .. int(note.id), function() return note:save() end)
      sends("POST /groups/1/epics/2/discussions", function() return epic.discussions:create{ body = "why?" } end)
      sends("GET /groups/1/epics/2/discussions", function() return epic.discussions:list():all() end)
      sends("DELETE /groups/1/epics/2/notes/" .. int(note.id), function() return note:delete() end)
    end)

    it("an epic fetched by iid, or listed, reaches the same", function()
      local got = assert(g.epics:get(1))
      sends("GET /groups/1/epics/2/notes", function() return got.notes:list():all() end)
      local listed = assert(g.epics:list():first(1))[1]
      sends("GET /groups/1/epics/2/notes", function() return listed:manager("notes"):list():all() end)
    end)

    it("an epic known only by iid cannot address them: a clear error, nothing sent", function()
      local lazy = g.epics:lazy(1)
      refuses(function() return lazy.notes end, { "epic", "'id'", "notes" })
      refuses(function() return lazy:manager("discussions") end, { "epic", "'id'", "discussions" })
    end)

    it("group.epics_by_id stays", function()
      sends("GET /groups/1/epics/2/notes", function() return g.epics_by_id:lazy(2).notes:list():all() end)
    end)

    it("the catalog's routes show them under epic", function()
      local calls = {}
      for _, r in ipairs(resources.routes()) do
        if r.path:find("^/groups/:id/epics/:id/notes") then calls[r.call] = r.method .. " " .. r.path end
      end
      assert.equal("GET /groups/:id/epics/:id/notes", calls["epic.notes:list(query)"])
      assert.equal("POST /groups/:id/epics/:id/notes", calls["epic.notes:create(attrs)"])
      assert.equal("GET /groups/:id/epics/:id/notes", calls["epic_by_id.notes:list(query)"])
    end)
  end)

  ------------------------------------------------------------------------
  describe("error shapes (rest/troubleshooting.md, \"Status code 400\")", function()
    it("Grape's missing attribute: 400 {\"error\": \"title is missing\"}", function()
      local none, err = p.issues:create{ description = "no title" }
      assert.is_nil(none)
      assert.equal(400, err.status)
      assert.equal("http", err.kind)
      assert.equal("title is missing", err.message)
      assert.equal("POST /projects/1/issues: 400 title is missing", tostring(err))
      assert.same({ error = "title is missing" }, err.json)
      -- wikis.md: title and content are required
      local _, e2 = p.wikis:create{ title = "no content" }
      assert.equal("content is missing", e2.message)
      -- invitations.md: access_level is required
      local _, e3 = p.invitations:create{ email = "x@example.com" }
      assert.equal("access_level is missing", e3.message)
    end)

    it("bad_request!: 400 {\"message\": \"400 Bad request - ...\"} (invitations.md)", function()
      local _, err = p.invitations:create{ access_level = 30 }
      assert.equal(400, err.status)
      local why = "400 Bad request - Must provide either email or user_id as a parameter"
      assert.equal(why, err.message)
      assert.equal("POST /projects/1/invitations: " .. why, tostring(err))
      assert.is_nil(err.details)
      -- an update without any attribute is refused with the bare message
      assert(p.invitations:create{ email = "d@example.com", access_level = 30 })
      local _, e2 = p.invitations:update("d@example.com", {})
      assert.equal(400, e2.status)
      assert.equal("400 Bad request", e2.message)
      assert.equal("PUT /projects/1/invitations/d%40example%2Ecom: 400 Bad request", tostring(e2))
    end)

    it("a missing attribute reported as not given: message and error (npm, packages/npm.md)", function()
      local _, err = p.npm_packages:publish("pkg", { versions = { ["1.0.0"] = { name = "pkg" } } },
                                            { headers = { ["Npm-Command"] = "deprecate" } })
      assert.equal(400, err.status)
      assert.equal('400 Bad request - "package versions to deprecate" not given', err.message)
      assert.equal('"package versions to deprecate" not given', err.json.error)
    end)

    it("the docs' own example of a missing attribute", function()
      helpers.fault{ method = "POST", path = "/api/v4/projects/1/issues", status = 400,
                     headers = { ["Content-Type"] = "application/json" },
                     body = { message = '400 (Bad request) "title" not given' } }
      local _, err = p.issues:create{}
      assert.equal('400 (Bad request) "title" not given', err.message)
      assert.equal('POST /projects/1/issues: 400 (Bad request) "title" not given', tostring(err))
    end)

    it("validation errors: 400 {\"message\": {\"bio\": [...]}} with the detail kept (users.md)", function()
      local u = assert(gl.users:get(2))
      u.bio = ("x"):rep(256)
      local none, err = u:save()
      assert.is_nil(none)
      assert.equal(400, err.status)
      assert.equal("bio is too long (maximum is 255 characters)", err.message)
      assert.same({ bio = { "is too long (maximum is 255 characters)" } }, err.details)
      assert.same({ message = { bio = { "is too long (maximum is 255 characters)" } } }, err.json)
      local _, e2 = gl.users:create{ username = "b", name = "B", email = "b@example.com", bio = ("y"):rep(300) }
      assert.equal("bio is too long (maximum is 255 characters)", e2.message)
      -- a short bio passes
      u.bio = "short"
      assert(u:save())
    end)

    it("an embedded entity's validation errors and a spam refusal (troubleshooting.md)", function()
      helpers.fault{ method = "POST", path = "/api/v4/projects", status = 400,
                     headers = { ["Content-Type"] = "application/json" },
                     body = { message = {
                       name = { "has already been taken" },
                       project_feature = { builds_access_level = { "is not included in the list" } } } } }
      local _, err = gl.projects:create{ name = "x" }
      assert.equal("name has already been taken; project_feature builds_access_level is not included in the list",
                   err.message)
      assert.same({ "is not included in the list" }, err.details.project_feature.builds_access_level)
      helpers.fault{ method = "POST", path = "/api/v4/snippets", status = 400,
                     headers = { ["Content-Type"] = "application/json" },
                     body = { message = {
                       error = "Your snippet has been recognized as spam and has been discarded." } } }
      local _, e2 = gl.snippets:create{ title = "t", file_name = "f", content = "c" }
      assert.equal("Your snippet has been recognized as spam and has been discarded.", e2.message)
    end)

    it("an error body with the token in it keeps it out of err.json and err.details", function()
      helpers.fault{ method = "POST", path = "/api/v4/projects/1/invitations", status = 201,
                     headers = { ["Content-Type"] = "application/json" },
                     body = { status = "error", message = { ["glpat-root"] = "echoed glpat-root" } } }
      local _, err = gl:post("/projects/1/invitations", { email = "e@example.com", access_level = 30 })
      assert.equal("service", err.kind)
      local shown = helpers.json.encode(err.json) .. helpers.json.encode(err.details) .. err.message
        .. tostring(err) .. (err.body or "")
      assert.is_nil(shown:find("glpat-root", 1, true))
      helpers.fault{ method = "GET", path = "/api/v4/projects/42", status = 400,
                     headers = { ["Content-Type"] = "application/json" },
                     body = { message = { token = { "glpat-root is wrong" } } } }
      local _, e2 = gl:get("/projects/42")
      assert.is_nil(helpers.json.encode(e2.json):find("glpat-root", 1, true))
      assert.is_nil(helpers.json.encode(e2.details):find("glpat-root", 1, true))
    end)
  end)
end)
