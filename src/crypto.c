/*
 * crypto.c: the primitives OAuth (PKCE and `state`) and webhook signatures
 * (gitlab.webhook) need. Hashes, MACs and random bytes are all taken from
 * OpenSSL's libcrypto so that none is written by hand here; only the
 * base64 decoder and the comparison are.
 *
 *   core.sha256(s)            -> raw 32-byte digest of the Lua string s
 *   core.hmac_sha256(key, s)  -> raw 32-byte HMAC-SHA256 of s under key
 *   core.random_bytes(n)      -> n bytes from the CSPRNG (RAND_bytes)
 *   core.base64url(s)         -> RFC 4648 section 5 encoding, without '='
 *   core.base64(s)            -> RFC 4648 section 4 encoding, with '='
 *   core.base64_decode(s)     -> bytes | nil, message (strict section 4)
 *   core.secure_compare(a, b) -> a == b, in a time that does not depend
 *                                on where they differ
 *
 * (The file helpers of gitlab.config are in fs.c.)
 *
 * Programmer errors (wrong types, n out of range) raise; a failure of the
 * library (RNG not seeded) or bad input to a decoder returns nil, message.
 */

#include <stdlib.h>
#include <string.h>

#include <limits.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
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
/* hmac_sha256                                                             */
/* ---------------------------------------------------------------------- */

/* The webhook signatures of GitLab's signing tokens (Standard Webhooks):
 * HMAC-SHA256 over "{id}.{timestamp}.{body}". HMAC() is the one-shot call
 * that OpenSSL 3 keeps undeprecated (the HMAC_CTX calls are deprecated). */
static int crypto_hmac_sha256(lua_State *L)
{
  size_t klen, len;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *s = luaL_checklstring(L, 2, &len);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;

  luaL_argcheck(L, klen <= INT_MAX, 1, "key too long");
  if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)s, len,
           md, &mdlen) == NULL) {
    lua_pushnil(L);
    lua_pushliteral(L, "hmac_sha256: HMAC failed");
    return 2;
  }
  lua_pushlstring(L, (const char *)md, mdlen);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* base64, base64url                                                       */
/* ---------------------------------------------------------------------- */

/* Pushes the RFC 4648 encoding of the string at index 1: the standard
 * alphabet with its padding, or (url) the URL-safe one without. */
static int base64_push(lua_State *L, int url, const char *what)
{
  size_t len, i, outlen;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char *out;
  int n;

  if (len == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  /* EVP_EncodeBlock takes an int length; the inputs are tokens, digests
   * and random bytes, so a larger string is a caller mistake, not
   * something to chunk. */
  luaL_argcheck(L, len <= 0x3fffffff, 1, "string too long");
  outlen = 4 * ((len + 2) / 3) + 1;     /* + NUL written by OpenSSL */
  /* The output buffer is a userdata so Lua owns it: an error raised by
   * lua_pushlstring (memory) cannot leak it. */
  out = (unsigned char *)lua_newuserdata(L, outlen);
  n = EVP_EncodeBlock(out, (const unsigned char *)s, (int)len);
  if (n < 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: encoding failed", what);
    return 2;
  }
  if (url) {
    /* Standard alphabet -> URL-safe alphabet, then drop the padding. */
    for (i = 0; i < (size_t)n; i++) {
      if (out[i] == '+')
        out[i] = '-';
      else if (out[i] == '/')
        out[i] = '_';
    }
    while (n > 0 && out[n - 1] == '=')
      n--;
  }
  lua_pushlstring(L, (const char *)out, (size_t)n);
  return 1;
}

static int crypto_base64url(lua_State *L)
{
  return base64_push(L, 1, "base64url");
}

static int crypto_base64(lua_State *L)
{
  return base64_push(L, 0, "base64");
}

/* The value of one character of the standard alphabet, -1 for any other
 * byte (the padding '=' included: the caller places it). */
static int base64_value(unsigned char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Strict RFC 4648 section 4: whole groups of four, '=' only as the last
 * one or two characters, no whitespace, no URL-safe letters, and the
 * canonical encoding only (zero bits before the padding). A signing
 * token is configuration, so the decoder says what is wrong instead of
 * skipping what it does not understand (EVP_DecodeBlock skips blanks and
 * reports the length with the padding counted). */
static int crypto_base64_decode(lua_State *L)
{
  size_t len, i, pad = 0, outlen;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
  unsigned char *out;

  if (len % 4 != 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "base64: the length is not a multiple of 4");
    return 2;
  }
  if (len == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  if (s[len - 1] == '=')
    pad = s[len - 2] == '=' ? 2 : 1;
  outlen = len / 4 * 3;
  out = (unsigned char *)lua_newuserdata(L, outlen);   /* owned by Lua */
  for (i = 0; i < len; i += 4) {
    unsigned long v = 0;
    int j;
    for (j = 0; j < 4; j++) {
      int d;
      if (i + (size_t)j >= len - pad) {
        d = 0;                          /* a padding position: '=' */
      } else if ((d = base64_value(s[i + (size_t)j])) < 0) {
        lua_pushnil(L);
        if (s[i + (size_t)j] == '=')
          lua_pushfstring(L, "base64: '=' before the end (at byte %d)", (int)(i + (size_t)j + 1));
        else
          lua_pushfstring(L, "base64: invalid character at byte %d", (int)(i + (size_t)j + 1));
        return 2;
      }
      v = (v << 6) | (unsigned long)d;
    }
    /* The bits the padding leaves over must be zero (RFC 4648 section
     * 3.5): "YR==" is not another spelling of "YQ==", so that one string
     * of bytes has one encoding only. */
    if (i + 4 == len && pad > 0 && (v & (pad == 2 ? 0xffffUL : 0xffUL)) != 0) {
      lua_pushnil(L);
      lua_pushfstring(L, "base64: non-canonical, bits after the data are set (at byte %d)",
                      (int)(len - pad));
      return 2;
    }
    out[i / 4 * 3] = (unsigned char)(v >> 16);
    out[i / 4 * 3 + 1] = (unsigned char)(v >> 8);
    out[i / 4 * 3 + 2] = (unsigned char)v;
  }
  lua_pushlstring(L, (const char *)out, outlen - pad);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* secure_compare                                                          */
/* ---------------------------------------------------------------------- */

/* core.secure_compare(received, expected) -> boolean. For secrets (a
 * webhook's X-Gitlab-Token, a signature): every byte of `received` is
 * compared, with no exit at the first difference, so the time taken says
 * nothing about how much of a guess was right. It depends on the length of
 * `received` only (what the sender chose), never on the content of
 * `expected`; whether the lengths match is folded into the same
 * accumulator, after the loop. The accumulator is volatile so that the
 * compiler cannot turn the loop into an early-exit memcmp. */
static int crypto_secure_compare(lua_State *L)
{
  size_t la, lb, i;
  const unsigned char *a = (const unsigned char *)luaL_checklstring(L, 1, &la);
  const unsigned char *b = (const unsigned char *)luaL_checklstring(L, 2, &lb);
  volatile unsigned int diff = 0;

  if (lb == 0) {
    /* nothing to walk `received` against (an empty secret is refused by
     * the callers); equal only when both are empty */
    lua_pushboolean(L, la == 0);
    return 1;
  }
  for (i = 0; i < la; i++)
    diff |= (unsigned int)(a[i] ^ b[i % lb]);
  diff |= (unsigned int)(la != lb);
  lua_pushboolean(L, diff == 0);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* registration                                                            */
/* ---------------------------------------------------------------------- */

static const luaL_Reg crypto_funcs[] = {
  { "sha256", crypto_sha256 },
  { "hmac_sha256", crypto_hmac_sha256 },
  { "random_bytes", crypto_random_bytes },
  { "base64url", crypto_base64url },
  { "base64", crypto_base64 },
  { "base64_decode", crypto_base64_decode },
  { "secure_compare", crypto_secure_compare },
  { NULL, NULL }
};

/* Called by luaopen_gitlab_core with the module table on top. */
void gl_crypto_open(lua_State *L)
{
  luaL_setfuncs(L, crypto_funcs, 0);
}
