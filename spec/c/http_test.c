/* C tests of the core's parsers, run by spec/run under ASan+UBSan.
 * Prints "N passed, N failed" last. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "gl.h"

static int passed, failed;

#define CHECK(cond) do { if (cond) passed++; else { failed++; \
  fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static void test_header_get(void) {
  const char raw[] = "Content-Type: application/json\r\nX-Next-Page:  3 \r\nlink: <a>; rel=\"next\"\r\n";
  size_t n = 0;
  const char *v = gl_header_get(raw, sizeof raw - 1, "x-next-page", &n);
  CHECK(v && n == 1 && v[0] == '3');
  v = gl_header_get(raw, sizeof raw - 1, "LINK", &n);
  CHECK(v && n == 15);
  CHECK(gl_header_get(raw, sizeof raw - 1, "x-total", &n) == NULL);
  CHECK(gl_header_get("", 0, "a", &n) == NULL);
  CHECK(gl_header_get("a", 1, "a", &n) == NULL);
  CHECK(gl_header_get("a:", 2, "a", &n) != NULL && n == 0);
}

static void test_retry_after(void) {
  double now = (double)time(NULL);
  CHECK(gl_retry_after("7", 1, now) == 7);
  CHECK(gl_retry_after("", 0, now) < 0);
  CHECK(gl_retry_after("soon", 4, now) < 0);
  CHECK(gl_retry_after("99999999999999", 14, now) >= 1e9);
  {
    double d = gl_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 29, now);
    CHECK(d < 0 && d > -1e10);   /* a date in the past: a negative delay */
  }
}

static void test_origin(void) {
  gl_buf b = {0, 0, 0};
  CHECK(gl_url_origin("HTTPS://GitLab.Example.com/api/v4", &b) && strcmp(b.p, "https://gitlab.example.com:443") == 0);
  CHECK(gl_url_origin("http://u:p@127.0.0.1:8080?x", &b) && strcmp(b.p, "http://127.0.0.1:8080") == 0);
  CHECK(gl_url_origin("http://[::1]:9/x", &b) && strcmp(b.p, "http://[::1]:9") == 0);
  CHECK(gl_url_origin("http://[::1/x", &b) == 0);
  CHECK(gl_url_origin("/relative", &b) == 0);
  CHECK(gl_url_origin("://x", &b) == 0);
  CHECK(gl_url_origin("http://h:123456789/", &b) == 0);
  gl_buf_free(&b);
}

static void test_redact(void) {
  gl_buf b = {0, 0, 0};
  gl_redact_url("https://user:pw@h/x?private_token=abc&page=2&access_token=z#f", &b);
  CHECK(strstr(b.p, "abc") == NULL && strstr(b.p, "pw") == NULL && strstr(b.p, "page=2"));
  gl_redact_url("http://h/x", &b);
  CHECK(strcmp(b.p, "http://h/x") == 0);
  gl_redact_url("http://h/x?a=1;private_token=s1&private%5Ftoken=s2&JOB_TOKEN=s3", &b);
  CHECK(strstr(b.p, "s1") == NULL && strstr(b.p, "s2") == NULL && strstr(b.p, "s3") == NULL);
  CHECK(strstr(b.p, "a=1;") != NULL);
  gl_redact_url("http://h/x?%zz=1&%", &b);
  CHECK(strcmp(b.p, "http://h/x?%zz=1&%") == 0);
  gl_redact_url("http://h/x?token", &b);
  CHECK(strcmp(b.p, "http://h/x?token") == 0);
  gl_buf_free(&b);
}

static void test_link(void) {
  lua_State *L = luaL_newstate();
  const char *ok = "<http://a/api/v4/x?page=2>; rel=\"next\", <http://a/api/v4/x?page=9>;rel=last";
  CHECK(gl_parse_link(L, ok, strlen(ok)) == 1);
  lua_getfield(L, -1, "next");
  CHECK(strcmp(lua_tostring(L, -1), "http://a/api/v4/x?page=2") == 0);
  lua_settop(L, 0);
  CHECK(gl_parse_link(L, "<x", 2) == 2 && lua_isnil(L, -2));
  lua_settop(L, 0);
  CHECK(gl_parse_link(L, "x; rel=next", 11) == 2);
  lua_settop(L, 0);
  CHECK(gl_parse_link(L, "<a>; rel=\"unterminated", 22) == 2);
  lua_settop(L, 0);
  CHECK(gl_parse_link(L, "", 0) == 1);
  lua_close(L);
}

/* failed Link parses leave what was below on the stack */
static void test_link_stack(void) {
  lua_State *L = luaL_newstate();
  lua_pushliteral(L, "below");
  CHECK(gl_parse_link(L, "<x", 2) == 2);
  CHECK(lua_gettop(L) == 3 && lua_isnil(L, 2) && lua_isstring(L, 3));
  CHECK(strcmp(lua_tostring(L, 1), "below") == 0);
  lua_close(L);
}

static lua_State *resp_state(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  gl_http_open(L);     /* registers the headers and response metatables */
  lua_pop(L, 1);
  return L;
}

/* gl_resp_fill on raw lines; leaves the response table on top */
static void fill(lua_State *L, const char *raw) {
  lua_newtable(L);
  gl_resp_fill(L, lua_gettop(L), raw, strlen(raw), "http://h:1/api/v4");
}

static int field_is(lua_State *L, const char *k, lua_Number want) {
  int ok;
  lua_getfield(L, -1, k);
  ok = lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) == want;
  lua_pop(L, 1);
  return ok;
}

static int field_nil(lua_State *L, const char *k) {
  int ok;
  lua_getfield(L, -1, k);
  ok = lua_isnil(L, -1);
  lua_pop(L, 1);
  return ok;
}

static void test_resp_fill(void) {
  lua_State *L = resp_state();
  int top = lua_gettop(L);
  fill(L, "X-Page: 2\r\nx-total-pages:  9 \r\nX-Next-Page:\r\nX-Total: abc\r\n"
          "Link: <http://other:8/api/v4/p?page=3>; rel=\"next\"\r\n"
          "RateLimit-Limit: 600\r\nRateLimit-Remaining: 0\r\nRateLimit-Name: throttle\r\n");
  CHECK(lua_gettop(L) == top + 1);
  CHECK(field_is(L, "page", 2) && field_is(L, "total_pages", 9));
  CHECK(field_nil(L, "next_page") && field_nil(L, "total") && field_nil(L, "prev_page"));
  lua_getfield(L, -1, "next_url");
  CHECK(lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "http://h:1/api/v4/p?page=3") == 0);
  lua_pop(L, 1);
  lua_getfield(L, -1, "rate_limit");
  CHECK(lua_istable(L, -1) && field_is(L, "limit", 600) && field_is(L, "remaining", 0));
  lua_getfield(L, -1, "name");
  CHECK(lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "throttle") == 0);
  lua_pop(L, 2);
  /* headers: built on first read, any case, then cached */
  lua_getfield(L, -1, "headers");
  CHECK(lua_istable(L, -1));
  lua_getfield(L, -1, "X-PAGE");
  CHECK(lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "2") == 0);
  lua_pop(L, 2);
  CHECK(field_nil(L, "_raw_headers"));
  lua_settop(L, top);

  /* repeated names: a repeated number is no number, Links are joined */
  fill(L, "X-Page: 1\r\nX-Page: 2\r\nLink: <http://h:1/api/v4/a>; rel=\"prev\"\r\n"
          "link: <http://h:1/api/v4/b>; rel=\"next\"\r\n");
  CHECK(field_nil(L, "page"));
  lua_getfield(L, -1, "next_url");
  CHECK(lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "http://h:1/api/v4/b") == 0);
  lua_settop(L, top);

  /* malformed: link_error, garbage lines ignored, stack balanced */
  fill(L, "no colon here\r\n:\r\nLink: <unterminated\r\nX-Per-Page: 99999999999999999999999\r\n\r\n");
  CHECK(lua_gettop(L) == top + 1);
  lua_getfield(L, -1, "link_error");
  CHECK(lua_isstring(L, -1));
  lua_pop(L, 1);
  CHECK(field_nil(L, "links") && field_nil(L, "next_url"));
  lua_settop(L, top);

  fill(L, "");
  CHECK(field_nil(L, "page") && field_nil(L, "rate_limit"));
  lua_getfield(L, -1, "headers");
  CHECK(lua_istable(L, -1));
  lua_settop(L, top);
  lua_close(L);
}

static void test_buf(void) {
  gl_buf b = {0, 0, 0};
  int i, ok = 1;
  for (i = 0; i < 10000; i++) ok &= gl_buf_add(&b, "abc", 3);
  CHECK(ok);
  CHECK(b.n == 30000 && b.p[b.n] == '\0');
  gl_buf_free(&b);
  CHECK(b.p == NULL && b.n == 0);
}

int main(void) {
  test_header_get();
  test_retry_after();
  test_origin();
  test_redact();
  test_link();
  test_link_stack();
  test_resp_fill();
  test_buf();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
