-- Users, the current user (gl:user()) and their keys, emails and tokens.
return {
  user = {
    path = "users", ops = "LGCUD", home = "/users",
    doc = "A loaded user has `followers`/`following` counts: the lists are "
      .. "`user:call(\"followers\")` and `user:call(\"following\")`.",
    actions = {
      activate = "POST activate",
      deactivate = "POST deactivate",
      approve = "POST approve",
      reject = "POST reject",
      ban = "POST ban",
      unban = "POST unban",
      block = "POST block",
      unblock = "POST unblock",
      follow = "POST follow",
      unfollow = "POST unfollow",
      followers = "GET followers list=user",
      following = "GET following list=user",
      disable_two_factor = "PATCH disable_two_factor",
      associations_count = "GET associations_count",
      projects = "GET projects list=project",
      contributed_projects = "GET contributed_projects list=project",
      starred_projects = "GET starred_projects list=project",
      project_deploy_keys = "GET project_deploy_keys list",
      events = "GET events list",
      memberships = "GET memberships list",
      status = "GET status",
      delete_identity = "DELETE identities/:provider",
    },
    subs = {
      custom_attributes = "custom_attribute",
      -- users.md: an admin lists, adds and deletes a user's emails (the
      -- single get is GET /user/emails/:email_id, gl.current_user.emails)
      emails = { "email", ops = "LCD" },
      gpg_keys = "gpg_key",
      impersonation_tokens = "impersonation_token",
      keys = "ssh_key",
      personal_access_tokens = { "personal_access_token", ops = "C", bare = true },
    },
  },

  email = { path = "emails", ops = "LGCD" },
  gpg_key = { path = "gpg_keys", ops = "LGCD" },
  ssh_key = { path = "keys", ops = "LGCD" },
  impersonation_token = { path = "impersonation_tokens", ops = "LGCD" },

  -- GET /user; gl:user() returns this object, gl.current_user reaches it
  -- lazily (gl.current_user.keys:list())
  current_user = {
    path = "user", single = true, ops = "G",
    -- users.md: the file goes in the `avatar` form field
    actions = { set_avatar = "PUT avatar upload=avatar" },
    doc = "`gl.current_user:get()` is the signed-in user as an object; "
      .. "`gl.current_user.keys:list()`. (`gl:user()` returns the plain table.)",
    subs = {
      emails = "email",
      gpg_keys = "gpg_key",
      keys = "ssh_key",
      personal_access_tokens = { "personal_access_token", ops = "C", bare = true },
      preferences = "user_preferences",
      runners = { "runner", ops = "C", bare = true },
      status = "user_status",
    },
  },

  -- users.md: PUT sets what it is not given to null, PATCH leaves it
  user_status = {
    path = "status", single = true, ops = "GU",
    actions = { patch = "PATCH . self" },
    doc = "`update` (PUT) clears the fields it is not given; `patch` (PATCH) changes only those it is given.",
  },
  user_preferences = { path = "preferences", single = true, ops = "GU" },

  personal_access_token = {
    path = "personal_access_tokens", ops = "LGD",
    actions = { rotate = "POST rotate" },
    collection = {
      current = "GET self",
      revoke_current = "DELETE self",
      rotate_current = "POST self/rotate",
      -- one object { groups, projects } (page, per_page apply to both)
      current_associations = "GET self/associations",
    },
  },
}
