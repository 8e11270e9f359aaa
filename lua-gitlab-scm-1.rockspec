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
        "src/async.c",
        "src/batch.c",
        "src/client.c",
        "src/core.c",
        "src/crypto.c",
        "src/encode.c",
        "src/engine.c",
        "src/fs.c",
        "src/handle.c",
        "src/http.c",
        "src/json.c",
        "src/listen.c",
        "src/request.c",
        "src/result.c",
        "src/sandbox.c",
        "src/spawn.c",
        "src/sync.c",
        "src/tls.c",
        "src/transfer.c",
        "src/util.c",
      },
      libraries = { "curl", "ssl", "crypto" },
      incdirs = { "$(CURL_INCDIR)", "$(CRYPTO_INCDIR)", "$(SSL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(CRYPTO_LIBDIR)", "$(SSL_LIBDIR)" },
    },
    ["gitlab.async"] = "lua/gitlab/async.lua",
    ["gitlab.client"] = "lua/gitlab/client.lua",
    ["gitlab.client.api"] = "lua/gitlab/client/api.lua",
    ["gitlab.client.async"] = "lua/gitlab/client/async.lua",
    ["gitlab.client.graphql"] = "lua/gitlab/client/graphql.lua",
    ["gitlab.client.pages"] = "lua/gitlab/client/pages.lua",
    ["gitlab.client.refresh"] = "lua/gitlab/client/refresh.lua",
    ["gitlab.client.request"] = "lua/gitlab/client/request.lua",
    ["gitlab.client.response"] = "lua/gitlab/client/response.lua",
    ["gitlab.client.send"] = "lua/gitlab/client/send.lua",
    ["gitlab.client.transfer"] = "lua/gitlab/client/transfer.lua",
    ["gitlab.config"] = "lua/gitlab/config.lua",
    ["gitlab.errors"] = "lua/gitlab/errors.lua",
    ["gitlab.files"] = "lua/gitlab/files.lua",
    ["gitlab"] = "lua/gitlab/init.lua",
    ["gitlab.oauth"] = "lua/gitlab/oauth.lua",
    ["gitlab.options"] = "lua/gitlab/options.lua",
    ["gitlab.resources.catalog"] = "lua/gitlab/resources/catalog.lua",
    ["gitlab.resources.compile"] = "lua/gitlab/resources/compile.lua",
    ["gitlab.resources"] = "lua/gitlab/resources/init.lua",
    ["gitlab.resources.kinds.ci"] = "lua/gitlab/resources/kinds/ci.lua",
    ["gitlab.resources.kinds.groups"] = "lua/gitlab/resources/kinds/groups.lua",
    ["gitlab.resources.kinds.instance"] = "lua/gitlab/resources/kinds/instance.lua",
    ["gitlab.resources.kinds.packages"] = "lua/gitlab/resources/kinds/packages.lua",
    ["gitlab.resources.kinds.projects"] = "lua/gitlab/resources/kinds/projects.lua",
    ["gitlab.resources.kinds.repository"] = "lua/gitlab/resources/kinds/repository.lua",
    ["gitlab.resources.kinds.shared"] = "lua/gitlab/resources/kinds/shared.lua",
    ["gitlab.resources.kinds.users"] = "lua/gitlab/resources/kinds/users.lua",
    ["gitlab.resources.list"] = "lua/gitlab/resources/list.lua",
    ["gitlab.resources.manager"] = "lua/gitlab/resources/manager.lua",
    ["gitlab.resources.object"] = "lua/gitlab/resources/object.lua",
    ["gitlab.resources.path"] = "lua/gitlab/resources/path.lua",
    ["gitlab.util"] = "lua/gitlab/util.lua",
    ["gitlab.webhook"] = "lua/gitlab/webhook.lua",
  },
}
