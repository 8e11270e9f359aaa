/* One logical request: a chain of attempts and redirect hops on one easy
 * handle. The same state machine serves blocking calls (client.c, which
 * sleeps between attempts) and the multi engine (engine.c, which parks the
 * transfer until its wake time). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "gl.h"

/* Lets go of a shared credential list (gl_auth in gl.h). */
static void auth_release(gl_auth **a) {
  if (*a && --(*a)->refs == 0) {
    gl_slist_wipe((*a)->list);
    free(*a);
  }
  *a = NULL;
}

/* ====================================================================== */
/* header line lists (request.headers, client option headers)             */
/* ====================================================================== */

/* Is the string at i free of CR, LF and NUL (it goes into a header)? */
static int one_line(lua_State *L, int i) {
  size_t n;
  const char *s = lua_tolstring(L, i, &n);
  return strlen(s) == n && !strpbrk(s, "\r\n");
}

/* Raises unless t[field] is nil or an array of one-line strings. */
void gl_check_header_lines(lua_State *L, int t, const char *field, const char *what) {
  size_t i, n;
  lua_getfield(L, t, field);
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) luaL_error(L, "%s: expected a table of header lines", what);
    n = gl_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, (int)i);
      if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s[%d]: expected a string", what, (int)i);
      if (!one_line(L, -1)) luaL_error(L, "%s[%d]: line breaks and NUL bytes are not allowed", what, (int)i);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/* The checked lines of t[field] as a list owned by the caller (or NULL). */
struct curl_slist *gl_header_lines(lua_State *L, int t, const char *field) {
  struct curl_slist *l = NULL;
  lua_getfield(L, t, field);
  if (lua_istable(L, -1)) {
    size_t i, n = gl_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
      struct curl_slist *nl;
      lua_rawgeti(L, -1, (int)i);
      nl = curl_slist_append(l, lua_tostring(L, -1));
      if (nl) l = nl;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return l;
}

/* ====================================================================== */
/* building a transfer from a Lua request table                           */
/* ====================================================================== */
static const char *opt_string(lua_State *L, int t, const char *k) {
  const char *s;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return NULL; }
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "request.%s: expected a string, got %s", k, luaL_typename(L, -1));
  s = lua_tostring(L, -1);
  lua_pop(L, 1);              /* the request table keeps it alive */
  return s;
}

static int opt_ref(lua_State *L, int t, const char *k, int type) {
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return LUA_NOREF; }
  if (lua_type(L, -1) != type)
    luaL_error(L, "request.%s: expected a %s, got %s", k, lua_typename(L, type),
               luaL_typename(L, -1));
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Fields of a request table, as bits of the mask check_request returns:
 * gl_transfer_new then reads only the fields that are there. */
enum { F_METHOD, F_URL, F_HEADERS, F_BODY, F_FILE, F_FORM, F_OUTPUT, F_SINK,
       F_PROGRESS, F_FOLLOW, F_RETRIES, F_RESUME_FROM, F_TIMEOUT, F_DECODE, F_AUTH,
       F_MAX_BODY, F_COUNT };
static const char *const field_names[F_COUNT] = { "method", "url", "headers",
  "body", "file", "form", "output", "sink", "progress", "follow", "retries",
  "resume_from", "timeout", "decode", "auth", "max_body" };
#define HAS(mask, f) (((mask) >> (f)) & 1u)

static int field_id(lua_State *L, int i) {
  size_t n;
  const char *k;
  int f;
  if (lua_type(L, i) != LUA_TSTRING) return -1;
  k = lua_tolstring(L, i, &n);
  for (f = 0; f < F_COUNT; f++)
    if (field_names[f][0] == k[0] && strcmp(field_names[f], k) == 0) return f;
  return -1;
}

/* Checks every field first so that a bad argument raises before anything
 * is allocated (luaL_error would otherwise leak the half-built transfer).
 * Returns the mask of the fields present. */
static unsigned check_request(lua_State *L, int t) {
  unsigned mask = 0;
  const char *m;
  luaL_checktype(L, t, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int f = field_id(L, -2);
    if (f < 0) luaL_error(L, "request: unknown field '%s'", lua_type(L, -2) == LUA_TSTRING ?
                          lua_tostring(L, -2) : luaL_typename(L, -2));
    mask |= 1u << f;
    lua_pop(L, 1);
  }
  m = HAS(mask, F_METHOD) ? opt_string(L, t, "method") : NULL;
  if (!m || !*m) luaL_error(L, "request.method is required");
  for (; *m; m++) if (*m < 'A' || *m > 'Z') luaL_error(L, "request.method must be upper case letters");
  if (!HAS(mask, F_URL) || !opt_string(L, t, "url")) luaL_error(L, "request.url is required");
  if (HAS(mask, F_BODY)) opt_string(L, t, "body");
  if (HAS(mask, F_FILE)) opt_string(L, t, "file");
  if (HAS(mask, F_OUTPUT)) opt_string(L, t, "output");
  if (HAS(mask, F_HEADERS)) gl_check_header_lines(L, t, "headers", "request.headers");
  if (HAS(mask, F_FORM)) {
    size_t i, n;
    lua_getfield(L, t, "form");
    luaL_checktype(L, -1, LUA_TTABLE);
    n = gl_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, (int)i);
      if (lua_type(L, -1) != LUA_TTABLE) luaL_error(L, "request.form[%d]: expected a table", (int)i);
      lua_getfield(L, -1, "name");
      if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "request.form[%d].name: expected a string", (int)i);
      lua_pop(L, 1);
      {
        /* name, file name and type go into the part's header lines */
        static const char *const line_fields[] = { "name", "filename", "type", NULL };
        int k;
        for (k = 0; line_fields[k]; k++) {
          lua_getfield(L, -1, line_fields[k]);
          if (lua_type(L, -1) == LUA_TSTRING && !one_line(L, -1))
            luaL_error(L, "request.form[%d].%s: line breaks and NUL bytes are not allowed",
                       (int)i, line_fields[k]);
          lua_pop(L, 1);
        }
      }
      lua_getfield(L, -1, "value");
      lua_getfield(L, -2, "file");
      if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -2) != LUA_TSTRING)
        luaL_error(L, "request.form[%d]: needs a string 'value' or 'file'", (int)i);
      lua_pop(L, 3);
    }
    lua_pop(L, 1);
  }
  if (HAS(mask, F_BODY) + HAS(mask, F_FILE) + HAS(mask, F_FORM) > 1)
    luaL_error(L, "request: give only one of body, file and form");
  if (HAS(mask, F_SINK)) {
    lua_getfield(L, t, "sink");
    luaL_checktype(L, -1, LUA_TFUNCTION);
    lua_pop(L, 1);
  }
  if (HAS(mask, F_PROGRESS)) {
    lua_getfield(L, t, "progress");
    luaL_checktype(L, -1, LUA_TFUNCTION);
    lua_pop(L, 1);
  }
  if (HAS(mask, F_OUTPUT) && HAS(mask, F_SINK))
    luaL_error(L, "request: give only one of output and sink");
  if (HAS(mask, F_MAX_BODY)) {
    lua_getfield(L, t, "max_body");
    if (!lua_isnil(L, -1) && !(lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) >= 0))
      luaL_error(L, "request.max_body: expected a number of bytes (>= 0)");
    lua_pop(L, 1);
  }
  return mask;
}

static int fail(gl_transfer *t, const char *kind, const char *msg, CURLcode code) {
  t->err_kind = kind;
  free(t->err_msg);
  t->err_msg = gl_strdup(msg);
  t->err_code = code;
  return 0;
}

gl_transfer *gl_transfer_new(lua_State *L, gl_client *c, int ri) {
  gl_transfer *t;
  unsigned mask;
  ri = ri < 0 ? lua_gettop(L) + ri + 1 : ri;
  mask = check_request(L, ri);
  t = (gl_transfer *)calloc(1, sizeof *t);
  if (!t) { luaL_error(L, "out of memory"); return NULL; }
  t->client = c;
  t->body_ref = t->sink_ref = t->progress_ref = t->cb_ref = t->result_ref = LUA_NOREF;
  t->lua_err_ref = LUA_NOREF;
  t->follow = -1;
  t->max_retries = c->retries;
  t->max_body = c->max_body;
  t->started = gl_now();
  t->method = gl_strdup(opt_string(L, ri, "method"));
  t->url = gl_strdup(opt_string(L, ri, "url"));
  if (!t->method || !t->url) {
    gl_transfer_free(L, t);
    luaL_error(L, "out of memory");
  }
  t->idempotent = !strcmp(t->method, "GET") || !strcmp(t->method, "HEAD") ||
                  !strcmp(t->method, "PUT") || !strcmp(t->method, "DELETE") ||
                  !strcmp(t->method, "OPTIONS");
  if (HAS(mask, F_HEADERS)) t->user_headers = gl_header_lines(L, ri, "headers");
  if (HAS(mask, F_BODY)) {
    lua_getfield(L, ri, "body");
    t->req_body = lua_tolstring(L, -1, &t->req_body_len);
    t->body_ref = luaL_ref(L, LUA_REGISTRYINDEX);   /* keeps t->req_body alive */
  }
  if (HAS(mask, F_FILE)) t->upload_path = gl_strdup(opt_string(L, ri, "file"));
  if (HAS(mask, F_OUTPUT)) t->output = gl_strdup(opt_string(L, ri, "output"));
  if (HAS(mask, F_SINK)) t->sink_ref = opt_ref(L, ri, "sink", LUA_TFUNCTION);
  if (HAS(mask, F_PROGRESS)) t->progress_ref = opt_ref(L, ri, "progress", LUA_TFUNCTION);
  if (HAS(mask, F_DECODE)) {
    lua_getfield(L, ri, "decode");
    t->decode = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (HAS(mask, F_AUTH)) {
    lua_getfield(L, ri, "auth");
    t->noauth = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (HAS(mask, F_FOLLOW)) {
    lua_getfield(L, ri, "follow");
    if (!lua_isnil(L, -1)) t->follow = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (HAS(mask, F_RETRIES)) {
    lua_getfield(L, ri, "retries");
    if (lua_isnumber(L, -1)) t->max_retries = (int)lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  if (HAS(mask, F_TIMEOUT)) {
    lua_getfield(L, ri, "timeout");
    if (lua_isnumber(L, -1) && lua_tonumber(L, -1) > 0) t->timeout_ms = (long)(lua_tonumber(L, -1) * 1000);
    lua_pop(L, 1);
  }
  if (HAS(mask, F_MAX_BODY)) {
    lua_getfield(L, ri, "max_body");
    if (lua_isnumber(L, -1)) t->max_body = gl_byte_limit(lua_tonumber(L, -1));
    lua_pop(L, 1);
  }
  if (HAS(mask, F_RESUME_FROM)) {
    lua_getfield(L, ri, "resume_from");
    if (lua_isnumber(L, -1)) t->resume_from = (curl_off_t)lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  if (!HAS(mask, F_FORM)) return t;
  lua_getfield(L, ri, "form");
  if (lua_istable(L, -1)) {
    /* The mime tree is owned by the transfer; curl copies names/values
     * (curl_mime_data with CURL_ZERO_TERMINATED copies) and streams files. */
    size_t i, n = gl_rawlen(L, -1);
    CURL *tmp = curl_easy_init();
    t->mime = curl_mime_init(tmp);
    for (i = 1; i <= n && t->mime; i++) {
      curl_mimepart *part = curl_mime_addpart(t->mime);
      size_t vl;
      const char *v;
      lua_rawgeti(L, -1, (int)i);
      lua_getfield(L, -1, "name");
      curl_mime_name(part, lua_tostring(L, -1));
      lua_pop(L, 1);
      lua_getfield(L, -1, "file");
      if (lua_isstring(L, -1)) {
        if (curl_mime_filedata(part, lua_tostring(L, -1)) != CURLE_OK)
          fail(t, "file", "cannot read the file of a form part", CURLE_READ_ERROR);
      }
      lua_pop(L, 1);
      lua_getfield(L, -1, "value");
      if (lua_isstring(L, -1)) {
        v = lua_tolstring(L, -1, &vl);
        curl_mime_data(part, v, vl);
      }
      lua_pop(L, 1);
      lua_getfield(L, -1, "filename");
      if (lua_isstring(L, -1)) curl_mime_filename(part, lua_tostring(L, -1));
      lua_pop(L, 1);
      lua_getfield(L, -1, "type");
      if (lua_isstring(L, -1)) curl_mime_type(part, lua_tostring(L, -1));
      lua_pop(L, 1);
      lua_pop(L, 1);
    }
    if (tmp) curl_easy_cleanup(tmp);
  }
  lua_pop(L, 1);
  return t;
}

void gl_transfer_free(lua_State *L, gl_transfer *t) {
  if (!t) return;
  if (t->box) t->box->t = NULL;
  gl_unref(L, &t->body_ref); gl_unref(L, &t->sink_ref); gl_unref(L, &t->progress_ref);
  gl_unref(L, &t->cb_ref); gl_unref(L, &t->result_ref); gl_unref(L, &t->lua_err_ref);
  if (t->easy && (!t->client || t->easy != t->client->easy)) curl_easy_cleanup(t->easy);
  if (t->hop_headers) gl_slist_wipe(t->hop_headers);
  auth_release(&t->auth);
  curl_slist_free_all(t->user_headers);
  if (t->mime) curl_mime_free(t->mime);
  if (t->upload_fp) fclose(t->upload_fp);
  if (t->out_fp) fclose(t->out_fp);
  free(t->upload_path); free(t->output);
  free(t->method); free(t->url); free(t->err_msg);
  gl_buf_free(&t->body); gl_buf_free(&t->headers);
  free(t);
}

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
      fail(t, "transport", "the server resumed the download at another offset", CURLE_RANGE_ERROR);
  }
}

/* A buffered 2xx answer past max_body: the transfer stops here, and is
 * not retried (the next answer would be as large). */
static size_t body_too_large(gl_transfer *t) {
  char msg[160];
  snprintf(msg, sizeof msg, "the response body is larger than max_body (%" CURL_FORMAT_CURL_OFF_T
           " bytes); stream it with output or sink, or raise max_body", t->max_body);
  fail(t, "too_large", msg, CURLE_WRITE_ERROR);
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
        fail(t, "io", "cannot write the output file", CURLE_WRITE_ERROR);
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
    if (!gl_buf_add(&t->body, ptr, n)) { fail(t, "too_large", "out of memory for the response body", CURLE_OUT_OF_MEMORY); return 0; }
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
  if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
    t->headers.n = 0;         /* a new response (1xx, or a new hop) */
    t->routed = -1;
    return n;
  }
  if (t->headers.n + n > GL_MAX_HEADERS) {
    fail(t, "too_large", "response headers exceed 1 MiB", CURLE_RECV_ERROR);
    return 0;
  }
  if (!gl_buf_add(&t->headers, ptr, n)) return 0;
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
  fail(t, "transport", "the connection closed before any answer, after the request was sent; "
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

/* Credential (and Sudo) header lines with the client's extra headers,
 * built once per credential: the list holds the secret, so it is wiped when
 * replaced (gl_client_forget_auth). */
static gl_auth *auth_headers(gl_client *c) {
  struct curl_slist *i, *l = NULL;
  if (c->auth) return c->auth;
  for (i = c->extra_headers; i; i = i->next) l = gl_slist_add(l, i->data);
  if (c->token && c->auth_name) {
    gl_buf h = {0, 0, 0};
    gl_buf_adds(&h, c->auth_name);
    gl_buf_adds(&h, ": ");
    if (strcmp(c->auth_name, "Authorization") == 0) gl_buf_adds(&h, "Bearer ");
    gl_buf_adds(&h, c->token);
    if (h.p) l = gl_slist_add(l, h.p);
    if (h.p) memset(h.p, 0, h.n);
    gl_buf_free(&h);
    if (c->sudo) {
      gl_buf s = {0, 0, 0};
      gl_buf_adds(&s, "Sudo: ");
      gl_buf_adds(&s, c->sudo);
      if (s.p) l = gl_slist_add(l, s.p);
      gl_buf_free(&s);
    }
  }
  c->auth = (gl_auth *)malloc(sizeof *c->auth);
  if (!c->auth) { gl_slist_wipe(l); return NULL; }
  c->auth->list = l;
  c->auth->refs = 1;          /* the client's own */
  return c->auth;
}

void gl_client_forget_auth(gl_client *c) {
  auth_release(&c->auth);
}

int gl_transfer_setup(gl_transfer *t) {
  gl_client *c = t->client;
  CURL *e = t->easy;
  struct curl_slist *i, *hdrs, *user;
  const char *m = t->method;
  int same;
  long timeout = t->timeout_ms > 0 ? t->timeout_ms : c->timeout_ms;
  int plain = is_plain(t), sync = (e == c->easy);
  /* The blocking handle keeps its options from one plain GET to the next:
   * only what differs is set again. Anything else starts from a reset. */
  int warm = plain && sync && c->easy_plain;

  if (!warm) curl_easy_reset(e);
  if (sync) c->easy_plain = 0;     /* until this setup has finished */
  t->headers.n = 0;
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
  auth_release(&t->auth);
  if (!t->noauth && same && (t->auth = auth_headers(c)) != NULL) t->auth->refs++;
  hdrs = t->auth ? t->auth->list : NULL;
  if (user || t->upload_path || t->mime) {
    for (i = hdrs; i; i = i->next) t->hop_headers = gl_slist_add(t->hop_headers, i->data);
    for (i = user; i; i = i->next) t->hop_headers = gl_slist_add(t->hop_headers, i->data);
    if (t->upload_path || t->mime) t->hop_headers = gl_slist_add(t->hop_headers, "Expect:");
    hdrs = t->hop_headers;
  }

  curl_easy_setopt(e, CURLOPT_URL, t->url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)t);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)t);
  /* "" is no proxy, not even one from the environment (libcurl reads
   * http_proxy itself) */
  curl_easy_setopt(e, CURLOPT_PROXY, c->direct && same && (c->token || t->noauth) ? "" : c->proxy);
  if (warm) {
    t->attempts++;
    c->easy_plain = 1;
    return 1;
  }
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, c->share);
  curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);   /* redirects are ours */
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  /* A streamed download may take long: the timeout then bounds stalls
   * (below 1 byte/s for timeout seconds) instead of the whole transfer. */
  if (t->output || t->sink_ref != LUA_NOREF || t->upload_path || t->mime) {
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (timeout + 999) / 1000);
  } else {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  }
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
  if (c->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, c->http2 ? (long)CURL_HTTP_VERSION_2TLS
                                                     : (long)CURL_HTTP_VERSION_1_1);
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
      if (!t->out_fp) return fail(t, "io", why, CURLE_WRITE_ERROR);
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
      if (t->upload_fp) fclose(t->upload_fp);
      t->upload_fp = fopen(t->upload_path, "rb");
      if (!t->upload_fp) return fail(t, "io", "cannot open the file to upload", CURLE_READ_ERROR);
      if (fseeko(t->upload_fp, 0, SEEK_END) != 0) return fail(t, "io", "cannot size the file to upload", CURLE_READ_ERROR);
      t->upload_size = (curl_off_t)ftello(t->upload_fp);
      rewind(t->upload_fp);
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(e, CURLOPT_READDATA, (void *)t);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, t->upload_size);
      if (strcmp(m, "PUT") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->req_body ? t->req_body : "");
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(t->req_body ? t->req_body_len : 0));
    }
  }
  t->attempts++;
  if (sync) c->easy_plain = plain;
  return 1;
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
  const char *v = gl_header_get(t->headers.p, t->headers.n, "ratelimit-remaining", &n);
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
  if (t->canceled) return fail(t, "canceled", "request canceled", CURLE_ABORTED_BY_CALLBACK);
  if (t->lua_err_ref != LUA_NOREF) return fail(t, "callback", "a callback raised an error", rc);
  if (t->client->closed && rc != CURLE_OK)
    return fail(t, "canceled", "the client was closed", rc);
  if (t->err_kind) return 0;    /* set by a callback: io, too_large */
  if (rc == CURLE_OUT_OF_MEMORY && t->routed < 0 && !t->errbuf[0]) {
    /* libcurl rejects a header line over CURL_MAX_HTTP_HEADER (100 KB)
     * with a bare out-of-memory code: name the cause, and do not retry an
     * answer that will be just as large next time */
    log_attempt(t, "response header line over 100 KB", -1);
    return fail(t, "too_large", "the response has a header line over 100 KB", rc);
  }
  if (rc == CURLE_RECV_ERROR && t->routed < 0 && strstr(t->errbuf, "Too large response headers")) {
    /* libcurl's cap on all the header lines of one answer (300 KB) */
    log_attempt(t, "response headers over 300 KB", -1);
    return fail(t, "too_large", "the response headers exceed 300 KB", rc);
  }
#if LIBCURL_VERSION_NUM >= 0x080600
  if (rc == CURLE_TOO_LARGE && t->routed < 0) {
    log_attempt(t, "response headers too large", -1);
    return fail(t, "too_large", "the response headers are too large", rc);
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
    return fail(t, kind, what, rc);
  }
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  note_rate_limit(t);
  snprintf(what, sizeof what, "%ld", t->status);
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
        return fail(t, "redirect", what, CURLE_OK);
      }
      gl_url_origin(t->url, &from);
      gl_url_origin(loc, &to);
      downgrade = from.p && to.p && strncmp(from.p, "https:", 6) == 0 &&
                  strncmp(to.p, "https:", 6) != 0;
      if (!from.p || !to.p || strcmp(from.p, to.p) != 0) t->left_origin = 1;
      gl_buf_free(&from); gl_buf_free(&to);
      if (downgrade) {
        log_attempt(t, what, -1);
        return fail(t, "redirect", "refused a redirect from https to plain http", CURLE_OK);
      }
      if (t->redirects >= GL_MAX_REDIRECTS) {
        log_attempt(t, what, -1);
        return fail(t, "redirect", "too many redirects (more than 5)", CURLE_TOO_MANY_REDIRECTS);
      }
      log_attempt(t, what, -1);
      {
        char *nu = gl_strdup(loc);
        if (!nu) return fail(t, "transport", "out of memory", CURLE_OUT_OF_MEMORY);
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
    return fail(t, "io", "cannot finish writing the output file", CURLE_WRITE_ERROR);
  }
  t->out_fp = NULL;
  return 0;
}

/* The log function ran for this attempt: it may have raised, canceled this
 * request or closed the client. An answer that is complete is kept. */
int gl_transfer_finish(gl_transfer *t, CURLcode rc) {
  int next = finish_attempt(t, rc);
  if (t->err_kind) return 0;
  if (t->lua_err_ref != LUA_NOREF) return fail(t, "callback", "the log function raised an error", rc);
  if (t->canceled) return fail(t, "canceled", "request canceled", CURLE_ABORTED_BY_CALLBACK);
  if (next != 0 && t->client->closed) return fail(t, "canceled", "the client was closed", rc);
  return next;
}

/* ====================================================================== */
/* results                                                                */
/* ====================================================================== */
/* A body to decode: JSON by its Content-Type, or (without one) by its
 * first character. */
static int is_json(gl_transfer *t) {
  size_t n, i;
  const char *ct = gl_header_get(t->headers.p, t->headers.n, "content-type", &n);
  if (ct && n > 0) {
    for (i = 0; i + 4 <= n; i++)
      if ((ct[i] | 0x20) == 'j' && (ct[i + 1] | 0x20) == 's' && (ct[i + 2] | 0x20) == 'o' &&
          (ct[i + 3] | 0x20) == 'n') return 1;
    return 0;
  }
  for (i = 0; i < t->body.n && strchr(" \t\r\n\v\f", t->body.p[i]) && t->body.p[i]; i++) {}
  return i < t->body.n && (t->body.p[i] == '[' || t->body.p[i] == '{');
}

static void push_body(lua_State *L, gl_transfer *t) {
  lua_pushlstring(L, t->body.p ? t->body.p : "", t->body.n);
}

/* Pushes the redacted URL of the transfer; the common URL has nothing to
 * redact and is pushed as it is. */
static void push_shown_url(lua_State *L, gl_transfer *t) {
  if (!strchr(t->url, '?') && !strchr(t->url, '@')) {
    lua_pushstring(L, t->url);
  } else {
    gl_buf u = {0, 0, 0};
    gl_redact_url(t->url, &u);
    lua_pushlstring(L, u.p ? u.p : "", u.n);
    gl_buf_free(&u);
  }
}

int gl_transfer_push_result(lua_State *L, gl_transfer *t) {
  int r;
  if (t->err_kind) {
    lua_pushnil(L);
    lua_createtable(L, 0, 8);
    lua_pushstring(L, t->err_kind); lua_setfield(L, -2, "kind");
    lua_pushstring(L, t->err_msg ? t->err_msg : t->err_kind); lua_setfield(L, -2, "message");
    lua_pushinteger(L, (lua_Integer)t->err_code); lua_setfield(L, -2, "code");
    lua_pushstring(L, t->method); lua_setfield(L, -2, "method");
    push_shown_url(L, t); lua_setfield(L, -2, "url");
    lua_pushinteger(L, t->attempts); lua_setfield(L, -2, "attempts");
    /* a redirect error carries the 3xx it refused; a transfer that broke
     * after its status line is a transport failure: no status (DESIGN) */
    if (t->status && strcmp(t->err_kind, "redirect") == 0) {
      lua_pushinteger(L, (lua_Integer)t->status); lua_setfield(L, -2, "status");
      gl_push_headers(L, t->headers.p, t->headers.n); lua_setfield(L, -2, "headers");
    }
    if (t->lua_err_ref != LUA_NOREF) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, t->lua_err_ref);
      lua_setfield(L, -2, "cause");
    }
    lua_pushnil(L);
    return 3;
  }
  lua_createtable(L, 0, 8);
  r = lua_gettop(L);
  lua_pushinteger(L, (lua_Integer)t->status); lua_setfield(L, r, "status");
  push_shown_url(L, t); lua_setfield(L, r, "url");
  lua_pushinteger(L, t->attempts); lua_setfield(L, r, "attempts");
  lua_pushinteger(L, t->redirects); lua_setfield(L, r, "redirects");
  {
    long v = 0;
    if (t->easy) curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &v);
    lua_pushinteger(L, v == CURL_HTTP_VERSION_2_0 ? 2 : v == CURL_HTTP_VERSION_3 ? 3 : 1);
    lua_setfield(L, r, "http_version");
  }
  if (t->body_truncated) { lua_pushboolean(L, 1); lua_setfield(L, r, "truncated"); }
  gl_resp_fill(L, r, t->headers.p ? t->headers.p : "", t->headers.n, t->client->base);
  if (t->routed == 1 && !t->body.n) {       /* streamed to a sink or file */
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
  }
  if (t->decode && t->status >= 200 && t->status < 300 && t->status != 204 &&
      t->body.n > 0 && strcmp(t->method, "HEAD") != 0 && is_json(t)) {
    char msg[160];
    if (gl_json_decode_buf(L, t->body.p, t->body.n, msg)) {
      lua_pushboolean(L, 1);
    } else {
      push_body(L, t);
      lua_pushstring(L, msg);
    }
    return 3;
  }
  push_body(L, t);
  lua_pushnil(L);
  return 3;
}

/* ====================================================================== */
/* transfer handles ("gitlab.transfer")                                   */
/* ====================================================================== */
static gl_tbox *check_box(lua_State *L) {
  return (gl_tbox *)luaL_checkudata(L, 1, GL_TRANSFER_MT);
}

static int l_cancel(lua_State *L) {
  gl_tbox *b = check_box(L);
  gl_transfer *t = b->t;
  gl_engine *e = t ? t->engine : NULL;
  if (!t || t->canceled || (t->state == GL_T_DONE && t->cb_ref == LUA_NOREF)) {
    lua_pushboolean(L, 0);    /* already called back, canceled or collected */
    return 1;
  }
  t->canceled = 1;
  gl_unref(L, &t->cb_ref);       /* callbacks never run after cancel */
  /* Finished but not yet called back: the engine frees it without a call.
   * Inside curl or the engine's collect (a sink, progress or log function)
   * the handle cannot be removed nor the transfer freed: its callbacks
   * abort it, and the engine frees it once curl has returned. */
  if (e && t->state == GL_T_ACTIVE && e->in_curl) e->reap = 1;
  else if (e && t->state != GL_T_DONE) {
    if (t->state == GL_T_ACTIVE) curl_multi_remove_handle(e->multi, t->easy);
    t->state = GL_T_DONE;
    /* unlink from the active list; free now */
    if (t->prev) t->prev->next = t->next; else e->active = t->next;
    if (t->next) t->next->prev = t->prev;
    t->next = t->prev = NULL;
    gl_transfer_free(L, t);
    gl_engine_flush(L, e);    /* libuv stops watching its socket now */
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int l_tdone(lua_State *L) {
  gl_tbox *b = check_box(L);
  lua_pushboolean(L, b->t == NULL || b->t->state == GL_T_DONE);
  return 1;
}

static int l_tgc(lua_State *L) {
  gl_tbox *b = check_box(L);
  if (b->t) b->t->box = NULL;   /* the transfer goes on without its handle */
  b->t = NULL;
  return 0;
}

static int l_ttostring(lua_State *L) {
  gl_tbox *b = check_box(L);
  if (b->t) lua_pushfstring(L, "gitlab.transfer (%s %s)", b->t->method, b->t->state == GL_T_DONE ? "done" : "running");
  else lua_pushliteral(L, "gitlab.transfer (finished)");
  return 1;
}

void gl_transfer_open(lua_State *L) {
  static const luaL_Reg m[] = {
    { "cancel", l_cancel }, { "done", l_tdone }, { NULL, NULL }
  };
  gl_newclass(L, GL_TRANSFER_MT, m, l_tgc, 1, l_ttostring);
  lua_pop(L, 1);
}
