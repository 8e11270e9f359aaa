-- The Neovim example plugin (examples/nvim): a headless Neovim loads it
-- with the LuaJIT build and lists merge requests from the fake server
-- behind a slow endpoint; the editor's timer must keep ticking meanwhile.
local helpers = require("helpers")
local cjson = require("cjson.safe")

local root = helpers.root
local has_nvim = select(2, helpers.exec("command -v nvim >/dev/null 2>&1")) == 0
local has_jit_build = io.open(root .. "/build/jit/gitlab/core.so", "rb")
if has_jit_build then has_jit_build:close() end

local MR_PATH_RE = "^/api/v4/projects/[^/]+/merge_requests$"

-- Runs spec/nvim/headless.lua in `nvim --headless -u NONE` and returns its
-- report (a table) or raises with what nvim printed.
local function run_nvim(env)
  local dir = helpers.tmpdir()
  local report = dir .. "/report.json"
  local vars = {
    GL_ROOT = root, GL_REPORT = report, GL_URL = helpers.server().http,
    GL_TOKEN = "glpat-root", GL_PROJECT = "group/proj",
  }
  for k, v in pairs(env or {}) do vars[k] = v end
  local assigns = {}
  for k, v in pairs(vars) do assigns[#assigns + 1] = k .. "=" .. helpers.shell_quote(v) end
  local cmd = ("cd %s && env -u LD_PRELOAD %s timeout 60 nvim --headless -u NONE -i NONE -n -c %s 2>&1 </dev/null")
    :format(helpers.shell_quote(root), table.concat(assigns, " "),
            helpers.shell_quote("luafile spec/nvim/headless.lua"))
  local out, code = helpers.exec(cmd)
  local f = io.open(report, "rb")
  local text = f and f:read("*a")
  if f then f:close() end
  os.execute("rm -rf " .. helpers.shell_quote(dir))
  local r = text and cjson.decode(text)
  if type(r) ~= "table" then
    error(("nvim wrote no report (exit %s):\n%s"):format(tostring(code), out), 2)
  end
  r.output = out
  return r
end

-- Ticks of the editor's timer between two moments (milliseconds).
local function ticks_between(r, from, to)
  local n = 0
  for _, t in ipairs(r.ticks) do
    if t > from and t < to then n = n + 1 end
  end
  return n
end

local describe_nvim = (has_nvim and has_jit_build) and describe or pending

describe_nvim("Neovim plugin :GitlabMergeRequests (headless)", function()
  local by_iid
  setup(function()
    helpers.reset()
    helpers.seed{ path = "/projects/1/merge_requests", items = {
      { title = "Fix the login page", source_branch = "fix-login", target_branch = "main" },
      { title = "Old idea", source_branch = "old", target_branch = "main", state = "closed" },
      { title = "Faster CI", source_branch = "ci", target_branch = "main", draft = true },
    } }
    by_iid = {}
    for _, mr in ipairs(helpers.store("/projects/1/merge_requests").items) do
      by_iid[math.floor(mr.iid)] = mr
    end
  end)
  before_each(function() helpers.admin("DELETE", "/faults") end)

  -- What the buffer must hold: the server's open merge requests, in the
  -- server's order.
  local function expected_lines()
    local r = helpers.curl{ url = helpers.api_url("/projects/1/merge_requests?state=opened&per_page=50"),
                            headers = { "PRIVATE-TOKEN: glpat-root" } }
    local list = assert(cjson.decode(r.body))
    local lines = { ("%d opened merge requests in group/proj"):format(#list) }
    for _, mr in ipairs(list) do
      local m = by_iid[math.floor(mr.iid)]
      lines[#lines + 1] = ("!%d  %s%s  (@%s)  %s -> %s"):format(mr.iid,
        mr.draft and "[draft] " or "", m.title, mr.author.username, m.source_branch, m.target_branch)
    end
    return lines
  end

  it("keeps the editor loop running while the request is in flight, then fills the buffer", function()
    helpers.fault{ path_re = MR_PATH_RE, delay_ms = 1500, times = -1 }
    local r = run_nvim()
    assert.is_nil(r.error, r.error)
    assert.equal("done", r.state, r.output)
    -- the command returned at once, showing a placeholder
    assert.truthy(r.command_ms < 300, "the command blocked for " .. r.command_ms .. " ms")
    assert.same({ "Loading the open merge requests of group/proj ..." }, r.loading_lines)
    -- the list arrived only after the slow endpoint answered...
    assert.truthy(r.loaded_ms - r.started_ms >= 1400, "loaded after " .. r.loaded_ms .. " ms")
    -- ...and the editor's 20 ms timer kept ticking all that time
    local ticks = ticks_between(r, r.started_ms + r.command_ms, r.loaded_ms)
    assert.truthy(ticks >= 30, "only " .. ticks .. " timer ticks while the request was in flight")
    local lines = expected_lines()
    -- header + the seed's "Add feature" + the two open ones; not the closed one
    assert.equal(4, #lines)
    assert.same(lines, r.lines)
    local text = table.concat(r.lines, "\n")
    assert.truthy(text:find("Fix the login page  (@root)  fix-login -> main", 1, true), text)
    assert.falsy(text:find("Old idea", 1, true))
    assert.equal("gitlab://group/proj/merge_requests", r.buffer_name)
    assert.equal("nofile", r.buftype)
    assert.is_false(r.modifiable)
  end)

  it("shows a failure in the buffer instead of raising", function()
    local r = run_nvim{ GL_PROJECT = "nobody/nothing" }
    assert.equal("error", r.state, r.output)
    assert.equal("Could not list the merge requests of nobody/nothing:", r.lines[1])
    assert.truthy(r.lines[2]:find("404", 1, true), r.lines[2])
    assert.falsy(r.output:find("glpat-root", 1, true))
  end)
end)

describe("gitlab_mr helpers", function()
  local mr_mod
  setup(function()
    package.path = root .. "/examples/nvim/lua/?.lua;" .. root .. "/examples/nvim/lua/?/init.lua;" .. package.path
    mr_mod = require("gitlab_mr")
  end)

  it("find the project in a git remote URL", function()
    local from = mr_mod.project_from_remote
    assert.equal("group/proj", from("git@gitlab.example.com:group/proj.git"))
    assert.equal("group/sub/proj", from("https://gitlab.example.com/group/sub/proj.git\n"))
    assert.equal("group/proj", from("ssh://git@gitlab.example.com:2222/group/proj.git"))
    assert.equal("group/proj", from("https://user:pw@gitlab.example.com/group/proj"))
    assert.is_nil(from("/srv/git/proj.git"))
    assert.is_nil(from(nil))
  end)

  it("format one line per merge request", function()
    assert.equal("!7  [draft] Speed up  (@alice)  fast -> main", mr_mod.format{
      iid = 7, title = "Speed up", draft = true, author = { username = "alice" },
      source_branch = "fast", target_branch = "main" })
  end)
end)
