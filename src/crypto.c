/*
 * crypto.c: the three primitives OAuth needs (PKCE and `state`), all taken
 * from OpenSSL's libcrypto so that no hash or random generator is written by
 * hand here.
 *
 *   core.sha256(s)         -> raw 32-byte digest of the Lua string s
 *   core.random_bytes(n)   -> n bytes from the CSPRNG (RAND_bytes)
 *   core.base64url(s)      -> RFC 4648 section 5 encoding, without '='
 *
 * and the two file helpers that keep secrets private on disk (the config
 * and credentials files of gitlab.config), which plain Lua cannot do:
 *
 *   core.write_private(path, data) -> true | nil, message
 *       atomically replaces path with data, mode 0600; missing parent
 *       directories are created with mode 0700
 *   core.file_mode(path)           -> permission bits (e.g. 420 = 0644)
 *                                   | nil, message
 *   core.file_kind(path)           -> "file"|"link"|"directory"|"other", size
 *                                   | nil, message, errno  (lstat)
 *
 * Programmer errors (wrong types, n out of range) raise; a failure of the
 * library or the system (RNG not seeded, disk full) returns nil, message.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* mkstemp, fsync */
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "gl.h"

/* Upper bound for one random_bytes call: OAuth wants 32-96 bytes; a bound
 * keeps a typo such as random_bytes(1e9) from allocating a gigabyte. */
#define GL_RANDOM_MAX 4096

/* ---------------------------------------------------------------------- */
/* sha256                                                                  */
/* ---------------------------------------------------------------------- */

static int crypto_sha256(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;

  /* EVP_Digest is the one-shot interface that is not deprecated in
   * OpenSSL 3 and still present in 1.1. */
  if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
    lua_pushnil(L);
    lua_pushliteral(L, "sha256: digest failed");
    return 2;
  }
  lua_pushlstring(L, (const char *)md, mdlen);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* random_bytes                                                            */
/* ---------------------------------------------------------------------- */

static int crypto_random_bytes(lua_State *L)
{
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_Buffer b;
  unsigned char *p;

  luaL_argcheck(L, n >= 0 && n <= GL_RANDOM_MAX, 1,
                "must be between 0 and 4096");
  if (n == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  /* The bytes are written straight into Lua's buffer: no malloc to free
   * if RAND_bytes fails. Bounded by GL_RANDOM_MAX, so the prepared area is
   * big enough on every Lua version (LUAL_BUFFERSIZE may be small on 5.1,
   * hence the loop). */
  luaL_buffinit(L, &b);
  while (n > 0) {
    size_t chunk = (size_t)n < LUAL_BUFFERSIZE ? (size_t)n : LUAL_BUFFERSIZE;
    p = (unsigned char *)luaL_prepbuffer(&b);
    if (RAND_bytes(p, (int)chunk) != 1) {
      /* Clear what may already be there so no partial secret lingers. */
      memset(p, 0, chunk);
      lua_pushnil(L);
      lua_pushliteral(L, "random_bytes: the random generator failed");
      return 2;
    }
    luaL_addsize(&b, chunk);
    n -= (lua_Integer)chunk;
  }
  luaL_pushresult(&b);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* base64url                                                               */
/* ---------------------------------------------------------------------- */

static int crypto_base64url(lua_State *L)
{
  size_t len, i, outlen;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char *out;
  int n;

  if (len == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  /* EVP_EncodeBlock takes an int length; OAuth inputs are tiny, so a
   * larger string is a caller mistake, not something to chunk. */
  luaL_argcheck(L, len <= 0x3fffffff, 1, "string too long");
  outlen = 4 * ((len + 2) / 3) + 1;     /* + NUL written by OpenSSL */
  /* The output buffer is a userdata so Lua owns it: an error raised by
   * lua_pushlstring (memory) cannot leak it. */
  out = (unsigned char *)lua_newuserdata(L, outlen);
  n = EVP_EncodeBlock(out, (const unsigned char *)s, (int)len);
  if (n < 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "base64url: encoding failed");
    return 2;
  }
  /* Standard alphabet -> URL-safe alphabet, then drop the padding. */
  for (i = 0; i < (size_t)n; i++) {
    if (out[i] == '+')
      out[i] = '-';
    else if (out[i] == '/')
      out[i] = '_';
  }
  while (n > 0 && out[n - 1] == '=')
    n--;
  lua_pushlstring(L, (const char *)out, (size_t)n);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* private files                                                           */
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

static int crypto_write_private(lua_State *L)
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

static int crypto_file_mode(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  struct stat st;

  if (stat(path, &st) != 0) {
    int e = errno;
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    lua_pushinteger(L, e);
    return 3;
  }
  lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
  return 1;
}

/* What is at path, without following a symbolic link (lstat): "file",
 * "link", "directory" or "other", and the size; nil, message, errno when
 * nothing is there. The download code checks a part file with it before
 * resuming into it. */
static int crypto_file_kind(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  struct stat st;

  if (lstat(path, &st) != 0) {
    int e = errno;
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    lua_pushinteger(L, e);
    return 3;
  }
  lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "link"
                  : S_ISDIR(st.st_mode) ? "directory" : "other");
  lua_pushnumber(L, (lua_Number)st.st_size);
  return 2;
}

/* ---------------------------------------------------------------------- */
/* registration                                                            */
/* ---------------------------------------------------------------------- */

static const luaL_Reg crypto_funcs[] = {
  { "sha256", crypto_sha256 },
  { "random_bytes", crypto_random_bytes },
  { "base64url", crypto_base64url },
  { "write_private", crypto_write_private },
  { "file_mode", crypto_file_mode },
  { "file_kind", crypto_file_kind },
  { NULL, NULL }
};

/* Called by luaopen_gitlab_core with the module table on top. */
void gl_crypto_open(lua_State *L)
{
  luaL_setfuncs(L, crypto_funcs, 0);
}
