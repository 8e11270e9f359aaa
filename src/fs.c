/*
 * fs.c: the file helpers plain Lua cannot do. Two keep secrets private on
 * disk (the config and credentials files of gitlab.config), one tells what
 * is at a path without following a link, and the C core opens a download's
 * output file through gl_open_output:
 *
 *   core.write_private(path, data) -> true | nil, message
 *       atomically replaces path with data, mode 0600; missing parent
 *       directories are created with mode 0700
 *   core.file_mode(path)           -> permission bits (e.g. 420 = 0644)
 *                                   | nil, message
 *   core.file_kind(path)           -> "file"|"link"|"directory"|"other", size
 *                                   | nil, message, errno  (lstat)
 *
 * A failure of the system (disk full, no such file) returns nil, message.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* mkstemp, fsync */
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "gl.h"

/* ---------------------------------------------------------------------- */
/* private files (gitlab.config)                                           */
/* ---------------------------------------------------------------------- */

/* mkdir -p for the parents of path, each created 0700. Works on a copy
 * (malloc'd here, freed here). Returns 0 or -1 with errno set. */
static int make_parents(const char *path)
{
  size_t n = strlen(path);
  char *p = (char *)malloc(n + 1), *q;
  int rc = 0;

  if (p == NULL)
    return -1;
  memcpy(p, path, n + 1);
  q = strrchr(p, '/');
  if (q == NULL || q == p) {
    free(p);
    return 0;
  }
  *q = '\0';                             /* p: the parent directory */
  for (q = p + 1; ; q++) {
    if (*q == '/' || *q == '\0') {
      char c = *q;
      *q = '\0';
      if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        rc = -1;
        break;
      }
      *q = c;
      if (c == '\0')
        break;
    }
  }
  free(p);
  return rc;
}

static int fs_write_private(lua_State *L)
{
  size_t plen, dlen, off = 0;
  const char *path = luaL_checklstring(L, 1, &plen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  char *tmp;
  int fd, e;

  luaL_argcheck(L, plen > 0, 1, "empty path");
  if (make_parents(path) != 0) {
    e = errno;
    lua_pushnil(L);
    lua_pushfstring(L, "%s: cannot create its directory: %s", path,
                    strerror(e));
    return 2;
  }
  /* The temporary name is a Lua-owned userdata so a raise cannot leak it;
   * mkstemp creates the file with mode 0600 whatever the umask, so the
   * secret is never readable by others, not even for a moment. */
  tmp = (char *)lua_newuserdata(L, plen + 8);
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".XXXXXX", 8);
  fd = mkstemp(tmp);
  if (fd < 0) {
    e = errno;
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    return 2;
  }
  while (off < dlen) {
    ssize_t w = write(fd, data + off, dlen - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      goto fail;
    off += (size_t)w;
  }
  if (fchmod(fd, 0600) != 0 || fsync(fd) != 0)
    goto fail;
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (rename(tmp, path) != 0)
    goto fail;
  lua_pushboolean(L, 1);
  return 1;

fail:
  e = errno;
  if (fd >= 0)
    close(fd);
  (void)unlink(tmp);
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", path, strerror(e));
  return 2;
}

/* stat (lstat when !follow) of the path at 1. 0 with *st filled, or the
 * count of the results pushed: nil, message, errno. */
static int stat_arg(lua_State *L, int follow, struct stat *st)
{
  const char *path = luaL_checkstring(L, 1);

  if ((follow ? stat(path, st) : lstat(path, st)) != 0) {
    int e = errno;
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    lua_pushinteger(L, e);
    return 3;
  }
  return 0;
}

static int fs_file_mode(lua_State *L)
{
  struct stat st;
  int n = stat_arg(L, 1, &st);

  if (n)
    return n;
  lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
  return 1;
}

/* What is at path, without following a symbolic link (lstat): "file",
 * "link", "directory" or "other", and the size; nil, message, errno when
 * nothing is there. The download code checks a part file with it before
 * resuming into it. */
static int fs_file_kind(lua_State *L)
{
  struct stat st;
  int n = stat_arg(L, 0, &st);

  if (n)
    return n;
  lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "link"
                  : S_ISDIR(st.st_mode) ? "directory" : "other");
  lua_pushnumber(L, (lua_Number)st.st_size);
  return 2;
}

/* ---------------------------------------------------------------------- */
/* download output files                                                   */
/* ---------------------------------------------------------------------- */

/* The output file, opened without following a symbolic link at its name
 * (O_NOFOLLOW: a link planted at NAME.part would make us write into its
 * target) and only if it is a regular file (a FIFO would block, a device
 * is no download). O_NONBLOCK keeps open() itself from waiting on a FIFO
 * (it fails with ENXIO when no one reads it). NULL with why[] filled on
 * failure. */
FILE *gl_open_output(const char *path, int append, char *why, size_t whyn) {
  struct stat st;
  int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | (append ? O_APPEND : 0), 0666);
  FILE *fp;
  if (fd < 0) {
    int e = errno;
    snprintf(why, whyn, "cannot open the output file: %s", e == ELOOP
             ? "it is a symbolic link (refusing to follow it)"
             : e == ENXIO ? "it is not a regular file" : strerror(e));
    return NULL;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    snprintf(why, whyn, "cannot open the output file: it is not a regular file");
    return NULL;
  }
  /* truncate only now that it is known to be a file of ours to write */
  if (fcntl(fd, F_SETFL, append ? O_APPEND : 0) != 0 || (!append && ftruncate(fd, 0) != 0) ||
      !(fp = fdopen(fd, append ? "ab" : "wb"))) {
    snprintf(why, whyn, "cannot open the output file: %s", strerror(errno));
    close(fd);
    return NULL;
  }
  return fp;
}

/* ---------------------------------------------------------------------- */
/* registration                                                            */
/* ---------------------------------------------------------------------- */

static const luaL_Reg fs_funcs[] = {
  { "write_private", fs_write_private },
  { "file_mode", fs_file_mode },
  { "file_kind", fs_file_kind },
  { NULL, NULL }
};

/* Called by luaopen_gitlab_core with the module table on top. */
void gl_fs_open(lua_State *L)
{
  luaL_setfuncs(L, fs_funcs, 0);
}
