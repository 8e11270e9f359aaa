/* "gitlab.client": per-client settings, the header lines (credential), the
 * log function, and the lifetime of the handles (the reused easy handle
 * of blocking requests, the connection cache): enter/leave and close. Its
 * request methods come from the layers above (sync.c, async.c, batch.c);
 * the async engine lives inside the same userdata and is closed through
 * close_engine, set by the layer that made it (async.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gl.h"

static void free_secret(char **s) {
  if (*s) { memset(*s, 0, strlen(*s)); free(*s); }
  *s = NULL;
}

gl_client *gl_check_client(lua_State *L, int i) {
  gl_client *c = (gl_client *)luaL_checkudata(L, i, GL_CLIENT_MT);
  if (c->closed) luaL_error(L, "attempt to use a closed gitlab client");
  return c;
}

/* A log function that raises fails the request it logs (the caller sees
 * the error); it is never dropped. */
int gl_client_log(gl_client *c, lua_State *L, const char *line) {
  if (c->log_ref == LUA_NOREF || c->closed) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->log_ref);
  lua_pushstring(L, line);
  return gl_pcall(L, 1, 0) != 0;
}

/* ====================================================================== */
/* header lines: the credential's and the client's own                    */
/* ====================================================================== */
/* Lets go of a shared set of header lines (gl_auth in gl.h). */
void gl_auth_release(gl_auth **a) {
  if (*a && --(*a)->refs == 0) {
    int k;
    for (k = 0; k < GL_LINES_N; k++) gl_slist_wipe((*a)->list[k]);
    free(*a);
  }
  *a = NULL;
}

/* The client's extra headers, then the credential (and Sudo) lines, into
 * *l: 1, or 0 when out of memory. */
static int credential_lines(gl_client *c, struct curl_slist **l) {
  struct curl_slist *i;
  int ok = 1;
  for (i = c->extra_headers; i && ok; i = i->next) ok = gl_slist_push(l, i->data);
  if (ok && c->token && c->auth_name) {
    gl_buf h = {0, 0, 0};
    gl_buf_adds(&h, c->auth_name);
    gl_buf_adds(&h, ": ");
    if (strcmp(c->auth_name, "Authorization") == 0) gl_buf_adds(&h, "Bearer ");
    gl_buf_adds(&h, c->token);
    ok = gl_slist_push(l, h.p);
    if (h.p) memset(h.p, 0, h.n);
    gl_buf_free(&h);
    if (ok && c->sudo) {
      gl_buf s = {0, 0, 0};
      gl_buf_adds(&s, "Sudo: ");
      gl_buf_adds(&s, c->sudo);
      ok = gl_slist_push(l, s.p);
      gl_buf_free(&s);
    }
  }
  return ok;
}

/* The Accept-Encoding line libcurl sends for CURLOPT_ACCEPT_ENCODING "":
 * every encoding it decodes, in its own order (lib/content_encoding.c),
 * or identity when it decodes none. 0 when out of memory. */
static int accept_encoding_line(gl_buf *b) {
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  int f = v ? v->features : 0, n = 0, ok = gl_buf_adds(b, "Accept-Encoding: ");
  if (f & CURL_VERSION_LIBZ) { ok &= gl_buf_adds(b, "deflate, gzip"); n++; }
#ifdef CURL_VERSION_BROTLI
  if (f & CURL_VERSION_BROTLI) ok &= gl_buf_adds(b, n++ ? ", br" : "br");
#endif
#ifdef CURL_VERSION_ZSTD
  if (f & CURL_VERSION_ZSTD) ok &= gl_buf_adds(b, n++ ? ", zstd" : "zstd");
#endif
  if (!n) ok &= gl_buf_adds(b, "identity");
  return ok && b->p;
}

/* The header lines of a transfer (gl_auth in gl.h): with cred, the
 * origin's (extra headers and credential), built once per credential and
 * wiped when replaced (forget_auth); without, the others, built once per
 * client. Returns the set held for the caller (release with
 * gl_auth_release), or NULL when out of memory: a set is whole or none,
 * never one that lacks a line. */
gl_auth *gl_client_lines(gl_client *c, int cred) {
  gl_auth **slot = cred ? &c->auth : &c->anon, *a = *slot;
  struct curl_slist *i, *core = NULL, *l[GL_LINES_N] = {NULL, NULL, NULL};
  gl_buf ua = {0, 0, 0}, ae = {0, 0, 0};
  int k, ncore = 0, ok = 1;
  if (a) { a->refs++; return a; }
  if (cred) ok = credential_lines(c, &core);
  for (i = core; i && ok; i = i->next, ncore++)
    for (k = 0; k < 2 && ok; k++) ok = gl_slist_push(&l[k], i->data);
  gl_slist_wipe(core);
  /* user_agent = "" sends none, as libcurl's CURLOPT_USERAGENT "" */
  if (ok && c->user_agent[0]) {
    gl_buf_adds(&ua, "User-Agent: ");
    ok = gl_buf_adds(&ua, c->user_agent) && ua.p;
    if (ok && (!cred || !gl_slist_names(c->extra_headers, ua.p)))
      for (k = 0; k < 2 && ok; k++) ok = gl_slist_push(&l[k], ua.p);
    if (ok) ok = gl_slist_push(&l[GL_LINES_CONNECT], ua.p);
  }
  if (ok) {
    ok = accept_encoding_line(&ae);
    if (ok && (!cred || !gl_slist_names(c->extra_headers, ae.p)))
      ok = gl_slist_push(&l[GL_LINES_BUFFERED], ae.p);
  }
  gl_buf_free(&ua);
  gl_buf_free(&ae);
  a = ok ? (gl_auth *)malloc(sizeof *a) : NULL;
  if (!a) {
    for (k = 0; k < GL_LINES_N; k++) gl_slist_wipe(l[k]);
    return NULL;
  }
  for (k = 0; k < GL_LINES_N; k++) a->list[k] = l[k];
  a->ncore = ncore;
  a->refs = 2;          /* the client's own and the caller's */
  *slot = a;
  return a;
}

static void forget_auth(gl_client *c) {
  gl_auth_release(&c->auth);
}


/* ====================================================================== */
/* options                                                                */
/* ====================================================================== */
static const char *get_str(lua_State *L, int t, const char *k) {
  const char *s;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return NULL; }
  if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "client option '%s': expected a string, got %s", k, luaL_typename(L, -1));
  s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

static double get_num(lua_State *L, int t, const char *k, double dflt, double lo, double hi) {
  double v;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return dflt; }
  if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "client option '%s': expected a number, got %s", k, luaL_typename(L, -1));
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v >= lo && v <= hi)) luaL_error(L, "client option '%s': %f is out of range [%f, %f]", k, v, lo, hi);
  return v;
}

static int get_bool(lua_State *L, int t, const char *k, int dflt) {
  int v;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return dflt; }
  if (lua_type(L, -1) != LUA_TBOOLEAN) luaL_error(L, "client option '%s': expected a boolean", k);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* A string option that becomes part of a request header: a line break
 * would start a header (or a request) of its own, and a NUL byte would cut
 * the value short without a word. The message never shows the value. */
static const char *get_line(lua_State *L, int t, const char *k) {
  const char *s = get_str(L, t, k);
  if (!s) return NULL;
  lua_getfield(L, t, k);
  if (!gl_one_line(L, -1))
    luaL_error(L, "client option '%s': line breaks and NUL bytes are not allowed", k);
  lua_pop(L, 1);
  return s;
}

static void check_options(lua_State *L, int o) {
  static const char *const known[] = { "base", "auth", "token", "sudo", "timeout",
    "connect_timeout", "retries", "retry_base", "max_wait", "deadline", "verify",
    "ca_file", "proxy", "user_agent", "headers", "log", "http2", "allow_insecure", "max_body",
    NULL };
  const char *auth;
  lua_pushnil(L);
  while (lua_next(L, o)) {
    int i, ok = 0;
    if (lua_type(L, -2) == LUA_TSTRING)
      for (i = 0; known[i]; i++) if (strcmp(known[i], lua_tostring(L, -2)) == 0) ok = 1;
    if (!ok) luaL_error(L, "client: unknown option '%s'", lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
    lua_pop(L, 1);
  }
  if (!get_str(L, o, "base")) luaL_error(L, "client option 'base' is required");
  auth = get_str(L, o, "auth");
  if (auth && strcmp(auth, "PRIVATE-TOKEN") && strcmp(auth, "Authorization") && strcmp(auth, "JOB-TOKEN"))
    luaL_error(L, "client option 'auth': expected PRIVATE-TOKEN, Authorization or JOB-TOKEN");
  if (auth && !get_str(L, o, "token")) luaL_error(L, "client option 'auth' needs a 'token'");
  get_line(L, o, "token"); get_line(L, o, "sudo"); get_line(L, o, "user_agent");
  get_str(L, o, "ca_file"); get_str(L, o, "proxy");
  get_bool(L, o, "allow_insecure", 0);
  gl_check_header_lines(L, o, "headers", "client option 'headers'");
  lua_getfield(L, o, "log");
  if (!lua_isnil(L, -1)) luaL_checktype(L, -1, LUA_TFUNCTION);
  lua_pop(L, 1);
}

/* Pushes a new client made from the options table at index 1 (raises on
 * a bad one); its engine is the caller's to set up (async.c). */
gl_client *gl_client_new(lua_State *L) {
  gl_client *c;
  gl_buf origin = {0, 0, 0}, why = {0, 0, 0};
  const char *base;
  int insecure;
  luaL_checktype(L, 1, LUA_TTABLE);
  check_options(L, 1);
  base = get_str(L, 1, "base");
  insecure = get_bool(L, 1, "allow_insecure", 0);
  if (gl_transport_refusal(base, get_str(L, 1, "token") != NULL, "a credential",
                           get_str(L, 1, "proxy"), insecure, &why)) {
    lua_pushfstring(L, "client: %s", why.p ? why.p : "out of memory");
    gl_buf_free(&why);
    lua_error(L);
  }
  if (!gl_url_origin(base, &origin)) {
    gl_buf_free(&origin);
    luaL_error(L, "client: out of memory");
  }
  /* userdata first, empty, so that a failure below (a bad option raises)
   * leaves only what __gc (l_close) frees */
  c = (gl_client *)lua_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  c->log_ref = LUA_NOREF;
  luaL_getmetatable(L, GL_CLIENT_MT);
  lua_setmetatable(L, -2);
  c->origin = gl_strdup(origin.p);
  gl_buf_free(&origin);

  c->timeout_ms = (long)(get_num(L, 1, "timeout", 30, 0.001, 86400 * 7) * 1000);
  c->connect_timeout_ms = (long)(get_num(L, 1, "connect_timeout", 10, 0.001, 86400) * 1000);
  c->retries = (int)get_num(L, 1, "retries", 5, 0, 100);
  c->retry_base = get_num(L, 1, "retry_base", 0.5, 0, 60);
  c->max_wait = get_num(L, 1, "max_wait", 120, 0, 86400);
  c->deadline = get_num(L, 1, "deadline", 600, 0, 86400 * 7);
  c->max_body = gl_byte_limit(get_num(L, 1, "max_body", (double)GL_MAX_BODY, 0, HUGE_VAL));
  c->verify = get_bool(L, 1, "verify", 1);
  c->http2 = get_bool(L, 1, "http2", 1);
  /* a plain-http loopback origin never needs a proxy: a credential sent
   * there goes straight to it, whatever the environment says later */
  c->direct = !insecure && c->origin && strncmp(c->origin, "http://", 7) == 0 && gl_url_loopback(base);
  c->base = gl_strdup(base);
  c->auth_name = gl_strdup(get_str(L, 1, "auth"));
  c->token = gl_strdup(get_str(L, 1, "token"));
  c->sudo = gl_strdup(get_str(L, 1, "sudo"));
  c->ca_file = gl_strdup(get_str(L, 1, "ca_file"));
  c->proxy = gl_strdup(get_str(L, 1, "proxy"));
  c->user_agent = gl_strdup(get_str(L, 1, "user_agent") ? get_str(L, 1, "user_agent")
                                                      : "lua-gitlab/" GL_VERSION);
  c->rng = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32) ^
           (unsigned long long)(size_t)c;
  if (!c->rng) c->rng = 88172645463325252ULL;
  c->extra_headers = gl_header_lines(L, 1, "headers");
  lua_getfield(L, 1, "log");
  if (lua_isfunction(L, -1)) c->log_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  else lua_pop(L, 1);

  c->share = curl_share_init();
  c->easy = curl_easy_init();
  if (!c->share || !c->easy || !c->base || !c->origin || !c->user_agent)
    luaL_error(L, "client: out of memory");
#if LIBCURL_VERSION_NUM >= 0x075400
  if (c->verify && gl_tls_shared_store_ok()) {
    /* libcurl's built-in CA file and directory, read from a handle that
     * has not been set up yet (CURLINFO_CAINFO: libcurl 7.84) */
    char *f = NULL, *d = NULL;
    if (curl_easy_getinfo(c->easy, CURLINFO_CAINFO, &f) == CURLE_OK &&
        curl_easy_getinfo(c->easy, CURLINFO_CAPATH, &d) == CURLE_OK) {
      c->ca_default_file = gl_strdup(f);
      c->ca_default_path = gl_strdup(d);
      c->ca_shared = (!f || c->ca_default_file) && (!d || c->ca_default_path);
    }
  }
#endif
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return c;
}

/* ====================================================================== */
/* methods                                                                */
/* ====================================================================== */

static int l_set_token(lua_State *L) {
  gl_client *c = gl_check_client(L, 1);
  const char *kind = luaL_optstring(L, 2, NULL);
  const char *token = luaL_optstring(L, 3, NULL);
  if (kind && strcmp(kind, "PRIVATE-TOKEN") && strcmp(kind, "Authorization") && strcmp(kind, "JOB-TOKEN"))
    return luaL_argerror(L, 2, "expected PRIVATE-TOKEN, Authorization or JOB-TOKEN");
  if (kind && !token) return luaL_argerror(L, 3, "a token is required");
  if (token && !gl_one_line(L, 3))
    return luaL_argerror(L, 3, "line breaks and NUL bytes are not allowed in a token");
  forget_auth(c);
  free(c->auth_name);
  free_secret(&c->token);
  c->auth_name = gl_strdup(kind);
  c->token = gl_strdup(token);
  return 0;
}

/* Frees everything the client holds; nothing of it may be in use. */
static void close_now(lua_State *L, gl_client *c) {
  c->close_pending = 0;
  if (c->close_engine) { c->close_engine(L, c); c->close_engine = NULL; }
  if (c->easy) curl_easy_cleanup(c->easy);
  c->easy = NULL;
  /* a page-prefetch batch still open shares the cache: the last batch to
   * close frees it (l_bclose) */
  if (c->share && curl_share_cleanup(c->share) == CURLSHE_OK) c->share = NULL;
  forget_auth(c);
  gl_auth_release(&c->anon);
  gl_buf_free(&c->spare_body); gl_buf_free(&c->spare_headers);
  curl_slist_free_all(c->extra_headers);
  c->extra_headers = NULL;
  if (c->log_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, c->log_ref);
  c->log_ref = LUA_NOREF;
  free_secret(&c->token);
  free(c->auth_name); free(c->sudo); free(c->base); free(c->origin);
  free(c->user_agent); free(c->ca_file); free(c->proxy);
  c->auth_name = c->sudo = c->base = c->origin = c->user_agent = c->ca_file = c->proxy = NULL;
  /* connections still open (a batch's) hold their own references */
  gl_tls_store_free(c->ca_store);
  c->ca_store = NULL;
  c->ca_shared = 0;
  free(c->ca_default_file); free(c->ca_default_path);
  c->ca_default_file = c->ca_default_path = NULL;
}

/* Loaded on the first https attempt and again once GL_CA_STORE_TTL has
 * passed; connections made before hold the old store until they close.
 * When the file or directory cannot be read, NULL: libcurl then reads
 * them itself and reports why it could not. */
void *gl_client_ca_store(gl_client *c) {
  if (!c->ca_shared) return NULL;
  if (c->ca_store && gl_now() - c->ca_store_at < GL_CA_STORE_TTL) return c->ca_store;
  gl_tls_store_free(c->ca_store);
  c->ca_store = gl_tls_store_new(c->ca_file ? c->ca_file : c->ca_default_file, c->ca_default_path);
  c->ca_store_at = gl_now();
  return c->ca_store;
}

void gl_client_enter(gl_client *c) { c->depth++; }

void gl_client_leave(lua_State *L, gl_client *c) {
  if (--c->depth == 0 && c->close_pending) close_now(L, c);
}

/* Closed at once for every later call; the handles, transfers and buffers
 * are freed now, or, when a callback (sink, progress, log, request
 * callback) closes the client while C code still uses them, by
 * gl_client_leave once that code has returned: curl must not run on a
 * freed handle. The transfers then in flight end as "canceled". */
static int l_close(lua_State *L) {
  gl_client *c = (gl_client *)luaL_checkudata(L, 1, GL_CLIENT_MT);
  if (c->closed) return 0;
  c->closed = 1;
  if (c->depth > 0) c->close_pending = 1;
  else close_now(L, c);
  return 0;
}

/* __gc: nothing can be using an unreachable client, whatever depth says */
static int l_gc(lua_State *L) {
  gl_client *c = (gl_client *)luaL_checkudata(L, 1, GL_CLIENT_MT);
  c->depth = 0;
  if (!c->closed || c->close_pending) { c->closed = 1; close_now(L, c); }
  return 0;
}

static int l_tostring(lua_State *L) {
  gl_client *c = (gl_client *)luaL_checkudata(L, 1, GL_CLIENT_MT);
  if (c->closed) lua_pushliteral(L, "gitlab.client (closed)");
  else lua_pushfstring(L, "gitlab.client (%s)", c->origin);   /* never the token */
  return 1;
}

static int l_info(lua_State *L) {
  gl_client *c = gl_check_client(L, 1);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, c->base); lua_setfield(L, -2, "base");
  lua_pushstring(L, c->origin); lua_setfield(L, -2, "origin");
  if (c->auth_name) { lua_pushstring(L, c->auth_name); lua_setfield(L, -2, "auth"); }
  lua_pushnumber(L, c->rl_block_until > gl_now() ? c->rl_block_until - gl_now() : 0);
  lua_setfield(L, -2, "rate_limit_wait");
  return 1;
}

/* "gitlab.client": the methods here and those of the layers above, which
 * core.c passes in (parts: NULL-terminated); no file here names them. */
void gl_client_open(lua_State *L, const luaL_Reg *const *parts) {
  static const luaL_Reg m[] = {
    { "set_token", l_set_token }, { "close", l_close }, { "info", l_info }, { NULL, NULL }
  };
  gl_newclass(L, GL_CLIENT_MT, m, l_close, 0, l_tostring);
  lua_getfield(L, -1, "__index");
  for (; *parts; parts++) luaL_setfuncs(L, *parts, 0);
  lua_pop(L, 1);
  lua_pushcfunction(L, l_gc); lua_setfield(L, -2, "__gc");
  lua_pushliteral(L, "gitlab.client"); lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}
