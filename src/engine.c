/* The multi engine: many transfers on one CURLM. A client has one (async
 * requests, optionally driven by libuv through hooks: async.c); a batch
 * has its own private one (blocking, parallel page prefetch: batch.c), so
 * a blocking batch never drives the multi that libuv owns. The engine
 * moves transfers along and keeps the finished ones in its done list; the
 * layers above call their callbacks (handle.c) or hand them out. */
#include <stdlib.h>
#include <string.h>
#include "gl.h"

/* ---------------------------------------------------------------------- */
/* curl callbacks only record; Lua is called after curl has returned      */
/* ---------------------------------------------------------------------- */
/* Appends {fd, what} to a socket-event array, doubling it when full. */
static int sockev_append(struct gl_sockev **v, size_t *n, size_t *cap,
                         curl_socket_t fd, int what) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*v, c * sizeof **v);
    if (!p) return -1;
    *v = (struct gl_sockev *)p;
    *cap = c;
  }
  (*v)[*n].fd = fd;
  (*v)[*n].what = what;
  (*n)++;
  return 0;
}

/* Keeps e->socks in step with curl: one entry per socket it watches. */
static int track_socket(gl_engine *e, curl_socket_t fd, int what) {
  size_t i;
  for (i = 0; i < e->nsocks && e->socks[i].fd != fd; i++) {}
  if (what == CURL_POLL_REMOVE) {
    if (i < e->nsocks) e->socks[i] = e->socks[--e->nsocks];
    return 0;
  }
  if (i == e->nsocks) return sockev_append(&e->socks, &e->nsocks, &e->capsocks, fd, what);
  e->socks[i].what = what;
  return 0;
}

/* Queues an event for the Lua socket hook (sent by flush_hooks). */
static int push_sockev(gl_engine *e, curl_socket_t fd, int what) {
  return sockev_append(&e->sockev, &e->nsockev, &e->capsockev, fd, what);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *ud, void *sp) {
  gl_engine *e = (gl_engine *)ud;
  (void)easy; (void)sp;
  if (track_socket(e, fd, what) != 0) return -1;
  return push_sockev(e, fd, what);
}

static int on_timer(CURLM *m, long ms, void *ud) {
  gl_engine *e = (gl_engine *)ud;
  (void)m;
  e->curl_deadline = ms < 0 ? -1 : gl_now() + (double)ms / 1000.0;
  return 0;
}

void gl_engine_init(gl_engine *e, gl_client *c) {
  memset(e, 0, sizeof *e);
  e->client = c;
  e->on_socket_ref = e->on_timer_ref = e->err_ref = LUA_NOREF;
  e->curl_deadline = -1;
  e->multi = curl_multi_init();
  if (e->multi) {
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, (void *)e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, (void *)e);
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, GL_MAX_HOST_CONNECTIONS);
  }
}

static void unlink_active(gl_engine *e, gl_transfer *t) {
  if (t->prev) t->prev->next = t->next; else if (e->active == t) e->active = t->next;
  if (t->next) t->next->prev = t->prev;
  t->next = t->prev = NULL;
}

static void push_done(gl_engine *e, gl_transfer *t) {
  unlink_active(e, t);
  t->state = GL_T_DONE;
  t->prev = e->done_tail;
  t->next = NULL;
  if (e->done_tail) e->done_tail->next = t; else e->done_head = t;
  e->done_tail = t;
}

static void unlink_done(gl_engine *e, gl_transfer *t) {
  if (t->prev) t->prev->next = t->next; else e->done_head = t->next;
  if (t->next) t->next->prev = t->prev; else e->done_tail = t->prev;
  t->next = t->prev = NULL;
}

void gl_engine_close(lua_State *L, gl_engine *e) {
  gl_transfer *t;
  if (e->closed) return;
  e->closed = 1;
  while ((t = e->active) != NULL) {
    if (t->state == GL_T_ACTIVE && e->multi) curl_multi_remove_handle(e->multi, t->easy);
    unlink_active(e, t);
    gl_transfer_free(L, t);     /* no callback: the owner is going away */
  }
  /* Attached (closed or collected without detaching first): libuv must
   * stop watching the sockets curl just gave up, before the loop runs
   * again and their numbers are reused. */
  if (e->on_socket_ref != LUA_NOREF) gl_engine_flush_hooks(L, e);
  while ((t = e->done_head) != NULL) {
    unlink_done(e, t);
    gl_transfer_free(L, t);
  }
  while (e->nspare > 0) curl_easy_cleanup(e->spare[--e->nspare]);
  if (e->multi) curl_multi_cleanup(e->multi);
  e->multi = NULL;
  free(e->sockev);
  e->sockev = NULL;
  e->nsockev = e->capsockev = 0;
  free(e->socks);
  e->socks = NULL;
  e->nsocks = e->capsocks = 0;
  if (e->on_socket_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, e->on_socket_ref);
  if (e->on_timer_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, e->on_timer_ref);
  if (e->err_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, e->err_ref);
  e->on_socket_ref = e->on_timer_ref = e->err_ref = LUA_NOREF;
}

/* ---------------------------------------------------------------------- */
/* moving transfers along                                                 */
/* ---------------------------------------------------------------------- */

/* (Re)starts an attempt: now, or parked until the rate-limit window. */
static void launch(gl_engine *e, gl_transfer *t) {
  double block = e->client->rl_block_until - gl_now();
  if (block > 0 && t->state != GL_T_WAITING) {
    t->state = GL_T_WAITING;
    t->wake_at = gl_now() + (block < e->client->max_wait ? block : e->client->max_wait);
    return;
  }
  if (!gl_transfer_setup(t)) { push_done(e, t); return; }
  if (curl_multi_add_handle(e->multi, t->easy) != CURLM_OK) {
    gl_transfer_fail(t, "transport", "cannot add the transfer to the engine", CURLE_FAILED_INIT);
    push_done(e, t);
    return;
  }
  t->state = GL_T_ACTIVE;
}

/* Every entry that may run curl first records the current lua_State:
 * a callback may run on another coroutine than the last one. */
static void set_states(lua_State *L, gl_engine *e) {
  gl_transfer *t;
  for (t = e->active; t; t = t->next) t->L = L;
}

static void wake_due(gl_engine *e) {
  gl_transfer *t = e->active, *next;
  double now = gl_now();
  for (; t; t = next) {
    next = t->next;
    if (t->state == GL_T_WAITING && t->wake_at <= now) {
      t->state = GL_T_NEW;
      launch(e, t);
    }
  }
}

static double next_wake(gl_engine *e) {
  gl_transfer *t;
  double w = -1;
  for (t = e->active; t; t = t->next)
    if (t->state == GL_T_WAITING && (w < 0 || t->wake_at < w)) w = t->wake_at;
  return w;
}

/* Finishes the transfers curl is done with. Their log lines run here, so
 * this counts as inside curl: see in_curl. */
static void collect(gl_engine *e) {
  CURLMsg *msg;
  int left, was = e->in_curl;
  e->in_curl = 1;
  while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
    gl_transfer *t = NULL;
    int next;
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    {
      CURLcode rc = msg->data.result;    /* msg is invalid after remove */
      curl_multi_remove_handle(e->multi, msg->easy_handle);
      if (!t) continue;
      next = gl_transfer_finish(t, rc);
    }
    if (next == 0) push_done(e, t);
    else if (next == 1) { t->state = GL_T_NEW; launch(e, t); }
    else t->state = GL_T_WAITING;
  }
  e->in_curl = was;
}

/* Frees the transfers canceled while in_curl (l_cancel could not). */
static void reap(lua_State *L, gl_engine *e) {
  gl_transfer *t, *next;
  if (!e->reap) return;
  e->reap = 0;
  for (t = e->active; t; t = next) {
    next = t->next;
    if (!t->canceled) continue;
    if (t->state == GL_T_ACTIVE) curl_multi_remove_handle(e->multi, t->easy);
    unlink_active(e, t);
    gl_transfer_free(L, t);
  }
}

/* What follows every call into curl. */
static void after_curl(lua_State *L, gl_engine *e) {
  collect(e);
  reap(L, e);
}

static const char *what_name(int w) {
  switch (w) {
    case CURL_POLL_IN: return "in";
    case CURL_POLL_OUT: return "out";
    case CURL_POLL_INOUT: return "inout";
    default: return "remove";
  }
}

/* Tells libuv (through the Lua hooks) what curl asked for. */
void gl_engine_flush_hooks(lua_State *L, gl_engine *e) {
  size_t i;
  if (e->on_socket_ref == LUA_NOREF) { e->nsockev = 0; return; }
  /* The events were recorded while curl ran, so a socket may already be
   * closed (connection refused: "out" then "remove"). Per socket, send
   * "remove" if the batch has one (the old uv handle must go: the number
   * may now name a new socket), then its last state unless that is
   * "remove": only sockets curl still holds open get a uv handle. */
  for (i = 0; i < e->nsockev; i++) {
    curl_socket_t fd = e->sockev[i].fd;
    int removed = 0, last = CURL_POLL_REMOVE, k;
    size_t j;
    for (j = 0; j < i && e->sockev[j].fd != fd; j++) {}
    if (j < i) continue;                 /* done with the first one */
    for (j = i; j < e->nsockev; j++) {
      if (e->sockev[j].fd != fd) continue;
      last = e->sockev[j].what;
      if (last == CURL_POLL_REMOVE) removed = 1;
    }
    for (k = 0; k < 2; k++) {
      int what = k == 0 ? CURL_POLL_REMOVE : last;
      if (k == 0 ? !removed : last == CURL_POLL_REMOVE) continue;
      lua_rawgeti(L, LUA_REGISTRYINDEX, e->on_socket_ref);
      lua_pushinteger(L, (lua_Integer)fd);
      lua_pushstring(L, what_name(what));
      if (gl_pcall(L, 2, 0) != 0) gl_engine_keep_error(L, e);
    }
  }
  e->nsockev = 0;
  {
    double w = next_wake(e), d = e->curl_deadline, now = gl_now();
    long ms;
    if (w >= 0 && (d < 0 || w < d)) d = w;
    if (e->done_head) d = now;    /* callbacks left by an error: run them soon */
    ms = d < 0 ? -1 : d <= now ? 0 : (long)((d - now) * 1000.0) + 1;
    if (ms != e->hook_timeout_ms || ms == 0) {
      e->hook_timeout_ms = ms;
      lua_rawgeti(L, LUA_REGISTRYINDEX, e->on_timer_ref);
      lua_pushinteger(L, ms);
      if (gl_pcall(L, 1, 0) != 0) gl_engine_keep_error(L, e);
    }
  }
}

/* Stops a transfer canceled from Lua (handle.c; not yet done). Inside
 * curl or the engine's collect (a sink, progress or log function) the
 * handle cannot be removed nor the transfer freed: its callbacks abort it,
 * and reap frees it once curl has returned. Otherwise it goes now, and
 * libuv is told at once, before its loop runs again. */
void gl_engine_cancel(lua_State *L, gl_engine *e, gl_transfer *t) {
  if (t->state == GL_T_ACTIVE && e->in_curl) { e->reap = 1; return; }
  if (t->state == GL_T_ACTIVE) curl_multi_remove_handle(e->multi, t->easy);
  t->state = GL_T_DONE;
  unlink_active(e, t);
  gl_transfer_free(L, t);
  if (!e->closed && e->on_socket_ref != LUA_NOREF) gl_engine_flush_hooks(L, e);
}

/* Takes the easy handle of a finished transfer (out of the multi) before
 * the transfer is freed: parked (gl_transfer_park), it serves the next
 * transfer of this engine, often the one the callback starts. */
void gl_engine_recycle(gl_engine *e, gl_transfer *t) {
  CURL *h = t->easy;
  if (!h || t->engine != e || t->state != GL_T_DONE) return;
  if (!e->closed && e->nspare < GL_ENGINE_SPARE) {
    e->spare_state[e->nspare] = gl_transfer_park(t);   /* nothing of t stays pointed at */
    e->spare[e->nspare++] = h;
  } else {
    curl_easy_cleanup(h);
  }
  t->easy = NULL;
}

int gl_engine_add(lua_State *L, gl_engine *e, gl_transfer *t) {
  t->L = L;
  if (e->nspare > 0) {
    e->nspare--;
    t->easy = e->spare[e->nspare];
    t->easy_state = e->spare_state[e->nspare];
  } else {
    t->easy = curl_easy_init();
    t->easy_state = GL_EASY_CLEAN;
  }
  if (!t->easy) return 0;
  t->engine = e;              /* the engine's from now on */
  t->next = e->active;
  t->prev = NULL;
  if (e->active) e->active->prev = t;
  e->active = t;
  set_states(L, e);
  if (e->in_curl) {
    /* from a sink, progress or log function: curl refuses new handles
     * while it runs; start as soon as it has returned */
    t->state = GL_T_WAITING;
    t->wake_at = gl_now();
    return 1;
  }
  t->state = GL_T_NEW;
  launch(e, t);
  return 1;
}

/* Wakes parked transfers that are due and lets curl run what it can. */
static void perform(lua_State *L, gl_engine *e, int *running) {
  set_states(L, e);
  wake_due(e);
  e->in_curl = 1;
  curl_multi_perform(e->multi, running);
  e->in_curl = 0;
  after_curl(L, e);
}

/* One round of work in polling mode: wake parked transfers, let curl run,
 * and wait at most timeout seconds for sockets or a wake time. */
int gl_engine_step(lua_State *L, gl_engine *e, double timeout, gl_transfer *until) {
  int running = 0;
  perform(L, e, &running);
  if ((until ? until->state == GL_T_DONE : e->done_head != NULL) || !e->active ||
      e->client->closed) return 0;
  {
    double w = next_wake(e), now = gl_now();
    int ms;
    if (w >= 0 && w - now < timeout) timeout = w - now;
    if (timeout < 0) timeout = 0;
    ms = (int)(timeout * 1000.0 + 0.5);
    if (running > 0) curl_multi_poll(e->multi, NULL, 0, ms, NULL);
    else gl_sleep(timeout);
  }
  perform(L, e, &running);
  return 0;
}

/* The transfers not finished yet (running or waiting). */
int gl_engine_count(gl_engine *e) {
  int n = 0;
  gl_transfer *t;
  for (t = e->active; t; t = t->next) n++;
  return n;
}


/* ---------------------------------------------------------------------- */
/* entry points of the layers above                                       */
/* ---------------------------------------------------------------------- */
/* Lets curl act on socket fd (CURL_SOCKET_TIMEOUT with mask 0: on what is
 * due), then finishes what it is done with. */
void gl_engine_socket_action(lua_State *L, gl_engine *e, curl_socket_t fd, int mask) {
  int running;
  set_states(L, e);
  e->in_curl = 1;
  curl_multi_socket_action(e->multi, fd, mask, &running);
  e->in_curl = 0;
  after_curl(L, e);
}

/* The one-shot uv timer has fired: whatever curl asks next must be told,
 * even a delay equal to the last one; parked transfers due now restart. */
void gl_engine_timeout(lua_State *L, gl_engine *e) {
  int running;
  set_states(L, e);
  if (e->curl_deadline >= 0 && e->curl_deadline <= gl_now() + 0.0005) e->curl_deadline = -1;
  e->hook_timeout_ms = -2;
  wake_due(e);
  e->in_curl = 1;
  curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  e->in_curl = 0;
  after_curl(L, e);
}

void gl_engine_detach(lua_State *L, gl_engine *e) {
  gl_unref(L, &e->on_socket_ref);
  gl_unref(L, &e->on_timer_ref);
}

/* Attaches the Lua hooks at stack indexes on_socket and on_timer (after
 * gl_engine_detach). Sockets curl already watches (transfers polled
 * before attaching, or under an earlier attachment) are not announced
 * again: the new hooks hear of each of them first. 0 when out of memory. */
int gl_engine_attach(lua_State *L, gl_engine *e, int on_socket, int on_timer) {
  size_t i;
  lua_pushvalue(L, on_socket); e->on_socket_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, on_timer); e->on_timer_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  e->hook_timeout_ms = -2;
  e->nsockev = 0;
  for (i = 0; i < e->nsocks; i++)
    if (push_sockev(e, e->socks[i].fd, e->socks[i].what) != 0) return 0;
  return 1;
}

/* Takes the oldest finished transfer off the done list (NULL: none). */
gl_transfer *gl_engine_next_done(gl_engine *e) {
  gl_transfer *t = e->done_head;
  if (t) unlink_done(e, t);
  return t;
}

/* Takes finished transfer t off the done list (a batch's await). */
void gl_engine_take_done(gl_engine *e, gl_transfer *t) {
  unlink_done(e, t);
}

/* Keeps the error on top of the stack (popped) when it is the first one
 * since the last gl_engine_take_error; 1 if kept, 0 if dropped. */
int gl_engine_keep_error(lua_State *L, gl_engine *e) {
  if (e->err_ref == LUA_NOREF) { e->err_ref = luaL_ref(L, LUA_REGISTRYINDEX); return 1; }
  lua_pop(L, 1);
  return 0;
}

/* Pushes the kept error and forgets it: 1, or 0 when there is none. */
int gl_engine_take_error(lua_State *L, gl_engine *e) {
  if (e->err_ref == LUA_NOREF) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, e->err_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, e->err_ref);
  e->err_ref = LUA_NOREF;
  return 1;
}

/* Driving the engine from inside one of its sinks, progress or log
 * functions would run curl inside curl (wait() would never return). */
void gl_engine_check_outside(lua_State *L, gl_engine *e, const char *what) {
  if (e->in_curl)
    luaL_error(L, "%s: cannot run inside a sink, progress or log function of this "
               "client's transfers (use request_async: it starts once they return)", what);
}
