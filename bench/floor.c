/*
 * The libcurl floor: the same requests as the clients make, through one
 * reused easy handle (so one keep-alive connection), without decoding JSON.
 * No client built on libcurl can beat this; the benchmark reports every
 * client's time against it.
 *
 * usage: floor w1|w2|w3 http://127.0.0.1:PORT
 *   w1     2,000 sequential GETs of /api/v4/projects/1
 *   w2/w3  GET /api/v4/projects/1/issues?page=N&per_page=100, following
 *          X-Next-Page until it is empty (the cheapest way to paginate)
 * prints: "<seconds> <requests> <body bytes>"
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
  char url[512];
  long requests = 0;
  double start;
  CURL *h;
  int rc = 0;

  if (argc != 3 || strlen(argv[2]) > 400) {
    fprintf(stderr, "usage: floor w1|w2|w3 http://127.0.0.1:PORT\n");
    return 2;
  }
  start = now();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  h = curl_easy_init();
  if (!h) return 1;
  hdrs = curl_slist_append(hdrs, "PRIVATE-TOKEN: glpat-bench");
  hdrs = curl_slist_append(hdrs, "Accept: application/json");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "lua-gitlab-bench-floor");

  if (strcmp(argv[1], "w1") == 0) {
    int i;
    snprintf(url, sizeof url, "%s/api/v4/projects/1", argv[2]);
    for (i = 0; i < 2000 && rc == 0; i++) {
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
  curl_easy_cleanup(h);
  curl_slist_free_all(hdrs);
  free(s.data);
  curl_global_cleanup();
  if (rc != 0) return 1;
  printf("%.6f %ld %lu\n", now() - start, requests, (unsigned long)s.total);
  return 0;
}
