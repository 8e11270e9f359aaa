/* gitlab.core: the C half of lua-gitlab, and its entry point, the top
 * layer (gl.h): luaopen_gitlab_core builds the module table, lets every
 * part register its functions and metatables into it, and assembles the
 * methods of "gitlab.client" from the arrays the layers above the client
 * export. */
#include "gl.h"

/* c:request (sync.c); c:start, poll, wait, running, hooks, socket_action
 * (async.c); c:batch (batch.c). client.c adds its own. */
static const luaL_Reg *const client_parts[] = {
  gl_sync_methods, gl_async_methods, gl_batch_methods, NULL
};

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
  gl_json_open(L);
  gl_crypto_open(L);
  gl_fs_open(L);
  gl_sandbox_open(L);
  gl_spawn_open(L);
  gl_listen_open(L);
  gl_client_open(L, client_parts);
  gl_handle_open(L);
  gl_async_open(L);
  gl_batch_open(L);
  return 1;
}
