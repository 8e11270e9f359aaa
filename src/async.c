/* The client's own engine: the async methods of "gitlab.client" (start,
 * poll, wait, running, hooks, socket_action), the calls of finished
 * transfers' callbacks, and core.client itself, which makes a client
 * (client.c) together with its engine (engine.c). Everything here runs
 * between gl_client_enter and leave_engine: a close() from a callback
 * waits for the outermost call. */
#include "gl.h"

/* Closes the client's engine when the client closes (gl_client.close_engine). */
static void close_engine(lua_State *L, gl_client *c) {
  gl_engine_close(L, &c->engine);
}

/* core.client{...}: the client, with its engine ready */
static int l_client(lua_State *L) {
  gl_client *c = gl_client_new(L);
  gl_engine_init(&c->engine, c);
  c->close_engine = close_engine;
  return 1;
}

/* Runs callbacks of finished transfers, one at a time, each taken off the
 * done list first: a callback may start, cancel or close anything. */
static void dispatch(lua_State *L, gl_engine *e) {
  gl_transfer *t;
  while (!e->closed && !e->client->closed && (t = gl_engine_next_done(e)) != NULL) {
    /* Stop at a failing callback: its error is raised now and the
     * callbacks still queued run at the next poll/wait/socket_action, so
     * none is lost. */
    if (gl_handle_call(L, t) != 0 && gl_engine_keep_error(L, e)) return;
  }
}

/* Ends an entry point (after gl_client_enter): takes the first stored
 * callback error, lets a close() deferred by a callback happen, then
 * raises that error, so closing in a failing callback loses nothing. */
static void leave_engine(lua_State *L, gl_client *c) {
  int raise = gl_engine_take_error(L, &c->engine);
  gl_client_leave(L, c);
  if (raise) lua_error(L);
}

static int l_start(lua_State *L) {
  gl_client *c = gl_check_client(L, 1);
  gl_engine *e = &c->engine;
  gl_transfer *t;
  luaL_checktype(L, 3, LUA_TFUNCTION);
  t = gl_handle_new(L, c, 2);
  lua_pushvalue(L, 3);
  t->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (!gl_engine_add(L, e, t)) { gl_transfer_free(L, t); return luaL_error(L, "out of memory"); }
  /* inside curl the entry point that runs it tells libuv afterwards; a
   * stored error is raised by the outermost entry point */
  if (e->on_socket_ref != LUA_NOREF && !e->in_curl) {
    gl_engine_flush_hooks(L, e);
    if (c->depth == 0 && gl_engine_take_error(L, e)) lua_error(L);
  }
  return 1;
}

static int l_poll(lua_State *L) {
  gl_client *c = gl_check_client(L, 1);
  double timeout = luaL_optnumber(L, 2, 0);
  gl_engine *e = &c->engine;
  if (e->on_socket_ref != LUA_NOREF) return luaL_error(L, "poll: this client is driven by an event loop (attach)");
  gl_engine_check_outside(L, e, "poll");
  gl_client_enter(c);
  gl_engine_step(L, e, timeout, NULL);
  dispatch(L, e);
  leave_engine(L, c);
  lua_pushinteger(L, gl_engine_count(e));
  return 1;
}

static int l_wait(lua_State *L) {
  gl_client *c = gl_check_client(L, 1);
  gl_engine *e = &c->engine;
  if (e->on_socket_ref != LUA_NOREF) return luaL_error(L, "wait: this client is driven by an event loop (attach)");
  gl_engine_check_outside(L, e, "wait");
  gl_client_enter(c);
  while (!c->closed && (e->active || e->done_head) && e->err_ref == LUA_NOREF) {
    gl_engine_step(L, e, 1.0, NULL);
    dispatch(L, e);
  }
  leave_engine(L, c);
  return 0;
}

static int l_running(lua_State *L) {
  gl_client *c = gl_check_client(L, 1);
  lua_pushinteger(L, gl_engine_count(&c->engine));
  return 1;
}

static int l_hooks(lua_State *L) {
  gl_client *c = gl_check_client(L, 1);
  gl_engine *e = &c->engine;
  gl_engine_detach(L, e);
  if (lua_isnoneornil(L, 2)) return 0;
  gl_engine_check_outside(L, e, "attach");
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  if (!gl_engine_attach(L, e, 2, 3)) return luaL_error(L, "out of memory");
  /* transfers started before attaching: make curl announce their sockets */
  gl_client_enter(c);
  gl_engine_socket_action(L, e, CURL_SOCKET_TIMEOUT, 0);
  if (!c->closed) gl_engine_flush_hooks(L, e);
  dispatch(L, e);
  if (!c->closed && e->on_socket_ref != LUA_NOREF) gl_engine_flush_hooks(L, e);
  leave_engine(L, c);
  return 0;
}

static int l_socket_action(lua_State *L) {
  static const char *const names[] = { "in", "out", "inout", "timeout", NULL };
  gl_client *c = gl_check_client(L, 1);
  gl_engine *e = &c->engine;
  int w;
  curl_socket_t fd = (curl_socket_t)luaL_optinteger(L, 2, -1);
  w = luaL_checkoption(L, 3, NULL, names);
  gl_engine_check_outside(L, e, "socket_action");
  gl_client_enter(c);
  if (w == 3) gl_engine_timeout(L, e);
  else gl_engine_socket_action(L, e, fd, w == 0 ? CURL_CSELECT_IN : w == 1 ? CURL_CSELECT_OUT
                                                 : CURL_CSELECT_IN | CURL_CSELECT_OUT);
  if (!c->closed) gl_engine_flush_hooks(L, e);
  dispatch(L, e);
  if (!c->closed) gl_engine_flush_hooks(L, e);   /* callbacks may have started more */
  leave_engine(L, c);
  lua_pushinteger(L, gl_engine_count(e));
  return 1;
}

/* methods of "gitlab.client" (merged by core.c) */
const luaL_Reg gl_async_methods[] = {
  { "start", l_start }, { "poll", l_poll }, { "wait", l_wait },
  { "running", l_running }, { "hooks", l_hooks }, { "socket_action", l_socket_action },
  { NULL, NULL }
};

void gl_async_open(lua_State *L) {
  lua_pushcfunction(L, l_client);
  lua_setfield(L, -2, "client");
}
