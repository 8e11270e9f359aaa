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
  test_buf();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
