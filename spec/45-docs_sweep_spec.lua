-- The rest of the catalog against GitLab's docs (gitlabhq/gitlabhq
-- doc/api/**; docs/sweep/sweep.md lists every page checked): each endpoint
-- the sweep changed is called through the resource layer and the fake
-- (spec/fake/routes/docs_sweep.js answers as the docs say and refuses the
-- wrong verb or path as GitLab does) must see the documented method and
-- path; each endpoint the docs do not have is gone from the resource layer
-- while the raw API still sends it; endpoints the docs keep as deprecated
-- stay and docs/reference.md marks them.
local helpers = require("helpers")

local gl

local int = helpers.int

local sends = helpers.sends

local function raw_reaches(method, path, status) return helpers.raw_reaches(gl, method, path, status) end

describe("the rest of the catalog against GitLab's docs", function()
  local p, g, scratch

  setup(function()
    helpers.server()
    gl = helpers.client()
    scratch = helpers.tmpdir()
  end)

  before_each(function()
    helpers.reset()
    p = gl.projects:lazy(1)
    g = gl.groups:lazy(1)
  end)

  describe("package registries (packages/npm.md, packages/maven.md)", function()
    it("npm tarballs download and publish at the project level only", function()
      assert.is_nil(gl.npm_packages.publish)
      assert.is_nil(gl.npm_packages.download)
      assert.is_function(gl.npm_packages.metadata)
      assert.is_function(gl.npm_packages.dist_tags)
      raw_reaches("PUT", "/packages/npm/my-pkg", 405)
      raw_reaches("GET", "/packages/npm/my-pkg/-/my-pkg-1.0.0.tgz", 404)
      sends("PUT /projects/1/packages/npm/my-pkg",
        function() return p.npm_packages:publish("my-pkg", { versions = {} }) end)
      assert.is_function(p.npm_packages.download)
    end)

    it("Maven uploads are project routes; the instance level downloads", function()
      assert.is_nil(gl.maven_packages.upload)
      assert.is_function(gl.maven_packages.download)
      raw_reaches("PUT", "/packages/maven/foo/bar/1.0/bar-1.0.pom", 405)
      local file = scratch .. "/bar-1.0.pom"
      helpers.write_file(file, "<project/>")
      -- path segments are encoded whole ("." too: core.encode), GitLab decodes them
      sends("PUT /projects/1/packages/maven/foo/bar/1%2E0/bar-1%2E0%2Epom",
        function() return p.maven_packages:upload("foo/bar/1.0", "bar-1.0.pom", { file = file }) end)
    end)
  end)

  describe("groups", function()
    it("group labels have no promote (group_labels.md)", function()
      local label = g.labels:lazy(7)
      assert.is_nil(label.promote)
      assert.is_function(p.labels:lazy(7).promote)
      raw_reaches("PUT", "/groups/1/labels/7/promote", 404)
      assert(g.labels:create{ name = "bug", color = "#FF0000" })
      sends("POST /groups/1/labels/bug/subscribe", function() return g.labels:lazy("bug"):subscribe() end)
    end)

    it("an epic's label events take the epic's global id (resource_label_events.md)", function()
      local epic = helpers.epic_apart(gl)
      local list = sends("GET /groups/1/epics/" .. int(epic.id) .. "/resource_label_events",
        function() return epic.resource_label_events:list():all() end)
      assert.same({}, list)
      local byid = g.epics_by_id:lazy(epic.id)
      list = sends("GET /groups/1/epics/" .. int(epic.id) .. "/resource_label_events",
        function() return byid.resource_label_events:list():all() end)
      assert.same({}, list)
      -- the iid reaches no epic of this group
      raw_reaches("GET", "/groups/1/epics/1/resource_label_events", 404)
    end)
  end)

  describe("routes GitLab does not serve are gone, the raw API still reaches them", function()
    it("pipeline trigger tokens cannot be taken over (pipeline_triggers.md)", function()
      assert.is_nil(p.triggers:lazy(1).take_ownership)
      raw_reaches("POST", "/projects/1/triggers/1/take_ownership", 404)
    end)

    it("product analytics funnels (product_analytics.md: load, dry-run, meta)", function()
      assert.is_nil(p.product_analytics.funnels)
      assert.is_function(p.product_analytics.meta)
      raw_reaches("GET", "/projects/1/product_analytics/funnels", 404)
    end)

    it("Geo: no failures of the current site (geo_sites.md)", function()
      assert.is_nil(gl.geo_sites.current_failures)
      assert.is_nil(gl.geo_nodes.current_failures)
      raw_reaches("GET", "/geo_sites/current/failures", 404)
      raw_reaches("GET", "/geo_nodes/current/failures", 404)
      assert.is_function(gl.geo_sites.all_status)
    end)

    it("Code Suggestions tokens (code_suggestions.md: completions, enabled, direct_access)", function()
      assert.is_nil(gl.code_suggestions_token)
      raw_reaches("POST", "/code_suggestions/tokens", 404)
      assert.is_function(gl.code_completions)
    end)
  end)

  describe("served but deprecated: kept, marked in docs/reference.md", function()
    local section = helpers.reference_section

    it("group labels by name (group_labels.md: \"still available, but deprecated\")", function()
      assert.matches("`update_by_name` and `delete_by_name` are deprecated",
        section("group.labels `/groups/:id/labels`"))
      sends("PUT /groups/1/labels",
        function() return g.labels:update_by_name{ name = "bug", new_name = "defect" } end)
      sends("DELETE /groups/1/labels", function() return g.labels:delete_by_name{ name = "defect" } end)
    end)

    it("LDAP group links deleted by path (group_ldap_links.md: \"Deprecated. Scheduled for removal\")", function()
      assert.matches("`delete%(cn%)` and `delete_for_provider` are deprecated",
        section("group.ldap_group_links `/groups/:id/ldap_group_links`"))
      sends("DELETE /groups/1/ldap_group_links",
        function() return g.ldap_group_links:delete_link{ provider = "ldapmain", cn = "devs" } end)
    end)

    it("Geo nodes (REST API deprecations: replaced by geo_sites)", function()
      assert.matches("Deprecated", section("gl.geo_nodes `/geo_nodes`"))
    end)

    it("instance templates (project_templates.md deprecates them for API v5)", function()
      for _, t in ipairs{ "dockerfile", "gitignore", "gitlab_ci_yml", "license" } do
        local path = "/templates/" .. t .. "s"
        assert.matches("Deprecated: project_templates.md", section("gl." .. t .. "_templates `" .. path .. "`"))
      end
      assert.not_matches("Deprecated", section("project.dockerfile_templates `/projects/:id/templates/dockerfiles`"))
    end)

    it("certificate-based clusters (project_clusters.md, group_clusters.md, instance_clusters.md)", function()
      assert.matches("Deprecated: certificate%-based", section("project.clusters `/projects/:id/clusters`"))
      assert.matches("Deprecated: certificate%-based", section("group.clusters `/groups/:id/clusters`"))
      assert.matches("Deprecated: certificate%-based", section("gl.instance_clusters `/admin/clusters`"))
    end)

    it("epics (epics.md: the Epics REST API is deprecated, for removal in v5)", function()
      assert.matches("Deprecated", section("group.epics `/groups/:id/epics`"))
      assert.matches("Deprecated", section("epic.issues `/groups/:id/epics/:iid/issues`"))
      assert.matches("Deprecated", section("epic.child_epics `/groups/:id/epics/:iid/epics`"))
      assert.matches("Deprecated", section("epic.related_epics `/groups/:id/epics/:iid/related_epics`"))
    end)
  end)
end)
