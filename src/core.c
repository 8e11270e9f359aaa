/* gitlab.core: the C half of lua-gitlab.
 * luaopen_gitlab_core builds the module table and lets every C file
 * register its functions and metatables into it. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "gl.h"

/* The only C global: curl_global_init is not thread-safe in old libcurl and
 * must run once per process. */
static int gl_curl_ready = 0;

int luaopen_gitlab_core(lua_State *L);
int luaopen_gitlab_core(lua_State *L) {
  if (!gl_curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return luaL_error(L, "gitlab.core: curl_global_init failed");
    gl_curl_ready = 1;
  }
  lua_newtable(L);
  lua_pushliteral(L, "lua-gitlab/" GL_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
  lua_setfield(L, -2, "curl_version");
  {
    curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    lua_pushboolean(L, (vi->features & CURL_VERSION_HTTP2) != 0);
    lua_setfield(L, -2, "http2");
  }
#ifdef GL_SANITIZE
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "sanitized");   /* specs start children on a plain build */
#endif
  gl_util_open(L);
  gl_encode_open(L);
  gl_http_open(L);
  gl_handle_open(L);
  gl_engine_open(L);
  gl_client_open(L);
  gl_crypto_open(L);
  gl_fs_open(L);
  gl_listen_open(L);
  gl_json_open(L);
  gl_sandbox_open(L);
  gl_spawn_open(L);
  return 1;
}
