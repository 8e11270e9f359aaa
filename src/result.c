/* What a finished transfer returns to Lua: resp, value, flag on an HTTP
 * answer, nil, err, nil without one (the shapes in docs/INTERNALS.md). */
#include <string.h>
#include "gl.h"

/* ====================================================================== */
/* results                                                                */
/* ====================================================================== */
/* A body to decode: JSON by its Content-Type, or (without one) by its
 * first character. */
static int is_json(gl_transfer *t) {
  size_t n, i;
  const char *ct = gl_transfer_noted(t, GL_HV_CONTENT_TYPE, &n);
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

/* Is the decoded value on top a service's failure hash, {"status":
 * "error", "message": text or a non-empty object}, with no [1]? GitLab's
 * services answer so with a 2xx: POST /projects/:id/invitations and
 * /groups/:id/invitations (doc/api/invitations.md, lib/api/invitations.rb),
 * and POST .../members with several user ids (lib/api/members.rb:
 * Members::CreateService's hash). Kept narrow: a pipeline, job, deployment
 * or commit with a `status` field is never one (their statuses are never
 * "error", and they carry no message). Raw reads: a decoded table has no
 * __index. */
static int is_service_error(lua_State *L) {
  int yes = 0;
  if (lua_type(L, -1) != LUA_TTABLE) return 0;
  lua_pushliteral(L, "status");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "error") == 0) {
    lua_rawgeti(L, -2, 1);
    lua_pushliteral(L, "message");
    lua_rawget(L, -4);
    if (lua_isnil(L, -2)) {
      if (lua_type(L, -1) == LUA_TSTRING) {
        yes = 1;
      } else if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushnil(L);
        if (lua_next(L, -2)) { yes = 1; lua_pop(L, 2); }
      }
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return yes;
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
      int service = is_service_error(L);
      lua_pushboolean(L, 1);
      /* a fourth value, true, for a service's failure hash */
      if (service) { lua_pushboolean(L, 1); return 4; }
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

