-- gl:download{ output = NAME } writes NAME.part, then renames it to NAME.
-- Whatever sits at NAME.part is never followed or blocked on: a symbolic
-- link planted there (another user's, in a shared directory) must not get
-- its target overwritten or appended to, a FIFO must not hang the call.
local helpers = require("helpers")

local write = helpers.write_file

local read = helpers.read_file

local function sh(cmd)
  local ok = os.execute(cmd)
  assert(ok == true or ok == 0, cmd)
end

describe("download part files", function()
  local gl, dir, victim
  local VICTIM = "precious data, not a download\n"
  setup(function()
    gl = helpers.client()
    dir = helpers.tmpdir()
  end)
  teardown(function() gl:close() end)
  before_each(function()
    helpers.reset()
    victim = dir .. "/victim"
    write(victim, VICTIM)
  end)
  after_each(function() sh("rm -rf '" .. dir .. "'/*") end)

  it("refuses to resume through a symbolic link at NAME.part", function()
    local out = dir .. "/a.bin"
    sh(("ln -s '%s' '%s.part'"):format(victim, out))
    local ok, err = gl:download("/__bytes", { output = out, resume = true, query = { size = 5000 } })
    assert.equal(VICTIM, read(victim))
    assert.is_nil(ok)
    assert.equal("io", err.kind)
    assert.matches("symbolic link", err.message)
    assert.is_nil(read(out))                 -- nothing was moved into place
    assert.equal(0, #helpers.requests())     -- refused before asking
  end)

  it("replaces a symbolic link at NAME.part when not resuming", function()
    local out = dir .. "/b.bin"
    sh(("ln -s '%s' '%s.part'"):format(victim, out))
    local ok, err = gl:download("/__bytes", { output = out, query = { size = 5000 } })
    assert.is_true(ok, tostring(err))
    assert.equal(VICTIM, read(victim))
    assert.equal(5000, #read(out))
  end)

  it("never opens an output path that is a symbolic link (the core)", function()
    local link = dir .. "/c.part"
    sh(("ln -s '%s' '%s'"):format(victim, link))
    for _, resume_from in ipairs({ 0, 10 }) do
      local r, e = gl._core:request{ method = "GET", url = helpers.api_url("/__bytes?size=3000"),
        output = link, resume_from = resume_from > 0 and resume_from or nil }
      assert.is_nil(r)
      assert.equal("io", e.kind)
      assert.matches("symbolic link", e.message)
      assert.equal(VICTIM, read(victim))
    end
  end)

  it("refuses a FIFO at NAME.part instead of blocking on it", function()
    local out = dir .. "/d.bin"
    sh(("mkfifo '%s.part'"):format(out))
    local ok, err = gl:download("/__bytes", { output = out, resume = true, query = { size = 100 } })
    assert.is_nil(ok)
    assert.equal("io", err.kind)
    assert.matches("not a regular file", err.message)
    -- and the core refuses one too (opened without blocking)
    local r, e = gl._core:request{ method = "GET", url = helpers.api_url("/__bytes?size=100"),
      output = out .. ".part" }
    assert.is_nil(r)
    assert.matches("not a regular file", e.message)
  end)

  it("resumes into a regular part file as before", function()
    local out = dir .. "/e.bin"
    local full = assert(gl:request("GET", "/__bytes", { query = { size = 4000 }, raw = true }))
    write(out .. ".part", full:sub(1, 1500))
    local ok, resp = gl:download("/__bytes", { output = out, resume = true, query = { size = 4000 } })
    assert.is_true(ok, tostring(resp))
    assert.equal(206, resp.status)
    assert.equal(full, read(out))
    assert.equal("bytes=1500-", helpers.last_request().headers.range)
  end)

  it("replaces a symbolic link at NAME itself, not its target", function()
    local out = dir .. "/f.bin"
    sh(("ln -s '%s' '%s'"):format(victim, out))
    local ok, err = gl:download("/__bytes", { output = out, query = { size = 700 } })
    assert.is_true(ok, tostring(err))
    assert.equal(VICTIM, read(victim))
    assert.equal(700, #read(out))
    assert.equal("file", require("gitlab.core").file_kind(out))
  end)
end)
