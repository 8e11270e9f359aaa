/* gitlab.core.run_command: runs a shell command with a time limit and
 * returns what it printed (gitlab.config's token_command):
 *
 *   core.run_command(cmd, timeout_s [, max_output = 65536])
 *     -> stdout, "exit", status      the command exited
 *      | stdout, "signal", signo     it was killed by a signal
 *      | stdout, "unknown"           it ended, status lost (SIGCHLD ignored)
 *      | nil, "timeout", timeout_s   still running at the deadline: its
 *                                    process group got SIGTERM, then
 *                                    SIGKILL one second later
 *      | nil, "error", message       it could not be started
 *
 * io.popen cannot time out, and it reads until every writer of the pipe
 * is gone: a background child ("sleep 100 &", a daemonising gpg-agent)
 * that keeps stdout open blocks it for as long as that child lives. Here
 * /bin/sh -c cmd runs in a process group of its own, the parent waits for
 * the shell alone, and once the shell is gone it takes what the pipe holds
 * and stops reading. stdin and stderr are inherited (prompts still work).
 * The output stays in memory (never in a temporary file: it is a secret);
 * past max_output bytes it is read and dropped.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include "gl.h"

extern char **environ;

#define GL_RUN_SLICE_MS 20      /* how often the parent looks at the shell */

/* Reads what the pipe holds now (non-blocking); 1 at end of file. */
static int drain(int fd, gl_buf *out, size_t max, int *oom) {
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
      size_t keep = out->n < max ? max - out->n : 0;
      if (keep > (size_t)n) keep = (size_t)n;
      if (keep && !gl_buf_add(out, chunk, keep)) *oom = 1;
      continue;
    }
    if (n == 0) return 1;
    if (errno == EINTR) continue;
    return 0;       /* EAGAIN: nothing more for now */
  }
}

/* waitpid without blocking: 1 when the shell is gone (*st valid unless
 * *lost), 0 while it runs. */
static int reap(pid_t pid, int *st, int *lost) {
  for (;;) {
    pid_t r = waitpid(pid, st, WNOHANG);
    if (r == pid) return 1;
    if (r == 0) return 0;
    if (errno == EINTR) continue;
    *lost = 1;      /* ECHILD: reaped by someone else (SIGCHLD ignored) */
    return 1;
  }
}

static int run_command(lua_State *L) {
  const char *cmd = luaL_checkstring(L, 1);
  lua_Number timeout = luaL_checknumber(L, 2);
  lua_Number maxn = luaL_optnumber(L, 3, 65536);
  char *argv[4];
  int fds[2], st = 0, lost = 0, eof = 0, exited = 0, oom = 0, naps = 0, rc;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, defaults;
  pid_t pid;
  double deadline;
  gl_buf out = { NULL, 0, 0 };

  luaL_argcheck(L, timeout > 0 && timeout < 1e9, 2, "timeout must be a positive number of seconds");
  luaL_argcheck(L, maxn >= 0 && maxn < 1e12, 3, "max_output out of range");
  if (pipe(fds) != 0) {
    lua_pushnil(L); lua_pushliteral(L, "error"); lua_pushstring(L, strerror(errno));
    return 3;
  }
  /* no other process spawned meanwhile inherits these */
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);   /* dup2 clears CLOEXEC */
  posix_spawnattr_init(&attr);
  /* own process group (the timeout kills it whole), a clean signal mask,
   * default SIGPIPE even when the host ignores it */
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  argv[0] = (char *)"/bin/sh"; argv[1] = (char *)"-c"; argv[2] = (char *)cmd; argv[3] = NULL;
  rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    lua_pushnil(L); lua_pushliteral(L, "error"); lua_pushstring(L, strerror(rc));
    return 3;
  }
  fcntl(fds[0], F_SETFL, O_NONBLOCK);

  deadline = gl_now() + timeout;
  for (;;) {
    double left, nap;
    if (!eof) eof = drain(fds[0], &out, (size_t)maxn, &oom);
    if (reap(pid, &st, &lost)) { exited = 1; break; }
    left = deadline - gl_now();
    if (left <= 0) break;
    if (eof) {
      /* stdout closed: the shell is ending; look again soon, then less often */
      nap = naps < 5 ? 0.001 * (1 << naps++) : GL_RUN_SLICE_MS / 1000.0;
      gl_sleep(left < nap ? left : nap);
    } else {
      struct pollfd p;
      int ms = (int)(left * 1000) + 1;
      p.fd = fds[0]; p.events = POLLIN; p.revents = 0;
      poll(&p, 1, ms < GL_RUN_SLICE_MS ? ms : GL_RUN_SLICE_MS);
    }
  }
  if (exited) {
    /* what the shell wrote before it ended is in the pipe by now; a
     * background child may keep writing, but we stop here */
    if (!eof) drain(fds[0], &out, (size_t)maxn, &oom);
    close(fds[0]);
    if (oom) { gl_buf_free(&out); return luaL_error(L, "run_command: out of memory"); }
    lua_pushlstring(L, out.p ? out.p : "", out.n);
    gl_buf_free(&out);
    if (lost) { lua_pushliteral(L, "unknown"); return 2; }
    if (WIFEXITED(st)) { lua_pushliteral(L, "exit"); lua_pushinteger(L, WEXITSTATUS(st)); }
    else { lua_pushliteral(L, "signal"); lua_pushinteger(L, WIFSIGNALED(st) ? WTERMSIG(st) : 0); }
    return 3;
  }
  /* the deadline passed: the whole group goes, gently first */
  close(fds[0]);
  gl_buf_free(&out);
  kill(-pid, SIGTERM);
  {
    double until = gl_now() + 1.0;
    while (!reap(pid, &st, &lost) && gl_now() < until) gl_sleep(GL_RUN_SLICE_MS / 1000.0);
  }
  kill(-pid, SIGKILL);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  lua_pushnil(L);
  lua_pushliteral(L, "timeout");
  lua_pushnumber(L, timeout);
  return 3;
}

void gl_spawn_open(lua_State *L) {
  lua_pushcfunction(L, run_command);
  lua_setfield(L, -2, "run_command");
}
