/* Replays the fuzz seed corpora (every file in fuzz/corpus/<target>/) through the fuzz
 * targets, so every input that once found a bug stays a regression test
 * even where clang/libFuzzer is absent. spec/run builds this with ASan and
 * UBSan from the repository root. Prints "N passed, N failed" last: one
 * check per target directory (it exists and holds inputs) and one per
 * input that runs to the end (a crash or sanitizer report ends the run,
 * which spec/run counts as a failure). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include "../../fuzz/targets.c"

static int passed, failed;

/* Reads a whole file into a malloc'd buffer (owned by the caller). */
static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  uint8_t *d = NULL;
  size_t cap = 0, len = 0, got;
  if (!f) return NULL;
  do {
    if (len == cap) {
      uint8_t *nd;
      cap = cap ? cap * 2 : 4096;
      nd = (uint8_t *)realloc(d, cap);
      if (!nd) { free(d); fclose(f); return NULL; }
      d = nd;
    }
    got = fread(d + len, 1, cap - len, f);
    len += got;
  } while (got > 0);
  fclose(f);
  *n = len;
  return d;
}

static void replay(const struct gl_fuzz_target *t, const char *root) {
  char dir[512], path[1024];
  DIR *dh;
  struct dirent *ent;
  int count = 0;
  snprintf(dir, sizeof dir, "%s/%s", root, t->name);
  dh = opendir(dir);
  if (!dh) {
    fprintf(stderr, "%s: no seed corpus\n", dir);
    failed++;
    return;
  }
  while ((ent = readdir(dh)) != NULL) {
    struct stat st;
    size_t n = 0;
    uint8_t *d;
    if (ent->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    d = slurp(path, &n);
    if (!d && n != 0) { fprintf(stderr, "%s: unreadable\n", path); failed++; continue; }
    /* an empty file yields d == NULL, n == 0: still a valid input */
    if (getenv("GL_FUZZ_VERBOSE")) fprintf(stderr, "%s\n", path);
    t->fn(d ? d : (const uint8_t *)"", n);
    /* a fresh state per input: lua_close walks every object, so damage
     * done to the Lua heap shows up at the input that did it */
    fuzz_close();
    free(d);
    passed++;
    count++;
  }
  closedir(dh);
  if (count == 0) { fprintf(stderr, "%s: empty seed corpus\n", dir); failed++; }
  else printf("%-8s %d inputs\n", t->name, count);
}

int main(int argc, char **argv) {
  const char *root = argc > 1 ? argv[1] : "fuzz/corpus";
  const struct gl_fuzz_target *t;
  for (t = gl_fuzz_targets; t->name; t++) replay(t, root);
  fuzz_close();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
