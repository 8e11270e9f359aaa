/*
 * crypto.c: the three primitives OAuth needs (PKCE and `state`), all taken
 * from OpenSSL's libcrypto so that no hash or random generator is written by
 * hand here.
 *
 *   core.sha256(s)         -> raw 32-byte digest of the Lua string s
 *   core.random_bytes(n)   -> n bytes from the CSPRNG (RAND_bytes)
 *   core.base64url(s)      -> RFC 4648 section 5 encoding, without '='
 *
 * (The file helpers of gitlab.config are in fs.c.)
 *
 * Programmer errors (wrong types, n out of range) raise; a failure of the
 * library (RNG not seeded) returns nil, message.
 */

#include <stdlib.h>
#include <string.h>

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
/* registration                                                            */
/* ---------------------------------------------------------------------- */

static const luaL_Reg crypto_funcs[] = {
  { "sha256", crypto_sha256 },
  { "random_bytes", crypto_random_bytes },
  { "base64url", crypto_base64url },
  { NULL, NULL }
};

/* Called by luaopen_gitlab_core with the module table on top. */
void gl_crypto_open(lua_State *L)
{
  luaL_setfuncs(L, crypto_funcs, 0);
}
