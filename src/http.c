/* HTTP text parsing: response headers, Link (RFC 8288), Retry-After, URL
 * origins and redaction, the header line lists of Lua tables (request
 * headers, the client's headers option). Every parser here is bounded by
 * its length and total: malformed input yields an error value, never a
 * crash. */
#define _POSIX_C_SOURCE 200112L
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "gl.h"

static int ieq(const char *a, const char *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return 0;
  return 1;
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }
static void rebase(lua_State *L, const char *base, size_t bn, const char *url);

/* ====================================================================== */
/* response headers                                                       */
/* ====================================================================== */

/* The value of one header line (n bytes at line, its CRLF or LF may be
 * there) when its name is `name` (nl bytes, lower case) in any case, OWS
 * and CR trimmed; else NULL. */
const char *gl_header_value(const char *line, size_t n, const char *name, size_t nl, size_t *len) {
  size_t vs, ve;
  if (n <= nl || line[nl] != ':' || !ieq(line, name, nl)) return NULL;
  vs = nl + 1;
  ve = n;
  while (ve > vs && (line[ve - 1] == '\n' || line[ve - 1] == '\r' || is_ows(line[ve - 1]))) ve--;
  while (vs < ve && is_ows(line[vs])) vs++;
  *len = ve - vs;
  return line + vs;
}

/* raw holds the header lines of one response ("Name: value\r\n"...).
 * Returns the first value of name (case-insensitive), trimmed. */
const char *gl_header_get(const char *raw, size_t n, const char *name, size_t *len) {
  size_t nl = strlen(name), i = 0;
  while (i < n) {
    const char *lf = memchr(raw + i, '\n', n - i);
    size_t e = lf ? (size_t)(lf - raw) : n;
    const char *v = gl_header_value(raw + i, e - i, name, nl, len);
    if (v) return v;
    i = e + 1;
  }
  return NULL;
}

/* __index of header tables: names are stored in lower case and read in
 * any case. */
static int headers_index(lua_State *L) {
  size_t n, i;
  const char *k;
  char low[256];
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  k = lua_tolstring(L, 2, &n);
  if (n >= sizeof low) return 0;
  for (i = 0; i < n; i++) {
    if (k[i] >= 'A' && k[i] <= 'Z') break;
  }
  if (i == n) return 0;             /* already lower case: rawget missed */
  for (i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)k[i]);
  lua_pushlstring(L, low, n);
  lua_rawget(L, 1);
  return 1;
}

/* Headers whose value is a credential, whoever sends them: a server or
 * proxy echoing ours, or handing out a session. Their values never reach
 * Lua (resp.headers, err.headers); the raw lines stay in C. */
static int secret_header(const char *lower, size_t n) {
  static const char *const names[] = { "private-token", "job-token", "authorization",
    "proxy-authorization", "cookie", "set-cookie", NULL };
  int j;
  for (j = 0; names[j]; j++)
    if (strlen(names[j]) == n && memcmp(names[j], lower, n) == 0) return 1;
  return 0;
}

/* Pushes { ["lower-name"] = "value" } with the case-insensitive metatable;
 * repeated names are joined with ", " (RFC 9110 5.3), which keeps several
 * Link headers parseable as one. */
int gl_push_headers(lua_State *L, const char *raw, size_t n) {
  size_t i = 0, lines = 0;
  int t;
  for (i = 0; i < n; i++) lines += raw[i] == '\n';
  lua_createtable(L, 0, (int)(lines < 256 ? lines : 256));
  t = lua_gettop(L);
  i = 0;
  while (i < n) {
    size_t e = i, c, vs, ve, k;
    char name[256];
    const char *nl = memchr(raw + i, '\n', n - i);
    e = nl ? (size_t)(nl - raw) : n;
    c = i;
    while (c < e && raw[c] != ':') c++;
    if (c < e && c > i && c - i < sizeof name) {
      for (k = 0; k < c - i; k++) name[k] = (char)tolower((unsigned char)raw[i + k]);
      const char *v;
      size_t vn;
      vs = c + 1; ve = e;
      while (vs < ve && is_ows(raw[vs])) vs++;
      while (ve > vs && (raw[ve - 1] == '\r' || is_ows(raw[ve - 1]))) ve--;
      v = raw + vs; vn = ve - vs;
      if (secret_header(name, k)) { v = "[REDACTED]"; vn = 10; }
      lua_pushlstring(L, name, k);
      lua_pushvalue(L, -1);
      lua_rawget(L, t);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushlstring(L, v, vn);
      } else {
        lua_pushliteral(L, ", ");
        lua_pushlstring(L, v, vn);
        lua_concat(L, 3);
      }
      lua_rawset(L, t);
    }
    i = e + 1;
  }
  luaL_getmetatable(L, GL_HEADERS_MT);
  lua_setmetatable(L, t);
  return 1;
}

/* Headers a response table carries as fields: found in one pass over the
 * raw lines. A name given twice makes its value the joined list, as in the
 * headers table (so a repeated X-Page is no number, and repeated Link
 * headers are read as one). */
enum { M_PAGE, M_PER_PAGE, M_NEXT_PAGE, M_PREV_PAGE, M_TOTAL, M_TOTAL_PAGES,
       M_LINK, M_RL_LIMIT, M_RL_REMAINING, M_RL_RESET, M_RL_OBSERVED, M_RL_NAME,
       M_COUNT };
#define META(s) { s, sizeof s - 1 }
static const struct { const char *name; size_t len; } meta_names[M_COUNT] = {
  META("x-page"), META("x-per-page"), META("x-next-page"), META("x-prev-page"),
  META("x-total"), META("x-total-pages"), META("link"), META("ratelimit-limit"),
  META("ratelimit-remaining"), META("ratelimit-reset"), META("ratelimit-observed"),
  META("ratelimit-name")
};
#undef META
typedef struct meta { const char *v[M_COUNT]; size_t n[M_COUNT]; int seen[M_COUNT]; } meta;

static void scan_meta(const char *raw, size_t n, meta *m) {
  size_t i = 0;
  memset(m, 0, sizeof *m);
  while (i < n) {
    const char *nl = memchr(raw + i, '\n', n - i);
    size_t e = nl ? (size_t)(nl - raw) : n, c = i, vs, ve;
    int j = -1, lo = 0, hi = M_COUNT;
    char f = (char)tolower((unsigned char)raw[i]);
    if (f == 'x') hi = M_LINK;
    else if (f == 'l') { lo = M_LINK; hi = M_LINK + 1; }
    else if (f == 'r') lo = M_RL_LIMIT;
    else hi = 0;
    if (lo < hi) {
      while (c < e && raw[c] != ':') c++;
      if (c < e) {
        int k;
        for (k = lo; k < hi; k++)
          if (meta_names[k].len == c - i && ieq(raw + i, meta_names[k].name, c - i)) { j = k; break; }
      }
    }
    if (j >= 0) {
      vs = c + 1; ve = e;
      while (vs < ve && is_ows(raw[vs])) vs++;
      while (ve > vs && (raw[ve - 1] == '\r' || is_ows(raw[ve - 1]))) ve--;
      if (!m->seen[j]) { m->v[j] = raw + vs; m->n[j] = ve - vs; }
      m->seen[j]++;
    }
    i = e + 1;
  }
}

/* Pushes the value of meta header j (joined when repeated) or nil. */
static void push_meta_string(lua_State *L, const char *raw, size_t n, meta *m, int j) {
  if (!m->seen[j]) { lua_pushnil(L); return; }
  if (m->seen[j] == 1) { lua_pushlstring(L, m->v[j], m->n[j]); return; }
  gl_push_headers(L, raw, n);
  lua_getfield(L, -1, meta_names[j].name);
  lua_remove(L, -2);
}

/* tonumber() of a header value: nil when absent, empty or not a number. */
static void push_meta_number(lua_State *L, const char *raw, size_t n, meta *m, int j) {
  char tmp[64];
  if (m->seen[j] != 1 || m->n[j] == 0 || m->n[j] >= sizeof tmp) {
    if (m->seen[j] > 1) {           /* "1, 2": no number, as tonumber says */
      push_meta_string(L, raw, n, m, j);
      if (lua_isnumber(L, -1)) return;
      lua_pop(L, 1);
    }
    lua_pushnil(L);
    return;
  }
  memcpy(tmp, m->v[j], m->n[j]);
  tmp[m->n[j]] = '\0';
  if (!gl_stringtonumber(L, tmp)) lua_pushnil(L);
}

static void set_meta_number(lua_State *L, int t, const char *raw, size_t n, meta *m,
                            int j, const char *field) {
  if (!m->seen[j]) return;
  push_meta_number(L, raw, n, m, j);
  if (lua_isnil(L, -1)) lua_pop(L, 1);
  else lua_setfield(L, t, field);
}

/* __index of response tables: "headers" is built on first use from the
 * raw lines kept in _raw_headers (most callers never look at it). */
static int resp_index(lua_State *L) {
  size_t n;
  const char *k = lua_tostring(L, 2), *raw;
  if (lua_type(L, 2) != LUA_TSTRING || strcmp(k, "headers") != 0) return 0;
  lua_getfield(L, 1, "_raw_headers");
  raw = lua_tolstring(L, -1, &n);
  if (!raw) { raw = ""; n = 0; }
  gl_push_headers(L, raw, n);
  lua_pushvalue(L, -1);
  lua_setfield(L, 1, "headers");
  lua_pushnil(L);
  lua_setfield(L, 1, "_raw_headers");
  return 1;
}

/* Pushes the redacted form of the URL at i and returns 1, or pushes
 * nothing and returns 0 when there is nothing to redact. */
static int push_redacted(lua_State *L, int i) {
  size_t n;
  const char *u = lua_tolstring(L, i, &n);
  gl_buf b = {0, 0, 0};
  if (!strchr(u, '?') && !strchr(u, '@')) return 0;
  gl_redact_url(u, &b);
  if (b.p && b.n == n && memcmp(b.p, u, n) == 0) { gl_buf_free(&b); return 0; }
  lua_pushlstring(L, b.p ? b.p : "", b.n);
  gl_buf_free(&b);
  return 1;
}

/* Redacts every URL of the links table at t in place. */
static void redact_links(lua_State *L, int t) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_type(L, -1) == LUA_TSTRING && push_redacted(L, -1)) {
      lua_pushvalue(L, -3);
      lua_insert(L, -2);
      lua_rawset(L, t);          /* an existing key: next stays valid */
    }
    lua_pop(L, 1);
  }
}

/* Fills the response table at t from raw header lines: page numbers,
 * links (next_url rebased on base), rate_limit; and the lazy headers. */
void gl_resp_fill(lua_State *L, int t, const char *raw, size_t n, const char *base) {
  meta m;
  scan_meta(raw, n, &m);
  set_meta_number(L, t, raw, n, &m, M_PAGE, "page");
  set_meta_number(L, t, raw, n, &m, M_PER_PAGE, "per_page");
  set_meta_number(L, t, raw, n, &m, M_NEXT_PAGE, "next_page");
  set_meta_number(L, t, raw, n, &m, M_PREV_PAGE, "prev_page");
  set_meta_number(L, t, raw, n, &m, M_TOTAL, "total");
  set_meta_number(L, t, raw, n, &m, M_TOTAL_PAGES, "total_pages");
  if (m.seen[M_LINK]) {
    size_t ln;
    const char *link;
    push_meta_string(L, raw, n, &m, M_LINK);
    link = lua_tolstring(L, -1, &ln);
    if (gl_parse_link(L, link, ln) == 1) {
      lua_getfield(L, -1, "next");
      if (lua_type(L, -1) == LUA_TSTRING && base) {
        rebase(L, base, strlen(base), lua_tostring(L, -1));
        /* shown redacted; the link as given stays in _next_url, for the
         * next page, when redaction changed it */
        if (push_redacted(L, -1)) {
          lua_setfield(L, t, "next_url");
          lua_setfield(L, t, "_next_url");
        } else {
          lua_setfield(L, t, "next_url");
        }
      }
      lua_pop(L, 1);
      redact_links(L, lua_gettop(L));
      lua_setfield(L, t, "links");
    } else {
      lua_setfield(L, t, "link_error");
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (m.seen[M_RL_LIMIT] || m.seen[M_RL_REMAINING]) {
    lua_createtable(L, 0, 5);
    set_meta_number(L, lua_gettop(L), raw, n, &m, M_RL_LIMIT, "limit");
    set_meta_number(L, lua_gettop(L), raw, n, &m, M_RL_REMAINING, "remaining");
    set_meta_number(L, lua_gettop(L), raw, n, &m, M_RL_RESET, "reset");
    set_meta_number(L, lua_gettop(L), raw, n, &m, M_RL_OBSERVED, "observed");
    push_meta_string(L, raw, n, &m, M_RL_NAME);
    lua_setfield(L, -2, "name");
    lua_setfield(L, t, "rate_limit");
  }
  lua_pushlstring(L, raw, n);
  lua_setfield(L, t, "_raw_headers");
  luaL_getmetatable(L, GL_RESP_MT);
  lua_setmetatable(L, t);
}

/* ====================================================================== */
/* Link header (RFC 8288)                                                 */
/* ====================================================================== */
static int link_fail(lua_State *L, int base, size_t at, const char *why) {
  lua_settop(L, base);
  lua_pushnil(L);
  lua_pushfstring(L, "malformed Link header at byte %d: %s", (int)at + 1, why);
  return 2;
}

/* Pushes { rel = url, ... } or nil, message. Several rels in one value
 * ("next last") each map to the URL. The first link of a rel wins. */
int gl_parse_link(lua_State *L, const char *s, size_t n) {
  size_t i = 0;
  int t, base = lua_gettop(L);
  lua_newtable(L);
  t = lua_gettop(L);
  for (;;) {
    size_t us, ue;
    int urlpos;
    while (i < n && (is_ows(s[i]) || s[i] == ',')) i++;
    if (i >= n) break;
    if (s[i] != '<') return link_fail(L, base, i, "expected '<'");
    us = ++i;
    while (i < n && s[i] != '>') i++;
    if (i >= n) return link_fail(L, base, i, "unterminated '<'");
    ue = i++;
    lua_pushlstring(L, s + us, ue - us);
    urlpos = lua_gettop(L);
    /* parameters */
    for (;;) {
      size_t ps, pe;
      while (i < n && is_ows(s[i])) i++;
      if (i >= n || s[i] == ',') break;
      if (s[i] != ';') return link_fail(L, base, i, "expected ';' or ','");
      i++;
      while (i < n && is_ows(s[i])) i++;
      ps = i;
      while (i < n && (isalnum((unsigned char)s[i]) || strchr("!#$%&'*+-.^_`|~", s[i]))) i++;
      pe = i;
      if (pe == ps) return link_fail(L, base, i, "expected a parameter name");
      while (i < n && is_ows(s[i])) i++;
      if (i < n && s[i] == '=') {
        luaL_Buffer b;
        i++;
        while (i < n && is_ows(s[i])) i++;
        luaL_buffinit(L, &b);
        if (i < n && s[i] == '"') {
          i++;
          while (i < n && s[i] != '"') {
            if (s[i] == '\\' && i + 1 < n) i++;
            luaL_addchar(&b, s[i]);
            i++;
          }
          if (i >= n) { luaL_pushresult(&b); return link_fail(L, base, i, "unterminated quoted string"); }
          i++;
        } else {
          while (i < n && s[i] != ';' && s[i] != ',' && !is_ows(s[i])) {
            luaL_addchar(&b, s[i]);
            i++;
          }
        }
        luaL_pushresult(&b);
        if (pe - ps == 3 && ieq(s + ps, "rel", 3)) {
          /* rel may hold several space-separated relation types */
          size_t rn, k = 0;
          const char *rv = lua_tolstring(L, -1, &rn);
          while (k < rn) {
            size_t ks;
            while (k < rn && isspace((unsigned char)rv[k])) k++;
            ks = k;
            while (k < rn && !isspace((unsigned char)rv[k])) k++;
            if (k > ks) {
              char rel[64];
              size_t m = k - ks < sizeof rel - 1 ? k - ks : sizeof rel - 1, j;
              for (j = 0; j < m; j++) rel[j] = (char)tolower((unsigned char)rv[ks + j]);
              rel[m] = '\0';
              lua_getfield(L, t, rel);
              if (lua_isnil(L, -1)) {
                lua_pushvalue(L, urlpos);
                lua_setfield(L, t, rel);
              }
              lua_pop(L, 1);
            }
          }
        }
        lua_pop(L, 1);
      }
    }
    lua_settop(L, t);
  }
  return 1;
}

static int l_parse_link(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_settop(L, 1);
  return gl_parse_link(L, s, n);
}

/* ====================================================================== */
/* Retry-After: delay-seconds or an HTTP-date                             */
/* ====================================================================== */
double gl_retry_after(const char *v, size_t n, double now_wall) {
  char tmp[128];
  size_t i;
  int digits = n > 0;
  if (n == 0 || n >= sizeof tmp) return -1;
  for (i = 0; i < n; i++) if (!isdigit((unsigned char)v[i])) digits = 0;
  memcpy(tmp, v, n);
  tmp[n] = '\0';
  if (digits) return n > 9 ? 1e9 : (double)atol(tmp);
  {
    time_t t = curl_getdate(tmp, NULL);
    if (t == (time_t)-1) return -1;
    return (double)t - now_wall;
  }
}

/* ====================================================================== */
/* URLs                                                                   */
/* ====================================================================== */

/* Splits "scheme://[user@]host[:port]/..." into its origin, lower-cased with
 * the default port made explicit. Returns 0 when url is not absolute. */
int gl_url_origin(const char *url, gl_buf *out) {
  const char *p = strstr(url, "://"), *a, *e, *at, *h, *colon = NULL;
  size_t i;
  char port[8];
  int https;
  if (!p || p == url) return 0;
  for (i = 0; url + i < p; i++)
    if (!isalpha((unsigned char)url[i])) return 0;
  https = (p - url == 5 && ieq(url, "https", 5));
  a = p + 3;
  e = a;
  while (*e && *e != '/' && *e != '?' && *e != '#') e++;
  at = NULL;
  for (h = a; h < e; h++) if (*h == '@') at = h;
  h = at ? at + 1 : a;
  if (*h == '[') {
    const char *rb = memchr(h, ']', (size_t)(e - h));
    if (!rb) return 0;
    if (rb + 1 < e && rb[1] == ':') colon = rb + 1;
  } else {
    const char *q;
    for (q = h; q < e; q++) if (*q == ':') colon = q;
  }
  out->n = 0;
  for (i = 0; url + i < p + 3; i++) {
    char c = (char)tolower((unsigned char)url[i]);
    if (!gl_buf_add(out, &c, 1)) return 0;
  }
  for (; h < (colon ? colon : e); h++) {
    char c = (char)tolower((unsigned char)*h);
    if (!gl_buf_add(out, &c, 1)) return 0;
  }
  if (colon && colon + 1 < e) {
    size_t m = (size_t)(e - colon - 1);
    if (m >= sizeof port) return 0;
    memcpy(port, colon + 1, m);
    port[m] = '\0';
  } else {
    strcpy(port, https ? "443" : (p - url == 4 && ieq(url, "http", 4)) ? "80" : "0");
  }
  return gl_buf_add(out, ":", 1) && gl_buf_adds(out, port);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = (char)tolower((unsigned char)c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Is the (raw, possibly percent-encoded) query key one that holds a
 * secret? Keys are compared decoded: "private%5Ftoken" is private_token. */
static int secret_param(const char *k, size_t n) {
  static const char *const names[] = { "private_token", "access_token", "job_token",
    "token", "refresh_token", "client_secret", "password", "code", "code_verifier",
    "device_code", "feed_token", "rss_token", NULL };
  char key[32];
  size_t i, m = 0;
  int j;
  for (i = 0; i < n; i++) {
    char c = k[i];
    if (m >= sizeof key) return 0;            /* longer than every name */
    if (c == '%' && i + 2 < n && hexval(k[i + 1]) >= 0 && hexval(k[i + 2]) >= 0) {
      c = (char)(hexval(k[i + 1]) * 16 + hexval(k[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    key[m++] = c;
  }
  for (j = 0; names[j]; j++)
    if (strlen(names[j]) == m && ieq(key, names[j], m)) return 1;
  return 0;
}

/* Copies url with userinfo and credential-like query values replaced by
 * "[REDACTED]": what the user sees must never carry a secret. */
void gl_redact_url(const char *url, gl_buf *out) {
  const char *p = strstr(url, "://"), *q, *s = url;
  out->n = 0;
  gl_buf_adds(out, "");
  if (p) {
    const char *a = p + 3, *e = a, *at = NULL, *h;
    while (*e && *e != '/' && *e != '?' && *e != '#') e++;
    for (h = a; h < e; h++) if (*h == '@') at = h;
    if (at) {
      gl_buf_add(out, url, (size_t)(a - url));
      gl_buf_adds(out, "[REDACTED]");
      s = at;
    }
  }
  q = strchr(s, '?');
  if (!q) { gl_buf_adds(out, s); return; }
  gl_buf_add(out, s, (size_t)(q - s) + 1);
  s = q + 1;
  while (*s && *s != '#') {
    const char *amp = s, *eq;
    while (*amp && *amp != '&' && *amp != ';' && *amp != '#') amp++;
    eq = memchr(s, '=', (size_t)(amp - s));
    if (eq && secret_param(s, (size_t)(eq - s))) {
      gl_buf_add(out, s, (size_t)(eq - s) + 1);
      gl_buf_adds(out, "[REDACTED]");
    } else {
      gl_buf_add(out, s, (size_t)(amp - s));
    }
    s = amp;
    if (*s == '&' || *s == ';') { gl_buf_add(out, s, 1); s++; }
  }
}

/* ====================================================================== */
/* header line lists (request.headers, client option headers)             */
/* ====================================================================== */

/* Is the string at i free of CR, LF and NUL (it goes into a header)? */
int gl_one_line(lua_State *L, int i) {
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
      if (!gl_one_line(L, -1)) luaL_error(L, "%s[%d]: line breaks and NUL bytes are not allowed", what, (int)i);
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
      const char *line;
      lua_rawgeti(L, -1, (int)i);
      line = lua_tostring(L, -1);
      /* whole or not at all: a request never goes without one of them */
      if (line && !gl_slist_push(&l, line)) {
        curl_slist_free_all(l);
        luaL_error(L, "out of memory");
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return l;
}

/* ====================================================================== */
/* where a credential may go: loopback and the plain-http policy           */
/* ====================================================================== */

/* The authority of "scheme://[userinfo@]host[:port]/...": host keeps the
 * brackets of an IPv6 literal. Returns 0 when url is not absolute or its
 * authority does not parse (no host, junk after "]", a port that is not
 * digits). */
typedef struct authority {
  const char *scheme, *host;
  size_t scheme_n, host_n;
  int userinfo;
} authority;

static int parse_authority(const char *url, authority *a) {
  const char *p = strstr(url, "://"), *s, *e, *h, *q, *port = NULL;
  if (!p || p == url) return 0;
  for (q = url; q < p; q++) if (!isalpha((unsigned char)*q)) return 0;
  a->scheme = url;
  a->scheme_n = (size_t)(p - url);
  s = p + 3;
  for (e = s; *e && *e != '/' && *e != '?' && *e != '#'; e++) {}
  a->userinfo = 0;
  h = s;
  for (q = s; q < e; q++) if (*q == '@') { a->userinfo = 1; h = q + 1; }
  if (*h == '[') {
    const char *rb = memchr(h, ']', (size_t)(e - h));
    if (!rb) return 0;
    a->host_n = (size_t)(rb + 1 - h);
    if (rb + 1 < e) {
      if (rb[1] != ':') return 0;
      port = rb + 2;
    }
  } else {
    const char *colon = memchr(h, ':', (size_t)(e - h));
    a->host_n = (size_t)((colon ? colon : e) - h);
    if (colon) port = colon + 1;
  }
  a->host = h;
  if (port) for (q = port; q < e; q++) if (!isdigit((unsigned char)*q)) return 0;
  return a->host_n > 0;
}

/* A dotted quad of decimal octets 0-255 without leading zeros (libcurl
 * and the resolver read "0127" as octal, and "127.0.0.1.example" is a
 * name anyone may own). */
static int parse_ipv4(const char *h, size_t n, unsigned long *out) {
  size_t i = 0;
  int part;
  unsigned long v = 0;
  for (part = 0; part < 4; part++) {
    size_t s = i;
    unsigned o = 0;
    while (i < n && isdigit((unsigned char)h[i]) && i - s < 3) o = o * 10 + (unsigned)(h[i++] - '0');
    if (i == s || o > 255 || (h[s] == '0' && i - s > 1)) return 0;
    v = (v << 8) | o;
    if (part < 3) {
      if (i >= n || h[i] != '.') return 0;
      i++;
    }
  }
  if (i != n) return 0;
  *out = v;
  return 1;
}

/* Loopback: an IPv4 literal in 127.0.0.0/8, ::1 ("[::1]" in a URL), or
 * exactly "localhost" (libcurl resolves it to loopback itself). */
static int loopback_host(const char *h, size_t n) {
  unsigned long v;
  if (n == 9 && ieq(h, "localhost", 9)) return 1;
  if ((n == 5 && memcmp(h, "[::1]", 5) == 0) || (n == 3 && memcmp(h, "::1", 3) == 0)) return 1;
  return parse_ipv4(h, n, &v) && (v >> 24) == 127;
}

/* core.is_loopback(url or host) */
static int l_is_loopback(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  authority a;
  if (strlen(s) != n) lua_pushboolean(L, 0);
  else if (strstr(s, "://"))
    lua_pushboolean(L, parse_authority(s, &a) && !a.userinfo && loopback_host(a.host, a.host_n));
  else lua_pushboolean(L, loopback_host(s, n));
  return 1;
}

/* Would libcurl skip the proxy for host, by no_proxy / NO_PROXY? The same
 * matching as libcurl's (lib/noproxy.c): "*", names and their subdomains,
 * IP literals with an optional /bits. A mismatch only ever refuses more:
 * the transfer connects to a loopback origin directly anyway. */
static int noproxy_exempt(const char *h, size_t n) {
  const char *np = getenv("no_proxy"), *p;
  char ip[64];
  int v6 = 0, v4;
  unsigned long a4 = 0;
  unsigned char a6[16];
  if (!np || !*np) np = getenv("NO_PROXY");
  if (!np || !*np) return 0;
  if (strcmp(np, "*") == 0) return 1;
  if (n >= 2 && h[0] == '[') {
    if (n - 2 >= sizeof ip) return 0;
    memcpy(ip, h + 1, n - 2);
    ip[n - 2] = '\0';
    v6 = inet_pton(AF_INET6, ip, a6) == 1;
    if (!v6) return 0;
  }
  v4 = !v6 && parse_ipv4(h, n, &a4);
  if (!v4 && !v6 && n && h[n - 1] == '.') n--;
  for (p = np; *p;) {
    const char *tok;
    size_t tn;
    while (*p == ' ' || *p == '\t' || *p == ',') p++;
    tok = p;
    while (*p && *p != ' ' && *p != '\t' && *p != ',') p++;
    tn = (size_t)(p - tok);
    if (!tn) continue;
    if (v4 || v6) {
      char net[64], *slash;
      unsigned bits = v6 ? 128 : 32;
      if (tn >= sizeof net) continue;
      memcpy(net, tok, tn);
      net[tn] = '\0';
      if ((slash = strchr(net, '/')) != NULL) {
        long b = atol(slash + 1);
        *slash = '\0';
        if (b > 0 && b < (long)bits) bits = (unsigned)b;
      }
      if (v4) {
        unsigned long c4;
        unsigned long mask = bits == 32 ? 0xffffffffUL : (0xffffffffUL << (32 - bits)) & 0xffffffffUL;
        if (parse_ipv4(net, strlen(net), &c4) && ((a4 ^ c4) & mask) == 0) return 1;
      } else {
        unsigned char c6[16];
        unsigned i, ok = inet_pton(AF_INET6, net, c6) == 1;
        for (i = 0; ok && i < bits; i++)
          if (((a6[i / 8] ^ c6[i / 8]) >> (7 - i % 8)) & 1) ok = 0;
        if (ok) return 1;
      }
    } else {
      if (tok[tn - 1] == '.') tn--;
      if (tn && tok[0] == '.') { tok++; tn--; }
      if (tn == n && ieq(tok, h, n)) return 1;
      if (tn && tn < n && h[n - tn - 1] == '.' && ieq(tok, h + n - tn, tn)) return 1;
    }
  }
  return 0;
}

/* The proxy libcurl would use for a plain-http URL: the proxy option
 * (NULL: not given; "": none, and the environment is not read), else
 * http_proxy, all_proxy, ALL_PROXY (libcurl never reads HTTP_PROXY for
 * http). Returns a description for a message, or NULL for none. */
static const char *http_proxy_source(const char *proxy) {
  static const char *const vars[] = { "http_proxy", "all_proxy", "ALL_PROXY", NULL };
  int i;
  if (proxy) return *proxy ? "the proxy option" : NULL;
  for (i = 0; vars[i]; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v) return vars[i];
  }
  return NULL;
}

/* A refusal never turns into a permission for want of memory. */
static const char *refusal(gl_buf *msg) {
  return msg->p ? msg->p : "out of memory";
}

/* Why a client configured with url must not be made, or NULL: the one
 * policy behind core.client, gitlab.new and the OAuth flows. credential:
 * the client sends a secret (what: how the message names it); proxy: the
 * proxy option. The message goes to msg and holds no secret: not the
 * userinfo, not the proxy's URL. */
const char *gl_transport_refusal(const char *url, int credential, const char *what,
                                 const char *proxy, int allow_insecure, gl_buf *msg) {
  authority a;
  int https;
  const char *src;
  msg->n = 0;
  if (!parse_authority(url, &a) ||
      !((a.scheme_n == 4 && ieq(a.scheme, "http", 4)) || (a.scheme_n == 5 && ieq(a.scheme, "https", 5)))) {
    gl_buf_adds(msg, "url must be an absolute http or https URL");
    return refusal(msg);
  }
  if (a.userinfo) {
    gl_buf_adds(msg, "url must not hold a user name or password; give the token with the "
                     "token option instead");
    return refusal(msg);
  }
  https = a.scheme_n == 5;
  if (!credential || https || allow_insecure) return NULL;
  if (!loopback_host(a.host, a.host_n)) {
    gl_buf o = {0, 0, 0};
    gl_buf_adds(msg, "refusing to send ");
    gl_buf_adds(msg, what);
    gl_buf_adds(msg, " over plain http to ");
    if (gl_url_origin(url, &o)) gl_buf_add(msg, o.p, o.n);
    gl_buf_free(&o);
    gl_buf_adds(msg, "; use https or set allow_insecure = true");
    return refusal(msg);
  }
  src = http_proxy_source(proxy);
  if (src && !noproxy_exempt(a.host, a.host_n)) {
    gl_buf_adds(msg, "refusing to send ");
    gl_buf_adds(msg, what);
    gl_buf_adds(msg, " over plain http through a proxy (");
    if (!proxy) gl_buf_adds(msg, "environment variable ");
    gl_buf_adds(msg, src);
    gl_buf_adds(msg, "); use https, proxy = \"\" to connect directly, or allow_insecure = true");
    return refusal(msg);
  }
  return NULL;
}

/* Is url's host a loopback one (after gl_transport_refusal let it be)? */
int gl_url_loopback(const char *url) {
  authority a;
  return parse_authority(url, &a) && !a.userinfo && loopback_host(a.host, a.host_n);
}

/* core.transport_refusal(url, { credential =, what =, proxy =,
 * allow_insecure = }) -> nil, or the reason the client must not be made */
static int l_transport_refusal(lua_State *L) {
  const char *url = luaL_checkstring(L, 1), *proxy, *what, *why;
  int credential, insecure;
  gl_buf m = {0, 0, 0};
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_getfield(L, 2, "credential"); credential = lua_toboolean(L, -1); lua_pop(L, 1);
  lua_getfield(L, 2, "allow_insecure"); insecure = lua_toboolean(L, -1); lua_pop(L, 1);
  lua_getfield(L, 2, "proxy"); proxy = lua_tostring(L, -1);
  lua_getfield(L, 2, "what"); what = lua_tostring(L, -1);
  why = gl_transport_refusal(url, credential, what ? what : "a credential", proxy, insecure, &m);
  if (why) lua_pushstring(L, why); else lua_pushnil(L);
  gl_buf_free(&m);
  return 1;
}

static int l_redact(lua_State *L) {
  gl_buf b = {0, 0, 0};
  gl_redact_url(luaL_checkstring(L, 1), &b);
  lua_pushlstring(L, b.p ? b.p : "", b.n);
  gl_buf_free(&b);
  return 1;
}

static int l_origin(lua_State *L) {
  gl_buf b = {0, 0, 0};
  if (gl_url_origin(luaL_checkstring(L, 1), &b)) lua_pushlstring(L, b.p, b.n);
  else lua_pushnil(L);
  gl_buf_free(&b);
  return 1;
}

/* rebase(base, url): the next-page URL a server advertises may carry the
 * wrong host (external_url behind a proxy). Keep the configured base and
 * take only what follows "/api/v4" (path and query) from the link. */
static void rebase(lua_State *L, const char *base, size_t bn, const char *url) {
  const char *p = strstr(url, "://"), *rest, *v4, *hash;
  if (bn && base[bn - 1] == '/') bn--;
  if (p) {
    rest = p + 3;
    while (*rest && *rest != '/' && *rest != '?') rest++;
  } else {
    rest = url;
  }
  v4 = strstr(rest, "/api/v4");
  if (v4 && (v4[7] == '/' || v4[7] == '?' || v4[7] == '\0')) {
    rest = v4 + 7;
  } else if (*rest == '/' || *rest == '\0' || *rest == '?') {
    /* not under /api/v4: resolve against the base's origin */
    gl_buf o = {0, 0, 0};
    hash = strchr(rest, '#');
    if (!gl_url_origin(base, &o)) { gl_buf_free(&o); luaL_error(L, "rebase: bad base URL"); return; }
    {
      const char *bp = strstr(base, "://") + 3;
      while (*bp && *bp != '/' && *bp != '?') bp++;
      lua_pushlstring(L, base, (size_t)(bp - base));
    }
    gl_buf_free(&o);
    lua_pushlstring(L, rest, hash ? (size_t)(hash - rest) : strlen(rest));
    lua_concat(L, 2);
    return;
  }
  hash = strchr(rest, '#');
  lua_pushlstring(L, base, bn);
  lua_pushlstring(L, rest, hash ? (size_t)(hash - rest) : strlen(rest));
  lua_concat(L, 2);
}

static int l_rebase(lua_State *L) {
  size_t bn;
  const char *base = luaL_checklstring(L, 1, &bn);
  rebase(L, base, bn, luaL_checkstring(L, 2));
  return 1;
}

/* ====================================================================== */
/* dot segments                                                           */
/* ====================================================================== */
/* Is the n at s a "." or ".." path segment, literal or percent-encoded in
 * any mix ("%2e", ".%2E", "%2E%2e")? libcurl and servers remove dot
 * segments (RFC 3986 section 5.2.4), some only after percent-decoding, so
 * "/projects/1/../../user" reaches another endpoint with the credential.
 * A name that is an encoded dot segment counts too: a server or proxy that
 * decodes twice would resolve it. */
static int dot_segment(const char *s, size_t n) {
  size_t i = 0;
  int dots = 0;
  while (i < n && dots < 3) {
    if (s[i] == '.') i++;
    else if (s[i] == '%' && n - i >= 3 && s[i + 1] == '2' && (s[i + 2] | 0x20) == 'e') i += 3;
    else return 0;
    dots++;
  }
  return i == n && (dots == 1 || dots == 2);
}

/* Has the n at s a dot segment between its slashes, the first and the
 * last included? With url, only the path counts: what precedes the first
 * '?' or '#'. */
static int has_dot_segment(const char *s, size_t n, int url) {
  size_t i, start = 0;
  /* only a segment that starts with '.' or '%' can be one: without such a
   * start (nearly always), no further look */
  const char *p = s, *e = s + n;
  int maybe = n > 0 && (s[0] == '.' || s[0] == '%');
  while (!maybe && (p = memchr(p, '/', (size_t)(e - p))) != NULL && ++p < e)
    maybe = *p == '.' || *p == '%';
  if (!maybe) return 0;
  for (i = 0; i <= n; i++) {
    char c = i < n ? s[i] : '/';
    if (url && (c == '?' || c == '#')) c = '/', n = i;
    if (c != '/') continue;
    if (i > start && (s[start] == '.' || s[start] == '%') && dot_segment(s + start, i - start))
      return 1;
    start = i + 1;
  }
  return 0;
}

/* core.is_dot_segment(s): false for anything but a string */
static int l_is_dot_segment(lua_State *L) {
  size_t n;
  const char *s = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &n) : NULL;
  lua_pushboolean(L, s && dot_segment(s, n));
  return 1;
}

/* core.has_dot_segment(s [, url]): false for anything but a string */
static int l_has_dot_segment(lua_State *L) {
  size_t n;
  const char *s = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &n) : NULL;
  lua_pushboolean(L, s && has_dot_segment(s, n, lua_toboolean(L, 2)));
  return 1;
}

static int l_header_table(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  return gl_push_headers(L, s, n);
}

void gl_http_open(lua_State *L) {
  static const luaL_Reg fns[] = {
    { "parse_link", l_parse_link }, { "redact_url", l_redact },
    { "origin", l_origin }, { "rebase", l_rebase },
    { "parse_headers", l_header_table }, { "is_loopback", l_is_loopback },
    { "transport_refusal", l_transport_refusal }, { "is_dot_segment", l_is_dot_segment },
    { "has_dot_segment", l_has_dot_segment }, { NULL, NULL }
  };
  luaL_setfuncs(L, fns, 0);
  luaL_newmetatable(L, GL_HEADERS_MT);
  lua_pushcfunction(L, headers_index);
  lua_setfield(L, -2, "__index");
  lua_setfield(L, -2, "headers_mt");
  luaL_newmetatable(L, GL_RESP_MT);
  lua_pushcfunction(L, resp_index);
  lua_setfield(L, -2, "__index");
  lua_setfield(L, -2, "resp_mt");
}
