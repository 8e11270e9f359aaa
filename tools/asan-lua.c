/* A minimal lua5.4 interpreter built with -fsanitize=address,undefined for
 * make check-asan and make check-valgrind's sibling runs: with the
 * sanitizer runtime linked into the executable, no LD_PRELOAD is needed,
 * so the processes the specs spawn (curl, node, mktemp, sh) run without
 * it (curl(1) hangs with libasan preloaded; LeakSanitizer fails mktemp).
 *   asan-lua script.lua [args...]    (like `lua5.4 script.lua args...`)
 * Sets the global `arg` as lua.c does and passes args as `...`. */
#include <stdio.h>
#include <stdlib.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L;
  int i, rc;
  if (argc < 2) {
    fprintf(stderr, "usage: %s script.lua [args...]\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  lua_createtable(L, argc, 2);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);     /* argv[1] (the script) is arg[0] */
  }
  lua_setglobal(L, "arg");
  lua_pushcfunction(L, traceback);
  if (luaL_loadfile(L, argv[1]) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  for (i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
  rc = lua_pcall(L, argc - 2, 0, 1);
  if (rc != LUA_OK) fprintf(stderr, "%s\n", lua_tostring(L, -1));
  lua_close(L);
  return rc == LUA_OK ? 0 : 1;
}
