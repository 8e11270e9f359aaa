--- gitlab_mr: list a GitLab project's open merge requests in Neovim
-- without ever freezing the editor.
--
-- The requests run on lua-gitlab's multi engine, driven by Neovim's own
-- libuv loop (`vim.uv`, or `vim.loop` before Neovim 0.10): nothing blocks
-- and no thread or `curl` process is used. The listing is written by a
-- coroutine (`gitlab.async.run`) whose blocking-looking calls yield; it is
-- resumed through `vim.schedule`, where the Neovim API may be used.
--
--     require("gitlab_mr").setup{
--       url = "https://gitlab.example.com",  -- else $GITLAB_URL / $GITLAB_HOST
--       token = "glpat-...",                 -- else $GITLAB_TOKEN
--       project = "group/project",           -- else $GITLAB_PROJECT, else
--     }                                      --   the git remote "origin"
--     :GitlabMergeRequests [group/project]
--
-- In the list: `<CR>` shows the merge request's URL (and copies it to the
-- `+` register when there is one), `r` reloads, `q` closes.
-- @module gitlab_mr

local M = {}

local config = {
  url = nil, token = nil, project = nil, remote = "origin",
  state = "opened", per_page = 50, max_items = 500,
  gitlab = nil,   -- extra options for gitlab.new (timeout, ca_file, ...)
}

local client          -- one client for the whole session, attached to the loop
local urls_of = {}    -- buffer -> { [line] = web_url }

local function uv()
  return vim.uv or vim.loop
end

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then return nil end
  return v
end

local function notify(msg, level)
  vim.notify("GitLab: " .. msg, level or vim.log.levels.INFO)
end

--- Sets the options (all optional): `url`, `token`, `project`, `remote`,
-- `state` ("opened"), `per_page`, `max_items`, `gitlab` (a table of extra
-- options for `gitlab.new`).
-- @tparam table opts
function M.setup(opts)
  for k, v in pairs(opts or {}) do
    if config[k] == nil and k ~= "url" and k ~= "token" and k ~= "project" and k ~= "gitlab" then
      error("gitlab_mr.setup: unknown option '" .. tostring(k) .. "'", 2)
    end
    config[k] = v
  end
  if client then client:close(); client = nil end
end

--- The client, made on first use and driven by Neovim's event loop.
function M.client()
  if client then return client end
  local gitlab = require("gitlab")
  local opts = {}
  for k, v in pairs(config.gitlab or {}) do opts[k] = v end
  opts.url = config.url or opts.url
  opts.token = config.token or opts.token
  if opts.url or opts.token then
    opts.url = opts.url or env("GITLAB_URL") or env("GITLAB_HOST")
    opts.token = opts.token or env("GITLAB_TOKEN")
    if opts.url and not opts.url:find("^%a[%w+.-]*://") then opts.url = "https://" .. opts.url end
    client = gitlab.new(opts)
  else
    client = gitlab.from_env(opts)
  end
  client:attach(uv(), {
    -- callbacks and coroutine resumptions run on the main loop, where the
    -- whole Neovim API is allowed (not inside the luv callback)
    schedule = vim.schedule_wrap,
    on_error = function(err)
      vim.schedule(function() notify(tostring(err), vim.log.levels.ERROR) end)
    end,
  })
  return client
end

--- "group/project" from a git remote URL (ssh, scp-like or http), or nil.
-- @tparam string url
function M.project_from_remote(url)
  if type(url) ~= "string" then return nil end
  url = url:gsub("%s+$", ""):gsub("%.git$", ""):gsub("/+$", "")
  local path = url:match("^%a[%w+.-]*://[^/]+/(.+)$")   -- https://host/g/p, ssh://git@host:22/g/p
    or url:match("^[^/:]+@[^:]+:(.+)$")                 -- git@host:g/p
  if path then path = path:gsub("^/+", "") end
  if path and path:find("/", 1, true) then return path end
  return nil
end

--- The project to list: the argument, then setup's `project`, then
-- $GITLAB_PROJECT, then the git remote of the current directory.
function M.current_project(arg)
  if arg and arg ~= "" then return arg end
  if config.project then return config.project end
  local p = env("GITLAB_PROJECT")
  if p then return p end
  local out = vim.fn.systemlist({ "git", "remote", "get-url", config.remote })
  if vim.v.shell_error == 0 and out[1] then return M.project_from_remote(out[1]) end
  return nil
end

--- One display line for a merge request.
-- @tparam table mr as returned by GitLab
function M.format(mr)
  local author = type(mr.author) == "table" and mr.author.username or "?"
  local draft = (mr.draft == true or mr.work_in_progress == true) and "[draft] " or ""
  return ("!%d  %s%s  (@%s)  %s -> %s"):format(mr.iid, draft, tostring(mr.title), author,
    tostring(mr.source_branch), tostring(mr.target_branch))
end

local function set_lines(buf, lines)
  if not vim.api.nvim_buf_is_valid(buf) then return false end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  return true
end

-- A scratch buffer for the project's list, reused when it is open.
local function scratch(project)
  local name = "gitlab://" .. project .. "/merge_requests"
  local buf = vim.fn.bufnr(name)
  if buf == -1 or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(true, true)
    vim.api.nvim_buf_set_name(buf, name)
    vim.bo[buf].buftype = "nofile"
    vim.bo[buf].bufhidden = "wipe"
    vim.bo[buf].swapfile = false
    vim.bo[buf].filetype = "gitlab_mr"
    vim.api.nvim_create_autocmd("BufWipeout", { buffer = buf, once = true,
      callback = function() urls_of[buf] = nil end })
  end
  if vim.fn.bufwinid(buf) == -1 then
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, buf)
  end
  return buf
end

local function keymaps(buf, project)
  local o = { buffer = buf, silent = true, nowait = true }
  vim.keymap.set("n", "q", "<cmd>close<cr>", o)
  vim.keymap.set("n", "r", function() M.list(project) end, o)
  vim.keymap.set("n", "<CR>", function()
    local url = (urls_of[buf] or {})[vim.api.nvim_win_get_cursor(0)[1]]
    if not url then return end
    pcall(vim.fn.setreg, "+", url)
    notify(url)
  end, o)
end

--- Lists the open merge requests of `project` (or the current one) in a
-- scratch buffer. Returns the buffer at once; the lines arrive later.
-- @tparam[opt] string project "group/project" or a numeric id
-- @treturn number buffer
function M.list(project)
  project = M.current_project(project)
  if not project then
    notify("no project: pass one (:GitlabMergeRequests group/project), call setup{ project = ... }, "
      .. "set $GITLAB_PROJECT, or run inside a clone with a GitLab remote", vim.log.levels.WARN)
    return nil
  end
  local ok, gl = pcall(M.client)
  if not ok then
    notify(tostring(gl), vim.log.levels.ERROR)
    return nil
  end
  local buf = scratch(project)
  keymaps(buf, project)
  local gen = (vim.b[buf].gitlab_mr_gen or 0) + 1   -- a reload supersedes
  vim.b[buf].gitlab_mr_gen = gen
  vim.b[buf].gitlab_mr_state = "loading"
  set_lines(buf, { "Loading the open merge requests of " .. project .. " ..." })
  local gitlab = require("gitlab")
  gitlab.async.run(function()
    local lines, urls = { "" }, {}    -- line 1: the header, below
    local fine, err = pcall(function()
      local p = assert(gl.projects:get(tonumber(project) or project))
      local list = p.merge_requests:list({ state = config.state, per_page = config.per_page },
        { max_items = config.max_items })
      for mr in list do
        lines[#lines + 1] = M.format(mr)
        urls[#lines] = mr.web_url
      end
    end)
    -- resumed through vim.schedule: the API may be used here
    if not vim.api.nvim_buf_is_valid(buf) or vim.b[buf].gitlab_mr_gen ~= gen then return end
    if not fine then
      set_lines(buf, { "Could not list the merge requests of " .. project .. ":", tostring(err) })
      vim.b[buf].gitlab_mr_state = "error"
      return
    end
    local n = #lines - 1
    lines[1] = ("%d %s merge request%s in %s"):format(n, config.state, n == 1 and "" or "s", project)
    set_lines(buf, lines)
    urls_of[buf] = urls
    vim.b[buf].gitlab_mr_state = "done"
    vim.api.nvim_exec_autocmds("User", { pattern = "GitlabMergeRequestsLoaded", modeline = false })
  end)
  return buf
end

return M
