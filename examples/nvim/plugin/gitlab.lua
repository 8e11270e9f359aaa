-- :GitlabMergeRequests [group/project] lists a project's open merge
-- requests in a scratch buffer, without blocking the editor.
-- Needs lua-gitlab's LuaJIT build on package.path / package.cpath
-- (see examples/nvim/README.md).
if vim.g.loaded_gitlab_mr then return end
vim.g.loaded_gitlab_mr = true

vim.api.nvim_create_user_command("GitlabMergeRequests", function(o)
  require("gitlab_mr").list(o.args ~= "" and o.args or nil)
end, { nargs = "?", desc = "List the open merge requests of a GitLab project" })
