/* Fuzz targets for the C parsers of gitlab.core.
 *
 * Included (not linked) by two drivers:
 *   fuzz/fuzz_<name>.c       libFuzzer entry points (make fuzz, clang)
 *   spec/c/fuzz_corpus_test.c replays fuzz/corpus/<name>/ in the normal
 *                            test run (any C compiler, ASan+UBSan)
 * Each target takes raw bytes and must never crash, leak or trip a
 * sanitizer; where the parser promises something checkable (an encoder's
 * alphabet, a round trip) the target checks it and abort()s on a breach,
 * which both drivers report as a failure.
 *
 * One lua_State with gitlab.core loaded is kept for the whole process:
 * making one per input would spend the fuzzing time in luaL_newstate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gl.h"

int luaopen_gitlab_core(lua_State *L);   /* src/core.c */

typedef int (*gl_fuzz_fn)(const uint8_t *d, size_t n);

static lua_State *fuzz_L;

/* The shared state with the module table at index 1 of every call. */
static lua_State *fuzz_state(void) {
  if (!fuzz_L) {
    fuzz_L = luaL_newstate();
    if (!fuzz_L) abort();
    luaL_openlibs(fuzz_L);
    lua_pushcfunction(fuzz_L, luaopen_gitlab_core);
    lua_call(fuzz_L, 0, 1);
    lua_setfield(fuzz_L, LUA_REGISTRYINDEX, "gl_fuzz_core");
  }
  lua_settop(fuzz_L, 0);
  lua_getfield(fuzz_L, LUA_REGISTRYINDEX, "gl_fuzz_core");
  return fuzz_L;
}

/* Between inputs: drop the stack and collect, so that memory an input
 * leaked inside Lua cannot pile up and hide a C leak. */
static void fuzz_done(lua_State *L) {
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);
}

static void fuzz_close(void) {
  if (fuzz_L) lua_close(fuzz_L);
  fuzz_L = NULL;
}

/* Calls core.<fn> with the nargs values on top of the stack, protected:
 * a Lua error (bad argument, "nested too deep") is an accepted answer. */
static int fuzz_pcall(lua_State *L, const char *fn, int nargs) {
  int rc;
  lua_getfield(L, 1, fn);
  lua_insert(L, -nargs - 1);
  rc = lua_pcall(L, nargs, 1, 0);
  return rc;
}

/* A NUL-terminated malloc'd copy of d[0..n): the URL helpers take C
 * strings. The caller frees it. */
static char *fuzz_cstr(const uint8_t *d, size_t n) {
  char *s = (char *)malloc(n + 1);
  if (!s) abort();
  if (n) memcpy(s, d, n);
  s[n] = '\0';
  return s;
}

/* ---------------------------------------------------------------- link */
static int gl_fuzz_link(const uint8_t *d, size_t n) {
  lua_State *L = fuzz_state();
  int top = lua_gettop(L), nres;
  nres = gl_parse_link(L, (const char *)d, n);
  /* contract: a table, or nil and a message */
  if (nres == 1) {
    if (!lua_istable(L, -1)) abort();
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) abort();
      lua_pop(L, 1);
    }
  } else if (nres == 2) {
    if (!lua_isnil(L, -2) || lua_type(L, -1) != LUA_TSTRING) abort();
  } else {
    abort();
  }
  (void)top;
  fuzz_done(L);
  return 0;
}

/* ------------------------------------------------------------- headers */
static int gl_fuzz_headers(const uint8_t *d, size_t n) {
  static const char *const names[] = { "link", "retry-after", "ratelimit-remaining",
    "content-type", "x-next-page", "location", "a", NULL };
  lua_State *L = fuzz_state();
  const char *raw = (const char *)d;
  int i;
  gl_push_headers(L, raw, n);
  if (!lua_istable(L, -1)) abort();
  for (i = 0; names[i]; i++) {
    size_t len = 0;
    const char *v = gl_header_get(raw, n, names[i], &len);
    if (v) {
      if (v < raw || v + len > raw + n) abort();   /* must point inside */
      (void)gl_retry_after(v, len, 1.7e9);
      if (i == 0) gl_parse_link(L, v, len);
    }
  }
  (void)gl_retry_after(raw, n, (double)time(NULL));
  fuzz_done(L);
  return 0;
}

/* ----------------------------------------------------------------- url */
/* Input: "base\nurl"; without a newline the whole input is the URL and the
 * base a fixed one. */
static int gl_fuzz_url(const uint8_t *d, size_t n) {
  lua_State *L = fuzz_state();
  const uint8_t *nl = (const uint8_t *)memchr(d, '\n', n);
  char *base, *url;
  gl_buf b = {0, 0, 0};
  if (nl) {
    base = fuzz_cstr(d, (size_t)(nl - d));
    url = fuzz_cstr(nl + 1, n - (size_t)(nl - d) - 1);
  } else {
    base = fuzz_cstr((const uint8_t *)"https://gitlab.example.com/api/v4", 33);
    url = fuzz_cstr(d, n);
  }
  if (gl_url_origin(url, &b)) {
    if (!b.p || strstr(b.p, "://") == NULL) abort();
  }
  gl_redact_url(url, &b);
  /* a redacted absolute URL keeps no userinfo: nothing between
   * "scheme://" and '@' before the first '/', unless it is the marker
   * ("://" further on, e.g. in a query value, is not an authority) */
  if (b.p) {
    const char *p = b.p;
    while (*p && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) p++;
    if (p > b.p && strncmp(p, "://", 3) == 0) {
      const char *e = p + 3, *at = NULL, *h;
      while (*e && *e != '/' && *e != '?' && *e != '#') e++;
      for (h = p + 3; h < e; h++) if (*h == '@') at = h;
      if (at && strncmp(p + 3, "[REDACTED]", 10) != 0) abort();
    }
  }
  gl_buf_free(&b);
  lua_pushstring(L, base);
  lua_pushstring(L, url);
  fuzz_pcall(L, "rebase", 2);
  lua_settop(L, 1);
  lua_pushstring(L, url);
  fuzz_pcall(L, "redact_url", 1);
  lua_settop(L, 1);
  lua_pushstring(L, url);
  fuzz_pcall(L, "origin", 1);
  free(base);
  free(url);
  fuzz_done(L);
  return 0;
}

/* -------------------------------------------------------------- encode */
static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* out must hold only the unreserved characters and %XX escapes, and
 * decode back to d[0..n) exactly. */
static void check_roundtrip(const char *out, size_t on, const uint8_t *d, size_t n,
                            const char *keep) {
  size_t i, j = 0;
  for (i = 0; i < on; i++) {
    unsigned char c = (unsigned char)out[i];
    int v;
    if (c == '%') {
      if (i + 2 >= on) abort();
      if (hexval(out[i + 1]) < 0 || hexval(out[i + 2]) < 0) abort();
      v = hexval(out[i + 1]) * 16 + hexval(out[i + 2]);
      i += 2;
    } else {
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || strchr(keep, c))) abort();
      v = c;
    }
    if (j >= n || d[j] != (uint8_t)v) abort();
    j++;
  }
  if (j != n) abort();
}

static int gl_fuzz_encode(const uint8_t *d, size_t n) {
  lua_State *L = fuzz_state();
  size_t on;
  const char *out;
  lua_pushlstring(L, (const char *)d, n);
  if (fuzz_pcall(L, "encode", 1) != 0) abort();
  out = lua_tolstring(L, -1, &on);
  check_roundtrip(out, on, d, n, "-_~");
  lua_settop(L, 1);
  lua_pushlstring(L, (const char *)d, n);
  if (fuzz_pcall(L, "escape", 1) != 0) abort();
  out = lua_tolstring(L, -1, &on);
  check_roundtrip(out, on, d, n, "-._~");
  fuzz_done(L);
  return 0;
}

/* --------------------------------------------------------------- query */
/* The bytes are a small program that builds a nested Lua table, which is
 * then handed to core.query. Open tables live in a Lua array (index 2) so
 * that building a deep input does not grow the C stack of this function. */
static size_t take(const uint8_t *d, size_t n, size_t *i, size_t max, const char **s) {
  size_t len;
  if (*i >= n) { *s = ""; return 0; }
  len = d[(*i)++] % (max + 1);
  if (len > n - *i) len = n - *i;
  *s = (const char *)d + *i;
  *i += len;
  return len;
}

/* Builds the table the program d[0..n) describes and stores it in the
 * registry as "gl_fuzz_root". cycles: op 8 may also link a table back to
 * the root (for json_encode, which must refuse a cycle). */
static void build_table(lua_State *L, const uint8_t *d, size_t n, int cycles) {
  size_t i = 0, depth = 1;
  lua_newtable(L);                 /* 2: stack of open tables */
  lua_newtable(L);                 /* the root */
  lua_pushvalue(L, -1);
  lua_rawseti(L, 2, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "gl_fuzz_root");
  while (i < n) {
    unsigned op = d[i++] % 9;
    const char *k, *v;
    size_t kn, vn;
    lua_rawgeti(L, 2, (int)depth);          /* 3: current table */
    switch (op) {
      case 0:                                /* t[k] = "v" */
        kn = take(d, n, &i, 12, &k); vn = take(d, n, &i, 24, &v);
        lua_pushlstring(L, k, kn); lua_pushlstring(L, v, vn); lua_rawset(L, 3);
        break;
      case 1:                                /* t[#t+1] = "v" */
        vn = take(d, n, &i, 24, &v);
        lua_pushlstring(L, v, vn);
        lua_rawseti(L, 3, (int)gl_rawlen(L, 3) + 1);
        break;
      case 2: {                              /* t[k] = number */
        uint32_t x = 0;
        kn = take(d, n, &i, 8, &k);
        if (i + 4 <= n) { memcpy(&x, d + i, 4); i += 4; }
        lua_pushlstring(L, k, kn);
        if (x & 1) lua_pushnumber(L, (lua_Number)(int32_t)x / 7.0);
        else lua_pushinteger(L, (lua_Integer)(int32_t)x);
        lua_rawset(L, 3);
        break;
      }
      case 3:                                /* t[k] = boolean */
        kn = take(d, n, &i, 8, &k);
        lua_pushlstring(L, k, kn); lua_pushboolean(L, kn & 1); lua_rawset(L, 3);
        break;
      case 4: case 5:                        /* open t[k] = {} or t[#t+1] = {} */
        if (depth >= 64) break;
        lua_newtable(L);
        if (op == 4) {
          kn = take(d, n, &i, 8, &k);
          lua_pushlstring(L, k, kn);
          lua_pushvalue(L, -2);
          lua_rawset(L, 3);
        } else {
          lua_pushvalue(L, -1);
          lua_rawseti(L, 3, (int)gl_rawlen(L, 3) + 1);
        }
        lua_rawseti(L, 2, (int)++depth);
        break;
      case 6:                                /* close */
        if (depth > 1) { lua_pushnil(L); lua_rawseti(L, 2, (int)depth--); }
        break;
      case 7: {                              /* t[small int] = "v" (holes) */
        int key = i < n ? d[i++] % 8 : 1;
        vn = take(d, n, &i, 8, &v);
        lua_pushlstring(L, v, vn);
        lua_rawseti(L, 3, key);
        break;
      }
      default:                               /* t[1.5] = "v", t[true] = x */
        kn = take(d, n, &i, 4, &k);
        if (cycles && kn == 3) {                 /* t.k = root: a cycle */
          lua_pushlstring(L, k, kn);
          lua_rawgeti(L, 2, 1);
          lua_rawset(L, 3);
          break;
        }
        if (kn & 1) lua_pushnumber(L, 1.5); else lua_pushboolean(L, 1);
        lua_pushlstring(L, k, kn);
        lua_rawset(L, 3);
        break;
    }
    lua_settop(L, 2);
  }
  lua_settop(L, 1);
}

static int gl_fuzz_query(const uint8_t *d, size_t n) {
  lua_State *L = fuzz_state();
  build_table(L, d, n, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, "gl_fuzz_root");
  if (fuzz_pcall(L, "query", 1) == 0) {
    size_t on, j;
    const char *out = lua_tolstring(L, -1, &on);
    if (!out) abort();
    for (j = 0; j < on; j++) {
      unsigned char c = (unsigned char)out[j];
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            strchr("%&=[]-._~", c))) abort();
    }
  } else if (lua_type(L, -1) != LUA_TSTRING) {
    abort();
  }
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "gl_fuzz_root");
  fuzz_done(L);
  return 0;
}

/* ---------------------------------------------------------------- json */
/* core.json_decode on raw bytes: a value or nil and a message, never a
 * crash. A decoded value must survive encode -> decode -> encode with the
 * same text up to key order (the round trip the Lua layer relies on for bodies). The first
 * byte picks a max_depth, so the depth limit is fuzzed too. */
static int gl_fuzz_json(const uint8_t *d, size_t n) {
  lua_State *L = fuzz_state();
  int depth = n ? 1 + d[0] % 64 : 16;
  const char *s1, *s2;
  size_t n1, n2;
  if (n) { d++; n--; }
  lua_pushlstring(L, (const char *)d, n);
  lua_createtable(L, 0, 1);
  lua_pushinteger(L, depth);
  lua_setfield(L, -2, "max_depth");
  lua_getfield(L, 1, "json_decode");
  lua_insert(L, -3);
  if (lua_pcall(L, 2, 2, 0) != 0) abort();        /* errors are values */
  if (lua_isnil(L, -2)) {
    if (lua_type(L, -1) != LUA_TSTRING) abort();
    fuzz_done(L);
    return 0;
  }
  lua_pop(L, 1);                                  /* the value */
  if (fuzz_pcall(L, "json_encode", 1) != 0 || lua_type(L, -1) != LUA_TSTRING) {
    fuzz_done(L);                                 /* e.g. 1e999 -> inf */
    return 0;
  }
  s1 = lua_tolstring(L, -1, &n1);                 /* stays on the stack */
  lua_pushvalue(L, -1);
  if (fuzz_pcall(L, "json_decode", 1) != 0 || lua_isnil(L, -1)) abort();
  if (fuzz_pcall(L, "json_encode", 1) != 0) abort();
  s2 = lua_tolstring(L, -1, &n2);
  /* object keys come out in table order, which may differ between two
   * tables with the same keys: compare the bytes as multisets */
  if (!s2 || n1 != n2) abort();
  {
    size_t count[256] = {0}, k;
    for (k = 0; k < n1; k++) { count[(unsigned char)s1[k]]++; count[(unsigned char)s2[k]]--; }
    for (k = 0; k < 256; k++) if (count[k]) abort();
  }
  fuzz_done(L);
  return 0;
}

/* core.json_encode on a table built as for the query target (cycles
 * allowed): a string that json_decode takes back, or a Lua error (a
 * cycle, a boolean key), never a crash or an endless loop. */
static int gl_fuzz_json_encode(const uint8_t *d, size_t n) {
  lua_State *L = fuzz_state();
  build_table(L, d, n, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, "gl_fuzz_root");
  if (fuzz_pcall(L, "json_encode", 1) == 0) {
    if (lua_type(L, -1) != LUA_TSTRING) abort();
    if (fuzz_pcall(L, "json_decode", 1) != 0 || lua_isnil(L, -1)) abort();
  } else if (lua_type(L, -1) != LUA_TSTRING) {
    abort();
  }
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "gl_fuzz_root");
  fuzz_done(L);
  return 0;
}

/* -------------------------------------------------------------- base64 */
/* The webhook signing token's decoder and its neighbours in crypto.c:
 * core.base64_decode(d) is nil (with its message) or bytes that encode
 * back to d exactly (only the canonical encoding decodes); core.base64(d)
 * holds only the alphabet and '=', has the length of whole groups and
 * decodes back to d exactly;
 * core.secure_compare of d's two halves agrees with memcmp. */
static void check_base64_alphabet(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '+' || c == '/' || (c == '=' && i + 2 >= n))) abort();
  }
}

static int gl_fuzz_base64(const uint8_t *d, size_t n) {
  lua_State *L = fuzz_state();
  size_t half = n / 2, on, dn;
  const char *out, *dec;
  int same;

  lua_pushlstring(L, (const char *)d, n);
  if (fuzz_pcall(L, "base64_decode", 1) != 0) abort();
  if (lua_type(L, -1) == LUA_TSTRING) {
    dec = lua_tolstring(L, -1, &dn);          /* stays on the stack */
    lua_pushvalue(L, -1);
    if (fuzz_pcall(L, "base64", 1) != 0 || lua_type(L, -1) != LUA_TSTRING) abort();
    out = lua_tolstring(L, -1, &on);
    if (on != n || (n > 0 && memcmp(out, d, n) != 0)) abort();
    if (fuzz_pcall(L, "base64_decode", 1) != 0 || lua_type(L, -1) != LUA_TSTRING) abort();
    out = lua_tolstring(L, -1, &on);
    if (on != dn || memcmp(out, dec, dn) != 0) abort();
  } else if (!lua_isnil(L, -1)) {
    abort();
  }
  lua_settop(L, 1);

  lua_pushlstring(L, (const char *)d, n);
  if (fuzz_pcall(L, "base64", 1) != 0 || lua_type(L, -1) != LUA_TSTRING) abort();
  out = lua_tolstring(L, -1, &on);
  if (on != 4 * ((n + 2) / 3)) abort();
  check_base64_alphabet(out, on);
  if (fuzz_pcall(L, "base64_decode", 1) != 0 || lua_type(L, -1) != LUA_TSTRING) abort();
  out = lua_tolstring(L, -1, &on);
  if (on != n || (n > 0 && memcmp(out, d, n) != 0)) abort();
  lua_settop(L, 1);

  lua_pushlstring(L, (const char *)d, half);
  lua_pushlstring(L, (const char *)d + half, n - half);
  if (fuzz_pcall(L, "secure_compare", 2) != 0 || lua_type(L, -1) != LUA_TBOOLEAN) abort();
  same = half == n - half && (half == 0 || memcmp(d, d + half, half) == 0);
  if (lua_toboolean(L, -1) != same) abort();
  fuzz_done(L);
  return 0;
}

/* Every target by name: the corpus directory is fuzz/corpus/<name>/. */
static const struct gl_fuzz_target { const char *name; gl_fuzz_fn fn; } gl_fuzz_targets[] = {
  { "link", gl_fuzz_link }, { "headers", gl_fuzz_headers }, { "url", gl_fuzz_url },
  { "encode", gl_fuzz_encode }, { "query", gl_fuzz_query }, { "json", gl_fuzz_json },
  { "json_encode", gl_fuzz_json_encode }, { "base64", gl_fuzz_base64 }, { NULL, NULL }
};
