-- Kinds shared by projects, groups, users and the instance.
return {
  award_emoji = { path = "award_emoji", ops = "LGCD" },

  note = {
    path = "notes", ops = "LGCUD",
    subs = { award_emoji = "award_emoji" },
  },

  discussion = {
    path = "discussions", ops = "LGC",
    subs = { notes = "discussion_note" },
  },

  -- notes inside a discussion: no list of their own (the discussion has them);
  -- discussions.md documents POST, PUT and DELETE only; GitLab serves GET too
  discussion_note = {
    path = "notes", ops = "GCUD",
    doc = "`get` is deprecated here: discussions.md documents only adding (POST), "
      .. "editing (PUT) and deleting a thread's notes; GitLab 18 still serves GET. "
      .. "A thread's notes come with the discussion (`discussions:get(id)`).",
  },

  resource_label_event = { path = "resource_label_events", ops = "LG" },
  resource_milestone_event = { path = "resource_milestone_events", ops = "LG" },
  resource_state_event = { path = "resource_state_events", ops = "LG" },
  resource_iteration_event = { path = "resource_iteration_events", ops = "LG" },
  resource_weight_event = { path = "resource_weight_events", ops = "LG" },

  custom_attribute = { path = "custom_attributes", id = "key", ops = "LGUD" },

  badge = {
    path = "badges", ops = "LGCUD",
    collection = { render = "GET render" },
  },

  board = {
    path = "boards", ops = "LGCUD",
    subs = { lists = "board_list" },
  },
  board_list = { path = "lists", ops = "LGCUD" },

  -- project and group webhooks (project_webhooks.md, group_webhooks.md);
  -- header and URL variable values are write-only
  hook = {
    path = "hooks", ops = "LGCUD",
    actions = {
      test = "POST test/:trigger",
      set_custom_header = "PUT custom_headers/:key",
      delete_custom_header = "DELETE custom_headers/:key",
      set_url_variable = "PUT url_variables/:key",
      delete_url_variable = "DELETE url_variables/:key",
    },
    subs = { events = "hook_event" },
  },

  -- the delivery log of a project or group webhook (the past 7 days):
  -- project_webhooks.md, group_webhooks.md "Get a list of ... webhook events",
  -- "Resend a ... webhook event"
  hook_event = {
    path = "events", ops = "L",
    doc = "A webhook's deliveries of the past 7 days: `hook.events:list{ status = \"server_failure\" }`, "
      .. "`event:resend()`.",
    actions = { resend = "POST resend" },
  },

  member = { path = "members", ops = "LGCUD" },

  -- group members also know approvals (user caps), LDAP overrides and
-- their membership state (members.md)
  group_member = {
    path = "members", ops = "LGCUD",
    actions = {
      approve = "PUT approve",
      override = "POST override",
      remove_override = "DELETE override",
      set_state = "PUT state",
    },
    collection = { approve_all = "POST approve_all" },
  },

  access_request = {
    path = "access_requests", ops = "LCD",
    actions = { approve = "PUT approve" },
  },

  access_token = {
    path = "access_tokens", ops = "LGCD",
    actions = { rotate = "POST rotate" },
  },

  -- invitations.md: list, add, update and delete (no single get)
  -- invitations.md: the list answers `invite_email`; PUT and DELETE take it
  invitation = { path = "invitations", id = "invite_email", ops = "LCUD" },

  deploy_token = { path = "deploy_tokens", ops = "LGCD" },

  variable = { path = "variables", id = "key", ops = "LGCUD" },

  label = {
    path = "labels", ops = "LGCUD",
    actions = {
      promote = "PUT promote self",
      subscribe = "POST subscribe self",
      unsubscribe = "POST unsubscribe self",
    },
    collection = {
      update_by_name = "PUT .",
      delete_by_name = "DELETE .",
    },
  },

  milestone = {
    path = "milestones", ops = "LGCUD",
    actions = {
      issues = "GET issues list=issue",
      merge_requests = "GET merge_requests list=merge_request",
      burndown_events = "GET burndown_events list",
      promote = "POST promote",
    },
  },

  upload = {
    path = "uploads", ops = "LGD",
    collection = {
      upload = "POST . upload",
      download_by_secret = "GET :secret/:filename download",
      delete_by_secret = "DELETE :secret/:filename",
    },
  },

  wiki = {
    path = "wikis", id = "slug", ops = "LGCUD",
    collection = { upload_attachment = "POST attachments upload" },
  },

  -- project_clusters.md, group_clusters.md: "Project clusters API
  -- (certificate-based) (deprecated)", deprecated in GitLab 14.5 and still
  -- documented and served (the GitLab agent for Kubernetes replaces them)
  cluster = {
    path = "clusters", ops = "LGUD", collection = { add = "POST user" },
    doc = "Deprecated: certificate-based clusters were deprecated in GitLab 14.5 "
      .. "(project_clusters.md, group_clusters.md); GitLab 18 still serves them. "
      .. "`project.cluster_agents` (cluster_agents.md) replaces them.",
  },

  protected_environment = { path = "protected_environments", id = "name", ops = "LGCUD" },

  push_rule = { path = "push_rule", single = true, ops = "GCUD" },

  notification_settings = { path = "notification_settings", single = true, ops = "GU" },

  audit_event = { path = "audit_events", ops = "LG" },

  iteration = { path = "iterations", ops = "L" },

  event = { path = "events", ops = "L" },
}
