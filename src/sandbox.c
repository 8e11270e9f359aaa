/* gitlab.core.sandbox: runs configuration source (gitlab.config) in a Lua
 * state of its own, so nothing of the caller's state is reachable from it:
 *
 *   core.sandbox(text, name, max_memory, max_instructions)
 *     -> true, globals, returned   (plain copies: strings, numbers,
 *                                   booleans, tables; returned is nil
 *                                   unless the chunk returned a table)
 *      | true, globals, nil, type  (the chunk returned a non-table)
 *      | nil, message, why         why: "syntax" | "error" | "memory" |
 *                                       "instructions" | "nesting"
 *
 * The state opens no library: no string metatable (("").rep, ("").dump),
 * no functions at all. Its allocator refuses to grow past max_memory, so
 * one concatenation or table constructor cannot take gigabytes before
 * anyone checks; a count hook stops it after max_instructions VM
 * instructions. Text only ("t"): bytecode is refused by the loader.
 * The result is copied out with raw access (no metamethods exist there
 * anyway); tables nested deeper than GL_SANDBOX_DEPTH (cycles included)
 * are refused.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "gl.h"

#define GL_SANDBOX_DEPTH 32
#define GL_SANDBOX_TICK 1000     /* instructions between hook calls */
#define SANDBOX_MT "gitlab.sandbox"

/* Owned by a userdata of the caller's state (created before the sandbox
 * state, so an allocation error cannot leak it); __gc closes the state.
 * The userdata does not move, so `used`/`limit` serve as the allocator's
 * ud for the state's whole life. */
typedef struct {
  size_t used, limit;
  int over;             /* an allocation was refused for the limit */
  int own_alloc;        /* 0: fallback state of luaL_newstate (no cap) */
  long ticks, max_ticks;
  int out_of_ticks;
  lua_State *S;
} sandbox;

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  sandbox *b = (sandbox *)ud;
  void *p;
  if (ptr == NULL) osize = 0;      /* Lua 5.4 passes the type here */
  if (nsize == 0) {
    free(ptr);
    b->used -= osize;
    return NULL;
  }
  if (nsize > osize && nsize - osize > b->limit - b->used) {
    b->over = 1;
    return NULL;
  }
  p = realloc(ptr, nsize);
  if (!p) return nsize <= osize ? ptr : NULL;   /* shrinking never fails */
  b->used = b->used - osize + nsize;
  return p;
}

static sandbox *box_of(lua_State *S) {
  sandbox *b;
  lua_getfield(S, LUA_REGISTRYINDEX, SANDBOX_MT);
  b = (sandbox *)lua_touserdata(S, -1);
  lua_pop(S, 1);
  return b;
}

static void sandbox_hook(lua_State *S, lua_Debug *ar) {
  sandbox *b = box_of(S);
  (void)ar;
  if (!b) return;
  if (++b->ticks > b->max_ticks) {
    b->out_of_ticks = 1;
    luaL_error(S, "instruction budget exceeded");
  }
  /* the fallback state has no capped allocator: check its size here */
  if (!b->own_alloc && (size_t)lua_gc(S, LUA_GCCOUNT, 0) * 1024u > b->limit) {
    b->over = 1;
    luaL_error(S, "memory budget exceeded");
  }
}

static int sandbox_gc(lua_State *L) {
  sandbox *b = (sandbox *)luaL_checkudata(L, 1, SANDBOX_MT);
  if (b->S) {
    lua_close(b->S);
    b->S = NULL;
  }
  return 0;
}

/* Copies the value at the top of S onto L; 0 when nested too deep (or
 * a stack cannot grow), leaving both stacks to the caller to reset.
 * Functions and other values become nil and are dropped from tables. */
static int copy_out(lua_State *S, lua_State *L, int depth) {
  switch (lua_type(S, -1)) {
  case LUA_TBOOLEAN: lua_pushboolean(L, lua_toboolean(S, -1)); return 1;
  case LUA_TNUMBER: {
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(S, -1)) { lua_pushinteger(L, lua_tointeger(S, -1)); return 1; }
#endif
    lua_pushnumber(L, lua_tonumber(S, -1));
    return 1;
  }
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(S, -1, &n);
    lua_pushlstring(L, s, n);
    return 1;
  }
  case LUA_TTABLE:
    if (depth >= GL_SANDBOX_DEPTH || !lua_checkstack(S, 3)) return 0;
    luaL_checkstack(L, 4, "sandbox copy");
    lua_newtable(L);
    lua_pushnil(S);
    while (lua_next(S, -2)) {
      int kt = lua_type(S, -2);
      if (kt == LUA_TSTRING || kt == LUA_TNUMBER || kt == LUA_TBOOLEAN) {
        lua_pushvalue(S, -2);               /* the key, copied first */
        copy_out(S, L, depth + 1);          /* a scalar: cannot fail */
        lua_pop(S, 1);
        if (!copy_out(S, L, depth + 1)) return 0;
        if (lua_isnil(L, -1)) lua_pop(L, 2);
        else lua_rawset(L, -3);
      }
      lua_pop(S, 1);
    }
    return 1;
  default:
    lua_pushnil(L);
    return 1;
  }
}

/* Leaves nil, message, why on L. */
static void push_failure(lua_State *L, const char *why, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  lua_pushstring(L, why);
}

static int l_sandbox(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  const char *name = luaL_checkstring(L, 2);
  lua_Number max_memory = luaL_checknumber(L, 3);
  lua_Number max_instr = luaL_checknumber(L, 4);
  char msg[512];
  sandbox *b;
  lua_State *S;
  int rc, nret = 3;

  luaL_argcheck(L, max_memory >= 65536 && max_memory < 1e15, 3, "memory limit out of range");
  luaL_argcheck(L, max_instr >= 1 && max_instr < 1e15, 4, "instruction limit out of range");
  lua_settop(L, 4);
  b = (sandbox *)lua_newuserdata(L, sizeof *b);       /* index 5 */
  memset(b, 0, sizeof *b);
  luaL_getmetatable(L, SANDBOX_MT);
  lua_setmetatable(L, -2);
  b->limit = (size_t)max_memory;
  b->max_ticks = (long)(max_instr / GL_SANDBOX_TICK) + 1;
  b->own_alloc = 1;
  S = lua_newstate(sandbox_alloc, b);
  if (!S) {
    /* LuaJIT without GC64 takes no allocator of ours: use its own and
     * let the hook watch the size */
    b->own_alloc = 0;
    S = luaL_newstate();
  }
  if (!S) return luaL_error(L, "sandbox: cannot create a Lua state");
  b->S = S;
  lua_pushlightuserdata(S, b);
  lua_setfield(S, LUA_REGISTRYINDEX, SANDBOX_MT);
  lua_sethook(S, sandbox_hook, LUA_MASKCOUNT, GL_SANDBOX_TICK);

  lua_pushfstring(L, "=%s", name);
  rc = luaL_loadbufferx(S, text, len, lua_tostring(L, -1), "t");
  lua_pop(L, 1);
  if (rc == 0) rc = lua_pcall(S, 0, 1, 0);
  lua_sethook(S, NULL, 0, 0);        /* copying out runs no code */
  if (rc != 0 && b->over) {
    snprintf(msg, sizeof msg, "%s: the file needs more than %.0f KiB of memory to run",
             name, (double)(b->limit / 1024));
    push_failure(L, "memory", msg);
  } else if (rc != 0 && b->out_of_ticks) {
    snprintf(msg, sizeof msg, "%s: the file runs for more than %.0f instructions (an endless loop?)",
             name, (double)max_instr);
    push_failure(L, "instructions", msg);
  } else if (rc != 0) {
    lua_pushnil(L);
    if (lua_type(S, -1) == LUA_TSTRING) {
      size_t n;
      const char *m = lua_tolstring(S, -1, &n);
      lua_pushlstring(L, m, n);
    } else {
      lua_pushfstring(L, "%s: error (%s)", name, lua_typename(S, lua_type(S, -1)));
    }
    lua_pushstring(L, rc == LUA_ERRSYNTAX ? "syntax" : "error");
  } else {
    int ok;
    lua_pushboolean(L, 1);
#if LUA_VERSION_NUM >= 502
    lua_rawgeti(S, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
#else
    lua_pushvalue(S, LUA_GLOBALSINDEX);
#endif
    ok = copy_out(S, L, 0);
    lua_pop(S, 1);
    if (ok && lua_type(S, -1) == LUA_TTABLE) {
      ok = copy_out(S, L, 0);
    } else if (ok) {
      lua_pushnil(L);
      if (!lua_isnil(S, -1)) {
        lua_pushstring(L, lua_typename(S, lua_type(S, -1)));
        nret = 4;
      }
    }
    if (!ok) {
      lua_settop(L, 5);
      snprintf(msg, sizeof msg, "%s: tables nested deeper than %d levels (or a table that contains itself)",
               name, GL_SANDBOX_DEPTH);
      push_failure(L, "nesting", msg);
    }
  }
  lua_close(S);
  b->S = NULL;
  return nret;
}

void gl_sandbox_open(lua_State *L) {
  luaL_newmetatable(L, SANDBOX_MT);
  lua_pushcfunction(L, sandbox_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_sandbox);
  lua_setfield(L, -2, "sandbox");
}
