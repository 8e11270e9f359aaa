/* util.c: the bottom layer of gitlab.core, which every other file may
 * use and which uses none of them: growable buffers, strdup, byte limits,
 * class registration, calling user functions under a traceback handler,
 * the monotonic clock and sleep, registry refs and curl header lists.
 *
 *   core.now()          -> monotonic seconds
 *   core.sleep(seconds) -- blocking pause (OAuth device polling when the
 *                          caller gives no sleep), 0 to 86400
 *   core.traceback(e)   -- the message handler of gl_pcall, for xpcall
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* ====================================================================== */
/* clock and sleep                                                        */
/* ====================================================================== */
double gl_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps the whole time, a signal or not; nothing for seconds <= 0. */
void gl_sleep(double seconds) {
  struct timespec ts;
  if (!(seconds > 0)) return;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec > 999999999L) ts.tv_nsec = 999999999L;   /* rounding */
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

/* ====================================================================== */
/* registry refs and header lists                                         */
/* ====================================================================== */
/* Drops a registry ref (LUA_NOREF and LUA_REFNIL hold nothing). */
void gl_unref(lua_State *L, int *ref) {
  if (*ref != LUA_NOREF && *ref != LUA_REFNIL) luaL_unref(L, LUA_REGISTRYINDEX, *ref);
  *ref = LUA_NOREF;
}

/* Appends a copy of line to *l: 1, or 0 when out of memory (the list as it
 * was), for lists that must be whole or not sent at all. */
int gl_slist_push(struct curl_slist **l, const char *line) {
  struct curl_slist *nl = line ? curl_slist_append(*l, line) : NULL;
  if (!nl) return 0;
  *l = nl;
  return 1;
}

/* Whether l has a line of the header that line is (its name up to ':'),
 * as libcurl tests for a header the user set: the name, case aside, then
 * ':' or ';' (the ';' form sends the header empty). */
int gl_slist_names(const struct curl_slist *l, const char *line) {
  size_t n = strcspn(line, ":");
  for (; l; l = l->next)
    if (curl_strnequal(l->data, line, n) && (l->data[n] == ':' || l->data[n] == ';')) return 1;
  return 0;
}

/* Wipes and frees a header list that may hold a credential. */
void gl_slist_wipe(struct curl_slist *l) {
  struct curl_slist *i;
  for (i = l; i; i = i->next) memset(i->data, 0, strlen(i->data));
  curl_slist_free_all(l);
}

/* ====================================================================== */
/* module functions                                                       */
/* ====================================================================== */
static int l_now(lua_State *L) {
  lua_pushnumber(L, gl_now());
  return 1;
}

static int l_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s >= 0 && s <= 86400, 1, "must be between 0 and 86400");
  gl_sleep((double)s);
  return 0;
}

void gl_util_open(lua_State *L) {
  static const luaL_Reg f[] = {
    { "now", l_now }, { "sleep", l_sleep }, { "traceback", l_traceback }, { NULL, NULL }
  };
  luaL_setfuncs(L, f, 0);
}
