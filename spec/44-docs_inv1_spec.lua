-- Every endpoint of four of GitLab's doc pages, as docs/inventory lists
-- them (projects.tsv, groups.tsv, search.tsv, events.tsv: doc/api/projects.md,
-- groups.md, search.md and events.md at the gitlabhq commits named there),
-- called through the resource layer: the fake must see the documented
-- method and path, and the call must answer the documented shape (an
-- object of its kind, a lazy list, a body, true for no content). The
-- endpoints projects.md documented before they moved to pages of their
-- own (forks, starring, markdown uploads, hooks, push rules, pull
-- mirroring) are called too. spec/fake/routes/docs_inv1.js answers what
-- the generic store cannot.
local helpers = require("helpers")
local object = require("gitlab.resources.object")
local List = require("gitlab.resources.list").List

local gl

local function sent(fn) return helpers.sent(fn, true) end

local function is_kind(kind, v)
  return object.is_object(v) and tostring(v):find("<gitlab." .. kind .. " ", 1, true) == 1
end

-- `shape` of a call's result:
--   "object:K"  an object of kind K
--   "list"      a lazy list (its items plain tables); "list:K" its items K objects
--   "data"      a plain table that is no list;  "table" any plain table
--   "raw"       a string;  "true" no content
local function check_shape(shape, v)
  local kind = shape:match("^object:(.+)$")
  if kind then
    assert.is_true(is_kind(kind, v), "expected a " .. kind .. " object, got " .. tostring(v))
  elseif shape == "data" then
    assert.is_table(v)
    assert.is_false(object.is_object(v))
    assert.is_nil(v[1])
  elseif shape == "table" then
    assert.is_table(v)
    assert.is_false(object.is_object(v))
  elseif shape == "raw" then
    assert.is_string(v)
  elseif shape == "true" then
    assert.is_true(v)
  else
    error("unknown shape " .. shape)
  end
end

-- One documented endpoint: `call()` makes exactly the request `want`
-- ("METHOD /path") and answers `shape`. A list call returns the lazy list
-- (no request yet); its first page is fetched here.
local function check(case)
  if case.before then case.before() end
  local result, err
  local reqs = sent(function() result, err = case.call() end)
  if case.shape:match("^list") then
    assert.same({}, reqs, "a list is lazy: no request before it is read")
    assert.equal(List, getmetatable(result), "expected a lazy list")
    local items
    reqs = sent(function() items, err = result:all() end)
    assert.same({ case.want }, reqs)
    assert.is_table(items, tostring(err))
    local kind = case.shape:match("^list:(.+)$")
    if case.nonempty then assert.is_true(#items > 0, "expected items") end
    for _, it in ipairs(items) do
      if kind then assert.is_true(is_kind(kind, it), tostring(it))
      else assert.is_false(object.is_object(it)) end
    end
    return items
  end
  assert.same({ case.want }, reqs)
  assert.is_truthy(result, tostring(err))
  check_shape(case.shape, result)
  return result
end

local p, p2, g, g1, u
local CASES = {}  -- "METHOD /path/:template" as the inventory spells it -> case
local MOVED = {}  -- endpoints projects.md documented before they got pages of their own

local function case(row, t) CASES[row] = t end
local function moved(row, t) MOVED[#MOVED + 1] = { row = row, case = t } end

-- a small file for the upload calls; removed by the caller
local function tmp_file(content)
  local f = os.tmpname()
  local h = assert(io.open(f, "wb"))
  h:write(content)
  h:close()
  return f
end

-- PUT <path> as multipart with an `avatar` file, as projects.md and
-- groups.md show it ("Upload a project avatar", "Upload a group avatar")
local function put_avatar(path, content)
  local f = tmp_file(content)
  local data, err = gl:upload(path, { method = "PUT", file = f, field = "avatar", filename = "dk.png",
    content_type = "image/png" })
  os.remove(f)
  assert(data, tostring(err))
  return data
end

local function share_group(with)
  assert(g1:share{ group_id = with, group_access = 30 })
end

-- projects.md ---------------------------------------------------------
case("GET /projects/:id", { want = "GET /projects/1", shape = "object:project",
  call = function() return gl.projects:get(1) end })
case("GET /projects", { want = "GET /projects", shape = "list:project", nonempty = true,
  call = function() return gl.projects:list() end })
case("GET /users/:user_id/projects", { want = "GET /users/1/projects", shape = "list:project",
  call = function() return u:projects() end })
case("GET /users/:user_id/contributed_projects", { want = "GET /users/1/contributed_projects",
  shape = "list:project", call = function() return u:contributed_projects() end })
case("GET /projects/:id/users", { want = "GET /projects/1/users", shape = "list",
  call = function() return p:users() end })
case("GET /projects/:id/groups", { want = "GET /projects/2/groups", shape = "list", nonempty = true,
  call = function() return p2:groups() end,
  after = function(groups)
    local paths = {}
    for _, it in ipairs(groups) do paths[#paths + 1] = it.full_path end
    table.sort(paths)
    assert.same({ "group", "group/sub" }, paths)
  end })
case("GET /projects/:id/share_locations", { want = "GET /projects/1/share_locations", shape = "list",
  call = function() return p:share_locations() end })
case("GET /projects/:id/invited_groups", { want = "GET /projects/1/invited_groups",
  shape = "list:group", nonempty = true,
  before = function() assert(p:share{ group_id = 2, group_access = 30 }) end,
  call = function() return p:invited_groups() end,
  after = function(groups) assert.equal("group/sub", groups[1].full_path) end })
case("GET /projects/:id/languages", { want = "GET /projects/1/languages", shape = "data",
  call = function() return p:languages() end,
  after = function(langs) assert.is_number(langs.Ruby) end })
case("POST /projects", { want = "POST /projects", shape = "object:project",
  call = function() return gl.projects:create{ name = "made" } end })
case("POST /projects/user/:user_id", { want = "POST /projects/user/2", shape = "object:project",
  call = function() return gl.projects:create_for_user(2, { name = "for-alice" }) end,
  after = function(made) assert.equal("alice", made.namespace.full_path) end })
case("PUT /projects/:id", { want = "PUT /projects/1", shape = "object:project",
  call = function() return gl.projects:update(1, { description = "edited" }) end,
  after = function(pr) assert.equal("edited", pr.description) end })
case("POST /projects/:id/import_project_members/:project_id",
  { want = "POST /projects/2/import_project_members/1", shape = "data",
    call = function() return p2:import_project_members(1) end,
    after = function(r)
      assert.equal("success", r.status)
      assert.is_table(assert(gl.projects:lazy(2).members:get(2)))
    end })
case("POST /projects/:id/archive", { want = "POST /projects/1/archive", shape = "object:project",
  call = function() return p:archive() end,
  after = function(pr) assert.is_true(pr.archived) end })
case("POST /projects/:id/unarchive", { want = "POST /projects/1/unarchive", shape = "object:project",
  call = function() return p:unarchive() end,
  after = function(pr) assert.is_false(pr.archived) end })
case("DELETE /projects/:id", { want = "DELETE /projects/2", shape = "true",
  call = function() return gl.projects:delete(2) end })
case("POST /projects/:id/restore", { want = "POST /projects/1/restore", shape = "object:project",
  call = function() return p:restore() end,
  after = function(pr) assert.equal(1, pr.id) end })
case("PUT /projects/:id/transfer", { want = "PUT /projects/1/transfer", shape = "object:project",
  call = function() return p:transfer{ namespace = 2 } end,
  after = function(pr) assert.equal("group/sub", pr.namespace.full_path) end })
case("GET /projects/:id/transfer_locations", { want = "GET /projects/1/transfer_locations",
  shape = "list", call = function() return p:transfer_locations() end })
case("GET /projects/:id/avatar", { want = "GET /projects/1/avatar", shape = "raw",
  before = function() put_avatar("/projects/1", "project-png") end,
  call = function() return p:avatar() end,
  after = function(body) assert.equal("project-png", body) end })
case("POST /projects/:id/share", { want = "POST /projects/1/share", shape = "data",
  call = function() return p:share{ group_id = 2, group_access = 30 } end,
  after = function(link) assert.equal(2, link.group_id) end })
case("DELETE /projects/:id/share/:group_id", { want = "DELETE /projects/1/share/2", shape = "true",
  before = function() assert(p:share{ group_id = 2, group_access = 30 }) end,
  call = function() return p:unshare(2) end })
case("POST /projects/:id/housekeeping", { want = "POST /projects/1/housekeeping", shape = "data",
  call = function() return p:housekeeping() end })
case("POST /projects/:id/security_scans/sast/scan", { want = "POST /projects/1/security_scans/sast/scan",
  shape = "data",
  call = function()
    return p:sast_scan{ file_path = "src/main.c",
      content = "#include<string.h>\nint main(int argc, char **argv) {\n  char buff[128];\n"
        .. "  strcpy(buff, argv[1]);\n  return 0;\n}\n" }
  end,
  after = function(r)
    assert.equal(1, #r.vulnerabilities)
    assert.equal("src/main.c", r.vulnerabilities[1].location.file)
    assert.matches("strcpy", r.vulnerabilities[1].name)
  end })
case("GET /projects/:id/snapshot", { want = "GET /projects/1/snapshot", shape = "raw",
  call = function() return p:snapshot() end,
  after = function(body) assert.equal(10240, #body) end })
case("GET /projects/:id/storage", { want = "GET /projects/1/storage", shape = "table",
  call = function() return p:storage() end,
  after = function(st)
    assert.equal(1, st[1].project_id)
    assert.equal("default", st[1].repository_storage)
  end })

-- formerly on projects.md, now on pages of their own (project_forks.md,
-- project_starring.md, project_markdown_uploads.md, project_webhooks.md,
-- project_push_rules.md, project_pull_mirroring.md): still served, still
-- in the catalog
moved("GET /users/:user_id/starred_projects", { want = "GET /users/1/starred_projects",
  shape = "list:project", call = function() return u:starred_projects() end })
moved("POST /projects/:id/fork", { want = "POST /projects/1/fork", shape = "object:project",
  call = function() return p:fork{ namespace_id = 2 } end,
  after = function(fork) assert.equal(1, fork.forked_from_project.id) end })
moved("GET /projects/:id/forks", { want = "GET /projects/1/forks", shape = "list:project",
  call = function() return p:forks() end })
moved("POST /projects/:id/fork/:forked_from_id", { want = "POST /projects/2/fork/1", shape = "data",
  call = function() return p2:create_fork_relation(1) end,
  after = function(pr) assert.equal(1, pr.forked_from_project.id) end })
moved("DELETE /projects/:id/fork", { want = "DELETE /projects/2/fork", shape = "true",
  before = function() assert(p2:create_fork_relation(1)) end,
  call = function() return p2:delete_fork_relation() end })
moved("POST /projects/:id/star", { want = "POST /projects/1/star", shape = "object:project",
  call = function() return p:star() end })
moved("POST /projects/:id/unstar", { want = "POST /projects/1/unstar", shape = "object:project",
  before = function() assert(p:star()) end, call = function() return p:unstar() end })
moved("GET /projects/:id/starrers", { want = "GET /projects/1/starrers", shape = "list",
  call = function() return p:starrers() end })
moved("POST /projects/:id/uploads", { want = "POST /projects/1/uploads", shape = "data",
  call = function()
    local f = tmp_file("png")
    local r, e = p:upload{ file = f }
    os.remove(f)
    return r, e
  end })
moved("GET /projects/:id/hooks", { want = "GET /projects/1/hooks", shape = "list:hook", nonempty = true,
  before = function() assert(p.hooks:create{ url = "https://example.com/hook" }) end,
  call = function() return p.hooks:list() end })
moved("GET /projects/:id/hooks/:hook_id", { want = "GET /projects/1/hooks/1", shape = "object:hook",
  before = function() assert(p.hooks:create{ url = "https://example.com/hook" }) end,
  call = function() return p.hooks:get(1) end })
moved("POST /projects/:id/hooks", { want = "POST /projects/1/hooks", shape = "object:hook",
  call = function() return p.hooks:create{ url = "https://example.com/hook", push_events = true } end })
moved("PUT /projects/:id/hooks/:hook_id", { want = "PUT /projects/1/hooks/1", shape = "object:hook",
  before = function() assert(p.hooks:create{ url = "https://example.com/hook" }) end,
  call = function() return p.hooks:update(1, { url = "https://example.com/other" }) end })
moved("DELETE /projects/:id/hooks/:hook_id", { want = "DELETE /projects/1/hooks/1", shape = "true",
  before = function() assert(p.hooks:create{ url = "https://example.com/hook" }) end,
  call = function() return p.hooks:delete(1) end })
moved("GET /projects/:id/push_rule", { want = "GET /projects/1/push_rule", shape = "object:push_rule",
  before = function() assert(p.push_rule:create{ deny_delete_tag = true }) end,
  call = function() return p.push_rule:get() end,
  after = function(rule) assert.is_true(rule.deny_delete_tag) end })
moved("POST /projects/:id/push_rule", { want = "POST /projects/1/push_rule", shape = "object:push_rule",
  call = function() return p.push_rule:create{ max_file_size = 5 } end })
moved("PUT /projects/:id/push_rule", { want = "PUT /projects/1/push_rule", shape = "object:push_rule",
  before = function() assert(p.push_rule:create{ max_file_size = 5 }) end,
  call = function() return p.push_rule:update{ max_file_size = 7 } end,
  after = function(rule) assert.equal(7, rule.max_file_size) end })
moved("DELETE /projects/:id/push_rule", { want = "DELETE /projects/1/push_rule", shape = "true",
  before = function() assert(p.push_rule:create{ max_file_size = 5 }) end,
  call = function() return p.push_rule:delete() end })
moved("POST /projects/:id/mirror/pull", { want = "POST /projects/1/mirror/pull", shape = "true",
  call = function() return p:pull_mirror() end })

-- groups.md -----------------------------------------------------------
case("GET /groups/:id", { want = "GET /groups/1", shape = "object:group",
  call = function() return gl.groups:get(1) end })
case("GET /groups", { want = "GET /groups", shape = "list:group", nonempty = true,
  call = function() return gl.groups:list() end })
case("GET /groups/:id/projects", { want = "GET /groups/2/projects", shape = "list:project",
  nonempty = true, call = function() return g:projects() end })
case("GET /groups/:id/projects/shared", { want = "GET /groups/2/projects/shared",
  shape = "list:project", nonempty = true,
  before = function() assert(p:share{ group_id = 2, group_access = 30 }) end,
  call = function() return g:shared_projects() end,
  after = function(projects) assert.equal(1, projects[1].id) end })
case("GET /groups/:id/saml_users", { want = "GET /groups/1/saml_users", shape = "list:user",
  nonempty = true,
  before = function()
    helpers.seed{ path = "/users", items = { { username = "bob", name = "Bob", state = "active",
      identities = { { provider = "group_saml", extern_uid = "2435223452345", saml_provider_id = 1 } } } } }
  end,
  call = function() return g1:saml_users() end,
  after = function(users) assert.equal("bob", users[1].username) end })
case("GET /groups/:id/provisioned_users", { want = "GET /groups/1/provisioned_users",
  shape = "list:user", call = function() return g1:provisioned_users() end })
case("GET /groups/:id/subgroups", { want = "GET /groups/1/subgroups", shape = "list:group",
  nonempty = true, call = function() return g1:subgroups() end })
case("GET /groups/:id/descendant_groups", { want = "GET /groups/1/descendant_groups",
  shape = "list:group", nonempty = true, call = function() return g1:descendant_groups() end,
  after = function(groups) assert.equal("group/sub", groups[1].full_path) end })
case("GET /groups/:id/groups/shared", { want = "GET /groups/2/groups/shared", shape = "list:group",
  nonempty = true, before = function() share_group(2) end,
  call = function() return g:shared_groups() end,
  after = function(groups) assert.equal("group", groups[1].full_path) end })
case("GET /groups/:id/invited_groups", { want = "GET /groups/1/invited_groups", shape = "list:group",
  nonempty = true, before = function() share_group(2) end,
  call = function() return g1:invited_groups() end,
  after = function(groups) assert.equal("group/sub", groups[1].full_path) end })
case("POST /groups", { want = "POST /groups", shape = "object:group",
  call = function() return gl.groups:create{ name = "New", path = "new" } end })
case("DELETE /groups/:id", { want = "DELETE /groups/2", shape = "true",
  call = function() return gl.groups:delete(2) end })
case("POST /groups/:id/restore", { want = "POST /groups/2/restore", shape = "object:group",
  call = function() return g:restore() end,
  after = function(gr) assert.equal(2, gr.id) end })
case("POST /groups/:id/archive", { want = "POST /groups/2/archive", shape = "object:group",
  call = function() return g:archive() end,
  after = function(gr)
    assert.equal(2, gr.id)
    assert.is_true(gr.archived)
  end })
case("POST /groups/:id/unarchive", { want = "POST /groups/2/unarchive", shape = "object:group",
  before = function() assert(g:archive()) end,
  call = function() return g:unarchive() end,
  after = function(gr) assert.is_false(gr.archived) end })
case("POST /groups/:id/transfer", { want = "POST /groups/2/transfer", shape = "object:group",
  call = function() return g:transfer() end,
  after = function(gr)
    assert.equal("sub", gr.full_path)
    assert.equal(require("gitlab").null, gr.parent_id)
  end })
case("GET /groups/:id/transfer_locations", { want = "GET /groups/2/transfer_locations",
  shape = "list:group", call = function() return g:transfer_locations() end })
case("POST /groups/:id/projects/:project_id", { want = "POST /groups/1/projects/2", shape = "data",
  call = function() return g1:transfer_project(2) end,
  after = function(gr)
    assert.equal(1, gr.id)
    assert.equal("group/proj2", assert(gl.projects:get(2)).path_with_namespace)
  end })
case("POST /groups/:id/share", { want = "POST /groups/1/share", shape = "data",
  call = function() return g1:share{ group_id = 2, group_access = 30 } end,
  after = function(gr)
    assert.equal(1, gr.id)
    assert.equal(2, gr.shared_with_groups[1].group_id)
  end })
case("DELETE /groups/:id/share/:group_id", { want = "DELETE /groups/1/share/2", shape = "true",
  before = function() share_group(2) end,
  call = function() return g1:unshare(2) end })
case("PUT /groups/:id", { want = "PUT /groups/2", shape = "object:group",
  call = function() return gl.groups:update(2, { description = "edited" }) end,
  after = function(gr) assert.equal("edited", gr.description) end })
case("GET /groups/:id/avatar", { want = "GET /groups/2/avatar", shape = "raw",
  before = function()
    local gr = put_avatar("/groups/2", "group-png")
    assert.matches("/uploads/%-/system/group/avatar/2/dk%.png$", gr.avatar_url)
  end,
  call = function() return g:avatar() end,
  after = function(body) assert.equal("group-png", body) end })
case("POST /groups/:id/tokens/revoke", { want = "POST /groups/1/tokens/revoke", shape = "data",
  before = function() helpers.token{ token = "glpat-to-revoke", user = 2 } end,
  call = function() return g1:revoke_token{ token = "glpat-to-revoke" } end,
  after = function(t)
    assert.is_true(t.revoked)
    local _, err = helpers.client{ token = "glpat-to-revoke" }:request("GET", "/user")
    assert.equal(401, err.status)
  end })
case("POST /groups/:id/ldap_sync", { want = "POST /groups/1/ldap_sync", shape = "data",
  call = function() return g1:ldap_sync() end })

-- search.md -----------------------------------------------------------
case("GET /search", { want = "GET /search", shape = "list", nonempty = true,
  call = function() return gl:search{ scope = "projects", search = "proj" } end })
case("GET /groups/:id/search", { want = "GET /groups/2/search", shape = "list", nonempty = true,
  call = function() return g:search{ scope = "projects", search = "proj" } end })
case("GET /projects/:id/search", { want = "GET /projects/1/search", shape = "list", nonempty = true,
  call = function() return p:search{ scope = "issues", search = "issue" } end })

-- events.md -----------------------------------------------------------
case("GET /events", { want = "GET /events", shape = "list:event",
  call = function() return gl.events:list() end })
case("GET /users/:id/events", { want = "GET /users/1/events", shape = "list",
  call = function() return u:events() end })
case("GET /projects/:project_id/events", { want = "GET /projects/1/events", shape = "list:event",
  call = function() return p.events:list() end })

local PAGES = { "projects", "groups", "search", "events" }

-- "METHOD /path" rows of docs/inventory/<page>.tsv, in order
local function inventory(page)
  local text = assert(helpers.read_file(helpers.root .. "/docs/inventory/" .. page .. ".tsv"))
  local rows = {}
  for line in text:gmatch("[^\n]+") do
    local method, path = line:match("^(%u+)\t(/[^\t]*)\t")
    if method then rows[#rows + 1] = method .. " " .. path end
  end
  return rows
end

describe("doc pages projects, groups, search, events through the resource layer", function()
  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
    p, p2 = gl.projects:lazy(1), gl.projects:lazy(2)
    g1, g, u = gl.groups:lazy(1), gl.groups:lazy(2), gl.users:lazy(1)
  end)

  it("has a case for every endpoint of the four inventories, and none more", function()
    local listed = {}
    for _, page in ipairs(PAGES) do
      local rows = inventory(page)
      assert.is_true(#rows > 0, page)
      for _, row in ipairs(rows) do
        assert.is_table(CASES[row], "no case for " .. row .. " (" .. page .. ".tsv)")
        listed[row] = true
      end
    end
    for row in pairs(CASES) do assert.is_true(listed[row], row .. " is in no inventory") end
  end)

  describe("formerly on projects.md, on pages of their own now", function()
    for _, m in ipairs(MOVED) do
      it(m.row, function()
        local result = check(m.case)
        if m.case.after then m.case.after(result) end
      end)
    end
  end)

  for _, page in ipairs(PAGES) do
    describe(page .. ".md", function()
      for _, row in ipairs(inventory(page)) do
        local c = CASES[row]
        if c then
          it(row, function()
            local result = check(c)
            if c.after then c.after(result) end
          end)
        end
      end
    end)
  end

  describe("search.md: scope and search", function()
    it("gl:search takes them as a table, as group:search and project:search do", function()
      local hits = gl:search{ scope = "issues", search = "Closed" }:all()
      assert.equal(1, #hits)
      assert.equal("Closed issue", hits[1].title)
      local e = helpers.last_request{ path = "/api/v4/search" }
      assert.equal("per_page=100&scope=issues&search=Closed", e.query)
    end)

    it("or positionally, with more filters after them", function()
      local hits
      local reqs = sent(function() hits = gl:search("issues", "issue", { per_page = 2 }):all() end)
      assert.same({ "GET /search", "GET /search" }, reqs)
      assert.equal(4, #hits)
      local e = helpers.last_request{ path = "/api/v4/search" }
      assert.equal("page=2&per_page=2&scope=issues&search=issue", e.query)
    end)

    it("refuses a call without both, before sending anything", function()
      local reqs = sent(function()
        assert.has_error(function() gl:search{ scope = "issues" } end,
          "search{ scope =, search = } or search(scope, search, query): scope and search must be strings")
        assert.has_error(function() gl:search("issues") end,
          "search{ scope =, search = } or search(scope, search, query): scope and search must be strings")
        assert.has_error(function() gl:search{ scope = "issues", search = 7 } end)
      end)
      assert.same({}, reqs)
    end)

    it("the fake refuses a search without a scope, as GitLab (Grape) does", function()
      local data, err = gl:request("GET", "/search", { query = { search = "x" } })
      assert.is_nil(data)
      assert.equal(400, err.status)
    end)
  end)

  describe("groups.md and projects.md: refusals the pages document", function()
    it("archiving an archived group, unarchiving one that is not, is a 422", function()
      local gr, err = g:unarchive()
      assert.is_nil(gr)
      assert.equal(422, err.status)
      assert(g:archive())
      gr, err = g:archive()
      assert.is_nil(gr)
      assert.equal(422, err.status)
    end)

    it("a group invitation and a token revocation need their parameters", function()
      local data, err = g1:share{ group_id = 2 }
      assert.is_nil(data)
      assert.equal(400, err.status)
      data, err = g1:revoke_token()
      assert.is_nil(data)
      assert.equal(400, err.status)
    end)

    it("deleting a group invitation that is not there is a 404; after one, none is listed", function()
      local ok, err = g1:unshare(2)
      assert.is_nil(ok)
      assert.equal(404, err.status)
      share_group(2)
      assert(g1:unshare(2))
      assert.same({}, assert(g1:invited_groups():all()))
      assert.same({}, assert(g:shared_groups():all()))
    end)

    it("the repository storage path and moving a project into a group are for administrators", function()
      local alice = helpers.client{ token = "glpat-alice" }
      local data, err = alice.projects:lazy(1):storage()
      assert.is_nil(data)
      assert.equal(403, err.status)
      data, err = alice.groups:lazy(1):transfer_project(2)
      assert.is_nil(data)
      assert.equal(403, err.status)
    end)
  end)

  describe("projects.md and the pages split from it: fork relation, push rule, sharing", function()
    it("deleting a fork relation of a project that is no fork answers 304", function()
      local data, err = p2:delete_fork_relation()
      assert.is_truthy(data, tostring(err))
      assert.equal(304, helpers.last_request{ path = "/api/v4/projects/2/fork" }.status)
    end)

    it("a project has one push rule: a second create is refused, get answers null without one", function()
      assert(p.push_rule:create{ max_file_size = 5 })
      local rule, err = p.push_rule:create{ max_file_size = 6 }
      assert.is_nil(rule)
      assert.equal(422, err.status)
      assert(p.push_rule:delete())
      local _, resp = gl:request("GET", "/projects/1/push_rule")
      assert.equal(200, resp.status)
    end)

    it("unsharing a group the project is not shared with is a 404", function()
      local ok, err = p:unshare(2)
      assert.is_nil(ok)
      assert.equal(404, err.status)
    end)

    it("a shared group shows in the project's shared_with_groups", function()
      assert(p:share{ group_id = 2, group_access = 30 })
      local pr = assert(gl.projects:get(1))
      assert.equal(1, #pr.shared_with_groups)
      assert.equal(2, pr.shared_with_groups[1].group_id)
      assert(p:unshare(2))
      assert.equal(0, #assert(gl.projects:get(1)).shared_with_groups)
    end)
  end)
end)
