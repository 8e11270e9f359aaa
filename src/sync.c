/* The blocking driver: c:request runs one logical request to its end on
 * the client's reused easy handle, sleeping between attempts (the same
 * state machine the multi engine drives: transfer.c). */
#include "gl.h"

/* Blocking request: attempts, redirects and waits all happen here. */
static int l_request(lua_State *L) {
  gl_client *c = gl_check_client(L, 1);
  gl_transfer *t = gl_transfer_new(L, c, 2, NULL);
  int nret, took = 0;
  gl_client_enter(c);
  t->L = L;
  if (!c->easy_busy) {
    t->easy = c->easy;
    t->easy_state = c->easy_state;   /* parked by the last request */
    c->easy_busy = took = 1;
    t->body = c->spare_body; t->headers = c->spare_headers;
    c->spare_body.p = c->spare_headers.p = NULL;
    c->spare_body.cap = c->spare_headers.cap = 0;
  }
  else { t->easy = curl_easy_init(); t->easy_state = GL_EASY_CLEAN; }   /* re-entered from a callback */
  if (!t->easy) { gl_transfer_free(L, t); gl_client_leave(L, c); return luaL_error(L, "out of memory"); }
  for (;;) {
    CURLcode rc;
    int next;
    double wait = c->rl_block_until - gl_now();
    if (wait > 0) gl_sleep(wait < c->max_wait ? wait : c->max_wait);
    if (!gl_transfer_setup(t)) break;
    rc = curl_easy_perform(t->easy);
    next = gl_transfer_finish(t, rc);
    if (next == 0) break;
    if (next == 2) gl_sleep(t->wake_at - gl_now());
  }
  nret = gl_transfer_push_result(L, t);
  if (took) {
    c->easy_busy = 0;
    /* nothing may point into the freed transfer between requests */
    c->easy_state = gl_transfer_park(t);
    /* keep the buffers for the next request unless they grew large */
    if (t->body.cap <= GL_SPARE_MAX) { c->spare_body = t->body; t->body.p = NULL; t->body.cap = 0; }
    if (t->headers.cap <= GL_SPARE_MAX) { c->spare_headers = t->headers; t->headers.p = NULL; t->headers.cap = 0; }
    c->spare_body.n = c->spare_headers.n = 0;
  }
  gl_transfer_free(L, t);
  gl_client_leave(L, c);
  return nret;
}

/* methods of "gitlab.client" (merged by core.c) */
const luaL_Reg gl_sync_methods[] = { { "request", l_request }, { NULL, NULL } };
