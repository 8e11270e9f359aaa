-- The root (what a client reaches: gl.projects, gl:markdown{...}) and
-- instance-wide resources (admin, settings, templates, geo, ...).

-- project_templates.md: "It deprecates these endpoints, which are scheduled
-- for removal in API version 5" (templates/dockerfiles.md, gitignores.md,
-- gitlab_ci_ymls.md, licenses.md)
local TEMPLATES_DEPRECATED = "Deprecated: project_templates.md deprecates the instance "
  .. "template endpoints (for removal in API v5); GitLab 18 still serves them. "
  .. "`project.dockerfile_templates` and the other project template managers replace them."

return {
  root = {
    path = "", single = true, ops = "",
    -- client methods: gl:<name>(params)
    actions = {
      avatar = "GET avatar",
      code_completions = "POST code_suggestions/completions",
      create_pipeline_dependency_list_export =
        "POST pipelines/:pipeline_id/dependency_list_exports kind=dependency_list_export",
      import_bitbucket = "POST import/bitbucket",
      import_bitbucket_server = "POST import/bitbucket_server",
      import_github = "POST import/github",
      import_github_cancel = "POST import/github/cancel",
      import_github_gists = "POST import/github/gists",
      issues_statistics = "GET issues_statistics",
      job = "GET job",
      job_allowed_agents = "GET job/allowed_agents",
      ldap_groups = "GET ldap/groups list",
      ldap_provider_groups = "GET ldap/:provider/groups list",
      markdown = "POST markdown",
      search = "GET search list",
      version = "GET version",
      metadata = "GET metadata",
      user_activities = "GET user/activities list",
      user_counts = "GET user_counts",
    },
    subs = {
      appearance = "appearance",
      applications = "application",
      audit_events = "audit_event",
      broadcast_messages = "broadcast_message",
      bulk_imports = "bulk_import",
      current_user = "current_user",
      dependency_list_exports = "dependency_list_export",
      deploy_keys = "deploy_key",
      deploy_tokens = { "deploy_token", ops = "L" },
      dockerfile_templates = { "template", path = "templates/dockerfiles", doc = TEMPLATES_DEPRECATED },
      events = "event",
      experiments = "experiment",
      features = "feature",
      -- REST API deprecations: "The geo_nodes API endpoints are deprecated and
      -- are replaced by geo_sites" (for API v5); GitLab 18 still serves them
      geo_nodes = { "geo_site", path = "geo_nodes",
                    doc = "Deprecated: GitLab's REST API deprecations replace the `geo_nodes` "
                      .. "endpoints with `geo_sites` (`gl.geo_sites`, geo_sites.md); GitLab 18 "
                      .. "still serves them." },
      geo_sites = "geo_site",
      gitignore_templates = { "template", path = "templates/gitignores", doc = TEMPLATES_DEPRECATED },
      gitlab_ci_yml_templates = { "template", path = "templates/gitlab_ci_ymls", doc = TEMPLATES_DEPRECATED },
      group_activity = "group_activity",
      group_repository_storage_moves = { "storage_move", path = "group_repository_storage_moves" },
      groups = "group",
      hooks = "system_hook",
      instance_clusters = "instance_cluster",
      instance_variables = { "variable", path = "admin/ci/variables" },
      issues = { "issue", ops = "LG" },
      keys = "key",
      license = "license",
      license_templates = { "template", path = "templates/licenses", doc = TEMPLATES_DEPRECATED },
      licenses = { "license", path = "licenses", ops = "L", bare = true },
      member_roles = "member_role",
      merge_requests = { "merge_request", ops = "L" },
      namespaces = "namespace",
      notification_settings = "notification_settings",
      pages_domains = { "pages_domain", ops = "L" },
      personal_access_tokens = "personal_access_token",
      plan_limits = "plan_limits",
      project_aliases = "project_alias",
      project_repository_storage_moves = { "storage_move", path = "project_repository_storage_moves" },
      projects = "project",
      -- container_registry.md: read here, deleted under the project only
      registry_repositories = { "registry_repository", ops = "G", bare = true,
                                doc = "One repository by id (container_registry.md). GitLab deletes "
                                  .. "it under its project only: "
                                  .. "`gl.projects:lazy(repo.project_id).registry_repositories:delete(repo.id)`." },
      runners = { "runner",
                  collection = {
                    list_all = "GET all list",
                    delete_by_token = "DELETE .",
                    reset_registration_token = "POST reset_registration_token",
                    -- runners.md: by the runner's current token (`runner:` by its id)
                    reset_authentication_token = "POST reset_authentication_token",
                    verify = "POST verify",
                  } },
      search_migrations = "search_migration",
      -- instance accounts: list, create, PATCH (no delete, no tokens here:
      -- service_accounts.md sends those to the users and personal access
      -- tokens APIs, gl.users:lazy(id).personal_access_tokens:create)
      service_accounts = { "service_account", ops = "LCU", bare = true },
      settings = "application_settings",
      sidekiq = "sidekiq",
      sidekiq_queues = "sidekiq_queue",
      snippet_repository_storage_moves = { "storage_move", path = "snippet_repository_storage_moves" },
      snippets = "snippet",
      statistics = "application_statistics",
      suggestions = "suggestion",
      todos = "todo",
      topics = "topic",
      usage_data = "usage_data",
      users = "user",
      -- instance-level package registries
      conan_packages = { "conan_packages", path = "packages/conan/v1" },
      maven_packages = "instance_maven_packages",
      npm_packages = "instance_npm_packages",
    },
  },

  appearance = { path = "application/appearance", single = true, ops = "GU" },
  application_settings = { path = "application/settings", single = true, ops = "GU" },
  application_statistics = { path = "application/statistics", single = true, ops = "G" },
  plan_limits = { path = "application/plan_limits", single = true, ops = "GU" },

  application = { path = "applications", ops = "LCD" },

  broadcast_message = { path = "broadcast_messages", ops = "LGCUD" },

  bulk_import = {
    path = "bulk_imports", ops = "LGC",
    collection = { entities = "GET entities list" },
    subs = { entities = "bulk_import_entity" },
  },
  bulk_import_entity = { path = "entities", ops = "LG" },

  -- gl.deploy_keys:create{ title =, key = } adds an instance deploy key (admin)
  deploy_key = { path = "deploy_keys", ops = "LC" },

  -- dependency_list_export.md: made by project/group/gl actions
  -- (create_dependency_list_export), read and downloaded here
  dependency_list_export = {
    path = "dependency_list_exports", ops = "G", home = "/dependency_list_exports",
    doc = "`gl.dependency_list_exports:get(id)` answers 202 while the export is being made; "
      .. "`export:download{ output = \"sbom.json\" }` once `has_finished`.",
    actions = { download = "GET download download" },
  },

  experiment = { path = "experiments", ops = "L" },

  -- gl.features:create{ name = "x", value = true } sets a feature flag
  feature = {
    path = "features", id = "name", ops = "LCD", create_in_path = true,
    doc = "`gl.features:create{ name = \"x\", value = true }` sets a feature flag.",
  },

  -- geo_sites.md: sites, their repair and status; the project sync
  -- failures of the current site (GET .../current/failures) are gone
  geo_site = {
    path = "geo_sites", ops = "LGCUD",
    actions = {
      repair = "POST repair",
      status = "GET status",
    },
    collection = {
      all_status = "GET status list",
    },
  },

  group_activity = {
    path = "analytics/group_activity", single = true, ops = "",
    actions = {
      issues_count = "GET issues_count",
      merge_requests_count = "GET merge_requests_count",
      new_members_count = "GET new_members_count",
    },
  },

  storage_move = { path = "project_repository_storage_moves", ops = "LGC" },

  system_hook = {
    path = "hooks", ops = "LGCD",
    actions = { test = "POST ." },
  },

  -- instance_clusters.md: certificate-based, deprecated in GitLab 14.5
  instance_cluster = {
    path = "admin/clusters", ops = "LGUD",
    doc = "Deprecated: certificate-based clusters were deprecated in GitLab 14.5 "
      .. "(instance_clusters.md); GitLab 18 still serves them.",
    collection = { add = "POST add" },
  },

  -- gl.keys:get(id); gl.keys:find{ fingerprint = } finds a key's user
  key = {
    path = "keys", ops = "G",
    doc = "`gl.keys:get(id)`; `gl.keys:find{ fingerprint = }` finds a key and its user.",
    collection = { find = "GET ." },
  },

  -- gl.license:current(), gl.license:create{ license = }
  license = {
    path = "license", ops = "CD",
    doc = "`gl.license:current()`, `gl.license:create{ license = }`.",
    collection = { current = "GET ." },
    actions = { refresh_billable_users = "PUT refresh_billable_users" },
  },

  namespace = {
    path = "namespaces", ops = "LG",
    actions = { exists = "GET exists" },
  },

  project_alias = { path = "project_aliases", id = "name", ops = "LGCD" },

  search_migration = { path = "admin/search/migrations", id = "version", ops = "LG" },

  sidekiq = {
    path = "sidekiq", single = true, ops = "",
    actions = {
      queue_metrics = "GET queue_metrics",
      process_metrics = "GET process_metrics",
      job_stats = "GET job_stats",
      compound_metrics = "GET compound_metrics",
    },
  },

  -- gl.sidekiq_queues:delete("default", { user = "root" }) drops its jobs
  sidekiq_queue = {
    path = "admin/sidekiq/queues", id = "name", ops = "D",
    doc = "`gl.sidekiq_queues:delete(\"default\", { user = \"root\" })` drops matching jobs.",
  },

  snippet = {
    path = "snippets", ops = "LGCUD",
    subs = { repository_storage_moves = { "storage_move", path = "repository_storage_moves" } },
    actions = {
      raw = "GET raw download",
      -- snippets.md: file_path is one URL-encoded segment (`snippet%2Erb`);
      -- lib/api/snippets.rb refuses a path with slashes
      file_raw = "GET files/:ref/:file_path/raw download",
      user_agent_detail = "GET user_agent_detail",
    },
    collection = {
      public = "GET public list=snippet",
      all = "GET all list=snippet",
    },
  },

  -- gl.suggestions:lazy(id):apply(); gl.suggestions:batch_apply{ ids = {..} }
  suggestion = {
    path = "suggestions", ops = "",
    doc = "`gl.suggestions:lazy(id):apply()`, `gl.suggestions:batch_apply{ ids = { ... } }`.",
    actions = { apply = "PUT apply" },
    collection = { batch_apply = "PUT batch_apply" },
  },

  template = { path = "templates", id = "key", ops = "LG" },

  -- todos.md: list, mark one done, mark all done (no delete)
  todo = {
    path = "todos", ops = "L",
    actions = { mark_as_done = "POST mark_as_done self" },
    collection = { mark_all_as_done = "POST mark_as_done" },
  },

  topic = {
    path = "topics", ops = "LGCUD",
    collection = { merge = "POST merge" },
  },

  usage_data = {
    path = "usage_data", single = true, ops = "",
    actions = {
      metric_definitions = "GET metric_definitions raw",
      non_sql_metrics = "GET non_sql_metrics",
      queries = "GET queries",
    },
  },
}
