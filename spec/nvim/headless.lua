-- Driven by spec/31-nvim_spec.lua inside `nvim --headless -u NONE`:
-- loads the example plugin with the LuaJIT build, runs
-- :GitlabMergeRequests against the fake server while a Vim timer ticks,
-- and writes what happened as JSON to $GL_REPORT, then quits.
local root = assert(os.getenv("GL_ROOT"), "GL_ROOT is not set")
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/jit/?.so;" .. package.cpath
vim.opt.runtimepath:append(root .. "/examples/nvim")
vim.cmd("runtime plugin/gitlab.lua")

local uv = vim.uv or vim.loop
local t0 = uv.hrtime()
local function ms() return (uv.hrtime() - t0) / 1e6 end

local report = { ticks = {} }
local function finish(reason)
  report.reason = reason
  report.total_ms = ms()
  local f = assert(io.open(assert(os.getenv("GL_REPORT")), "w"))
  f:write(vim.json.encode(report))
  f:close()
  vim.cmd("qa!")
end

local ok, err = pcall(function()
  -- the editor's own timer: it can only tick while the main loop runs
  vim.fn.timer_start(20, function() report.ticks[#report.ticks + 1] = ms() end, { ["repeat"] = -1 })
  vim.api.nvim_create_autocmd("User", { pattern = "GitlabMergeRequestsLoaded",
    callback = function() report.loaded_ms = ms() end })
  require("gitlab_mr").setup{ url = os.getenv("GL_URL"), token = os.getenv("GL_TOKEN"),
                              project = os.getenv("GL_PROJECT") }
  report.uv = vim.uv and "vim.uv" or "vim.loop"
  local c0 = ms()
  vim.cmd("GitlabMergeRequests")
  report.command_ms = ms() - c0
  report.started_ms = c0
  local buf = vim.api.nvim_get_current_buf()
  report.buffer_name = vim.api.nvim_buf_get_name(buf)
  report.loading_lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  vim.fn.timer_start(25, function(timer)
    local state = vim.b[buf].gitlab_mr_state
    if state == "done" or state == "error" or ms() > 15000 then
      vim.fn.timer_stop(timer)
      report.state = state
      report.lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
      report.buftype = vim.bo[buf].buftype
      report.modifiable = vim.bo[buf].modifiable
      finish(state or "timeout")
    end
  end, { ["repeat"] = -1 })
end)
if not ok then
  report.error = tostring(err)
  finish("error")
end
