/* "gitlab.transfer": the Lua handle of an async transfer (c:start, b:add)
 * and the call of its callback. A small box pointing at the malloc'd
 * transfer, so a transfer in flight outlives its handle: the box holds
 * the transfer until an engine takes it (gl_engine_add), the engine from
 * then on. Made box first: gl_handle_new pushes the box, then builds the
 * transfer into it, so an error halfway leaves only what the box's __gc
 * frees. */
#include "gl.h"

/* Pushes a new handle holding a transfer built from the request table at
 * ri (raises on a bad request, leaking nothing); the caller hands it to an
 * engine. */
gl_transfer *gl_handle_new(lua_State *L, gl_client *c, int ri) {
  gl_tbox *box;
  ri = ri < 0 ? lua_gettop(L) + ri + 1 : ri;
  box = (gl_tbox *)lua_newuserdata(L, sizeof *box);
  box->t = NULL;
  luaL_getmetatable(L, GL_TRANSFER_MT);
  lua_setmetatable(L, -2);
  return gl_transfer_new(L, c, ri, box);
}

/* Runs the callback of a finished transfer, which it frees first: the
 * callback may start, cancel or close anything. 0, or the pcall's code
 * with the error on the stack. */
int gl_handle_call(lua_State *L, gl_transfer *t) {
  int n;
  if (t->cb_ref == LUA_NOREF || t->cb_ref == LUA_REFNIL) {
    if (t->engine) gl_engine_recycle(t->engine, t);
    gl_transfer_free(L, t);
    return 0;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->cb_ref);
  n = gl_transfer_push_result(L, t);
  if (t->engine) gl_engine_recycle(t->engine, t);
  gl_transfer_free(L, t);
  return gl_pcall(L, n, 0);
}

/* ====================================================================== */
/* methods                                                                */
/* ====================================================================== */
static gl_tbox *check_box(lua_State *L) {
  return (gl_tbox *)luaL_checkudata(L, 1, GL_TRANSFER_MT);
}

static int l_cancel(lua_State *L) {
  gl_tbox *b = check_box(L);
  gl_transfer *t = b->t;
  if (!t || t->canceled || (t->state == GL_T_DONE && t->cb_ref == LUA_NOREF)) {
    lua_pushboolean(L, 0);    /* already called back, canceled or collected */
    return 1;
  }
  t->canceled = 1;
  gl_unref(L, &t->cb_ref);    /* callbacks never run after cancel */
  /* Finished but not yet called back: the engine frees it without a call.
   * Otherwise the engine stops it (at once, or once curl has returned). */
  if (t->engine && t->state != GL_T_DONE) gl_engine_cancel(L, t->engine, t);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_done(lua_State *L) {
  gl_tbox *b = check_box(L);
  lua_pushboolean(L, b->t == NULL || b->t->state == GL_T_DONE);
  return 1;
}

static int l_gc(lua_State *L) {
  gl_tbox *b = check_box(L);
  gl_transfer *t = b->t;
  b->t = NULL;
  if (!t) return 0;
  t->box = NULL;
  if (!t->engine) gl_transfer_free(L, t);   /* raised before an engine took it */
  /* otherwise the transfer goes on without its handle */
  return 0;
}

static int l_tostring(lua_State *L) {
  gl_tbox *b = check_box(L);
  if (b->t) lua_pushfstring(L, "gitlab.transfer (%s %s)", b->t->method, b->t->state == GL_T_DONE ? "done" : "running");
  else lua_pushliteral(L, "gitlab.transfer (finished)");
  return 1;
}

void gl_handle_open(lua_State *L) {
  static const luaL_Reg m[] = {
    { "cancel", l_cancel }, { "done", l_done }, { NULL, NULL }
  };
  gl_newclass(L, GL_TRANSFER_MT, m, l_gc, 1, l_tostring);
  lua_pop(L, 1);
}
