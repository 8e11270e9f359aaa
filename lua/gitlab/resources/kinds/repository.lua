-- The repository of a project: project.repository is a namespace (no id)
-- holding files, branches, commits, tags and repository-wide actions.
return {
  repository = {
    path = "repository", single = true, ops = "",
    doc = "A namespace without an id: `project.repository:tree{ recursive = true }`, "
      .. "`project.repository.files:get(\"lib/a.rb\", { ref = \"main\" })`. "
      .. "Aliases on a project: `branches`, `tags`, `commits`, `files`, `repository_files`.",
    actions = {
      tree = "GET tree list",
      archive = "GET archive download",
      blob = "GET blobs/:sha",
      raw_blob = "GET blobs/:sha/raw download",
      compare = "GET compare",
      contributors = "GET contributors list",
      merge_base = "GET merge_base",
      changelog = "GET changelog",
      add_changelog = "POST changelog",
      delete_merged_branches = "DELETE merged_branches",
      update_submodule = "PUT submodules/:submodule",
      -- repositories.md "Health": 404 until a report exists, `{ generate = true }` makes one
      health = "GET health",
    },
    subs = {
      branches = "branch",
      commits = "commit",
      files = "repository_file",
      tags = "tag",
    },
  },

  -- file_path is encoded as one segment (`lib/a.rb` -> `lib%2Fa%2Erb`);
  -- get needs `{ ref = }`, create/update/delete need `branch` and
  -- `commit_message` (pass them to create, save(extra) or delete(params)).
  repository_file = {
    path = "files", id = "file_path", ops = "GCUD", create_in_path = true,
    doc = "`file_path` is one encoded segment (`lib/a.rb` -> `lib%2Fa%2Erb`). `get` needs "
      .. "`{ ref = }`; `create{ file_path =, branch =, content =, commit_message = }`, "
      .. "`file:save{ branch =, commit_message = }`, `file:delete{ branch =, commit_message = }`.",
    actions = {
      raw = "GET raw download",
      blame = "GET blame",
      head = "HEAD .",
      -- repository_files.md "Get file blame from repository", "Get file metadata only"
      head_blame = "HEAD blame",
    },
  },

  -- branches.md sends protection to protected_branches.md; GitLab 18 still
  -- serves PUT .../protect and .../unprotect (lib/api/branches.rb)
  branch = {
    path = "branches", id = "name", ops = "LGCD",
    doc = "`protect`/`unprotect` are deprecated: branches.md sends you to "
      .. "`project.protected_branches` (protected_branches.md); GitLab 18 still serves them.",
    actions = {
      protect = "PUT protect self",
      unprotect = "PUT unprotect self",
    },
  },

  commit = {
    path = "commits", id = "id", ops = "LGC",
    actions = {
      cherry_pick = "POST cherry_pick kind=commit",
      revert = "POST revert kind=commit",
      diff = "GET diff list",
      refs = "GET refs list",
      merge_requests = "GET merge_requests list=merge_request",
      sequence = "GET sequence",
      signature = "GET signature",
      statuses = "GET statuses list",
    },
    subs = {
      comments = "commit_comment",
      discussions = "discussion",
    },
  },

  commit_comment = { path = "comments", ops = "LC" },

  tag = {
    path = "tags", id = "name", ops = "LGCD",
    actions = {
      signature = "GET signature",
    },
  },
}
