/* "gitlab.batch": the private engine of a page prefetch (c:batch()). Its
 * transfers run in parallel on a multi handle of their own, driven only
 * while await blocks, so a blocking batch never drives the multi that
 * libuv owns; results are kept for await, no callback runs. */
#include <string.h>
#include "gl.h"

typedef struct gl_batch { gl_engine e; int client_ref; int open; } gl_batch;

static gl_batch *check_batch(lua_State *L) {
  gl_batch *b = (gl_batch *)luaL_checkudata(L, 1, GL_BATCH_MT);
  if (!b->open) luaL_error(L, "attempt to use a closed batch");
  if (b->e.client->closed) luaL_error(L, "attempt to use a batch of a closed client");
  return b;
}

/* c:batch() */
static int l_batch(lua_State *L) {
  gl_client *c = gl_check_client(L, 1);
  gl_batch *b = (gl_batch *)lua_newuserdata(L, sizeof *b);
  memset(b, 0, sizeof *b);
  b->client_ref = LUA_NOREF;
  luaL_getmetatable(L, GL_BATCH_MT);
  lua_setmetatable(L, -2);
  gl_engine_init(&b->e, c);
  if (!b->e.multi) return luaL_error(L, "out of memory");
  lua_pushvalue(L, 1);
  b->client_ref = luaL_ref(L, LUA_REGISTRYINDEX);   /* the client outlives us */
  b->open = 1;
  return 1;
}

static int l_badd(lua_State *L) {
  gl_batch *b = check_batch(L);
  gl_transfer *t = gl_handle_new(L, b->e.client, 2);
  if (!gl_engine_add(L, &b->e, t)) { gl_transfer_free(L, t); return luaL_error(L, "out of memory"); }
  return 1;
}

static int l_bawait(lua_State *L) {
  gl_batch *b = check_batch(L);
  gl_tbox *box = (gl_tbox *)luaL_checkudata(L, 2, GL_TRANSFER_MT);
  gl_transfer *t = box->t;
  int n;
  if (!t || t->engine != &b->e) return luaL_argerror(L, 2, "not a pending transfer of this batch");
  gl_engine_check_outside(L, &b->e, "await");
  gl_client_enter(b->e.client);
  while (t->state != GL_T_DONE && !b->e.client->closed) gl_engine_step(L, &b->e, 1.0, t);
  if (t->state != GL_T_DONE) {
    /* closed by a log function: the batch frees its transfers on close */
    gl_client_leave(L, b->e.client);
    lua_pushnil(L);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "canceled"); lua_setfield(L, -2, "kind");
    lua_pushliteral(L, "the client was closed"); lua_setfield(L, -2, "message");
    lua_pushnil(L);
    return 3;
  }
  gl_engine_take_done(&b->e, t);
  n = gl_transfer_push_result(L, t);
  gl_engine_recycle(&b->e, t);
  gl_transfer_free(L, t);
  gl_client_leave(L, b->e.client);
  return n;
}

static int l_bpending(lua_State *L) {
  gl_batch *b = check_batch(L);
  lua_pushinteger(L, gl_engine_count(&b->e));
  return 1;
}

static int l_bclose(lua_State *L) {
  gl_batch *b = (gl_batch *)luaL_checkudata(L, 1, GL_BATCH_MT);
  if (!b->open) return 0;
  b->open = 0;
  gl_engine_close(L, &b->e);
  /* the client closed first: its connection cache waited for us */
  if (b->e.client->closed && b->e.client->share &&
      curl_share_cleanup(b->e.client->share) == CURLSHE_OK)
    b->e.client->share = NULL;
  if (b->client_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, b->client_ref);
  b->client_ref = LUA_NOREF;
  return 0;
}

/* methods of "gitlab.client" (merged by core.c) */
const luaL_Reg gl_batch_methods[] = { { "batch", l_batch }, { NULL, NULL } };

void gl_batch_open(lua_State *L) {
  static const luaL_Reg m[] = {
    { "add", l_badd }, { "await", l_bawait }, { "pending", l_bpending },
    { "close", l_bclose }, { NULL, NULL }
  };
  gl_newclass(L, GL_BATCH_MT, m, l_bclose, 0, NULL);
  lua_pop(L, 1);
}
