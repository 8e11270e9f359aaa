/* A transfer built from a Lua request table (c:request, c:start, b:add),
 * and freed. Every field is checked before anything is allocated; the
 * transfer then owns copies of what it needs, or registry refs that keep
 * the Lua values (body, sink, progress) alive as long as it lives. */
#include <stdlib.h>
#include <string.h>
#include "gl.h"

/* ====================================================================== */
/* building a transfer from a Lua request table                           */
/* ====================================================================== */
/* The string on top of the stack, the value of field k, or a raise. */
static const char *field_string(lua_State *L, const char *k) {
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "request.%s: expected a string, got %s", k, luaL_typename(L, -1));
  return lua_tostring(L, -1);
}

static const char *opt_string(lua_State *L, int t, const char *k) {
  const char *s;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return NULL; }
  s = field_string(L, k);
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

/* Fields of a request table, as bits of the mask check_request fills in:
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

/* The string of field f met by check_request's walk, or NULL: the request
 * table keeps it alive. */
typedef struct fields { unsigned mask; const char *s[F_URL + 1]; } fields;

/* Checks every field first so that a bad argument raises before anything
 * is allocated (luaL_error would otherwise leak the half-built transfer).
 * Fills in the mask of the fields present, and method and url. */
static void check_request(lua_State *L, int t, fields *fs) {
  unsigned mask = 0;
  const char *m;
  luaL_checktype(L, t, LUA_TTABLE);
  fs->s[F_METHOD] = fs->s[F_URL] = NULL;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int f = field_id(L, -2);
    if (f < 0) luaL_error(L, "request: unknown field '%s'", lua_type(L, -2) == LUA_TSTRING ?
                          lua_tostring(L, -2) : luaL_typename(L, -2));
    if (f == F_METHOD || f == F_URL) fs->s[f] = field_string(L, field_names[f]);
    mask |= 1u << f;
    lua_pop(L, 1);
  }
  fs->mask = mask;
  m = fs->s[F_METHOD];
  if (!m || !*m) luaL_error(L, "request.method is required");
  for (; *m; m++) if (*m < 'A' || *m > 'Z') luaL_error(L, "request.method must be upper case letters");
  if (!fs->s[F_URL]) luaL_error(L, "request.url is required");
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
          if (lua_type(L, -1) == LUA_TSTRING && !gl_one_line(L, -1))
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
}

/* Records why the request failed (kind, message, curl code); returns 0 so
 * that a caller can `return gl_transfer_fail(...)`. */
int gl_transfer_fail(gl_transfer *t, const char *kind, const char *msg, CURLcode code) {
  t->err_kind = kind;
  free(t->err_msg);
  t->err_msg = gl_strdup(msg);
  t->err_code = code;
  return 0;
}

gl_transfer *gl_transfer_new(lua_State *L, gl_client *c, int ri, gl_tbox *box) {
  gl_transfer *t;
  fields fs;
  unsigned mask;
  ri = ri < 0 ? lua_gettop(L) + ri + 1 : ri;
  check_request(L, ri, &fs);
  mask = fs.mask;
  /* malloc and memset: calloc skips glibc's per-thread cache */
  t = (gl_transfer *)malloc(sizeof *t);
  if (!t) { luaL_error(L, "out of memory"); return NULL; }
  memset(t, 0, sizeof *t);
  /* held by its handle at once: an error below leaves nothing behind
   * that the handle's __gc does not free (handle.c) */
  if (box) { box->t = t; t->box = box; }
  t->client = c;
  t->body_ref = t->sink_ref = t->progress_ref = t->cb_ref = LUA_NOREF;
  t->lua_err_ref = LUA_NOREF;
  t->follow = -1;
  t->max_retries = c->retries;
  t->max_body = c->max_body;
  t->started = gl_now();
  t->method = gl_strdup(fs.s[F_METHOD]);
  t->url = gl_strdup(fs.s[F_URL]);
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
          gl_transfer_fail(t, "file", "cannot read the file of a form part", CURLE_READ_ERROR);
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
  gl_unref(L, &t->cb_ref); gl_unref(L, &t->lua_err_ref);
  if (t->easy && (!t->client || t->easy != t->client->easy)) curl_easy_cleanup(t->easy);
  if (t->hop_headers) gl_slist_wipe(t->hop_headers);
  gl_auth_release(&t->auth);
  curl_slist_free_all(t->user_headers);
  if (t->mime) curl_mime_free(t->mime);
  if (t->upload_fp) fclose(t->upload_fp);
  if (t->out_fp) fclose(t->out_fp);
  free(t->upload_path); free(t->output);
  free(t->method); free(t->url); free(t->err_msg);
  gl_buf_free(&t->body); gl_buf_free(&t->headers);
  free(t);
}

