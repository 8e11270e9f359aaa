-- Projects and what hangs under them (issues, merge requests, settings...).
-- Repository and CI/CD kinds live in repository.lua and ci.lua.
return {
  project = {
    path = "projects", ops = "LGCUD", home = "/projects",
    collection = {
      import = "POST import upload",
      remote_import = "POST remote-import",
      remote_import_s3 = "POST remote-import-s3",
      create_for_user = "POST user/:user_id kind=project",
    },
    actions = {
      archive = "POST archive self",
      unarchive = "POST unarchive self",
      star = "POST star self",
      unstar = "POST unstar self",
      restore = "POST restore self",
      transfer = "PUT transfer self",
      transfer_locations = "GET transfer_locations list",
      fork = "POST fork kind=project",
      forks = "GET forks list=project",
      create_fork_relation = "POST fork/:forked_from_id",
      delete_fork_relation = "DELETE fork",
      share = "POST share",
      unshare = "DELETE share/:group_id",
      share_locations = "GET share_locations list",
      housekeeping = "POST housekeeping",
      languages = "GET languages",
      statistics = "GET statistics",
      storage = "GET storage",
      snapshot = "GET snapshot download",
      -- projects.md "Real-time security scan" (Ultimate, experiment): the
      -- SAST findings of one file, { file_path =, content = }
      sast_scan = "POST security_scans/sast/scan",
      users = "GET users list",
      groups = "GET groups list",
      invited_groups = "GET invited_groups list=group",
      starrers = "GET starrers list",
      search = "GET search list",
      upload = "POST uploads upload",
      -- doc/api/projects.md "Download a project avatar"
      avatar = "GET avatar download",
      export = "POST export",
      export_status = "GET export",
      export_download = "GET export/download download",
      export_relations = "POST export_relations",
      export_relations_status = "GET export_relations/status",
      export_relations_download = "GET export_relations/download download",
      import_status = "GET import",
      import_project_members = "POST import_project_members/:project_id",
      pull_mirror = "POST mirror/pull",
      pull_mirror_details = "GET mirror/pull",
      configure_pull_mirror = "PUT mirror/pull",
      pages = "GET pages",
      update_pages = "PATCH pages",
      unpublish_pages = "DELETE pages",
      delete_artifacts = "DELETE artifacts",
      dora_metrics = "GET dora/metrics",
      create_dependency_list_export = "POST dependency_list_exports kind=dependency_list_export",
      issues_statistics = "GET issues_statistics",
      templates = "GET templates/:type list",
      template = "GET templates/:type/:name",
      set_commit_status = "POST statuses/:sha",
      trigger_pipeline = "POST trigger/pipeline kind=pipeline",
    },
    subs = {
      access_requests = "access_request",
      access_tokens = "access_token",
      alert_management_alerts = "alert",
      approval_rules = "approval_rule",
      approvals = "project_approvals",
      audit_events = "audit_event",
      badges = "badge",
      boards = "board",
      ci_lint = "ci_lint",
      cluster_agents = "cluster_agent",
      clusters = "cluster",
      custom_attributes = "custom_attribute",
      deploy_keys = "project_deploy_key",
      deploy_tokens = "deploy_token",
      deployments = "deployment",
      dockerfile_templates = { "template", path = "templates/dockerfiles" },
      environments = "environment",
      error_tracking_client_keys = "error_tracking_client_key",
      error_tracking_settings = "error_tracking_settings",
      events = "event",
      external_status_checks = "external_status_check",
      feature_flags = "feature_flag",
      feature_flags_user_lists = "feature_flags_user_list",
      freeze_periods = "freeze_period",
      gitignore_templates = { "template", path = "templates/gitignores" },
      gitlab_ci_yml_templates = { "template", path = "templates/gitlab_ci_ymls" },
      hooks = "hook",
      integrations = "integration",
      invitations = "invitation",
      issue_templates = { "template", path = "templates/issues" },
      issues = "issue",
      iterations = "iteration",
      job_token_scope = "job_token_scope",
      jobs = "job",
      -- labels.md: the older endpoints with `name` in the parameters are
      -- "still available, but deprecated"; promote by name is project-only
      labels = { "label", collection = { promote_by_name = "PUT promote" },
                 doc = "`update_by_name`, `delete_by_name` and `promote_by_name` are deprecated: "
                   .. "labels.md keeps the older endpoints (`PUT`, `DELETE /projects/:id/labels`, "
                   .. "`PUT /projects/:id/labels/promote`, with `name` in the parameters) as still "
                   .. "available; use `label:save()`, `label:delete()` and `label:promote()`." },
      license_templates = { "template", path = "templates/licenses" },
      members = "member",
      members_all = { "member", path = "members/all", ops = "LG" },
      merge_request_templates = { "template", path = "templates/merge_requests" },
      merge_requests = "merge_request",
      merge_trains = "merge_train",
      milestones = "milestone",
      notification_settings = "notification_settings",
      package_protection_rules = "package_protection_rule",
      packages = "package",
      pages_domains = "pages_domain",
      pipeline_schedules = "pipeline_schedule",
      pipelines = "pipeline",
      product_analytics = "product_analytics",
      protected_branches = "protected_branch",
      protected_environments = "protected_environment",
      protected_tags = "protected_tag",
      push_rule = "push_rule",
      registry_protection_rules = "registry_protection_rule",
      registry_repositories = "registry_repository",
      releases = "release",
      remote_mirrors = "remote_mirror",
      repository = "repository",
      resource_groups = "resource_group",
      runners = { "runner", ops = "LCD", bare = true,
                  collection = { reset_registration_token = "POST reset_registration_token" } },
      secure_files = "secure_file",
      service_accounts = "service_account",
      -- integrations.md documents only /integrations; GitLab keeps /services
      -- as an API v4 alias (lib/api/integrations.rb), so it stays, marked
      services = { "integration", path = "services",
                   doc = "Deprecated alias: GitLab's docs (integrations.md) name only "
                     .. "`/projects/:id/integrations` (`project.integrations`); GitLab 18 still "
                     .. "serves `/services` for API v4 compatibility." },
      snippets = "project_snippet",
      terraform_states = "terraform_state",
      triggers = "trigger",
      uploads = "upload",
      variables = "variable",
      vulnerabilities = "vulnerability",
      wikis = "wiki",
      -- package registries speaking each package manager's protocol
      composer_packages = "composer_packages",
      conan_packages = "conan_packages",
      debian_packages = "debian_packages",
      generic_packages = "generic_packages",
      go_proxy = "go_proxy",
      helm_packages = "helm_packages",
      maven_packages = "maven_packages",
      npm_packages = "npm_packages",
      nuget_packages = "nuget_packages",
      pypi_packages = "pypi_packages",
      rubygems_packages = "rubygems_packages",
    },
    aliases = {
      branches = "repository.branches",
      tags = "repository.tags",
      commits = "repository.commits",
      repository_files = "repository.files",
      files = "repository.files",
    },
  },

  issue = {
    path = "issues", id = "iid", ops = "LGCUD",
    doc = "Addressed by `iid`. A loaded issue has a `time_stats` field: the method is "
      .. "`issue:call(\"time_stats\")`. Close with `issue.state_event = \"close\"; issue:save()`.",
    home = "/projects/{project_id}/issues",
    actions = {
      move = "POST move kind=issue",
      clone = "POST clone kind=issue",
      reorder = "PUT reorder",
      subscribe = "POST subscribe self",
      unsubscribe = "POST unsubscribe self",
      todo = "POST todo",
      time_estimate = "POST time_estimate",
      reset_time_estimate = "POST reset_time_estimate",
      add_spent_time = "POST add_spent_time",
      reset_spent_time = "POST reset_spent_time",
      time_stats = "GET time_stats",
      closed_by = "GET closed_by list=merge_request",
      participants = "GET participants list",
      related_merge_requests = "GET related_merge_requests list=merge_request",
      user_agent_detail = "GET user_agent_detail",
    },
    subs = {
      award_emoji = "award_emoji",
      discussions = "discussion",
      links = "issue_link",
      metric_images = "metric_image",
      notes = "note",
      resource_iteration_events = "resource_iteration_event",
      resource_label_events = "resource_label_event",
      resource_milestone_events = "resource_milestone_event",
      resource_state_events = "resource_state_event",
      resource_weight_events = "resource_weight_event",
    },
  },

  issue_link = { path = "links", id = "issue_link_id", ops = "LGCD" },

  metric_image = { path = "metric_images", ops = "LCUD", create_upload = true },

  -- alerts are reached lazily: project.alert_management_alerts:lazy(iid)
  alert = {
    path = "alert_management_alerts", id = "iid", ops = "",
    doc = "Reached lazily: `project.alert_management_alerts:lazy(iid).metric_images:list()`.",
    subs = { metric_images = "metric_image" },
  },

  merge_request = {
    path = "merge_requests", id = "iid", ops = "LGCUD",
    doc = "Addressed by `iid`. `changes` is deprecated: merge_requests.md deprecated "
      .. "GET .../changes in GitLab 15.7 (for removal in API v5); use `diffs`.",
    home = "/projects/{project_id}/merge_requests",
    actions = {
      merge = "PUT merge self",
      approve = "POST approve",
      unapprove = "POST unapprove",
      reset_approvals = "PUT reset_approvals",
      approval_state = "GET approval_state",
      approvals = "GET approvals",
      rebase = "PUT rebase",
      cancel_merge_when_pipeline_succeeds = "POST cancel_merge_when_pipeline_succeeds self",
      merge_ref = "GET merge_ref",
      changes = "GET changes",
      diffs = "GET diffs list",
      commits = "GET commits list",
      closes_issues = "GET closes_issues list=issue",
      related_issues = "GET related_issues list=issue",
      participants = "GET participants list",
      -- merge_requests.md: an array of { user, state }, paginated as GitLab does
      reviewers = "GET reviewers list",
      -- merge_requests.md "Show merge request raw diffs": a diff, not JSON
      raw_diffs = "GET raw_diffs download",
      -- merge_requests.md "Get merge request blocked MRs"
      blockees = "GET blockees list",
      status_checks = "GET status_checks list",
      set_status_check_response = "POST status_check_responses",
      retry_status_check = "POST status_checks/:status_check_id/retry",
      subscribe = "POST subscribe self",
      unsubscribe = "POST unsubscribe self",
      todo = "POST todo",
      time_estimate = "POST time_estimate",
      reset_time_estimate = "POST reset_time_estimate",
      add_spent_time = "POST add_spent_time",
      reset_spent_time = "POST reset_spent_time",
      time_stats = "GET time_stats",
    },
    subs = {
      approval_rules = "approval_rule",
      award_emoji = "award_emoji",
      blocks = "merge_request_dependency",
      context_commits = "context_commit",
      discussions = { "discussion", ops = "LGCU" },
      draft_notes = "draft_note",
      notes = "note",
      pipelines = { "pipeline", ops = "LC", create_path = false },
      resource_label_events = "resource_label_event",
      resource_milestone_events = "resource_milestone_event",
      resource_state_events = "resource_state_event",
      versions = "merge_request_version",
    },
  },

  merge_request_version = { path = "versions", ops = "LG" },

  -- merge_requests.md: the merge requests that block this one (list,
  -- create with `blocking_merge_request_id`, delete by :block_id)
  merge_request_dependency = {
    path = "blocks", ops = "LCD",
    doc = "`merge_request.blocks:create{ blocking_merge_request_id = other.id }` (the global id); "
      .. "`merge_request:blockees()` lists the merge requests this one blocks.",
  },

  context_commit = {
    path = "context_commits", ops = "LC",
    collection = { delete_commits = "DELETE ." },
  },

  draft_note = {
    path = "draft_notes", ops = "LGCUD",
    actions = { publish = "PUT publish" },
    collection = { bulk_publish = "POST bulk_publish" },
  },

  approval_rule = { path = "approval_rules", ops = "LGCUD" },

  -- project-level approval configuration (`POST` updates it)
  project_approvals = {
    path = "approvals", single = true, ops = "GU", update_method = "POST",
    doc = "Project approval configuration; `save()` and `update` use POST as GitLab does.",
  },

  -- merge_trains.md; for_branch lists the cars of one target branch
  merge_train = {
    path = "merge_trains", ops = "L",
    collection = {
      for_branch = "GET :target_branch list",
      merge_request_status = "GET merge_requests/:merge_request_iid",
      add_merge_request = "POST merge_requests/:merge_request_iid",
    },
  },

  project_deploy_key = {
    path = "deploy_keys", ops = "LGCUD",
    actions = { enable = "POST enable" },
  },

  deployment = {
    path = "deployments", ops = "LGCUD",
    actions = {
      approval = "POST approval",
      merge_requests = "GET merge_requests list=merge_request",
    },
  },

  environment = {
    path = "environments", ops = "LGCUD",
    actions = { stop = "POST stop self" },
    collection = {
      delete_review_apps = "DELETE review_apps",
      stop_stale = "POST stop_stale",
    },
  },

  error_tracking_client_key = { path = "error_tracking/client_keys", ops = "LCD" },

  error_tracking_settings = {
    path = "error_tracking/settings", single = true, ops = "GU", update_method = "PATCH",
    actions = { enable = "PUT ." },
  },

  external_status_check = { path = "external_status_checks", ops = "LCUD" },

  feature_flag = { path = "feature_flags", id = "name", ops = "LGCUD" },

  feature_flags_user_list = { path = "feature_flags_user_lists", id = "iid", ops = "LGCUD" },

  freeze_period = { path = "freeze_periods", ops = "LGCUD" },

  integration = { path = "integrations", id = "slug", ops = "LGUD" },

  job_token_scope = {
    path = "job_token_scope", single = true, ops = "GU", update_method = "PATCH",
    subs = {
      allowlist = { "job_token_scope_entry", path = "allowlist" },
      groups_allowlist = { "job_token_scope_entry", path = "groups_allowlist" },
    },
  },
  job_token_scope_entry = { path = "allowlist", ops = "LCD" },

  -- packages.md: a group lists its projects' packages (with project_id);
  -- each is read and deleted under its project only
  package = {
    path = "packages", ops = "LGD",
    home = "/projects/{project_id}/packages",
    actions = { pipelines = "GET pipelines list" },
    subs = { package_files = "package_file" },
  },

  -- project_packages_protection_rules.md: updated with PATCH
  package_protection_rule = {
    path = "packages/protection/rules", ops = "LCUD", update_method = "PATCH",
  },
  package_file = { path = "package_files", ops = "LD" },

  pages_domain = { path = "pages/domains", id = "domain", ops = "LGCUD" },

  -- product_analytics.md: Cube queries (load, dry-run) and metadata; the
  -- funnels list was removed (funnels are read from ClickHouse)
  product_analytics = {
    path = "product_analytics", single = true, ops = "",
    actions = {
      dry_run = "POST request/dry-run",
      load = "POST request/load",
      meta = "GET request/meta",
    },
  },

  protected_branch = { path = "protected_branches", id = "name", ops = "LGCUD", update_method = "PATCH" },

  protected_tag = { path = "protected_tags", id = "name", ops = "LGCD" },

  -- container_repository_protection_rules.md: updated with PATCH
  registry_protection_rule = {
    path = "registry/protection/repository/rules", ops = "LCUD", update_method = "PATCH",
  },

  -- container_registry.md: a project lists and deletes its repositories;
  -- one repository is read at GET /registry/repositories/:id (gl.registry_repositories)
  registry_repository = {
    path = "registry/repositories", ops = "LD",
    subs = { tags = "registry_tag" },
  },
  registry_tag = {
    path = "tags", id = "name", ops = "LGD",
    collection = { delete_in_bulk = "DELETE ." },
  },

  release = {
    path = "releases", id = "tag_name", ops = "LGCUD",
    actions = {
      create_evidence = "POST evidence",
      download_asset = "GET downloads/*asset_path download",
    },
    collection = {
      latest = "GET permalink/latest kind=release",
      latest_evidence = "GET permalink/latest/evidence",
      latest_download_asset = "GET permalink/latest/downloads/*asset_path download",
    },
    subs = { links = "release_link" },
  },
  release_link = { path = "assets/links", ops = "LGCUD" },

  remote_mirror = {
    path = "remote_mirrors", ops = "LGCUD",
    actions = { sync = "POST sync" },
  },

  resource_group = {
    path = "resource_groups", id = "key", ops = "LGU",
    actions = { upcoming_jobs = "GET upcoming_jobs list=job" },
  },

  secure_file = {
    path = "secure_files", ops = "LGCD", create_upload = true,
    actions = { download = "GET download download" },
  },

  project_snippet = {
    path = "snippets", ops = "LGCUD",
    actions = {
      raw = "GET raw download",
      -- project_snippets.md: file_path is one URL-encoded segment
      file_raw = "GET files/:ref/:file_path/raw download",
      user_agent_detail = "GET user_agent_detail",
    },
    subs = {
      award_emoji = "award_emoji",
      discussions = "discussion",
      notes = "note",
    },
  },

  terraform_state = {
    path = "terraform/state", id = "name", ops = "GCD", create_in_path = true,
    doc = "The Terraform HTTP backend (user/infrastructure/iac/terraform_state.md): `get` reads "
      .. "the state file, which doc/api does not list; GitLab 18 serves it for Terraform.",
    actions = { unlock = "DELETE lock" },
    subs = { versions = "terraform_state_version" },
  },
  terraform_state_version = {
    path = "versions", id = "serial", ops = "GD",
    actions = { download = "GET . download" },
  },

  vulnerability = { path = "vulnerabilities", ops = "LC" },
}
