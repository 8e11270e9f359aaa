-- The rockspec at the root is the one tools/rockspec.lua writes (`make
-- rockspec`) for the files there now: every lua/**/*.lua a module under
-- its path, gitlab.core from every src/*.c, nothing else. A file added,
-- moved or removed without `make rockspec` fails here, not in a user's
-- `luarocks make`.
local helpers = require("helpers")

describe("the rockspec", function()
  local root = helpers.root or "."
  local q = helpers.shell_quote
  local ROCKSPEC = root .. "/lua-gitlab-scm-1.rockspec"

  local function lines(cmd)
    local out, code = helpers.exec(cmd)
    assert.equal(0, code, out)
    local r = {}
    for l in out:gmatch("[^\n]+") do r[#r + 1] = l end
    table.sort(r)
    return r
  end

  -- the rockspec's fields, as luarocks reads them (a chunk of assignments)
  local function load_rockspec()
    local env = {}
    local text = assert(helpers.read_file(ROCKSPEC))
    local chunk
    if setfenv then
      chunk = assert(loadstring(text, "rockspec"))
      setfenv(chunk, env)
    else
      chunk = assert(load(text, "rockspec", "t", env))
    end
    chunk()
    return env
  end

  it("is what make rockspec writes for the tree as it is", function()
    local out, code = helpers.exec(("%s %s/tools/rockspec.lua %s"):format(
      helpers.lua_interpreter(), q(root), q(root)))
    assert.equal(0, code, out)
    assert.equal(out, helpers.read_file(ROCKSPEC), "run: make rockspec")
  end)

  it("lists exactly the files in lua/ and src/", function()
    local spec = load_rockspec()
    assert.equal("builtin", spec.build.type)
    local lua_files, names = {}, {}
    for name, m in pairs(spec.build.modules) do
      if type(m) == "string" then
        lua_files[#lua_files + 1] = m
        -- the module name is the path: lua/gitlab/x/init.lua is gitlab.x
        local want = m:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
        assert.equal(want, name)
      else
        names[#names + 1] = name
      end
    end
    table.sort(lua_files)
    assert.same({ "gitlab.core" }, names)
    assert.same(lines(("cd %s && find lua -type f -name '*.lua'"):format(q(root))), lua_files)
    local core = spec.build.modules["gitlab.core"]
    local sources = {}
    for i, s in ipairs(core.sources) do sources[i] = s end
    table.sort(sources)
    assert.same(lines(("cd %s && ls src/*.c"):format(q(root))), sources)
    assert.same({ "curl", "ssl", "crypto" }, core.libraries)
    assert.same({ "$(CURL_INCDIR)", "$(CRYPTO_INCDIR)", "$(SSL_INCDIR)" }, core.incdirs)
    assert.same({ "$(CURL_LIBDIR)", "$(CRYPTO_LIBDIR)", "$(SSL_LIBDIR)" }, core.libdirs)
  end)
end)
