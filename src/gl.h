/* Private declarations shared by the C files of gitlab.core.
 * Every helper that is not listed here is static to its file.
 *
 * Layers, bottom to top. A file calls only files of lower layers, never
 * one of its own layer or above (tools/layers.sh checks it against the
 * object files: `make layers`, and a suite of spec/run). Where a lower
 * layer must reach up (a client's close tears its engine down), it goes
 * through a function pointer the upper layer set (gl_client.close_engine).
 *
 * LAYER util: util
 * LAYER parsers: encode http json crypto tls fs sandbox spawn listen
 * LAYER client: client
 * LAYER request: request
 * LAYER transfer: transfer result
 * LAYER drivers: sync engine
 * LAYER handle: handle
 * LAYER async: async batch
 * LAYER entry: core
 *
 * The declarations below follow the same order. */
#ifndef GL_H
#define GL_H

#include <stddef.h>
#include <stdio.h>
#include <curl/curl.h>
#include "compat.h"

#define GL_VERSION "0.1.0"
#define GL_CLIENT_MT   "gitlab.client"
#define GL_TRANSFER_MT "gitlab.transfer"
#define GL_BATCH_MT    "gitlab.batch"
#define GL_HEADERS_MT  "gitlab.headers"   /* case-insensitive header tables */
#define GL_RESP_MT     "gitlab.response"  /* resp: headers built on first use */

/* Cap on a buffered body that is not a 2xx answer: a proxy's 50 MB error
 * page must not cost 50 MB. */
#define GL_MAX_ERROR_BODY (1024 * 1024)
#define GL_MAX_HEADERS    (1024 * 1024)
#define GL_MAX_REDIRECTS  5
#define GL_SPARE_MAX      (256 * 1024)   /* largest buffer kept between requests */
/* Connections an engine opens to one host at most: HTTP/2 needs one (the
 * transfers multiplex on it); HTTP/1.1 transfers past this many wait in
 * libcurl for a free connection, and that wait counts toward their
 * timeout. */
#define GL_MAX_HOST_CONNECTIONS 32L
/* Easy handles an engine keeps from finished transfers for the next ones:
 * libcurl makes and frees one in about 17K instructions, resets one in
 * 2.6K. */
#define GL_ENGINE_SPARE   16
/* What an easy handle holds (gl_transfer_setup, gl_transfer_park):
 * nothing (new or reset), some transfer's options (reset before the next
 * setup), or the options of a plain GET (transfer.c: is_plain) over http
 * or https, which the next plain GET of that scheme on it keeps. */
enum { GL_EASY_CLEAN, GL_EASY_DIRTY, GL_EASY_HTTP_GET, GL_EASY_HTTPS_GET };
/* Seconds a client keeps its store of trusted certificates before it reads
 * the CA file again (CURLOPT_CA_CACHE_TIMEOUT's default): a long-running
 * process sees an updated bundle within a day. */
#define GL_CA_STORE_TTL   86400.0
/* Default cap on a buffered 2xx body, counted after content decoding (a
 * small gzip answer may inflate a thousandfold); option max_body. */
#define GL_MAX_BODY       ((curl_off_t)64 * 1024 * 1024)

/* growable byte buffer (malloc'd, owned by its holder) */
typedef struct gl_buf { char *p; size_t n, cap; } gl_buf;

/* The header lines a transfer sends. The origin's set holds the client's
 * extra headers and the credential (the first ncore lines of each list);
 * the other set (auth = false, another origin) none. Both end with the
 * client's own lines, which libcurl would otherwise format anew for every
 * request (curl_maprintf of CURLOPT_USERAGENT and of Accept-Encoding):
 * - list[GL_LINES_BUFFERED]: User-Agent and Accept-Encoding, for an answer
 *   buffered (libcurl decodes it: CURLOPT_ACCEPT_ENCODING stays set);
 * - list[GL_LINES_STREAMED]: User-Agent, for a download or an upload;
 * - list[GL_LINES_CONNECT]: User-Agent, for a proxy's CONNECT (no
 *   credential ever: CURLOPT_PROXYHEADER).
 * A line the extra headers (or a request's own, transfer.c) already name
 * is left out, as libcurl leaves out its own. curl reads a list when it
 * sends, which for an async transfer may be long after setup: each
 * transfer that points curl at one holds a reference, so a new token (an
 * OAuth refresh) never frees a list still in use. Wiped when the last
 * holder lets go. */
#define GL_LINES_BUFFERED 0
#define GL_LINES_STREAMED 1
#define GL_LINES_CONNECT  2
#define GL_LINES_N        3
typedef struct gl_auth { struct curl_slist *list[GL_LINES_N]; int ncore; int refs; } gl_auth;

typedef struct gl_client gl_client;
typedef struct gl_transfer gl_transfer;
typedef struct gl_engine gl_engine;

/* ---------- engine: one multi handle and the transfers it runs ---------- */
struct gl_engine {
  CURLM *multi;
  gl_client *client;        /* settings owner; outlives the engine's use */
  gl_transfer *active;      /* doubly linked: in the multi or waiting */
  gl_transfer *done_head, *done_tail;   /* finished, callback not yet run */
  int closed;
  /* libuv attachment (registry refs, LUA_NOREF when not attached) */
  int on_socket_ref, on_timer_ref;
  double curl_deadline;     /* monotonic time of curl's timeout, -1 none */
  long hook_timeout_ms;     /* last value told to on_timer */
  struct gl_sockev { curl_socket_t fd; int what; } *sockev;
  size_t nsockev, capsockev;
  struct gl_sockev *socks;  /* what curl watches now, per socket: replayed
                               to hooks set later (attach after polling) */
  size_t nsocks, capsocks;
  int err_ref;              /* first Lua error from a callback, re-raised */
  int in_curl;              /* inside curl_multi_perform/socket_action or
                               collect: sinks, progress and log functions may
                               run; handles cannot be added or removed, and
                               the engine cannot be driven again */
  CURL *spare[GL_ENGINE_SPARE];   /* parked easy handles for the next transfers */
  int spare_state[GL_ENGINE_SPARE]; /* GL_EASY_* of each (gl_transfer_park) */
  int nspare;
  int reap;                 /* a transfer was canceled while in_curl: free
                               it once curl has returned */
};

/* ---------- client ----------------------------------------------------- */
struct gl_client {
  int closed;
  CURLSH *share;            /* connections, DNS and TLS sessions shared by
                               the sync handle and the multi handles */
  CURL *easy;               /* reused for every blocking request */
  char *base;               /* ".../api/v4" */
  char *origin;             /* "scheme://host:port", lower case */
  char *auth_name;          /* "PRIVATE-TOKEN", "Authorization", "JOB-TOKEN" */
  char *token;              /* secret: never logged, never in a URL */
  char *sudo;
  char *user_agent, *ca_file, *proxy;
  struct curl_slist *extra_headers;
  long timeout_ms, connect_timeout_ms;
  int verify, http2;
  int direct;               /* plain-http loopback origin: never via a proxy
                               when a credential goes along */
  int retries;
  double retry_base, max_wait, deadline;
  curl_off_t max_body;      /* bound on a buffered 2xx body, decoded; -1 none */
  int log_ref;
  double rl_block_until;    /* monotonic: RateLimit-Remaining hit 0 */
  unsigned long long rng;   /* jitter, per client: no globals */
  gl_engine engine;         /* async engine, lives inside the userdata */
  /* closes the engine (set by the layer that made it: async.c), NULL when
   * there is none to close */
  void (*close_engine)(lua_State *L, gl_client *c);
  int easy_busy;            /* the sync handle is in use (re-entry) */
  int easy_state;           /* GL_EASY_* of the parked sync handle */
  int depth;                /* C calls in progress that use the handles or
                               transfers (requests, poll, wait, ...): a
                               close() from a callback inside them is
                               deferred until the outermost returns */
  int close_pending;
  struct gl_auth *auth;     /* extra headers + credential; secret */
  struct gl_auth *anon;     /* the lines without them (gl_client_lines) */
  /* trusted certificates for every TLS connection of the client (tls.c),
   * loaded on the first https attempt; ca_shared: libcurl's TLS library is
   * ours and its default CA file and directory are known (else libcurl
   * loads them per connection itself) */
  void *ca_store;           /* X509_STORE *, or NULL */
  double ca_store_at;       /* gl_now() when loaded */
  char *ca_default_file, *ca_default_path;   /* libcurl's built-in ones */
  int ca_shared;
  gl_buf spare_body, spare_headers; /* buffers of the last blocking request,
                                       reused by the next (bounded) */
};

/* ---------- one logical request ---------------------------------------- */
enum { GL_T_NEW, GL_T_ACTIVE, GL_T_WAITING, GL_T_DONE };
enum { GL_HV_CONTENT_TYPE, GL_HV_RL_REMAINING };

struct gl_transfer {
  gl_client *client;
  gl_engine *engine;        /* NULL for a blocking request */
  CURL *easy;               /* owned unless == client->easy */
  lua_State *L;
  int state;
  /* request, owned copies */
  char *method, *url;
  struct curl_slist *user_headers, *hop_headers;
  const char *req_body; size_t req_body_len; int body_ref;
  char *upload_path; FILE *upload_fp;
  curl_mime *mime;
  char *output; FILE *out_fp; curl_off_t resume_from;
  int sink_ref, progress_ref, cb_ref;
  int follow;               /* -1 default, 0 no, 1 yes */
  int max_retries, idempotent;
  long timeout_ms;          /* per-request override, 0: the client's */
  int decode;               /* decode a 2xx JSON body into Lua values */
  int noauth;               /* auth = false: no credential, no extra headers */
  curl_off_t max_body;      /* the client's, or the request's max_body */
  gl_auth *auth;            /* the credential list curl points at, held */
  int left_origin;          /* a redirect took it to another origin: its
                               own headers stay behind */
  /* progress of this request */
  int attempts, redirects;
  double started, wake_at;
  long status;
  int routed;               /* this attempt's body goes to sink/output */
  int sends;                /* times curl sent this attempt (prereq calls) */
  int easy_state;           /* GL_EASY_*: what easy holds */
  int body_truncated;
  curl_off_t delivered;     /* bytes handed to sink/output, all attempts */
  curl_off_t prog_now, prog_total;
  gl_buf body, headers;
  /* where in headers the value of this answer's first Content-Type and
   * RateLimit-Remaining lines is (GL_HV_*; at: offset + 1, 0 for none),
   * noted by on_header as the lines come: no lookup scans them again */
  struct { size_t at, len; } hv[2];
  int lua_err_ref;          /* error raised by sink/progress */
  int canceled;
  /* final error, when the request failed without an HTTP answer */
  const char *err_kind; char *err_msg; CURLcode err_code;
  char errbuf[CURL_ERROR_SIZE];
  /* bookkeeping */
  gl_transfer *next, *prev;
  struct gl_tbox *box;      /* Lua handle, may be collected first */
};

/* A value on_header (transfer.c) noted for this answer (GL_HV_*), or
 * NULL; result.c reads the Content-Type so. */
static inline const char *gl_transfer_noted(const gl_transfer *t, int k, size_t *len) {
  if (!t->hv[k].at) return NULL;
  *len = t->hv[k].len;
  return t->headers.p + t->hv[k].at - 1;
}

typedef struct gl_tbox { gl_transfer *t; } gl_tbox;

/* ---------- util.c ------------------------------------------------------ */
int  gl_buf_add(gl_buf *b, const char *s, size_t n);   /* 0 on ENOMEM */
int  gl_buf_adds(gl_buf *b, const char *s);
void gl_buf_free(gl_buf *b);
char *gl_strdup(const char *s);
curl_off_t gl_byte_limit(double v);   /* bytes, or -1 for math.huge */
/* lua_pcall of a user function, whose error gains the stack */
int  gl_pcall(lua_State *L, int nargs, int nresults);
void gl_newclass(lua_State *L, const char *name, const luaL_Reg *methods,
                 lua_CFunction close, int gc_only, lua_CFunction tostring);
double gl_now(void);                  /* monotonic seconds */
void gl_sleep(double seconds);
void gl_unref(lua_State *L, int *ref);
int gl_slist_push(struct curl_slist **l, const char *line);
void gl_slist_wipe(struct curl_slist *l);   /* may hold a credential */
int gl_slist_names(const struct curl_slist *l, const char *line);
void gl_util_open(lua_State *L);      /* now, sleep, traceback */

/* ---------- parsers and services --------------------------------------- */
/* http.c: parsing helpers, all bounded and total (never crash on input) */
int  gl_one_line(lua_State *L, int i);   /* no CR, LF, NUL: fits a header */
void gl_check_header_lines(lua_State *L, int t, const char *field, const char *what);
struct curl_slist *gl_header_lines(lua_State *L, int t, const char *field);
const char *gl_header_get(const char *raw, size_t n, const char *name, size_t *len);
const char *gl_header_value(const char *line, size_t n, const char *name, size_t nl, size_t *len);
int  gl_push_headers(lua_State *L, const char *raw, size_t n);
void gl_resp_fill(lua_State *L, int t, const char *raw, size_t n, const char *base);
int  gl_parse_link(lua_State *L, const char *s, size_t n);  /* pushes table or nil,msg */
double gl_retry_after(const char *v, size_t n, double now_wall);  /* <0: none */
int  gl_url_origin(const char *url, gl_buf *out);  /* 0 when not a URL */
void gl_redact_url(const char *url, gl_buf *out);
const char *gl_transport_refusal(const char *url, int credential, const char *what,
                                 const char *proxy, int allow_insecure, gl_buf *msg);
int  gl_url_loopback(const char *url);
void gl_http_open(lua_State *L);
void gl_encode_open(lua_State *L);    /* encode.c */
int  gl_json_decode_buf(lua_State *L, const char *s, size_t n, char *msg);
void gl_json_open(lua_State *L);      /* json.c */
void gl_crypto_open(lua_State *L);    /* crypto.c: OAuth and webhook primitives */
/* tls.c: one store of trusted certificates per client, handed to each new
 * connection by the SSL_CTX callback (parm: the client's ca_store) */
int  gl_tls_shared_store_ok(void);
void *gl_tls_store_new(const char *cafile, const char *capath);
void gl_tls_store_free(void *store);
CURLcode gl_tls_ctx_callback(CURL *curl, void *sslctx, void *parm);
/* fs.c: private files; the output file of a download, never through a
 * symbolic link (NULL with why[] filled on failure) */
FILE *gl_open_output(const char *path, int append, char *why, size_t whyn);
void gl_fs_open(lua_State *L);
void gl_sandbox_open(lua_State *L);   /* sandbox.c: config files */
void gl_spawn_open(lua_State *L);     /* spawn.c: token_command */
void gl_listen_open(lua_State *L);    /* listen.c: OAuth redirect listener */

/* ---------- client.c ---------------------------------------------------- */
/* pushes a client made from the options at index 1 (raises on bad ones) */
gl_client *gl_client_new(lua_State *L);
gl_client *gl_check_client(lua_State *L, int i);
gl_auth *gl_client_lines(gl_client *c, int cred);   /* held for the caller */
void gl_auth_release(gl_auth **a);
/* 0, or 1 with the log function's error on the stack */
int  gl_client_log(gl_client *c, lua_State *L, const char *line);
/* the client's store of trusted certificates (loaded now if needed), or
 * NULL: libcurl is to load them itself */
void *gl_client_ca_store(gl_client *c);
void gl_client_enter(gl_client *c);
void gl_client_leave(lua_State *L, gl_client *c);   /* may close the client */
/* the class, with the methods of the upper layers (NULL-terminated) */
void gl_client_open(lua_State *L, const luaL_Reg *const *parts);

/* ---------- request.c --------------------------------------------------- */
/* a transfer from a request table (raises on a bad one); held by box, when
 * given, from its allocation on */
gl_transfer *gl_transfer_new(lua_State *L, gl_client *c, int req_idx, gl_tbox *box);
void gl_transfer_free(lua_State *L, gl_transfer *t);
int  gl_transfer_fail(gl_transfer *t, const char *kind, const char *msg, CURLcode code);

/* ---------- transfer.c, result.c ---------------------------------------- */
int  gl_transfer_setup(gl_transfer *t);          /* configure easy for a hop */
int  gl_transfer_park(gl_transfer *t);           /* easy ready for the next transfer */
/* after an attempt ends: returns 0 done, 1 go again now, 2 go again later */
int  gl_transfer_finish(gl_transfer *t, CURLcode rc);
/* result.c: pushes 3 values: resp, value, flag (value: body string, decoded
 * data, or nil when streamed; flag: true when decoded, a message when the
 * JSON was bad) or nil, err, nil */
int  gl_transfer_push_result(lua_State *L, gl_transfer *t);

/* ---------- sync.c, engine.c -------------------------------------------- */
extern const luaL_Reg gl_sync_methods[];   /* request */
void gl_engine_init(gl_engine *e, gl_client *c);
void gl_engine_close(lua_State *L, gl_engine *e);
int  gl_engine_add(lua_State *L, gl_engine *e, gl_transfer *t);   /* 0: no memory */
void gl_engine_cancel(lua_State *L, gl_engine *e, gl_transfer *t);
void gl_engine_recycle(gl_engine *e, gl_transfer *t);   /* keeps a done transfer's easy */
int  gl_engine_step(lua_State *L, gl_engine *e, double timeout, gl_transfer *until);
void gl_engine_socket_action(lua_State *L, gl_engine *e, curl_socket_t fd, int mask);
void gl_engine_timeout(lua_State *L, gl_engine *e);
void gl_engine_flush_hooks(lua_State *L, gl_engine *e);   /* socket/timer hooks */
void gl_engine_detach(lua_State *L, gl_engine *e);
int  gl_engine_attach(lua_State *L, gl_engine *e, int on_socket, int on_timer);
int  gl_engine_count(gl_engine *e);
gl_transfer *gl_engine_next_done(gl_engine *e);
void gl_engine_take_done(gl_engine *e, gl_transfer *t);
int  gl_engine_keep_error(lua_State *L, gl_engine *e);
int  gl_engine_take_error(lua_State *L, gl_engine *e);
void gl_engine_check_outside(lua_State *L, gl_engine *e, const char *what);

/* ---------- handle.c ---------------------------------------------------- */
gl_transfer *gl_handle_new(lua_State *L, gl_client *c, int req_idx);
int  gl_handle_call(lua_State *L, gl_transfer *t);   /* frees t */
void gl_handle_open(lua_State *L);

/* ---------- async.c, batch.c -------------------------------------------- */
extern const luaL_Reg gl_async_methods[];  /* start poll wait running hooks socket_action */
void gl_async_open(lua_State *L);          /* core.client */
extern const luaL_Reg gl_batch_methods[];  /* batch */
void gl_batch_open(lua_State *L);

#endif
