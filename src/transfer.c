/* The state machine of one logical request: a chain of attempts and
 * redirect hops on one easy handle. gl_transfer_setup readies an attempt
 * (headers, credential, body, output file), the curl callbacks route the
 * answer (buffer, sink or file) while it comes, gl_transfer_finish decides
 * what follows (done, a redirect hop now, a retry later). The same machine
 * serves blocking calls (sync.c, which sleeps between attempts) and the
 * multi engine (engine.c, which parks the transfer until its wake time);
 * request.c builds the transfer, result.c shapes what it returns. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gl.h"

/* ====================================================================== */
/* curl callbacks: never raise, never longjmp through libcurl             */
/* ====================================================================== */
static void store_lua_error(gl_transfer *t) {
  lua_State *L = t->L;
  if (t->lua_err_ref == LUA_NOREF) t->lua_err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  else lua_pop(L, 1);
}

static void route_decide(gl_transfer *t) {
  long code = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
  t->status = code;
  t->routed = code >= 200 && code < 300 && (t->out_fp || t->sink_ref != LUA_NOREF);
  if (t->routed && t->out_fp && t->resume_from > 0 && code != 206) {
    /* the server ignored our Range: start the file over */
    if (fflush(t->out_fp) == 0 && ftruncate(fileno(t->out_fp), 0) == 0) rewind(t->out_fp);
    t->resume_from = 0;
    t->delivered = 0;
  } else if (t->routed && t->out_fp && t->resume_from > 0) {
    /* a 206 must continue where the file ends, or the file is garbage */
    size_t n;
    const char *v = gl_header_get(t->headers.p, t->headers.n, "content-range", &n);
    char tmp[32];
    if (v && n < sizeof tmp) { memcpy(tmp, v, n); tmp[n] = '\0'; }
    if (!v || n >= sizeof tmp || strncmp(tmp, "bytes ", 6) != 0 ||
        strtoll(tmp + 6, NULL, 10) != (long long)t->resume_from)
      gl_transfer_fail(t, "transport", "the server resumed the download at another offset", CURLE_RANGE_ERROR);
  }
}

/* A buffered 2xx answer past max_body: the transfer stops here, and is
 * not retried (the next answer would be as large). */
static size_t body_too_large(gl_transfer *t) {
  char msg[160];
  snprintf(msg, sizeof msg, "the response body is larger than max_body (%" CURL_FORMAT_CURL_OFF_T
           " bytes); stream it with output or sink, or raise max_body", t->max_body);
  gl_transfer_fail(t, "too_large", msg, CURLE_WRITE_ERROR);
  return 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud) {
  gl_transfer *t = (gl_transfer *)ud;
  size_t n = size * nmemb;
  /* canceled, or the client closed, from inside a callback: abort */
  if (t->canceled || t->client->closed) return 0;
  if (t->routed < 0) {
    route_decide(t);
    if (t->err_kind) return 0;
    if (!t->routed) {
      /* one allocation for the whole body when its length is announced
       * (a buffer kept from the previous request may be large enough) */
      curl_off_t len = -1;
      curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
      if (t->status >= 200 && t->status < 300 && t->max_body >= 0 && len > t->max_body)
        return body_too_large(t);
      if (len > 0 && len < 64 * 1024 * 1024 && (size_t)len + 1 > t->body.cap) {
        char *np = (char *)realloc(t->body.p, (size_t)len + 1);
        if (np) { t->body.p = np; t->body.cap = (size_t)len + 1; }
      }
    }
  }
  if (t->routed) {
    if (t->out_fp) {
      if (fwrite(ptr, 1, n, t->out_fp) != n) {
        gl_transfer_fail(t, "io", "cannot write the output file", CURLE_WRITE_ERROR);
        return 0;
      }
    } else {
      lua_State *L = t->L;
      lua_rawgeti(L, LUA_REGISTRYINDEX, t->sink_ref);
      lua_pushlstring(L, ptr, n);
      if (gl_pcall(L, 1, 0) != 0) { store_lua_error(t); return 0; }
      if (t->canceled || t->client->closed) return 0;
    }
    t->delivered += (curl_off_t)n;
    return n;
  }
  if (t->status >= 200 && t->status < 300) {
    /* counted after content decoding: what memory holds, not the wire */
    if (t->max_body >= 0 && (curl_off_t)(t->body.n + n) > t->max_body) return body_too_large(t);
    if (!gl_buf_add(&t->body, ptr, n)) { gl_transfer_fail(t, "too_large", "out of memory for the response body", CURLE_OUT_OF_MEMORY); return 0; }
  } else if (t->body.n < GL_MAX_ERROR_BODY) {
    size_t room = GL_MAX_ERROR_BODY - t->body.n;
    if (!gl_buf_add(&t->body, ptr, n < room ? n : room)) return 0;
    if (n > room) t->body_truncated = 1;
  } else {
    t->body_truncated = 1;    /* drop the rest: memory stays bounded */
  }
  return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
  gl_transfer *t = (gl_transfer *)ud;
  size_t n = size * nmemb;
  const char *v = NULL;
  size_t len = 0;
  int k = -1;
  if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
    t->headers.n = 0;         /* a new response (1xx, or a new hop) */
    memset(t->hv, 0, sizeof t->hv);
    t->routed = -1;
    return n;
  }
  if (t->headers.n + n > GL_MAX_HEADERS) {
    gl_transfer_fail(t, "too_large", "response headers exceed 1 MiB", CURLE_RECV_ERROR);
    return 0;
  }
  /* the two values read on every answer, noted as they come (gl.h: hv) */
  switch (ptr[0] | 0x20) {
    case 'c': k = GL_HV_CONTENT_TYPE; v = gl_header_value(ptr, n, "content-type", 12, &len); break;
    case 'r': k = GL_HV_RL_REMAINING; v = gl_header_value(ptr, n, "ratelimit-remaining", 19, &len); break;
    default: break;
  }
  if (!gl_buf_add(&t->headers, ptr, n)) return 0;
  if (v && !t->hv[k].at) {
    t->hv[k].at = t->headers.n - n + (size_t)(v - ptr) + 1;
    t->hv[k].len = len;
  }
  return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud) {
  gl_transfer *t = (gl_transfer *)ud;
  size_t got = fread(buf, 1, size * nitems, t->upload_fp);
  if (got == 0 && ferror(t->upload_fp)) return CURL_READFUNC_ABORT;
  return got;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow) {
  gl_transfer *t = (gl_transfer *)ud;
  int up = t->upload_fp != NULL || t->mime != NULL;
  curl_off_t now = up ? ulnow : dlnow, total = up ? ultotal : dltotal;
  lua_State *L = t->L;
  if (t->canceled || t->client->closed) return 1;
  if (!up) { now += t->resume_from; if (total > 0) total += t->resume_from; }
  if (now == t->prog_now && total == t->prog_total) return 0;
  if (!up && t->routed != 1) return 0;   /* only the real payload counts */
  t->prog_now = now; t->prog_total = total;
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->progress_ref);
  lua_pushnumber(L, (lua_Number)now);
  if (total > 0) lua_pushnumber(L, (lua_Number)total); else lua_pushnil(L);
  if (gl_pcall(L, 2, 0) != 0) { store_lua_error(t); return 1; }
  return t->canceled || t->client->closed;
}

/* Called by libcurl each time it is about to send the request. A second
 * call within one attempt is libcurl re-sending on a fresh connection
 * because a reused one died before any answer ("Connection died, retrying
 * a fresh connect"): the server may have read and acted on the first copy,
 * so a request that is not idempotent is stopped here instead. */
static int on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port) {
  gl_transfer *t = (gl_transfer *)ud;
  (void)conn_primary_ip; (void)conn_local_ip; (void)conn_primary_port; (void)conn_local_port;
  if (++t->sends == 1) return CURL_PREREQFUNC_OK;
  gl_transfer_fail(t, "transport", "the connection closed before any answer, after the request was sent; "
       "it was not sent again (the server may have acted on it)", CURLE_SEND_ERROR);
  return CURL_PREREQFUNC_ABORT;
}

/* ====================================================================== */
/* one attempt                                                            */
/* ====================================================================== */
static int same_origin(gl_transfer *t) {
  gl_buf o = {0, 0, 0};
  const char *base = t->client->base;
  size_t bn = base ? strlen(base) : 0;
  int same;
  /* a URL made from the base URL: no parsing needed */
  if (bn && strncmp(t->url, base, bn) == 0 && strchr("/?#", t->url[bn]) && t->client->origin)
    return 1;
  same = gl_url_origin(t->url, &o) && t->client->origin &&
         strcmp(o.p, t->client->origin) == 0;
  gl_buf_free(&o);
  return same;
}

/* A GET that buffers its answer: the common case, kept cheap (see below). */
static int is_plain(gl_transfer *t) {
  return t->method[0] == 'G' && strcmp(t->method, "GET") == 0 && !t->output &&
         t->sink_ref == LUA_NOREF && t->progress_ref == LUA_NOREF &&
         t->resume_from == 0 && !t->upload_path && !t->mime && t->timeout_ms == 0;
}

int gl_transfer_setup(gl_transfer *t) {
  gl_client *c = t->client;
  CURL *e = t->easy;
  struct curl_slist *i, *hdrs, *user;
  const char *m = t->method;
  int same;
  long timeout = t->timeout_ms > 0 ? t->timeout_ms : c->timeout_ms;
  int sync = (e == c->easy), https = strncmp(t->url, "https://", 8) == 0;
  /* the answer goes to a file or a sink as it comes, or the request
   * uploads: no Accept-Encoding, and the timeout bounds stalls */
  int streamed = t->output || t->sink_ref != LUA_NOREF || t->upload_path || t->mime;
  /* A handle (the blocking one, an engine's spares) keeps its options from
   * one plain GET to the next of the same scheme: only what differs is set
   * again. Anything else starts from a reset. */
  int kind = !is_plain(t) ? GL_EASY_DIRTY : https ? GL_EASY_HTTPS_GET : GL_EASY_HTTP_GET;
  int warm = kind != GL_EASY_DIRTY && kind == t->easy_state;
  /* the client's CA store ages as after a full setup (GL_CA_STORE_TTL);
   * when it cannot be read again, the full setup falls back to libcurl
   * reading the CA file itself */
  if (warm && https && c->verify && c->ca_shared && !gl_client_ca_store(c)) warm = 0;

  /* a transfer that failed while it was built (a form part's file that
   * cannot be read) starts no attempt: nothing is sent */
  if (t->err_kind) return 0;
  if (!warm && t->easy_state != GL_EASY_CLEAN) curl_easy_reset(e);
  t->easy_state = GL_EASY_DIRTY;   /* until this setup has finished */
  t->headers.n = 0;
  memset(t->hv, 0, sizeof t->hv);
  t->body.n = 0;
  t->status = 0;
  t->routed = -1;
  t->sends = 0;
  t->body_truncated = 0;
  t->errbuf[0] = '\0';
  t->prog_now = t->prog_total = -1;

  /* credentials and the client's extra headers (which may carry one of
   * their own) go only to the origin they were configured for; a
   * request's own headers only to the origin it was sent to */
  if (t->hop_headers) { gl_slist_wipe(t->hop_headers); t->hop_headers = NULL; }
  same = same_origin(t);
  user = t->left_origin ? NULL : t->user_headers;
  /* auth = false: neither the credential nor the client's extra headers,
   * e.g. for the OAuth token endpoint */
  gl_auth_release(&t->auth);
  /* a request never goes out without a line it should carry (the
   * credential, the User-Agent): out of memory fails it unsent */
  t->auth = gl_client_lines(c, !t->noauth && same);
  if (!t->auth) return gl_transfer_fail(t, "transport", "out of memory", CURLE_OUT_OF_MEMORY);
  hdrs = t->auth->list[streamed ? GL_LINES_STREAMED : GL_LINES_BUFFERED];
  if (user || t->upload_path || t->mime) {
    int k = 0, ok = 1;
    /* the client's User-Agent and Accept-Encoding give way to the
     * request's own, as libcurl's would */
    for (i = hdrs; i && ok; i = i->next, k++)
      if (k < t->auth->ncore || !gl_slist_names(user, i->data))
        ok = gl_slist_push(&t->hop_headers, i->data);
    for (i = user; i && ok; i = i->next) ok = gl_slist_push(&t->hop_headers, i->data);
    if (ok && (t->upload_path || t->mime)) ok = gl_slist_push(&t->hop_headers, "Expect:");
    if (!ok) return gl_transfer_fail(t, "transport", "out of memory", CURLE_OUT_OF_MEMORY);
    hdrs = t->hop_headers;
  }

  curl_easy_setopt(e, CURLOPT_URL, t->url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
  /* a CONNECT to a proxy (https only: plain http through a proxy sends
   * this list too, after the request's) */
  curl_easy_setopt(e, CURLOPT_PROXYHEADER, https ? t->auth->list[GL_LINES_CONNECT] : NULL);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)t);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)t);
  /* "" is no proxy, not even one from the environment (libcurl reads
   * http_proxy itself) */
  curl_easy_setopt(e, CURLOPT_PROXY, c->direct && same && (c->token || t->noauth) ? "" : c->proxy);
  if (warm) {
    t->attempts++;
    t->easy_state = kind;
    return 1;
  }
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, c->share);
  /* User-Agent and Accept-Encoding are lines of the header lists; a
   * CONNECT gets CURLOPT_PROXYHEADER's lines, never CURLOPT_HTTPHEADER's */
  curl_easy_setopt(e, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);   /* redirects are ours */
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  /* A streamed download may take long: the timeout then bounds stalls
   * (below 1 byte/s for timeout seconds) instead of the whole transfer. */
  if (streamed) {
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (timeout + 999) / 1000);
  } else {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  }
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
  /* one store of trusted certificates for all the client's connections
   * (tls.c) instead of libcurl reading the CA file for each */
  if (c->verify && https && gl_client_ca_store(c) &&
      curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, gl_tls_ctx_callback) == CURLE_OK) {
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, (void *)&c->ca_store);
    curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
  } else if (c->ca_file) {
    curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
  }
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, c->http2 ? (long)CURL_HTTP_VERSION_2TLS
                                                     : (long)CURL_HTTP_VERSION_1_1);
  /* On the engine, transfers started together to an https origin wait for
   * the connection being set up, and share it once ALPN chose HTTP/2,
   * instead of each opening its own (plain http never negotiates HTTP/2
   * here: waiting would only serialise the connects). */
  if (c->http2 && !sync && https)
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  if (!t->idempotent) {
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, (void *)t);
  }
  if (t->progress_ref != LUA_NOREF) {
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)t);
  }

  /* output file: opened on the first attempt; a retry asks only for the
   * bytes the file lacks (route_decide starts over if the server ignores
   * the Range) */
  if (t->output) {
    if (!t->out_fp) {
      char why[160];
      t->out_fp = gl_open_output(t->output, t->resume_from > 0, why, sizeof why);
      if (!t->out_fp) return gl_transfer_fail(t, "io", why, CURLE_WRITE_ERROR);
    } else if (t->delivered > 0) {
      t->resume_from += t->delivered;
      t->delivered = 0;
    }
  }
  /* CURLOPT_RANGE, not RESUME_FROM: curl fails the transfer itself when a
   * server answers 200 to RESUME_FROM, and we want to start over instead */
  if (t->resume_from > 0) {
    char range[48];
    snprintf(range, sizeof range, "%" CURL_FORMAT_CURL_OFF_T "-", t->resume_from);
    curl_easy_setopt(e, CURLOPT_RANGE, range);
  }

  if (strcmp(m, "GET") == 0) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(m, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    if (strcmp(m, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    if (t->mime) {
      curl_easy_setopt(e, CURLOPT_MIMEPOST, t->mime);
    } else if (t->upload_path) {
      curl_off_t size;
      if (t->upload_fp) fclose(t->upload_fp);
      t->upload_fp = fopen(t->upload_path, "rb");
      if (!t->upload_fp) return gl_transfer_fail(t, "io", "cannot open the file to upload", CURLE_READ_ERROR);
      if (fseeko(t->upload_fp, 0, SEEK_END) != 0) return gl_transfer_fail(t, "io", "cannot size the file to upload", CURLE_READ_ERROR);
      size = (curl_off_t)ftello(t->upload_fp);
      rewind(t->upload_fp);
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(e, CURLOPT_READDATA, (void *)t);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, size);
      if (strcmp(m, "PUT") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->req_body ? t->req_body : "");
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(t->req_body ? t->req_body_len : 0));
    }
  }
  t->attempts++;
  t->easy_state = kind;
  return 1;
}

/* Readies the easy handle of a finished transfer for the next one (the
 * blocking handle, an engine's spare): one that holds a plain GET's
 * options keeps them, with what pointed at this transfer cleared; one
 * that holds other options is reset. Returns what it now holds
 * (GL_EASY_*). */
int gl_transfer_park(gl_transfer *t) {
  CURL *e = t->easy;
  if (t->easy_state == GL_EASY_DIRTY) {
    curl_easy_reset(e);
    return GL_EASY_CLEAN;
  }
  if (t->easy_state != GL_EASY_CLEAN) {
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_PROXYHEADER, NULL);
  }
  return t->easy_state;
}

/* ====================================================================== */
/* after an attempt: done, again now (redirect), or again later (retry)   */
/* ====================================================================== */
static double backoff(gl_transfer *t) {
  gl_client *c = t->client;
  double d = c->retry_base;
  int i;
  for (i = 1; i < t->attempts && d < 60; i++) d *= 2;
  /* xorshift64: per-client state, so no global PRNG */
  c->rng ^= c->rng << 13; c->rng ^= c->rng >> 7; c->rng ^= c->rng << 17;
  return d / 2 + (d / 2) * (double)(c->rng % 1000000) / 1e6;
}

static const char *classify(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY: return "dns";
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_CRL_BADFILE:
      return "tls";
    default: return "transport";
  }
}

static void log_attempt(gl_transfer *t, const char *what, double delay) {
  gl_client *c = t->client;
  gl_buf u = {0, 0, 0};
  char line[512];
  if (c->log_ref == LUA_NOREF || !t->L) return;
  gl_redact_url(t->url, &u);
  if (delay >= 0)
    snprintf(line, sizeof line, "%s %.300s -> %s; retry %d in %.2fs", t->method,
             u.p ? u.p : "", what, t->attempts, delay);
  else
    snprintf(line, sizeof line, "%s %.300s -> %s (%.3fs)", t->method, u.p ? u.p : "",
             what, gl_now() - t->started);
  gl_buf_free(&u);
  if (gl_client_log(c, t->L, line)) store_lua_error(t);
}

/* Wall-clock delay asked by the server, or -1. */
static double server_delay(gl_transfer *t) {
  size_t n;
  const char *v = gl_header_get(t->headers.p, t->headers.n, "retry-after", &n);
  double d = -1, wall = (double)time(NULL);
  if (v) d = gl_retry_after(v, n, wall);
  if (d < 0 && (v = gl_header_get(t->headers.p, t->headers.n, "ratelimit-reset", &n))) {
    char tmp[32];
    if (n < sizeof tmp) { memcpy(tmp, v, n); tmp[n] = '\0'; d = atof(tmp) - wall; }
    if (!(d >= 0)) d = 0;   /* also NaN, from "nan" */
  }
  return d;
}

static void note_rate_limit(gl_transfer *t) {
  size_t n;
  const char *v = gl_transfer_noted(t, GL_HV_RL_REMAINING, &n);
  if (v && n == 1 && v[0] == '0') {
    double d = server_delay(t);
    gl_client *c = t->client;
    if (d < 0) d = 1;
    if (d > c->max_wait) d = c->max_wait;
    c->rl_block_until = gl_now() + d;
  }
}

static int may_retry(gl_transfer *t, double *delay) {
  gl_client *c = t->client;
  if (t->attempts > t->max_retries) return 0;
  if (t->delivered > 0 && t->sink_ref != LUA_NOREF) return 0;  /* cannot unsend */
  /* a NaN wait would park an async transfer forever: wake_at never comes */
  if (!(*delay >= 0)) *delay = backoff(t);
  if (*delay > c->max_wait) *delay = c->max_wait;
  if (gl_now() + *delay - t->started > c->deadline) return 0;
  return 1;
}

static int finish_attempt(gl_transfer *t, CURLcode rc) {
  double delay = -1;
  char what[CURL_ERROR_SIZE + 64];
  if (t->canceled) return gl_transfer_fail(t, "canceled", "request canceled", CURLE_ABORTED_BY_CALLBACK);
  if (t->lua_err_ref != LUA_NOREF) return gl_transfer_fail(t, "callback", "a callback raised an error", rc);
  if (t->client->closed && rc != CURLE_OK)
    return gl_transfer_fail(t, "canceled", "the client was closed", rc);
  if (t->err_kind) return 0;    /* set by a callback: io, too_large */
  if (rc == CURLE_OUT_OF_MEMORY && t->routed < 0 && !t->errbuf[0]) {
    /* libcurl rejects a header line over CURL_MAX_HTTP_HEADER (100 KB)
     * with a bare out-of-memory code: name the cause, and do not retry an
     * answer that will be just as large next time */
    log_attempt(t, "response header line over 100 KB", -1);
    return gl_transfer_fail(t, "too_large", "the response has a header line over 100 KB", rc);
  }
  if (rc == CURLE_RECV_ERROR && t->routed < 0 && strstr(t->errbuf, "Too large response headers")) {
    /* libcurl's cap on all the header lines of one answer (300 KB) */
    log_attempt(t, "response headers over 300 KB", -1);
    return gl_transfer_fail(t, "too_large", "the response headers exceed 300 KB", rc);
  }
#if LIBCURL_VERSION_NUM >= 0x080600
  if (rc == CURLE_TOO_LARGE && t->routed < 0) {
    log_attempt(t, "response headers too large", -1);
    return gl_transfer_fail(t, "too_large", "the response headers are too large", rc);
  }
#endif
  if (rc != CURLE_OK) {
    const char *kind = classify(rc);
    snprintf(what, sizeof what, "%s", t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
    if ((strcmp(kind, "transport") == 0 || strcmp(kind, "timeout") == 0) &&
        (t->idempotent || rc == CURLE_COULDNT_CONNECT) && may_retry(t, &delay)) {
      log_attempt(t, what, delay);
      t->wake_at = gl_now() + delay;
      return 2;
    }
    log_attempt(t, what, -1);
    return gl_transfer_fail(t, kind, what, rc);
  }
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  note_rate_limit(t);
  /* the status as the log shows it (below, `what` goes only to
   * log_attempt): no formatting without a log function */
  if (t->client->log_ref != LUA_NOREF) snprintf(what, sizeof what, "%ld", t->status);
  else what[0] = '\0';
  if (t->status >= 300 && t->status < 400 && t->status != 304) {
    char *loc = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &loc);
    if (loc && t->follow != 0) {
      int getlike = !strcmp(t->method, "GET") || !strcmp(t->method, "HEAD");
      gl_buf from = {0, 0, 0}, to = {0, 0, 0};
      int downgrade;
      if (!getlike && t->follow < 0) {
        snprintf(what, sizeof what, "the server answered %s with a %ld redirect; "
                 "the request was not sent again", t->method, t->status);
        log_attempt(t, what, -1);
        return gl_transfer_fail(t, "redirect", what, CURLE_OK);
      }
      gl_url_origin(t->url, &from);
      gl_url_origin(loc, &to);
      downgrade = from.p && to.p && strncmp(from.p, "https:", 6) == 0 &&
                  strncmp(to.p, "https:", 6) != 0;
      if (!from.p || !to.p || strcmp(from.p, to.p) != 0) t->left_origin = 1;
      gl_buf_free(&from); gl_buf_free(&to);
      if (downgrade) {
        log_attempt(t, what, -1);
        return gl_transfer_fail(t, "redirect", "refused a redirect from https to plain http", CURLE_OK);
      }
      if (t->redirects >= GL_MAX_REDIRECTS) {
        log_attempt(t, what, -1);
        return gl_transfer_fail(t, "redirect", "too many redirects (more than 5)", CURLE_TOO_MANY_REDIRECTS);
      }
      log_attempt(t, what, -1);
      {
        char *nu = gl_strdup(loc);
        if (!nu) return gl_transfer_fail(t, "transport", "out of memory", CURLE_OUT_OF_MEMORY);
        free(t->url);
        t->url = nu;
      }
      t->redirects++;
      t->attempts--;          /* a hop is not a retry */
      return 1;
    }
  }
  if (t->status == 429 ||
      (t->idempotent && (t->status == 500 || t->status == 502 || t->status == 503 || t->status == 504))) {
    if (t->status == 429) delay = server_delay(t);
    if (may_retry(t, &delay)) {
      log_attempt(t, what, delay);
      t->wake_at = gl_now() + delay;
      return 2;
    }
  }
  log_attempt(t, what, -1);
  if (t->out_fp && fclose(t->out_fp) != 0) {
    t->out_fp = NULL;
    return gl_transfer_fail(t, "io", "cannot finish writing the output file", CURLE_WRITE_ERROR);
  }
  t->out_fp = NULL;
  return 0;
}

/* The log function ran for this attempt: it may have raised, canceled this
 * request or closed the client. An answer that is complete is kept. */
int gl_transfer_finish(gl_transfer *t, CURLcode rc) {
  int next = finish_attempt(t, rc);
  if (t->err_kind) return 0;
  if (t->lua_err_ref != LUA_NOREF) return gl_transfer_fail(t, "callback", "the log function raised an error", rc);
  if (t->canceled) return gl_transfer_fail(t, "canceled", "request canceled", CURLE_ABORTED_BY_CALLBACK);
  if (next != 0 && t->client->closed) return gl_transfer_fail(t, "canceled", "the client was closed", rc);
  return next;
}

