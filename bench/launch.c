/*
 * Times one whole process, from fork to exit, for W0 (cold start):
 * what a CI script pays each time it runs a short-lived client.
 * /usr/bin/time counts in hundredths of a second, too coarse for a
 * process that lives 10 ms; this measures CLOCK_MONOTONIC around
 * fork + execvp + wait4, nothing else.
 *
 * usage: launch OUTFILE COMMAND [ARGS...]
 *   runs COMMAND with this process's stdin, stdout, stderr and environment,
 *   writes "<wall seconds> <peak RSS KiB> <user+system CPU seconds>" to
 *   OUTFILE and exits with COMMAND's status (128 + signal if it was killed).
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  struct rusage ru;
  double start, wall;
  int status = 0;
  pid_t pid;
  FILE *out;

  if (argc < 3) {
    fprintf(stderr, "usage: launch OUTFILE COMMAND [ARGS...]\n");
    return 2;
  }
  out = fopen(argv[1], "w");
  if (!out) {
    perror(argv[1]);
    return 2;
  }
  start = now();
  pid = fork();
  if (pid < 0) {
    perror("fork");
    return 2;
  }
  if (pid == 0) {
    fclose(out);
    execvp(argv[2], argv + 2);
    perror(argv[2]);
    _exit(127);
  }
  memset(&ru, 0, sizeof ru);
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("wait4");
    return 2;
  }
  wall = now() - start;
  fprintf(out, "%.6f %ld %.6f\n", wall, ru.ru_maxrss,
          (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
  fclose(out);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
