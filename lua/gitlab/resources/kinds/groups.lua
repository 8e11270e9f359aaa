-- Groups, epics and group-only resources.
return {
  group = {
    path = "groups", ops = "LGCUD", home = "/groups",
    collection = { import = "POST import upload" },
    actions = {
      subgroups = "GET subgroups list=group",
      descendant_groups = "GET descendant_groups list=group",
      projects = "GET projects list=project",
      shared_projects = "GET projects/shared list=project",
      transfer_project = "POST projects/:project_id",
      transfer = "POST transfer self",
      transfer_locations = "GET transfer_locations list=group",
      share = "POST share",
      unshare = "DELETE share/:group_id",
      -- groups.md "List shared groups" (the groups this one was invited
      -- to) and "List invited groups" (the groups invited to this one)
      shared_groups = "GET groups/shared list=group",
      invited_groups = "GET invited_groups list=group",
      restore = "POST restore self",
      -- groups.md "Archive a group", "Unarchive a group" (GitLab 18.0,
      -- experiment behind the archive_group flag): both answer the group
      archive = "POST archive self",
      unarchive = "POST unarchive self",
      -- groups.md "Revoke a token" (top-level groups): { token = }
      revoke_token = "POST tokens/revoke",
      search = "GET search list",
      issues_statistics = "GET issues_statistics",
      ldap_sync = "POST ldap_sync",
      export = "POST export",
      export_download = "GET export/download download",
      export_relations = "POST export_relations",
      export_relations_status = "GET export_relations/status",
      export_relations_download = "GET export_relations/download download",
      avatar = "GET avatar download",
      purge_dependency_proxy = "DELETE dependency_proxy/cache",
      dora_metrics = "GET dora/metrics",
      create_dependency_list_export = "POST dependency_list_exports kind=dependency_list_export",
      provisioned_users = "GET provisioned_users list=user",
      -- groups.md "List all SAML users" (top-level groups, GitLab 18.1)
      saml_users = "GET saml_users list=user",
      saml_identities = "GET saml/identities list",
      update_saml_identity = "PATCH saml/:identity_id",
      scim_identities = "GET scim/identities list",
      update_scim_identity = "PATCH scim/:identity_id",
    },
    subs = {
      access_requests = "access_request",
      access_tokens = "access_token",
      -- merge_request_approvals.md, "Approval rules for groups": list,
      -- create and update only (no single get, no delete)
      approval_rules = { "approval_rule", ops = "LCU" },
      audit_events = "audit_event",
      badges = "badge",
      billable_members = "billable_member",
      boards = "board",
      clusters = "cluster",
      custom_attributes = "custom_attribute",
      deploy_tokens = "deploy_token",
      epic_boards = "epic_board",
      epics = "epic",
      epics_by_id = "epic_by_id",
      hooks = "hook",
      invitations = "invitation",
      issues = { "issue", ops = "L" },
      iterations = "iteration",
      labels = "group_label",
      ldap_group_links = "ldap_group_link",
      member_roles = "member_role",
      members = "group_member",
      members_all = { "member", path = "members/all", ops = "LG" },
      merge_requests = { "merge_request", ops = "L" },
      milestones = "group_milestone",
      notification_settings = "notification_settings",
      packages = { "package", ops = "L", bare = true,
                   doc = "The packages of the group's projects (packages.md): an item's "
                     .. "`delete()` goes to `/projects/:project_id/packages/:id`; for its files and "
                     .. "pipelines use `gl.projects:lazy(pkg.project_id).packages`." },
      pending_members = { "member", path = "pending_members", ops = "L" },
      protected_branches = "protected_branch",
      protected_environments = "protected_environment",
      push_rule = "push_rule",
      -- container_registry.md: the repositories of the group's projects,
      -- each deleted under its project (project_id). The home is this
      -- placement's only: one repository is read at /registry/repositories/:id
      -- (gl.registry_repositories), which a kind-wide home would leave
      registry_repositories = { "registry_repository", ops = "L", bare = true,
                                home = "/projects/{project_id}/registry/repositories",
                                doc = "The repositories of the group's projects (container_registry.md): "
                                  .. "an item's `delete()` goes to "
                                  .. "`/projects/:project_id/registry/repositories/:id`." },
      releases = { "release", ops = "L", bare = true },
      runners = { "runner", ops = "L", bare = true,
                  collection = { reset_registration_token = "POST reset_registration_token" } },
      saml_group_links = "saml_group_link",
      service_accounts = "service_account",
      ssh_certificates = "ssh_certificate",
      uploads = "upload",
      variables = "variable",
      wikis = "wiki",
      composer_packages = "group_composer_packages",
      debian_packages = "group_debian_packages",
      maven_packages = "group_maven_packages",
      nuget_packages = "group_nuget_packages",
      pypi_packages = "group_pypi_packages",
    },
  },

  billable_member = {
    path = "billable_members", ops = "LD",
    actions = {
      memberships = "GET memberships list",
      indirect = "GET indirect list",
    },
  },

  epic_board = {
    path = "epic_boards", ops = "LG",
    subs = { lists = { "board_list", ops = "LG" } },
  },

  -- epics.md (and epic_issues.md, epic_links.md, linked_epics.md): "The
  -- Epics REST API was deprecated in GitLab 17.0 and is planned for removal
  -- in v5 of the API"; GitLab 18 still serves it (the Work Items API is the
  -- replacement). notes.md: "The epics notes API uses the epic ID instead
  -- of epic IID"; discussions.md and resource_label_events.md take
  -- :epic_id too: those hang under the epic's `id` (via), the rest under
  -- its iid
  epic = {
    path = "epics", id = "iid", ops = "LGCUD",
    doc = "Deprecated: epics.md deprecates the Epics REST API (GitLab 17.0, for removal in API v5; "
      .. "the Work Items API replaces it); GitLab 18 still serves it. Addressed by `iid`. "
      .. "`epic.notes`, `epic.discussions` and `epic.resource_label_events` address the epic by its "
      .. "global `id` (notes.md, discussions.md, resource_label_events.md), so the epic must be "
      .. "loaded (`get`, `list`); from the id alone: `group.epics_by_id:lazy(id).notes`.",
    actions = { todo = "POST todo" },
    subs = {
      award_emoji = "award_emoji",
      child_epics = "child_epic",
      discussions = { "discussion", via = "id" },
      issues = "epic_issue",
      notes = { "note", via = "id" },
      related_epics = "related_epic",
      resource_label_events = { "resource_label_event", via = "id" },
    },
  },

  -- notes.md: "The epics notes API uses the epic ID instead of epic IID";
  -- discussions.md takes :epic_id too, and resource_label_events.md
  -- ("`epic_id` ... The ID of an epic"). group.epics_by_id:lazy(epic.id)
  epic_by_id = {
    path = "epics", ops = "",
    doc = "An epic addressed by its global `id`, as the notes, discussions and resource label "
      .. "events APIs take it: `group.epics_by_id:lazy(epic.id).notes:list()` (an `iid` there "
      .. "reaches the wrong epic). Deprecated with the Epics REST API (epics.md).",
    subs = {
      discussions = "discussion",
      notes = "note",
      resource_label_events = "resource_label_event",
    },
  },

  -- epic_issues.md: list, assign (POST .../issues/:issue_id, the issue's
  -- global id), then reorder (PUT, answered with the epic's issues) and
  -- remove (DELETE) by :epic_issue_id, the association id listed issues carry
  epic_issue = {
    path = "issues", id = "epic_issue_id", ops = "LD",
    doc = "Deprecated with the Epics REST API (epic_issues.md). "
      .. "`epic.issues:assign(42)` assigns issue 42 (its global id); listed issues carry "
      .. "`epic_issue_id`, which `item:move{ move_before_id = }` (answers the reordered "
      .. "issues) and `item:delete()` address.",
    actions = { move = "PUT ." },
    collection = { assign = "POST :issue_id" },
  },

  -- child epics (GitLab's "epic links"): create makes a new child epic,
  -- assign(child_epic_id) links an existing one, update re-orders it
  child_epic = {
    path = "epics", ops = "LCUD",
    doc = "Deprecated with the Epics REST API (epic_links.md). GitLab's epic links: "
      .. "`create` makes a new child epic, `assign(child_epic_id)` links an existing one, "
      .. "`update` re-orders, `delete` unassigns.",
    collection = { assign = "POST :child_epic_id" },
  },

  related_epic = {
    path = "related_epics", id = "related_epic_link_id", ops = "LCD",
    doc = "Deprecated with the Epics REST API (linked_epics.md).",
  },

  -- group_ldap_links.md: "Delete an LDAP group link (deprecated)": DELETE
  -- .../ldap_group_links/:cn and .../:provider/:cn are "Deprecated. Scheduled
  -- for removal in a future release"; DELETE .../ldap_group_links with `cn`
  -- or `filter` (and `provider`) replaces them
  ldap_group_link = {
    path = "ldap_group_links", id = "cn", ops = "LCD",
    doc = "`delete(cn)` and `delete_for_provider` are deprecated: group_ldap_links.md schedules "
      .. "`DELETE .../ldap_group_links/:cn` and `.../:provider/:cn` for removal; use "
      .. "`delete_link{ provider =, cn = }` (or `filter =`), `DELETE /groups/:id/ldap_group_links`.",
    collection = {
      delete_link = "DELETE .",
      delete_for_provider = "DELETE :provider/:cn",
    },
  },

  -- group_labels.md: like project labels, without promote (promoting makes
  -- a project label a group label); PUT and DELETE /groups/:id/labels with
  -- `name` in the parameters are "still available, but deprecated"
  group_label = {
    path = "labels", ops = "LGCUD",
    doc = "`update_by_name` and `delete_by_name` are deprecated: group_labels.md keeps "
      .. "`PUT`/`DELETE /groups/:id/labels` (with `name`) \"still available, but deprecated\"; "
      .. "address a label by id or title instead (`update`, `delete`).",
    actions = {
      subscribe = "POST subscribe self",
      unsubscribe = "POST unsubscribe self",
    },
    collection = {
      update_by_name = "PUT .",
      delete_by_name = "DELETE .",
    },
  },

  -- group_milestones.md: like project milestones, without promote
  group_milestone = {
    path = "milestones", ops = "LGCUD",
    actions = {
      issues = "GET issues list=issue",
      merge_requests = "GET merge_requests list=merge_request",
      burndown_events = "GET burndown_events list",
    },
  },

  member_role = { path = "member_roles", ops = "LCD" },

  saml_group_link = { path = "saml_group_links", id = "name", ops = "LGCD" },

  -- service_accounts.md: group and project accounts are listed, created,
  -- updated with PATCH and deleted (hard_delete = true in the params), and
  -- hold personal access tokens; gl.service_accounts (instance) has no
  -- delete and no tokens of its own there (see the root placement)
  service_account = {
    path = "service_accounts", ops = "LCUD", update_method = "PATCH",
    doc = "Updated with PATCH. `delete(id, { hard_delete = true })` also removes contributions.",
    subs = { personal_access_tokens = "service_account_token" },
  },
  service_account_token = {
    path = "personal_access_tokens", ops = "LCD",
    actions = { rotate = "POST rotate" },
  },

  -- group_ssh_certificates.md (top-level groups only)
  ssh_certificate = { path = "ssh_certificates", ops = "LCD" },
}
