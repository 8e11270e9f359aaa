rockspec_format = "3.0"
package = "lua-gitlab"
version = "scm-1"
source = {
  url = "git+https://example.invalid/lua-gitlab.git",
}
description = {
  summary = "GitLab REST API v4 client: a C core on libcurl under a thin Lua layer",
  detailed = [[
    Raw API, resource objects for the whole REST API, pagination with
    parallel prefetch, retries and rate limits, streaming downloads and
    uploads, OAuth2 sign-in and refresh, and a non-blocking API for
    event loops (Neovim, luv). Lua 5.4 and LuaJIT.
  ]],
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
}
build = {
  type = "make",
  build_target = "rock",
  install_target = "rock-install",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    CURL_INCDIR = "$(CURL_INCDIR)",
    CURL_LIBDIR = "$(CURL_LIBDIR)",
    CRYPTO_INCDIR = "$(CRYPTO_INCDIR)",
    CRYPTO_LIBDIR = "$(CRYPTO_LIBDIR)",
  },
  install_variables = {
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
  },
}
