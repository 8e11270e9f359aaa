/* Lua 5.1/LuaJIT vs 5.4 differences, kept in one place (STYLE.md rule 8).
 * Only gl_* names are defined here: defining lua_* or luaL_* ourselves
 * would clash with LuaJIT 2.1, which already ships some 5.2 functions. */
#ifndef GL_COMPAT_H
#define GL_COMPAT_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#if LUA_VERSION_NUM >= 502
#define gl_rawlen(L, i)       lua_rawlen(L, (i))
#else
#define gl_rawlen(L, i)       lua_objlen(L, (i))
#endif

/* tonumber(s): pushes the number (an integer where Lua has them) and
 * returns 1, or pushes nothing and returns 0. */
static inline int gl_stringtonumber(lua_State *L, const char *s) {
#if LUA_VERSION_NUM >= 503
  return lua_stringtonumber(L, s) != 0;
#else
  lua_Number v;
  lua_pushstring(L, s);
  if (!lua_isnumber(L, -1)) { lua_pop(L, 1); return 0; }
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  lua_pushnumber(L, v);
  return 1;
#endif
}

/* Integer test that works when numbers are all doubles (LuaJIT). */
static inline int gl_isinteger(lua_State *L, int i, long long *out) {
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, i)) { *out = (long long)lua_tointeger(L, i); return 1; }
#endif
  {
    lua_Number n = lua_tonumber(L, i);
    long long v = (long long)n;
    if ((lua_Number)v == n && n > -9.0e15 && n < 9.0e15) { *out = v; return 1; }
  }
  return 0;
}

#endif
