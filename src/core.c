/* gitlab.core: the C half of lua-gitlab.
 * luaopen_gitlab_core builds the module table and lets every C file
 * register its functions and metatables into it. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "gl.h"

/* malloc'd copy of s (NULL for NULL or out of memory); owned by the caller */
char *gl_strdup(const char *s) {
  size_t n;
  char *p;
  if (!s) return NULL;
  n = strlen(s) + 1;
  p = (char *)malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

/* Registers metatable `name` with `methods` as __index, `close` as __gc
 * (and __close unless gc_only) and an optional __tostring; leaves it on
 * the stack for extra fields. */
void gl_newclass(lua_State *L, const char *name, const luaL_Reg *methods,
                 lua_CFunction close, int gc_only, lua_CFunction tostring) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, close); lua_setfield(L, -2, "__gc");
  if (!gc_only) { lua_pushcfunction(L, close); lua_setfield(L, -2, "__close"); }
  if (tostring) { lua_pushcfunction(L, tostring); lua_setfield(L, -2, "__tostring"); }
}

/* ====================================================================== */
/* growable buffer                                                        */
/* ====================================================================== */
int gl_buf_add(gl_buf *b, const char *s, size_t n) {
  if (n == 0) return 1;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap < b->n + n + 1) {
      if (cap > ((size_t)-1) / 2) return 0;
      cap *= 2;
    }
    p = (char *)realloc(b->p, cap);
    if (!p) return 0;
    b->p = p; b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
  return 1;
}

int gl_buf_adds(gl_buf *b, const char *s) { return gl_buf_add(b, s, strlen(s)); }

void gl_buf_free(gl_buf *b) {
  free(b->p);
  b->p = NULL; b->n = b->cap = 0;
}

/* The only C global: curl_global_init is not thread-safe in old libcurl and
 * must run once per process. */
static int gl_curl_ready = 0;

int luaopen_gitlab_core(lua_State *L);
int luaopen_gitlab_core(lua_State *L) {
#ifdef GL_SANITIZE
  /* Sanitizer builds run inside an interpreter started with LD_PRELOAD of
   * the ASan runtime; the programs the specs start (curl, node, nvim) must
   * not inherit it (some hang at start-up under it). */
  unsetenv("LD_PRELOAD");
#endif
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
  gl_encode_open(L);
  gl_http_open(L);
  gl_transfer_open(L);
  gl_engine_open(L);
  gl_client_open(L);
  gl_crypto_open(L);
  gl_listen_open(L);
  gl_json_open(L);
  gl_sandbox_open(L);
  gl_spawn_open(L);
  return 1;
}
