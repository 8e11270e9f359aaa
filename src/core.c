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

/* A size option in bytes; math.huge (or anything past 2^53) means no bound. */
curl_off_t gl_byte_limit(double v) {
  return v >= 9007199254740992.0 ? (curl_off_t)-1 : (curl_off_t)v;
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
/* calling user functions                                                 */
/* ====================================================================== */
/* Message handler for every user function called from C (as luv does): a
 * string error gains the stack where it was raised ("msg\nstack traceback:
 * ..."), a table gets it in its `traceback` field; other values pass as
 * they are. A string that already has a traceback (a coroutine's error
 * from gitlab.async) is kept. */
static int l_traceback(lua_State *L) {
  int t = lua_type(L, 1);
  if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    const char *msg = lua_tostring(L, 1);
    if (!strstr(msg, "stack traceback:")) luaL_traceback(L, L, msg, 1);
  } else if (t == LUA_TTABLE) {
    lua_pushliteral(L, "traceback");
    lua_rawget(L, 1);
    if (lua_isnil(L, -1)) {
      lua_pushliteral(L, "traceback");
      luaL_traceback(L, L, NULL, 1);
      lua_rawset(L, 1);
    }
    lua_settop(L, 1);
  }
  return 1;
}

/* lua_pcall under l_traceback; same stack contract as lua_pcall. */
int gl_pcall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs, rc;
  lua_pushcfunction(L, l_traceback);
  lua_insert(L, base);
  rc = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  return rc;
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
  lua_pushcfunction(L, l_traceback);
  lua_setfield(L, -2, "traceback");   /* the same handler for Lua's xpcall */
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
