-- Resource layer against the fake server: managers, lazy lists through
-- every page, objects that save only what changed, actions, encoded path
-- ids and error objects, for the resources users touch every day.
local helpers = require("helpers")
local resources = require("gitlab.resources")
local cjson = require("cjson")

local gl

local function body_of(e)
  return e.body and e.body ~= "" and cjson.decode(e.body) or {}
end

local function keys_of(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return table.concat(ks, ",")
end

-- cjson gives floats: 4.0 must read "4" in a path
local function int(n)
  return ("%d"):format(n)
end

local function seed(path, count, template)
  return helpers.seed{ path = path, count = count, template = template }
end

-- Runs fn and returns the requests it made.
local traced = helpers.traced

describe("resources", function()
  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
  end)

  describe("managers and objects", function()
    it("get a project by numeric id and by encoded path", function()
      local by_id = assert(gl.projects:get(1))
      local by_path = assert(gl.projects:get("group/proj"))
      assert.equal(by_id.id, by_path.id)
      assert.equal("group/proj", by_path.path_with_namespace)
      assert.equal("/projects/1", by_path:rest_path())
      local reqs = traced(function() assert(gl.projects:get("group/sub/proj2")) end)
      assert.equal("/api/v4/projects/group%2Fsub%2Fproj2", reqs[1].path)
    end)

    it("expose fields as plain fields that pairs() sees, methods via the metatable", function()
      local p = assert(gl.projects:get(1))
      local seen = {}
      for k in pairs(p) do seen[k] = true end
      assert.is_true(seen.name and seen.id and seen.namespace)
      assert.is_nil(seen.save)
      assert.equal("function", type(p.save))
      assert.equal("group", p.namespace.full_path)
      assert.is_true(resources.is_object(p))
    end)

    it("list lazily through every page", function()
      seed("/projects/1/issues", 42, { title = "bulk {n}" })
      local p = gl.projects:lazy(1)
      local n = 0
      local reqs = traced(function()
        for issue in p.issues:list{ per_page = 10 } do
          n = n + 1
          assert.is_true(resources.is_object(issue))
        end
      end)
      assert.equal(45, n)                 -- 3 from the seed state + 42
      local pages = 0
      for _, e in ipairs(reqs) do
        if e.path == "/api/v4/projects/1/issues" then pages = pages + 1 end
      end
      assert.equal(5, pages)
      assert.equal(45, #assert(p.issues:list{ per_page = 10 }:all()))
    end)

    it("first(n) fetches only what it needs", function()
      seed("/projects/1/issues", 60, { title = "bulk {n}" })
      local list
      local reqs = traced(function() list = assert(gl.projects:lazy(1).issues:list():first(3)) end)
      assert.equal(3, #list)
      assert.equal(1, #reqs)
      assert.matches("per_page=3", reqs[1].query)
    end)

    it("a list can be iterated twice and filtered", function()
      local l = gl.projects:lazy(1).issues:list{ labels = "bug" }
      local a, b = 0, 0
      for _ in l do a = a + 1 end
      for _ in l do b = b + 1 end
      assert.equal(1, a)
      assert.equal(a, b)
      local all = gl.projects:lazy(1).issues:list{ per_page = 1, sort = "asc" }
      local function first_of(list)
        local n, got = 0, nil
        for issue in list do
          n = n + 1
          got = got or issue.iid
          if n == 2 then break end
        end
        return got
      end
      local first = first_of(all)
      local again = first_of(all)
      assert.equal(first, again)              -- a new loop starts over, even after break
      local step = all:iter()
      local x, y = step(), step()
      assert.not_equal(x.iid, y.iid)
    end)

    it("create, then save sends only the changed fields, nested ones included", function()
      local p = gl.projects:lazy("group/proj")
      local issue = assert(p.issues:create{ title = "Bug", labels = "bug,ui", description = "d" })
      assert.equal("Bug", issue.title)
      assert.same({ "bug", "ui" }, issue.labels)

      local reqs = traced(function() assert(issue:save()) end)
      assert.equal(0, #reqs)               -- nothing changed: no request

      issue.title = "Bug, again"
      table.insert(issue.labels, "p1")
      reqs = traced(function() assert(issue:save()) end)
      assert.equal(1, #reqs)
      assert.equal("PUT", reqs[1].method)
      assert.equal("/api/v4/projects/1/issues/" .. int(issue.iid), reqs[1].path)
      local sent = body_of(reqs[1])
      assert.equal("labels,title", keys_of(sent))
      assert.same({ "bug", "ui", "p1" }, sent.labels)

      -- the object reloaded from the answer and took a new snapshot
      assert.equal("Bug, again", issue.title)
      reqs = traced(function() assert(issue:save()) end)
      assert.equal(0, #reqs)
      local again = assert(p.issues:get(issue.iid))
      assert.equal("Bug, again", again.title)
    end)

    it("update by id, refresh, delete, then a 404 error object", function()
      local p = gl.projects:lazy(1)
      local m = assert(p.milestones:create{ title = "v2.0" })
      assert(p.milestones:update(m.id, { description = "next" }))
      assert(m:refresh())
      assert.equal("next", m.description)
      assert.is_true(assert(m:delete()))
      local none, err = p.milestones:get(m.id)
      assert.is_nil(none)
      assert.equal(404, err.status)
      assert.equal("http", err.kind)
      assert.matches("404", tostring(err))
    end)

    it("give an error object for an unknown project, and raise it from a list", function()
      local none, err = gl.projects:get("nobody/nothing")
      assert.is_nil(none)
      assert.equal(404, err.status)
      assert.matches("Project Not Found", err.message)
      assert.matches("GET /projects/nobody%%2Fnothing", tostring(err))
      local ok, raised = pcall(function()
        for _ in gl.projects:lazy(999).issues:list() do end
      end)
      assert.is_false(ok)
      assert.equal(404, raised.status)
    end)

    it("raise on programmer errors", function()
      assert.has_error(function() gl.projects:lazy(1).jobs:create{} end)
      assert.has_error(function() gl.projects:lazy(1).repository.files:create{ content = "x" } end)
    end)

    it("keep methods reachable when a field shadows them", function()
      local p = gl.projects:lazy(1)
      local pl = assert(p.pipelines:create{ ref = "main" })
      local job = pl.jobs:list():first(1)[1]
      assert.equal("table", type(job.artifacts))       -- the data field
      local out = os.tmpname()
      assert(job:call("artifacts", { output = out }))
      local f = assert(io.open(out, "rb"))
      local size = #f:read("*a")
      f:close()
      os.remove(out)
      assert.equal(job.artifacts_file.size, size)
      assert.equal("function", type(resources.methods(job).artifacts))
      assert.equal("function", type(getmetatable(job).methods.artifacts))
    end)
  end)

  describe("projects", function()
    it("create, save, archive, star, delete", function()
      local p = assert(gl.projects:create{ name = "made", description = "x" })
      assert.equal("made", p.name)
      p.description = "better"
      local reqs = traced(function() assert(p:save()) end)
      assert.equal("description", keys_of(body_of(reqs[1])))
      assert(p:archive())
      assert.is_true(p.archived)                     -- the answer reloaded the object
      assert(p:unarchive())
      assert.is_false(p.archived)
      assert(p:star())
      assert.equal(1, p.star_count)
      assert.is_true(assert(p:delete()))
      local _, err = gl.projects:get(p.id)
      assert.equal(404, err.status)
    end)

    it("transfer and fork", function()
      local p = assert(gl.projects:create{ name = "moving" })
      assert(p:transfer{ namespace = "group/sub" })
      assert.equal("group/sub/moving", p.path_with_namespace)
      local fork = assert(gl.projects:lazy(1):fork{ name = "forked", path = "forked" })
      assert.is_true(resources.is_object(fork))
      assert.equal(1, fork.forked_from_project.id)
    end)
  end)

  describe("uploads", function()
    it("send a file as multipart with the other parameters as form fields", function()
      local tmp = os.tmpname()
      local f = assert(io.open(tmp, "wb"))
      f:write("PNG bytes")
      f:close()
      local reqs = traced(function()
        assert(gl.projects:lazy(1):upload{ file = tmp, alt = "shot" })
      end)
      os.remove(tmp)
      assert.equal("POST", reqs[1].method)
      assert.equal("/api/v4/projects/1/uploads", reqs[1].path)
      assert.matches("^multipart/form%-data", reqs[1].headers["content-type"])
      assert.equal("shot", reqs[1].form.alt)
      assert.equal(1, #reqs[1].files)
      assert.has_error(function() gl.projects:lazy(1):upload{ alt = "no file" } end)
    end)
  end)

  describe("groups and users", function()
    it("get a group by path, list subgroups and projects as objects", function()
      local g = assert(gl.groups:get("group"))
      local sub = assert(gl.groups:get("group/sub"))
      assert.equal("group/sub", sub.full_path)
      local names = {}
      for s in g:subgroups() do names[#names + 1] = s.full_path end
      assert.same({ "group/sub" }, names)
      local projects = assert(g:projects{ include_subgroups = true }:all())
      assert.equal(2, #projects)
      assert.is_true(resources.is_object(projects[1]))
      assert.equal("/projects/" .. int(projects[1].id), projects[1]:rest_path())
      assert.equal(g.id, assert(gl.groups:get(g.id)).id)
    end)

    it("create and save a group", function()
      local g = assert(gl.groups:create{ name = "made", path = "made" })
      g.description = "new"
      local reqs = traced(function() assert(g:save()) end)
      assert.equal("PUT", reqs[1].method)
      assert.equal("/api/v4/groups/" .. int(g.id), reqs[1].path)
      assert.equal("description", keys_of(body_of(reqs[1])))
    end)

    it("users: list, get, create, current user", function()
      local users = gl.users:list():all()
      assert.is_true(#users >= 2)
      local alice = assert(gl.users:get(2))
      assert.equal("alice", alice.username)
      local me = assert(gl.current_user:get())
      assert.equal("root", me.username)
      assert.equal("/user", me:rest_path())
      local u = assert(gl.users:create{ email = "bob@example.com", username = "bob", name = "Bob" })
      assert.equal("bob", u.username)
      u.name = "Robert"
      local reqs = traced(function() assert(u:save()) end)
      assert.equal("name", keys_of(body_of(reqs[1])))
    end)
  end)

  describe("issues, notes and discussions", function()
    it("close an issue through save, time tracking, subscribe", function()
      local issue = assert(gl.projects:lazy(1).issues:get(1))
      issue.state_event = "close"
      assert(issue:save())
      assert.equal("closed", issue.state)
      assert.is_nil(issue.state_event)
      assert(issue:time_estimate{ duration = "3h" })
      local stats = assert(issue:call("time_stats"))
      assert.equal(10800, stats.time_estimate)
      assert(issue:subscribe())
      assert.is_true(issue.subscribed)
    end)

    it("notes: create, list, save, delete", function()
      local issue = gl.projects:lazy("group/proj").issues:lazy(1)
      local note = assert(issue.notes:create{ body = "first" })
      assert.equal("first", note.body)
      assert(issue.notes:create{ body = "second" })
      assert.equal(2, #issue.notes:list():all())
      note.body = "edited"
      local reqs = traced(function() assert(note:save()) end)
      assert.equal("/api/v4/projects/group%2Fproj/issues/1/notes/" .. int(note.id), reqs[1].path)
      assert.equal("body", keys_of(body_of(reqs[1])))
      assert(note:delete())
      assert.equal(1, #issue.notes:list():all())
    end)

    it("discussions: start one, reply in it", function()
      local mr = gl.projects:lazy(1).merge_requests:lazy(1)
      local d = assert(mr.discussions:create{ body = "why?" })
      local reply = assert(d.notes:create{ body = "because" })
      assert.equal("because", reply.body)
      assert.equal(1, #mr.discussions:list():all())
      local reqs = traced(function() assert(d.notes:get(reply.id)) end)
      assert.equal("/api/v4/projects/1/merge_requests/1/discussions/" .. int(d.id) .. "/notes/" .. int(reply.id),
        reqs[1].path)
    end)
  end)

  describe("merge requests", function()
    it("approve, refuse a second approval, merge with squash", function()
      local p = gl.projects:lazy(1)
      local mr = assert(p.merge_requests:get(1))
      assert.equal("opened", mr.state)
      local state = assert(mr:approve())
      assert.is_true(state.approved)
      local again, err = mr:approve()
      assert.is_nil(again)
      assert.equal(401, err.status)
      local reqs = traced(function() assert(mr:merge{ squash = true }) end)
      assert.equal("PUT", reqs[1].method)
      assert.equal("/api/v4/projects/1/merge_requests/1/merge", reqs[1].path)
      assert.is_true(body_of(reqs[1]).squash)
      assert.equal("merged", mr.state)               -- reloaded from the answer
      local _, merr = mr:merge()
      assert.equal(405, merr.status)
    end)

    it("create, list through the group and global managers, rebase", function()
      local p = gl.projects:lazy(1)
      local mr = assert(p.merge_requests:create{ source_branch = "feature", target_branch = "main",
                                                 title = "Second" })
      local found
      for m in gl.groups:lazy("group").merge_requests:list() do
        if m.iid == mr.iid then found = m end
      end
      assert.truthy(found)
      assert.equal("/projects/1/merge_requests/" .. int(mr.iid), found:rest_path())
      local r = assert(found:rebase())
      assert.is_true(r.rebase_in_progress)
    end)
  end)

  describe("pipelines and jobs", function()
    it("create a pipeline, list its jobs, cancel, retry, play, trace", function()
      local p = gl.projects:lazy("group/proj")
      local reqs
      local pl
      reqs = traced(function() pl = assert(p.pipelines:create{ ref = "main" }) end)
      assert.equal("/api/v4/projects/group%2Fproj/pipeline", reqs[1].path)
      local jobs = pl.jobs:list():all()
      assert.equal(3, #jobs)
      local build = jobs[1]
      assert.equal("/projects/1/jobs/" .. int(build.id), build:rest_path())
      assert(build:cancel())
      assert.equal("canceled", build.status)
      local retried = assert(build:retry())
      assert.is_true(resources.is_object(retried))
      assert.not_equal(build.id, retried.id)
      assert.equal("pending", retried.status)
      local deploy = jobs[3]
      assert(deploy:play())
      assert.equal("pending", deploy.status)
      local trace = assert(build:trace())
      assert.equal("string", type(trace))
      assert.matches("build", trace)
      assert(pl:cancel())
      assert.equal("canceled", pl.status)
      assert(pl:retry())
      assert.equal("pending", pl.status)
      assert(p.jobs:get(build.id))
    end)
  end)

  describe("repository", function()
    it("files: create by path, read raw, save with a commit message, delete", function()
      local repo = gl.projects:lazy(1).repository
      local reqs = traced(function()
        assert(repo.files:create{ file_path = "lib/a.rb", branch = "main", content = "puts 1\n",
                                  commit_message = "add" })
      end)
      assert.equal("/api/v4/projects/1/repository/files/lib%2Fa%2Erb", reqs[1].path)
      local f = assert(repo.files:get("lib/a.rb", { ref = "main" }))
      assert.equal("lib/a.rb", f.file_path)
      assert.equal("puts 1\n", assert(f:raw{ ref = "main" }))
      f.content = "puts 2\n"
      reqs = traced(function() assert(f:save{ branch = "main", commit_message = "edit" }) end)
      assert.equal("PUT", reqs[1].method)
      assert.equal("branch,commit_message,content", keys_of(body_of(reqs[1])))
      assert.equal("puts 2\n", assert(repo.files:lazy("lib/a.rb"):raw{ ref = "main" }))
      assert(f:delete{ branch = "main", commit_message = "rm" })
      local _, err = repo.files:get("lib/a.rb", { ref = "main" })
      assert.equal(404, err.status)
    end)

    it("tree and commits", function()
      local p = gl.projects:lazy(1)
      local c = assert(p.repository.commits:create{ branch = "main", commit_message = "two files",
        actions = { { action = "create", file_path = "src/x.lua", content = "x" },
                    { action = "create", file_path = "src/y.lua", content = "y" } } })
      assert.equal(40, #c.id)
      local paths = {}
      for e in p.repository:tree{ recursive = true } do paths[#paths + 1] = e.path end
      table.sort(paths)
      assert.same({ "README.md", "src", "src/x.lua", "src/y.lua" }, paths)
      local got = assert(p.commits:get(c.id))          -- alias of repository.commits
      assert.equal("two files", got.title)
      assert.equal(1, #p.repository.commits:list():all())
      local cmp = assert(p.repository:compare{ from = "main", to = "feature" })
      assert.is_table(cmp.commits)
    end)

    it("branches and tags with slashes in their names", function()
      local p = gl.projects:lazy(1)
      local b = assert(p.repository.branches:create{ branch = "feature/x", ref = "main" })
      assert.equal("feature/x", b.name)
      local reqs = traced(function() assert(b:protect{ developers_can_push = true }) end)
      assert.equal("/api/v4/projects/1/repository/branches/feature%2Fx/protect", reqs[1].path)
      assert.is_true(b.protected)
      assert(p.branches:get("feature/x"))
      local t = assert(p.repository.tags:create{ tag_name = "v1.0", ref = "main" })
      assert.equal("v1.0", t.name)
      assert(p.repository.tags:get("v1.0"))
      assert(t:delete())
      assert(b:delete())
      local _, err = p.repository.branches:get("feature/x")
      assert.equal(404, err.status)
    end)
  end)

  describe("releases, labels, milestones, members, variables", function()
    it("releases by tag name with asset links", function()
      local p = gl.projects:lazy(1)
      local r = assert(p.releases:create{ tag_name = "v1.0", name = "One", description = "first" })
      r.description = "First release"
      local reqs = traced(function() assert(r:save()) end)
      assert.equal("/api/v4/projects/1/releases/v1%2E0", reqs[1].path)
      assert.equal("description", keys_of(body_of(reqs[1])))
      local link = assert(r.links:create{ name = "bin", url = "https://example.com/bin" })
      assert.equal("bin", link.name)
      assert.equal(1, #r.links:list():all())
      assert(p.releases:delete("v1.0"))
    end)

    it("labels", function()
      local p = gl.projects:lazy(1)
      local l = assert(p.labels:create{ name = "ops", color = "#0000FF" })
      assert(l:subscribe())
      assert.is_true(l.subscribed)
      l.color = "#000000"
      local reqs = traced(function() assert(l:save()) end)
      assert.equal("color", keys_of(body_of(reqs[1])))
      local names = {}
      for x in p.labels:list() do names[#names + 1] = x.name end
      assert.equal(3, #names)
    end)

    it("milestones", function()
      local p = gl.projects:lazy(1)
      local m = assert(p.milestones:create{ title = "v3" })
      m.state_event = "close"
      assert(m:save())
      assert.equal("closed", m.state)
      assert.equal(2, #p.milestones:list():all())
    end)

    it("members", function()
      local p = gl.projects:lazy(1)
      assert.equal(2, #p.members:list():all())
      local g = gl.groups:lazy("group")
      local m = assert(g.members:create{ user_id = 2, access_level = 30 })
      assert.equal(2, m.id)
      assert.equal("alice", m.username)
      m.access_level = 40
      local reqs = traced(function() assert(m:save()) end)
      assert.equal("/api/v4/groups/group/members/2", reqs[1].path)
      assert.equal("access_level", keys_of(body_of(reqs[1])))
      local _, err = g.members:create{ user_id = 2, access_level = 30 }
      assert.equal(409, err.status)
      assert(m:delete())
    end)

    it("CI/CD variables by key", function()
      local p = gl.projects:lazy(1)
      local v = assert(p.variables:create{ key = "DEPLOY_TOKEN", value = "s3cret", masked = true })
      assert.equal("DEPLOY_TOKEN", v.key)
      v.value = "n3w"
      local reqs = traced(function() assert(v:save()) end)
      assert.equal("/api/v4/projects/1/variables/DEPLOY_TOKEN", reqs[1].path)
      assert.equal("value", keys_of(body_of(reqs[1])))
      assert.equal("n3w", assert(p.variables:get("DEPLOY_TOKEN")).value)
      local g = gl.groups:lazy("group")
      assert(g.variables:create{ key = "G", value = "1" })
      assert.equal(1, #g.variables:list():all())
      assert(v:delete())
      local _, err = p.variables:get("DEPLOY_TOKEN")
      assert.equal(404, err.status)
    end)
  end)

  -- Families the established clients cover, with the verbs GitLab's docs
  -- give them (doc/api/service_accounts.md, merge_request_approvals.md,
  -- project_packages_protection_rules.md,
  -- container_repository_protection_rules.md, project_pull_mirroring.md,
  -- member_roles.md, deploy_keys.md, packages.md, project_webhooks.md).
  describe("service accounts, approval and protection rules, mirrors", function()
    local function only(reqs)
      assert.equal(1, #reqs)
      return reqs[1]
    end

    it("group and project service accounts: list, create, PATCH, delete, tokens", function()
      local gid = int(assert(gl.groups:get("group")).id)
      for _, owner in ipairs{ { gl.groups:lazy(gid), "/groups/" .. gid },
                              { gl.projects:lazy(1), "/projects/1" } } do
        local mgr, base = owner[1].service_accounts, "/api/v4" .. owner[2] .. "/service_accounts"
        local e = only(traced(function() assert(mgr:create{ name = "bot one" }) end))
        assert.same({ "POST", base }, { e.method, e.path })
        seed(owner[2] .. "/service_accounts", 2, { name = "Service account {n}" })
        local all = mgr:list():all()
        assert.equal(3, #all)
        local sa = all[2]
        sa.name = "renamed"
        e = only(traced(function() assert(sa:save()) end))
        assert.same({ "PATCH", base .. "/" .. int(sa.id), "name" }, { e.method, e.path, keys_of(body_of(e)) })
        assert.equal("renamed", assert(mgr:list():all())[2].name)

        local tokens = sa.personal_access_tokens
        local t = assert(tokens:create{ name = "ci", scopes = { "api" } })
        assert.equal(1, #tokens:list():all())
        e = only(traced(function() assert(t:rotate{ expires_at = "2030-01-01" }) end))
        assert.same({ "POST", base .. "/" .. int(sa.id) .. "/personal_access_tokens/" .. int(t.id) .. "/rotate" },
          { e.method, e.path })
        e = only(traced(function() assert(t:delete()) end))
        assert.same({ "DELETE", base .. "/" .. int(sa.id) .. "/personal_access_tokens/" .. int(t.id) },
          { e.method, e.path })

        e = only(traced(function() assert(mgr:delete(sa.id, { hard_delete = true })) end))
        assert.same({ "DELETE", base .. "/" .. int(sa.id), "hard_delete=true" }, { e.method, e.path, e.query })
        assert.equal(2, #mgr:list():all())
      end
    end)

    it("instance service accounts: list, create, PATCH; no delete and no tokens there", function()
      local sa = assert(gl.service_accounts:create{ name = "ci" })
      assert.equal(1, #gl.service_accounts:list():all())
      sa.username = "ci_bot"
      local e = only(traced(function() assert(sa:save()) end))
      assert.same({ "PATCH", "/api/v4/service_accounts/" .. int(sa.id), "username" },
        { e.method, e.path, keys_of(body_of(e)) })
      assert.has_error(function() gl.service_accounts:delete(sa.id) end)
      assert.is_nil(sa.personal_access_tokens)
    end)

    it("group approval rules: list, create, update with PUT; no single get", function()
      local gid = int(assert(gl.groups:get("group")).id)
      local rules = gl.groups:lazy(gid).approval_rules
      local r = assert(rules:create{ name = "security", approvals_required = 2 })
      r.approvals_required = 1
      local e = only(traced(function() assert(r:save()) end))
      assert.same({ "PUT", "/api/v4/groups/" .. gid .. "/approval_rules/" .. int(r.id), "approvals_required" },
        { e.method, e.path, keys_of(body_of(e)) })
      assert.equal(1, assert(rules:list():all())[1].approvals_required)
      assert.has_error(function() rules:get(r.id) end)
      assert.has_error(function() rules:delete(r.id) end)
    end)

    it("package and container repository protection rules update with PATCH", function()
      local p = gl.projects:lazy(1)
      for _, c in ipairs{
        { p.package_protection_rules, "/api/v4/projects/1/packages/protection/rules",
          { package_name_pattern = "@scope/*", package_type = "npm", minimum_access_level_for_push = "maintainer" } },
        { p.registry_protection_rules, "/api/v4/projects/1/registry/protection/repository/rules",
          { repository_path_pattern = "group/proj/*", minimum_access_level_for_push = "maintainer" } },
      } do
        local mgr, base, attrs = c[1], c[2], c[3]
        local rule
        local e = only(traced(function() rule = assert(mgr:create(attrs)) end))
        assert.same({ "POST", base }, { e.method, e.path })
        rule.minimum_access_level_for_push = "owner"
        e = only(traced(function() assert(rule:save()) end))
        assert.same({ "PATCH", base .. "/" .. int(rule.id), "minimum_access_level_for_push" },
          { e.method, e.path, keys_of(body_of(e)) })
        assert.equal("owner", assert(mgr:list():all())[1].minimum_access_level_for_push)
        e = only(traced(function() assert(rule:delete()) end))
        assert.same({ "DELETE", base .. "/" .. int(rule.id) }, { e.method, e.path })
        assert.equal(0, #mgr:list():all())
      end
    end)

    it("pull mirror configuration, package pipelines, member roles, deploy keys, webhook headers", function()
      local p = gl.projects:lazy(1)
      local e = only(traced(function()
        assert(p:configure_pull_mirror{ enabled = true, url = "https://example.com/up.git" })
      end))
      assert.same({ "PUT", "/api/v4/projects/1/mirror/pull" }, { e.method, e.path })
      assert.equal("https://example.com/up.git", assert(p:pull_mirror_details()).url)

      seed("/projects/1/packages", 1, { name = "pkg", version = "1.0.{n}" })
      local pkg = assert(p.packages:list():all())[1]
      seed("/projects/1/packages/" .. int(pkg.id) .. "/pipelines", 3, { ref = "v{n}" })
      assert.equal(3, #pkg:pipelines():all())

      local role = assert(gl.member_roles:create{ name = "reader", base_access_level = 10 })
      assert.equal(1, #gl.member_roles:list():all())
      e = only(traced(function() assert(role:delete()) end))
      assert.same({ "DELETE", "/api/v4/member_roles/" .. int(role.id) }, { e.method, e.path })

      e = only(traced(function() assert(gl.deploy_keys:create{ title = "deploy", key = "ssh-ed25519 AAAA" }) end))
      assert.same({ "POST", "/api/v4/deploy_keys" }, { e.method, e.path })

      local hook = assert(p.hooks:create{ url = "https://example.com/hook" })
      e = only(traced(function() hook:set_custom_header("X-Token", { value = "s3cret" }) end))
      assert.same({ "PUT", "/api/v4/projects/1/hooks/" .. int(hook.id) .. "/custom_headers/X-Token" },
        { e.method, e.path })
      e = only(traced(function() hook:delete_custom_header("X-Token") end))
      assert.same({ "DELETE", "/api/v4/projects/1/hooks/" .. int(hook.id) .. "/custom_headers/X-Token" },
        { e.method, e.path })
    end)
  end)

  describe("client-level calls", function()
    it("search, version, markdown-style root actions", function()
      assert.equal("string", type(assert(gl:version()).version))
      local found = gl:search("projects", "proj"):all()
      assert.is_table(found)
      assert.equal("function", type(gl.markdown))
    end)
  end)
end)

describe("a broken resource catalog", function()
  -- gitlab.resources is a hard dependency (loaded on first use of a
  -- manager): an error in it reaches the caller instead of leaving the
  -- client without gl.projects. A child process sees a gitlab.resources
  -- that raises, ahead of the real one on its package.path.
  local q = helpers.shell_quote
  local lua_interpreter = helpers.lua_interpreter

  -- a module of the layer (init.lua, a kinds file) that raises
  for _, broken in ipairs{ "init.lua", "kinds/ci.lua" } do
    it("raises its error on gl.projects rather than giving nil (" .. broken .. ")", function()
      local dir = helpers.tmpdir()
      os.execute("mkdir -p " .. q(dir .. "/gitlab/resources/kinds"))
      helpers.write_file(dir .. "/gitlab/resources/" .. broken, 'error("catalog broken here")\n')
      local script = dir .. "/main.lua"
      helpers.write_file(script, table.concat({
        "package.path = " .. ("%q"):format(dir .. "/?.lua;" .. dir .. "/?/init.lua;" .. package.path),
        "package.cpath = " .. ("%q"):format(package.cpath),
        "local gl = require('gitlab').new{ url = 'http://127.0.0.1:9' }",
        "local ok, err = pcall(function() return gl.projects end)",
        "print(ok, err ~= nil, ok or tostring(err))",
      }, "\n"))
      local out = helpers.exec("cd " .. q(helpers.root) .. " && " .. helpers.child_env() ..
        q(lua_interpreter()) .. " " .. q(script) .. " 2>&1")
      os.execute("rm -rf " .. q(dir))
      assert.matches("^false\ttrue\t.*catalog broken here", out)
    end)
  end
end)
