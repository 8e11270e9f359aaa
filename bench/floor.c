/*
 * The libcurl floor: the same requests as the clients make, through one
 * reused easy handle (so one keep-alive connection), without decoding JSON.
 * No client built on libcurl can beat this; the benchmark reports every
 * client's time against it.
 *
 * usage: floor WORKLOAD URL [CA_FILE]
 *   w0        one GET of /api/v4/projects/1 (cold start: the runner times
 *             the whole process)
 *   w1, w1s   2,000 sequential GETs of /api/v4/projects/1
 *   w2, w2s, w3
 *             GET /api/v4/projects/1/issues?page=N&per_page=100, following
 *             X-Next-Page until it is empty (the cheapest way to paginate)
 *   w4        GET /api/v4/projects/1 .. /1000 on curl_multi, 16 at once:
 *             CURLOPT_PIPEWAIT, so over HTTP/2 they wait for the first
 *             connection and share it as streams, and
 *             CURLMOPT_MAX_TOTAL_CONNECTIONS 16 (16 connections at most if
 *             the server only speaks HTTP/1.1)
 * CA_FILE, for https URLs, is the one CA to trust (CURLOPT_CAINFO).
 * HTTPS uses libcurl's default, HTTP/2 through ALPN when the server offers it.
 * prints: "<seconds> <requests> <body bytes> <HTTP version>"
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

/* Body buffer reused across requests: it grows to the largest page once and
 * is only rewound after that, as a careful client would do. Owned by main. */
struct sink {
  char *data;
  size_t len, cap;
  size_t total;        /* bytes over all requests, for the report */
  long next_page;      /* X-Next-Page of the last response, 0 if none */
};

static size_t on_body(char *ptr, size_t size, size_t n, void *ud) {
  struct sink *s = ud;
  size_t add = size * n;
  if (s->len + add > s->cap) {
    size_t cap = s->cap ? s->cap : 65536;
    char *p;
    while (cap < s->len + add) cap *= 2;
    p = realloc(s->data, cap);
    if (!p) return 0;  /* makes curl fail with CURLE_WRITE_ERROR */
    s->data = p;
    s->cap = cap;
  }
  memcpy(s->data + s->len, ptr, add);
  s->len += add;
  s->total += add;
  return add;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ud) {
  struct sink *s = ud;
  size_t len = size * n;
  static const char name[] = "x-next-page:";
  if (len > sizeof name - 1 && strncasecmp(ptr, name, sizeof name - 1) == 0) {
    size_t i = sizeof name - 1;
    while (i < len && isspace((unsigned char)ptr[i])) i++;
    s->next_page = 0;
    while (i < len && isdigit((unsigned char)ptr[i]))
      s->next_page = s->next_page * 10 + (ptr[i++] - '0');
  }
  return len;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *version_name(long v) {
  switch (v) {
  case CURL_HTTP_VERSION_1_0: return "1.0";
  case CURL_HTTP_VERSION_1_1: return "1.1";
  case CURL_HTTP_VERSION_2_0: return "2";
  default: return "?";
  }
}

static void setup(CURL *h, struct curl_slist *hdrs, const char *ca, struct sink *s) {
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "lua-gitlab-bench-floor");
  if (ca) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
}

/* W4: 16 easy handles on one multi handle; each takes the next project as
 * soon as its previous one is done. */
#define W4_PROJECTS 1000
#define W4_PARALLEL 16
static int fanout(const char *base, struct curl_slist *hdrs, const char *ca,
                  long *requests, size_t *bytes, long *version) {
  CURLM *m = curl_multi_init();
  CURL *h[W4_PARALLEL];
  struct sink s[W4_PARALLEL];
  char url[W4_PARALLEL][512];
  int next = 1, running = 1, i, rc = 0;
  if (!m) return -1;
  curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)W4_PARALLEL);
  memset(s, 0, sizeof s);
  for (i = 0; i < W4_PARALLEL; i++) {
    h[i] = curl_easy_init();
    if (!h[i]) return -1;
    setup(h[i], hdrs, ca, &s[i]);
    curl_easy_setopt(h[i], CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(h[i], CURLOPT_PRIVATE, (void *)&s[i]);
    snprintf(url[i], sizeof url[i], "%s/api/v4/projects/%d", base, next++);
    curl_easy_setopt(h[i], CURLOPT_URL, url[i]);
    curl_multi_add_handle(m, h[i]);
  }
  while (running && rc == 0) {
    CURLMsg *msg;
    int left;
    if (curl_multi_perform(m, &running) != CURLM_OK) { rc = -1; break; }
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      CURL *e = msg->easy_handle;
      long status = 0;
      for (i = 0; i < W4_PARALLEL && h[i] != e; i++) {}
      if (msg->msg != CURLMSG_DONE || i == W4_PARALLEL) continue;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result != CURLE_OK || status != 200) {
        fprintf(stderr, "floor: %s: %s, HTTP %ld\n", url[i],
                curl_easy_strerror(msg->data.result), status);
        rc = -1;
        break;
      }
      curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, version);
      (*requests)++;
      *bytes += s[i].len;
      s[i].len = 0;
      curl_multi_remove_handle(m, e);
      if (next <= W4_PROJECTS) {
        snprintf(url[i], sizeof url[i], "%s/api/v4/projects/%d", base, next++);
        curl_easy_setopt(e, CURLOPT_URL, url[i]);
        curl_multi_add_handle(m, e);
        running = 1;
      }
    }
    if (running && rc == 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) rc = -1;
  }
  for (i = 0; i < W4_PARALLEL; i++) {
    curl_multi_remove_handle(m, h[i]);
    curl_easy_cleanup(h[i]);
    free(s[i].data);
  }
  curl_multi_cleanup(m);
  return rc;
}

static int fetch(CURL *h, const char *url, struct sink *s) {
  CURLcode rc;
  long status = 0;
  s->len = 0;
  s->next_page = 0;
  curl_easy_setopt(h, CURLOPT_URL, url);
  rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    fprintf(stderr, "floor: %s: %s\n", url, curl_easy_strerror(rc));
    return -1;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    fprintf(stderr, "floor: %s: HTTP %ld\n", url, status);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  struct sink s = {0};
  struct curl_slist *hdrs = NULL;
  const char *w, *ca;
  char url[512];
  long requests = 0, version = 0;
  size_t bytes = 0;
  double start;
  CURL *h;
  int rc = 0;

  if (argc < 3 || argc > 4 || strlen(argv[2]) > 400) {
    fprintf(stderr, "usage: floor w0|w1|w1s|w2|w2s|w3|w4 URL [CA_FILE]\n");
    return 2;
  }
  w = argv[1];
  ca = argc == 4 ? argv[3] : NULL;
  start = now();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  hdrs = curl_slist_append(hdrs, "PRIVATE-TOKEN: glpat-bench");
  hdrs = curl_slist_append(hdrs, "Accept: application/json");

  if (strcmp(w, "w4") == 0) {
    rc = fanout(argv[2], hdrs, ca, &requests, &bytes, &version);
  } else {
    h = curl_easy_init();
    if (!h) return 1;
    setup(h, hdrs, ca, &s);
    if (strcmp(w, "w0") == 0 || strcmp(w, "w1") == 0 || strcmp(w, "w1s") == 0) {
      int i, n = strcmp(w, "w0") == 0 ? 1 : 2000;
      snprintf(url, sizeof url, "%s/api/v4/projects/1", argv[2]);
      for (i = 0; i < n && rc == 0; i++) {
        rc = fetch(h, url, &s);
        requests++;
      }
    } else {
      long page = 1;
      while (page > 0 && rc == 0) {
        snprintf(url, sizeof url, "%s/api/v4/projects/1/issues?page=%ld&per_page=100",
                 argv[2], page);
        rc = fetch(h, url, &s);
        requests++;
        page = s.next_page;
      }
    }
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
    curl_easy_cleanup(h);
    bytes = s.total;
  }
  curl_slist_free_all(hdrs);
  free(s.data);
  curl_global_cleanup();
  if (rc != 0) return 1;
  printf("%.6f %ld %lu %s\n", now() - start, requests, (unsigned long)bytes,
         version_name(version));
  return 0;
}
