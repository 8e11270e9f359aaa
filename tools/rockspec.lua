-- Prints the rockspec (build.type "builtin") for the files in lua/ and
-- src/ of the tree at ROOT (default "."): every lua/**/*.lua a module,
-- gitlab.core from every src/*.c. `make rockspec` writes it to
-- lua-gitlab-scm-1.rockspec; spec/91-rockspec_spec.lua fails while the file
-- in the tree is not what this prints (a module added, moved or removed).
--
--     lua5.4 tools/rockspec.lua [ROOT] > lua-gitlab-scm-1.rockspec

local root = arg and arg[1] or "."

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Paths under root matching find's arguments, sorted byte-wise (the same
-- order whatever the locale).
local function files(dir, name)
  local p = assert(io.popen(("cd %s && find %s -type f -name %s | LC_ALL=C sort")
    :format(q(root), dir, q(name))))
  local r = {}
  for line in p:lines() do r[#r + 1] = line end
  p:close()
  return r
end

-- lua/gitlab/x/init.lua -> gitlab.x; lua/gitlab/x/y.lua -> gitlab.x.y
local function module_name(path)
  return (path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", "."))
end

local out = {}
local function w(s) out[#out + 1] = s end

w([[
-- Written by tools/rockspec.lua (make rockspec): edit that, not this.
rockspec_format = "3.0"
package = "lua-gitlab"
version = "scm-1"
source = {
  url = "git+https://example.invalid/lua-gitlab.git",
}
description = {
  summary = "GitLab REST API v4 client: a C core on libcurl under a thin Lua layer",
  detailed = [=[
    Raw API, resource objects for the whole REST API, pagination with
    parallel prefetch, retries and rate limits, streaming downloads and
    uploads, OAuth2 sign-in and refresh, and a non-blocking API for
    event loops (Neovim, luv). Lua 5.4 and LuaJIT.
  ]=],
  license = "MIT",
  labels = { "gitlab", "http", "curl", "neovim" },
}
dependencies = {
  "lua >= 5.1",
  -- no lua-cjson: the C core encodes and decodes JSON (src/json.c); the
  -- test harness and the benchmarks use lua-cjson, the library does not
}
external_dependencies = {
  CURL = { library = "curl" },
  CRYPTO = { library = "crypto" },
  SSL = { library = "ssl" },
}
build = {
  type = "builtin",
  modules = {
    ["gitlab.core"] = {
      sources = {
]])
local csrc = files("src", "*.c")
assert(#csrc > 0, "no src/*.c under " .. root)
for _, f in ipairs(csrc) do w(('        "%s",\n'):format(f)) end
w([[
      },
      libraries = { "curl", "ssl", "crypto" },
      incdirs = { "$(CURL_INCDIR)", "$(CRYPTO_INCDIR)", "$(SSL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(CRYPTO_LIBDIR)", "$(SSL_LIBDIR)" },
    },
]])
local lfiles = files("lua", "*.lua")
assert(#lfiles > 0, "no lua/**/*.lua under " .. root)
for _, f in ipairs(lfiles) do
  w(('    ["%s"] = "%s",\n'):format(module_name(f), f))
end
w([[
  },
}
]])
io.write(table.concat(out))
