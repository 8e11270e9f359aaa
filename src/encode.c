/* Percent, path and GitLab-style query encoding. */
#include <stdlib.h>
#include <string.h>
#include "gl.h"

static const char gl_hex[] = "0123456789ABCDEF";

/* keep: characters left as they are besides ALPHA / DIGIT */
static void encode_into(luaL_Buffer *b, const char *s, size_t n, const char *keep) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
        (ch >= '0' && ch <= '9') || (ch && strchr(keep, ch))) {
      luaL_addchar(b, (char)ch);
    } else {
      luaL_addchar(b, '%');
      luaL_addchar(b, gl_hex[ch >> 4]);
      luaL_addchar(b, gl_hex[ch & 15]);
    }
  }
}

/* Path segments: GitLab wants "group/proj" as one segment and its docs
 * encode "." in file paths too, so only "-_~" stay. */
static int l_encode(lua_State *L) {
  size_t n;
  const char *s;
  luaL_Buffer b;
  if (lua_type(L, 1) == LUA_TNUMBER) { lua_settop(L, 1); lua_tostring(L, 1); return 1; }
  s = luaL_checklstring(L, 1, &n);
  luaL_buffinit(L, &b);
  encode_into(&b, s, n, "-_~");
  luaL_pushresult(&b);
  return 1;
}

static int l_escape(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  encode_into(&b, s, n, "-._~");
  luaL_pushresult(&b);
  return 1;
}

/* Pushes a scalar as its query text; numbers without a trailing ".0". */
static int scalar_string(lua_State *L, int idx, const char *key) {
  long long iv;
  char tmp[64];
  switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
      return 1;
    case LUA_TNUMBER:
      if (gl_isinteger(L, idx, &iv)) snprintf(tmp, sizeof tmp, "%lld", iv);
      else snprintf(tmp, sizeof tmp, "%.17g", (double)lua_tonumber(L, idx));
      lua_pushstring(L, tmp);
      return 1;
    case LUA_TSTRING:
      lua_pushvalue(L, idx);
      return 1;
    default:
      return luaL_error(L, "query: value of '%s' is a %s (expected string, "
                        "number, boolean or table)", key, luaL_typename(L, idx));
  }
}

static int is_array(lua_State *L, int idx, size_t *len) {
  size_t n = gl_rawlen(L, idx), count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    count++;
    lua_pop(L, 1);
  }
  *len = n;
  return n > 0 && count == n;
}

/* A key's text and its slot in the key table (the original key is kept
 * next to it: the text of 1 and "1" is the same, their values are not). */
typedef struct qkey { const char *s; int slot; } qkey;

static int cmp_keys(const void *a, const void *b) {
  const qkey *x = (const qkey *)a, *y = (const qkey *)b;
  int c = strcmp(x->s, y->s);
  return c ? c : x->slot - y->slot;    /* equal texts: a stable order */
}

static void add_pair(lua_State *L, int acc, int *first, const char *key, int vidx);

/* Emits the entries of the table at tidx under prefix (may be empty).
 * Keys are sorted so a query is the same string every time. */
static void add_table(lua_State *L, int acc, int *first, const char *prefix,
                      int tidx, int depth) {
  size_t len, i, nkeys = 0;
  if (depth > 32) luaL_error(L, "query: tables nested too deep");
  /* each level keeps up to 4 values on the stack, and add_pair's buffers
   * need a few more: without this a deep table writes past the stack */
  luaL_checkstack(L, 12, "query: tables nested too deep");
  if (is_array(L, tidx, &len)) {
    for (i = 1; i <= len; i++) {
      int sub;
      lua_rawgeti(L, tidx, (int)i);
      sub = lua_gettop(L);
      if (lua_type(L, sub) == LUA_TTABLE) {
        lua_pushfstring(L, "%s[%d]", prefix, (int)(i - 1));
        add_table(L, acc, first, lua_tostring(L, -1), sub, depth + 1);
        lua_pop(L, 1);
      } else {
        lua_pushfstring(L, "%s[]", prefix);
        add_pair(L, acc, first, lua_tostring(L, -1), sub);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    return;
  }
  /* collect string keys, sort them */
  {
    qkey *keys;
    int ktab;
    lua_newtable(L);          /* [2k-1] key text, [2k] the key itself */
    ktab = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, tidx)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, ktab, (int)(2 * ++nkeys));
        lua_pushvalue(L, -1);
        if (lua_type(L, -1) == LUA_TNUMBER) { scalar_string(L, -1, "?"); lua_remove(L, -2); }
        lua_rawseti(L, ktab, (int)(2 * nkeys - 1));
      } else {
        luaL_error(L, "query: keys must be strings (got %s)", luaL_typename(L, -1));
      }
    }
    if (nkeys == 0) { lua_pop(L, 1); return; }
    keys = (qkey *)lua_newuserdata(L, nkeys * sizeof *keys);
    for (i = 0; i < nkeys; i++) {
      lua_rawgeti(L, ktab, (int)(2 * i + 1));
      keys[i].s = lua_tostring(L, -1);
      keys[i].slot = (int)(2 * i + 2);
      lua_pop(L, 1);          /* still referenced by ktab */
    }
    qsort(keys, nkeys, sizeof *keys, cmp_keys);
    for (i = 0; i < nkeys; i++) {
      int vidx;
      /* by the original key: looking the value up by its text found the
       * string key twice when both 1 and "1" were present, so a table
       * with such pairs at every level grew the output exponentially */
      lua_rawgeti(L, ktab, keys[i].slot);
      lua_rawget(L, tidx);
      vidx = lua_gettop(L);
      if (*prefix) lua_pushfstring(L, "%s[%s]", prefix, keys[i].s);
      else lua_pushstring(L, keys[i].s);
      if (lua_type(L, vidx) == LUA_TTABLE) {
        add_table(L, acc, first, lua_tostring(L, -1), vidx, depth + 1);
      } else {
        add_pair(L, acc, first, lua_tostring(L, -1), vidx);
      }
      lua_pop(L, 2);
    }
    lua_pop(L, 2);            /* keys userdata, ktab */
  }
}

/* Pieces go into the accumulator table at acc (luaL_Buffer cannot stay
 * open across the recursion: it owns stack slots). */
static void add_piece(lua_State *L, int acc, const char *s, size_t n, const char *keep) {
  luaL_Buffer kb;
  luaL_buffinit(L, &kb);
  encode_into(&kb, s, n, keep);
  luaL_pushresult(&kb);
  lua_rawseti(L, acc, (int)gl_rawlen(L, acc) + 1);
}

static void add_pair(lua_State *L, int acc, int *first, const char *key, int vidx) {
  size_t n;
  const char *v;
  /* a table reached twice at every level (a DAG) stays under the depth
   * limit but doubles the output per level: bound it */
  if (gl_rawlen(L, acc) >= 4 * 100000) luaL_error(L, "query: more than 100000 parameters");
  scalar_string(L, vidx, key);
  v = lua_tolstring(L, -1, &n);
  if (!*first) add_piece(L, acc, "&", 1, "&");
  *first = 0;
  add_piece(L, acc, key, strlen(key), "-._~[]");
  add_piece(L, acc, "=", 1, "=");
  add_piece(L, acc, v, n, "-._~");
  lua_pop(L, 1);
}

static int l_query(lua_State *L) {
  int first = 1;
  luaL_Buffer b;
  size_t i, n;
  if (lua_isnoneornil(L, 1)) { lua_pushliteral(L, ""); return 1; }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_newtable(L);                         /* 2: accumulator of pieces */
  add_table(L, 2, &first, "", 1, 0);
  n = gl_rawlen(L, 2);
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, (int)i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

void gl_encode_open(lua_State *L) {
  lua_pushcfunction(L, l_encode);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, l_escape);
  lua_setfield(L, -2, "escape");
  lua_pushcfunction(L, l_query);
  lua_setfield(L, -2, "query");
}
