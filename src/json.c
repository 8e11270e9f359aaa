/* JSON for gitlab.core: a strict RFC 8259 decoder (and a small encoder).
 *
 * Why not cjson alone: Debian's lua-cjson 2.1.0 turns every number into a
 * float, so on Lua 5.4 a project id 1 becomes 1.0 and "/projects/" .. id
 * builds "/projects/1.0". This decoder keeps integers as integers and is
 * faster on GitLab-shaped data (size hints per nesting level, strings
 * scanned 8 bytes at a time, no per-value allocation besides Lua's own).
 *
 * Policy, in one place:
 * - integers without fraction or exponent that fit lua_Integer are
 *   integers on Lua 5.3+; everything else is a float ("1.0" and "1e2" are
 *   floats, "-0" is the float -0.0, "1e999" is math.huge). LuaJIT has
 *   only numbers.
 * - null is lightuserdata(NULL), the very value cjson.null is.
 * - decoded arrays share the metatable core.array_mt (so an encoder can
 *   tell [] from {}); { array_mt = false } leaves them bare.
 * - \uXXXX escapes become UTF-8; surrogate pairs are combined, a lone
 *   surrogate becomes U+FFFD (JavaScript producers emit them when they cut
 *   a string in the middle of an emoji; failing a whole page for that
 *   would be unfriendly).
 * - bytes of a string are passed through unchecked: GitLab returns invalid
 *   UTF-8 in job traces and old commit messages, and the caller can still
 *   read the rest. Control characters (< 0x20) must be escaped, as the RFC
 *   says.
 * - nesting deeper than max_depth (default 1000) is an error. The parser
 *   is iterative: depth costs Lua stack slots and a frame array in a
 *   userdata, never C stack.
 * Errors in the input return nil, "invalid JSON at byte N: ..." (N counts
 * from 1); bad arguments raise; out of memory raises. */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <locale.h>
#include "gl.h"
/* SSE2 (every x86-64): strings are scanned 16 bytes at a time */
#if defined(__GNUC__) && defined(__SSE2__)
#define JSON_SSE2 1
#include <emmintrin.h>
#endif

#define JSON_DEFAULT_DEPTH 1000
#define JSON_LOCAL_FRAMES  32
#define JSON_HINT_MAX      4096   /* cap on a size hint taken from a sibling */

#ifdef __GNUC__
#define JSON_NORETURN __attribute__((noreturn))
#else
#define JSON_NORETURN
#endif

#if LUA_VERSION_NUM >= 503
typedef lua_Integer json_index;
#else
typedef int json_index;
#endif

/* One open container (obj: an object). hint outlives the frame: the next
 * container opened at the same depth is usually a sibling of the same
 * shape (the next issue of a page), so its size is a good
 * lua_createtable hint; hobj is the kind it counted. The value of a key
 * is sized by that key instead (ks, its slot in the key cache: jkslot):
 * siblings under different keys ("author", "milestone", "_links" of an
 * issue) have sizes of their own. */
typedef struct jframe { size_t n; unsigned hint; int hobj, obj, ks; } jframe;

/* Hints that outlive a call: the size of the last object and the last
 * array closed at each of the first levels. Responses of one endpoint have
 * one shape, so the next decode of a project sizes its tables right at
 * once instead of growing them 1, 2, 4 ... 64. A wrong hint costs one
 * table sized like an earlier one, never more (JSON_HINT_MAX). One set per
 * Lua state, in the registry: decoding never yields, so it is not shared
 * by two decodes at once. */
#define JSON_KEEP_LEVELS 8
typedef struct jhints { unsigned h[JSON_KEEP_LEVELS][2]; } jhints;
#define JSON_HINTS_KEY "gitlab.json_hints"

/* Object keys repeat: every issue of a page has the same forty. Pushing a
 * string makes Lua hash all of its bytes and search its string table; the
 * key cache finds the Lua string of a key already seen with a cheaper hash
 * of its length and its first and last 8 bytes (a, b). A slot keeps those
 * words too, so a key of up to 16 bytes is told apart by comparing them;
 * a longer one compares its middle bytes as well. Slot i of the cache
 * table (registry) holds the string, kslot[i] where its bytes are: the
 * table keeps them alive, and Lua never moves a string. The cache is
 * 2-way set associative: a key goes in one of the two slots of its set,
 * and a miss takes the slot used less recently (lru, kept in the set's
 * first slot). 1024 slots: direct-mapped, a page of issues had two keys
 * sharing a slot (each missed in every issue) even with 2048.
 *
 * String values repeat per place too (a project's URLs, a user's name
 * under "author" in every answer): the value cache keeps the last string
 * value of each (enclosing key, key) pair, up to JSON_VCACHE_MAXLEN bytes,
 * in the slots after the keys' (jvslot). A value that is the same bytes
 * comes from the table at the cost of one compare; a miss pushes it as
 * usual. A place whose value keeps changing (an issue's title) stops
 * being kept after two misses but for one in 16. A key that may name a
 * secret (key_is_secret: "token", "password", a CI variable's "value")
 * keeps no value: the cache holds no secret once the caller drops it. */
#define JSON_KCACHE_SETS 512
#define JSON_KCACHE_SLOTS (2 * JSON_KCACHE_SETS)
#define JSON_KCACHE_MAXLEN 40
typedef struct jkslot {
  const char *s;
  uint64_t a, b;
  uint32_t n;
  unsigned hint[2];
  unsigned char secret;   /* key_is_secret */
  unsigned char lru;      /* in a set's first slot: the way a miss takes */
} jkslot;
#define JSON_VCACHE_SLOTS 1024
#define JSON_VCACHE_MAXLEN 128
typedef struct jvslot {
  const char *v;       /* the value's bytes, or NULL */
  uint64_t head;       /* its first 8 bytes (head_word) */
  uint32_t n;
  unsigned char miss;  /* misses in a row */
} jvslot;
typedef struct jcache { jkslot k[JSON_KCACHE_SLOTS]; jvslot v[JSON_VCACHE_SLOTS]; } jcache;
#define JSON_KCACHE_KEY "gitlab.json_keys"      /* table: keys, then values */
#define JSON_KSLOTS_KEY "gitlab.json_kslots"    /* jcache userdata */
#define JSON_ARRAY_MT_KEY "gitlab.array_mt"

/* Decoder state, on the C stack of json_decode; decode_run reaches it
 * through a lightuserdata. Nothing here owns memory: the scratch and frame
 * buffers are userdata in fixed stack slots of decode_run, so a Lua error
 * (bad input, out of memory) frees them with the stack. */
typedef struct jdec {
  const unsigned char *start, *end;  /* Lua string: *end is always '\0' */
  int max_depth;
  int use_mt;
  int failed;                         /* msg holds an input error */
  char msg[160];
  char *scratch; size_t scap;         /* unescaped strings, long numbers */
  jframe *fr; int frcap;
  jhints *keep;                       /* hints kept between calls, or NULL */
  jkslot *kslot;                      /* key cache, or NULL */
  jvslot *vslot;                      /* value cache (with kslot) */
  int kcur;                           /* slot of the key just read, or -1 */
} jdec;

/* decode_run's stack slots */
#define SLOT_STATE   1
#define SLOT_MT      2
#define SLOT_SCRATCH 3
#define SLOT_FRAMES  4
#define SLOT_KEYS    5   /* the key cache table, or nil */

/* 1: ends a string scan: '"', '\\' and control characters (which include
 * the '\0' after the last byte, so scans need no bounds test). */
static const unsigned char jspecial[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

/* ====================================================================== */
/* errors                                                                 */
/* ====================================================================== */
static JSON_NORETURN void jfail(lua_State *L, jdec *d, const unsigned char *p,
                                const char *what) {
  size_t pos = (size_t)(p - d->start) + 1;
  if (p >= d->end) {
    snprintf(d->msg, sizeof d->msg, "invalid JSON at byte %lu: unexpected end "
             "of input (%s)", (unsigned long)pos, what);
  } else if (*p >= 0x20 && *p < 0x7f) {
    snprintf(d->msg, sizeof d->msg, "invalid JSON at byte %lu: %s, got '%c'",
             (unsigned long)pos, what, *p);
  } else {
    snprintf(d->msg, sizeof d->msg, "invalid JSON at byte %lu: %s, got byte "
             "0x%02X", (unsigned long)pos, what, *p);
  }
  d->failed = 1;
  lua_pushnil(L);
  lua_error(L);
  abort();   /* not reached: lua_error longjmps, but is not marked noreturn */
}

/* ====================================================================== */
/* buffers                                                                */
/* ====================================================================== */
/* Scratch of at least n bytes; a new userdata replaces the old one in its
 * slot, the old one is garbage. Needs one free stack slot. */
static char *jscratch(lua_State *L, jdec *d, size_t n) {
  if (n > d->scap) {
    size_t cap = d->scap ? d->scap : 256;
    while (cap < n) cap *= 2;
    d->scratch = (char *)lua_newuserdata(L, cap);
    d->scap = cap;
    lua_replace(L, SLOT_SCRATCH);
  }
  return d->scratch;
}

static void jframes_grow(lua_State *L, jdec *d) {
  int cap = d->frcap * 2;
  jframe *f;
  if (cap > d->max_depth + 1) cap = d->max_depth + 1;
  f = (jframe *)lua_newuserdata(L, (size_t)cap * sizeof *f);
  memcpy(f, d->fr, (size_t)d->frcap * sizeof *f);
  d->fr = f; d->frcap = cap;
  lua_replace(L, SLOT_FRAMES);
}

/* ====================================================================== */
/* scanning                                                               */
/* ====================================================================== */
#define JWS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

static const unsigned char *skip_ws(const unsigned char *p) {
  while (JWS(*p)) p++;
  return p;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
/* Words of 8 bytes read in memory order: the first byte is the lowest
 * (little-endian, known to the compiler). Elsewhere the byte loops serve. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSON_LE_WORDS 1
#endif

/* The high bit of each byte of x that is '"', '\\' or below 0x20, 0 when
 * none is. The lowest bit set is exact: a false mark (a borrow) only
 * follows a byte that is marked rightly. */
static uint64_t special_bits(uint64_t x) {
  uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
  return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((x - ONES * 0x20) & ~x)) & HIGHS;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* 4 hex digits after "\u" at p[0..3]; -1 when not. Stops at the first
 * non-hex byte, so it never reads past the closing quote. */
static long hex4(const unsigned char *p) {
  long v = 0;
  int i, h;
  for (i = 0; i < 4; i++) {
    if ((h = hexval(p[i])) < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

static size_t put_utf8(char *o, unsigned long cp) {
  if (cp < 0x80) { o[0] = (char)cp; return 1; }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A string with at least one escape; s is after the opening quote, q at
 * the first backslash. First finds the closing quote (the unescaped text
 * is never longer than the raw text), then unescapes into scratch. */
static const unsigned char *string_escaped(lua_State *L, jdec *d,
                                           const unsigned char *s,
                                           const unsigned char *q) {
  const unsigned char *e = q, *close;
  char *o, *out;
  for (;;) {
    while (!jspecial[*e]) e++;
    if (*e == '"') break;
    if (*e == '\\') {
      if (e + 1 >= d->end) jfail(L, d, e + 1, "unterminated string");
      e += 2;
      continue;
    }
    if (e >= d->end) jfail(L, d, e, "unterminated string");
    jfail(L, d, e, "control character in string");
  }
  close = e;
  out = o = jscratch(L, d, (size_t)(close - s));
  memcpy(o, s, (size_t)(q - s));
  o += q - s;
  while (q < close) {
    if (*q != '\\') {
      const unsigned char *bs = (const unsigned char *)memchr(q, '\\', (size_t)(close - q));
      size_t n = (size_t)((bs ? bs : close) - q);
      memcpy(o, q, n);
      o += n; q += n;
      continue;
    }
    switch (q[1]) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        long cp = hex4(q + 2), lo;
        if (cp < 0) jfail(L, d, q, "invalid \\u escape (4 hex digits expected)");
        q += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          /* high surrogate: a low one must follow, else U+FFFD */
          if (q[0] == '\\' && q[1] == 'u' && (lo = hex4(q + 2)) >= 0xDC00 &&
              lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            q += 6;
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        o += put_utf8(o, (unsigned long)cp);
        continue;
      }
      default:
        jfail(L, d, q, "invalid escape");
    }
    q += 2;
  }
  lua_pushlstring(L, out, (size_t)(o - out));
  return close + 1;
}

/* First byte at or after q that ends a plain run: '"', '\\', a control
 * character or the terminating '\0'. */
static inline const unsigned char *scan_plain(const jdec *d, const unsigned char *q) {
#ifdef JSON_SSE2
  /* 16 bytes at a time: '"', '\\', and x <= 0x1F as max(x, 0x1F) == 0x1F */
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                ctl = _mm_set1_epi8(0x1F);
  while (d->end - q >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                             _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));
    int bits = _mm_movemask_epi8(m);
    if (bits) return q + __builtin_ctz((unsigned)bits);
    q += 16;
  }
#endif
  while (d->end - q >= 8) {
    uint64_t x, t;
    memcpy(&x, q, 8);
    if ((t = special_bits(x)) != 0) {
#ifdef JSON_LE_WORDS
      return q + (__builtin_ctzll(t) >> 3);
#else
      break;
#endif
    }
    q += 8;
  }
  while (!jspecial[*q]) q++;
  return q;
}

/* The string whose contents start at s, scanned up to q (scan_plain):
 * pushes it, returns after the closing quote. */
static inline const unsigned char *string_at(lua_State *L, jdec *d, const unsigned char *s,
                                      const unsigned char *q) {
  if (*q == '"') {
    lua_pushlstring(L, (const char *)s, (size_t)(q - s));
    return q + 1;
  }
  if (*q == '\\') return string_escaped(L, d, s, q);
  if (q >= d->end) jfail(L, d, q, "unterminated string");
  jfail(L, d, q, "control character in string");
}

/* p at the opening quote; pushes the string, returns after the closing
 * quote. */
static const unsigned char *parse_string(lua_State *L, jdec *d,
                                         const unsigned char *p) {
  return string_at(L, d, p + 1, scan_plain(d, p + 1));
}

/* The first 8 bytes of the n at s as a word; the bytes it does not have
 * are 0. */
static inline uint64_t head_word(const jdec *d, const unsigned char *s, size_t n) {
  uint64_t a = 0;
  if (n >= 8) { memcpy(&a, s, 8); return a; }
#ifdef JSON_LE_WORDS
  /* one load when 8 bytes from s are still the input's (a string is
   * followed by its quote and more: nearly always); the mask keeps the
   * string's */
  if (d->end - s >= 8) {
    memcpy(&a, s, 8);
    return n ? a & (~0ULL >> (64 - 8 * n)) : 0;
  }
#else
  (void)d;
#endif
  memcpy(&a, s, n);
  return a;
}

/* The first 8 bytes of the n at s (a) and the last 8 (b), as words; the
 * bytes a key does not have are 0. */
static inline void key_words(const jdec *d, const unsigned char *s, size_t n,
                             uint64_t *a, uint64_t *b) {
  *a = head_word(d, s, n);
  *b = 0;
  if (n >= 8) memcpy(b, s + n - 8, 8);
}

static unsigned key_set(uint64_t a, uint64_t b, size_t n) {
  uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ ((b + n) * 0xC2B2AE3D27D4EB4FULL);
  return (unsigned)(h >> 32) % JSON_KCACHE_SETS;
}

/* memcmp(a, b, n) == 0 for n >= 8, 8 bytes at a time without a call (the
 * last word overlaps the one before it: no byte loop) */
static inline int same_words(const char *a, const unsigned char *b, size_t n) {
  uint64_t x, y;
  size_t i;
  for (i = 0; i + 8 < n; i += 8) {
    memcpy(&x, a + i, 8); memcpy(&y, b + i, 8);
    if (x != y) return 0;
  }
  memcpy(&x, a + n - 8, 8); memcpy(&y, b + n - 8, 8);
  return x == y;
}

static inline int key_in(const jkslot *k, const unsigned char *s, size_t n,
                         uint64_t a, uint64_t b) {
  /* up to 16 bytes, a and b cover the key */
  return k->n == n && k->a == a && k->b == b && k->s &&
         (n <= 16 || same_words(k->s + 8, s + 8, n - 8));
}

/* Does a key name what may be a secret? Its values are never cached. */
static int key_is_secret(const unsigned char *s, size_t n) {
  static const char *const words[] = { "token", "secret", "passw", "key", "credential",
    "private", "value", "otp", "cert", "auth", "cookie", "session", "salt", "hash", NULL };
  char low[JSON_KCACHE_MAXLEN + 1];
  size_t i;
  int w;
  for (i = 0; i < n; i++) low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
  low[n] = '\0';
  for (w = 0; words[w]; w++) if (strstr(low, words[w])) return 1;
  return 0;
}

/* parse_string for object keys, through the key cache; sets d->kcur */
static const unsigned char *parse_key(lua_State *L, jdec *d, const unsigned char *p) {
  const unsigned char *s = p + 1, *q = scan_plain(d, s);
  size_t n = (size_t)(q - s);
  uint64_t a, b;
  unsigned i;
  jkslot *set, *k;
  if (*q != '"' || n > JSON_KCACHE_MAXLEN) return string_at(L, d, s, q);   /* kcur -1 */
  key_words(d, s, n, &a, &b);
  i = 2 * key_set(a, b, n);
  set = &d->kslot[i];
  if (key_in(set, s, n, a, b)) {
    set->lru = 1;
  } else if (key_in(set + 1, s, n, a, b)) {
    set->lru = 0;
    i++;
  } else {
    i += set->lru;
    set->lru ^= 1;
    k = &d->kslot[i];
    lua_pushlstring(L, (const char *)s, n);
    lua_pushvalue(L, -1);
    lua_rawseti(L, SLOT_KEYS, (json_index)i + 1);
    k->s = lua_tostring(L, -1);
    k->n = (uint32_t)n;
    k->a = a;
    k->b = b;
    k->hint[0] = k->hint[1] = 0;
    k->secret = (unsigned char)key_is_secret(s, n);
    d->kcur = (int)i;
    return q + 1;
  }
  lua_rawgeti(L, SLOT_KEYS, (json_index)i + 1);
  d->kcur = (int)i;
  return q + 1;
}

/* A string that is the value of the key in slot d->kcur, inside an
 * object that is the value of the key in slot outer (or -1): through the
 * value cache. */
static const unsigned char *parse_value(lua_State *L, jdec *d, const unsigned char *p,
                                        int outer) {
  const unsigned char *s = p + 1, *q = scan_plain(d, s);
  size_t n = (size_t)(q - s);
  uint32_t i = ((uint32_t)d->kcur * 0x9E3779B1u ^ (uint32_t)(outer + 1) * 0x85EBCA77u) >> 22;
  jvslot *v = &d->vslot[i];
  uint64_t head;
  if (*q != '"') return string_at(L, d, s, q);
  head = head_word(d, s, n);
  if (v->n == n && v->head == head && v->v && (n <= 8 || same_words(v->v, s, n))) {
    v->miss = 0;
    lua_rawgeti(L, SLOT_KEYS, (json_index)(JSON_KCACHE_SLOTS + i + 1));
    return q + 1;
  }
  lua_pushlstring(L, (const char *)s, n);
  v->miss++;
  if (n <= JSON_VCACHE_MAXLEN && !d->kslot[d->kcur].secret &&
      (v->miss <= 2 || (v->miss & 15) == 0)) {
    lua_pushvalue(L, -1);
    lua_rawseti(L, SLOT_KEYS, (json_index)(JSON_KCACHE_SLOTS + i + 1));
    v->v = lua_tostring(L, -1);
    v->head = head;
    v->n = (uint32_t)n;
  }
  return q + 1;
}

/* ====================================================================== */
/* numbers                                                                */
/* ====================================================================== */
static const double pow10_exact[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

#define ISDIGIT(c) ((unsigned)((c) - '0') < 10u)

/* The slow path: strtod on a NUL-terminated copy, with '.' swapped for the
 * locale's decimal point (strtod follows LC_NUMERIC, JSON does not). */
static double slow_number(lua_State *L, jdec *d, const unsigned char *p,
                          const unsigned char *q) {
  size_t n = (size_t)(q - p);
  char local[64], *b = n < sizeof local ? local : jscratch(L, d, n + 1);
  char dp = localeconv()->decimal_point[0];
  size_t i;
  for (i = 0; i < n; i++) b[i] = (p[i] == '.') ? dp : (char)p[i];
  b[n] = '\0';
  return strtod(b, NULL);
}

/* p at '-' or a digit; pushes the number. Grammar checked here, value
 * taken from the digits when that is exact (integers, and Clinger's fast
 * path: at most 19 digits with a mantissa <= 2^53 and |exp10| <= 22, where
 * one IEEE multiplication or division is correctly rounded). */
static const unsigned char *parse_number(lua_State *L, jdec *d,
                                         const unsigned char *p) {
  const unsigned char *q = p;
  uint64_t m = 0;
  int neg = 0, nd = 0, dropped = 0, isint = 1;
  long e10 = 0;
  if (*q == '-') { neg = 1; q++; }
  if (*q == '0') {
    q++;
    if (ISDIGIT(*q)) jfail(L, d, q, "leading zeros are not allowed");
  } else if (ISDIGIT(*q)) {
    do {
      if (nd < 19) { m = m * 10 + (uint64_t)(*q - '0'); nd++; }
      else { dropped = 1; e10++; }
      q++;
    } while (ISDIGIT(*q));
  } else {
    jfail(L, d, q, "invalid number");
  }
  if (*q == '.') {
    isint = 0;
    q++;
    if (!ISDIGIT(*q)) jfail(L, d, q, "invalid number (digit expected after '.')");
    do {
      if (nd < 19) {
        m = m * 10 + (uint64_t)(*q - '0');
        if (m) nd++;              /* leading zeros of 0.000x take no digit */
        e10--;
      } else if (*q != '0') {
        dropped = 1;
      }
      q++;
    } while (ISDIGIT(*q));
  }
  if (*q == 'e' || *q == 'E') {
    long ev = 0;
    int eneg = 0;
    isint = 0;
    q++;
    if (*q == '+' || *q == '-') eneg = (*q++ == '-');
    if (!ISDIGIT(*q)) jfail(L, d, q, "invalid number (digit expected in exponent)");
    do {
      if (ev < 100000) ev = ev * 10 + (*q - '0');
      q++;
    } while (ISDIGIT(*q));
    e10 += eneg ? -ev : ev;
  }
  if (isint && !dropped) {
#if LUA_VERSION_NUM >= 503
    if (!neg) {
      if (m <= (uint64_t)LUA_MAXINTEGER) { lua_pushinteger(L, (lua_Integer)m); return q; }
    } else if (m == 0) {
      lua_pushnumber(L, -0.0);
      return q;
    } else if (m <= (uint64_t)LUA_MAXINTEGER) {
      lua_pushinteger(L, -(lua_Integer)m);
      return q;
    } else if (m == (uint64_t)LUA_MAXINTEGER + 1) {
      lua_pushinteger(L, LUA_MININTEGER);
      return q;
    }
#else
    /* a uint64 converts to the nearest double */
    lua_pushnumber(L, neg ? -(lua_Number)m : (lua_Number)m);
    return q;
#endif
  }
  if (!dropped && m <= (1ULL << 53) && e10 >= -22 && e10 <= 22) {
    double v = (double)m;
    v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
    lua_pushnumber(L, (lua_Number)(neg ? -v : v));
    return q;
  }
  lua_pushnumber(L, (lua_Number)slow_number(L, d, p, q));
  return q;
}

/* ====================================================================== */
/* the parser                                                             */
/* ====================================================================== */
/* Runs under lua_pcall from json_decode: slot 1 the jdec, slot 2 the array
 * metatable (or nil). Iterative: each open container is a table on the
 * Lua stack (with its pending key above it for objects) and a jframe. */
static int decode_run(lua_State *L) {
  jdec *d = (jdec *)lua_touserdata(L, SLOT_STATE);
  const unsigned char *p = d->start;
  jframe local[JSON_LOCAL_FRAMES];
  int depth = 0, seen = 0;
  jframe *f;
  d->fr = local; d->frcap = JSON_LOCAL_FRAMES;
  lua_settop(L, 2);
  lua_pushnil(L);   /* SLOT_SCRATCH */
  lua_pushnil(L);   /* SLOT_FRAMES */
  lua_getfield(L, LUA_REGISTRYINDEX, JSON_KCACHE_KEY);   /* SLOT_KEYS */
  if (!lua_istable(L, SLOT_KEYS)) d->kslot = NULL;

value:
  if (JWS(*p)) p = skip_ws(p + 1);
  switch (*p) {
    case '{':
    case '[': {
      int obj = (*p == '{');
      unsigned hint;
      if (depth >= d->max_depth) {
        char what[48];
        snprintf(what, sizeof what, "nested deeper than %d", d->max_depth);
        jfail(L, d, p, what);
      }
      if (!lua_checkstack(L, 4)) jfail(L, d, p, "nested too deep for the Lua stack");
      if (depth >= d->frcap) jframes_grow(L, d);
      f = &d->fr[depth];
      if (depth >= seen) {
        f->hint = (d->keep && depth < JSON_KEEP_LEVELS) ? d->keep->h[depth][obj] : 0;
        f->hobj = obj;
        seen = depth + 1;
      }
      /* a key's value (the key was just read): that key's last size */
      f->ks = depth > 0 && d->fr[depth - 1].obj ? d->kcur : -1;
      hint = f->ks >= 0 ? d->kslot[f->ks].hint[obj] : f->hobj == obj ? f->hint : 0;
      f->obj = obj; f->n = 0;
      depth++;
      p = skip_ws(p + 1);
      if (obj) {
        lua_createtable(L, 0, (int)hint);
        if (*p == '}') { p++; goto close; }
        goto key;
      }
      lua_createtable(L, (int)hint, 0);
      if (d->use_mt) {
        lua_pushvalue(L, SLOT_MT);
        lua_setmetatable(L, -2);
      }
      if (*p == ']') { p++; goto close; }
      goto value;
    }
    case '"':
      /* the value of the key just read (kcur is -1 without a cache) */
      p = d->kcur >= 0 && depth > 0 && d->fr[depth - 1].obj
        ? parse_value(L, d, p, d->fr[depth - 1].ks) : parse_string(L, d, p);
      break;
    case 't':
      if (p[1] != 'r' || p[2] != 'u' || p[3] != 'e') jfail(L, d, p, "expected value");
      lua_pushboolean(L, 1);
      p += 4;
      break;
    case 'f':
      if (p[1] != 'a' || p[2] != 'l' || p[3] != 's' || p[4] != 'e')
        jfail(L, d, p, "expected value");
      lua_pushboolean(L, 0);
      p += 5;
      break;
    case 'n':
      if (p[1] != 'u' || p[2] != 'l' || p[3] != 'l') jfail(L, d, p, "expected value");
      lua_pushlightuserdata(L, NULL);
      p += 4;
      break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      p = parse_number(L, d, p);
      break;
    default:
      jfail(L, d, p, "expected value");
  }

next:   /* a value is on top of the stack */
  if (depth == 0) goto done;
  f = &d->fr[depth - 1];
  if (JWS(*p)) p = skip_ws(p + 1);
  if (f->obj) {
    lua_rawset(L, -3);
    f->n++;
    if (*p == ',') { p = skip_ws(p + 1); goto key; }
    if (*p == '}') { p++; goto close; }
    jfail(L, d, p, "expected ',' or '}'");
  }
  lua_rawseti(L, -2, (json_index)++f->n);
  if (*p == ',') { p++; goto value; }
  if (*p == ']') { p++; goto close; }
  jfail(L, d, p, "expected ',' or ']'");

close:  /* the table on top is complete */
  depth--;
  f = &d->fr[depth];
  {
    unsigned n = f->n < JSON_HINT_MAX ? (unsigned)f->n : JSON_HINT_MAX;
    /* (a slot another key took over meanwhile gets a wrong hint: only a
     * table sized like this one) */
    if (f->ks >= 0) {
      d->kslot[f->ks].hint[f->obj] = n;
    } else {
      f->hint = n;
      f->hobj = f->obj;
      if (d->keep && depth < JSON_KEEP_LEVELS) d->keep->h[depth][f->obj] = n;
    }
  }
  goto next;

key:
  if (*p != '"') jfail(L, d, p, "expected string key");
  d->kcur = -1;
  p = d->kslot ? parse_key(L, d, p) : parse_string(L, d, p);
  if (JWS(*p)) p = skip_ws(p + 1);
  if (*p != ':') jfail(L, d, p, "expected ':'");
  p++;
  goto value;

done:
  if (JWS(*p)) p = skip_ws(p + 1);
  if (p != d->end) jfail(L, d, p, "expected end of input");
  return 1;
}

static void jdec_init(jdec *d, const char *s, size_t n) {
  d->start = (const unsigned char *)s;
  d->end = d->start + n;
  d->max_depth = JSON_DEFAULT_DEPTH;
  d->use_mt = 1;
  d->failed = 0;
  d->msg[0] = '\0';
  d->scratch = NULL; d->scap = 0;
  d->keep = NULL;
  d->kcur = -1;
}

/* Runs the parser with the array metatable on top of the stack (popped).
 * Returns 1 with the value pushed, or 0 when the input is bad (d->msg
 * says why); raises only when out of memory. */
static int jdec_run(lua_State *L, jdec *d) {
  int rc;
  lua_getfield(L, LUA_REGISTRYINDEX, JSON_HINTS_KEY);
  d->keep = (jhints *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, JSON_KSLOTS_KEY);
  {
    jcache *c = (jcache *)lua_touserdata(L, -1);
    d->kslot = c ? c->k : NULL;
    d->vslot = c ? c->v : NULL;
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, decode_run);
  lua_insert(L, -2);
  lua_pushlightuserdata(L, d);
  lua_insert(L, -2);
  rc = lua_pcall(L, 2, 1, 0);
  if (rc == 0) return 1;
  if (!d->failed) lua_error(L);   /* out of memory: not the input's fault */
  lua_pop(L, 1);
  return 0;
}

/* For the core: decodes n bytes at s, where s[n] must be '\0' (the
 * scanner's sentinel). Pushes the value and returns 1, or returns 0 with
 * msg (at least 160 bytes) set and nothing pushed. */
int gl_json_decode_buf(lua_State *L, const char *s, size_t n, char *msg) {
  jdec d;
  jdec_init(&d, s, n);
  lua_getfield(L, LUA_REGISTRYINDEX, JSON_ARRAY_MT_KEY);
  if (jdec_run(L, &d)) return 1;
  memcpy(msg, d.msg, sizeof d.msg);
  return 0;
}

/* core.json_decode(s [, { max_depth = n, array_mt = bool }]) -> v | nil, msg */
static int json_decode(lua_State *L) {
  jdec d;
  size_t n;
  const char *s;
  luaL_checktype(L, 1, LUA_TSTRING);
  s = lua_tolstring(L, 1, &n);
  jdec_init(&d, s, n);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
      if (strcmp(k, "max_depth") == 0) {
        lua_Number v = lua_tonumber(L, -1);
        if (lua_type(L, -1) != LUA_TNUMBER || !(v >= 1 && v <= 1e7) ||
            v != (lua_Number)(int)v)
          luaL_argerror(L, 2, "max_depth must be an integer from 1 to 10000000");
        d.max_depth = (int)v;
      } else if (strcmp(k, "array_mt") == 0) {
        d.use_mt = lua_toboolean(L, -1);
      } else {
        lua_pushfstring(L, "unknown option '%s'", k);
        luaL_argerror(L, 2, lua_tostring(L, -1));
      }
      lua_pop(L, 1);
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  if (jdec_run(L, &d)) return 1;
  lua_pushnil(L);
  lua_pushstring(L, d.msg);
  return 2;
}

/* ====================================================================== */
/* the encoder                                                            */
/* ====================================================================== */
/* core.json_encode(v) -> string. Raises on what JSON cannot hold (a
 * function, NaN, a cycle, a boolean key): encoding is for request bodies
 * the program builds, so those are programmer errors. Keys are not
 * sorted. A table is an array when it has core.array_mt (then even when
 * empty) or when its keys are exactly 1..n (n >= 1); an empty plain table
 * is an object ({}), indexes with holes raise (enc_array_len); any other
 * table is an object, whose number keys become strings. Integers and integral floats below
 * 2^53 print without ".0"; other floats with the fewest digits that read
 * back the same. Strings are copied byte for byte (as the decoder passes
 * invalid UTF-8 through), escaping only '"', '\\' and control characters. */

/* json_encode's stack slots */
#define ENC_VALUE 1
#define ENC_MT    2   /* core.array_mt */
#define ENC_SEEN  3   /* tables on the current path: cycle check */
#define ENC_BUF   4   /* output, a userdata replaced as it grows */
#define ENC_MAX_DEPTH 1000

typedef struct jenc { char *p; size_t n, cap; int depth; } jenc;

static void enc_grow(lua_State *L, jenc *e, size_t need) {
  size_t cap = e->cap ? e->cap : 256;
  char *p;
  while (cap - e->n < need) {
    if (cap > ((size_t)-1) / 2) luaL_error(L, "json_encode: output too large");
    cap *= 2;
  }
  p = (char *)lua_newuserdata(L, cap);
  if (e->n) memcpy(p, e->p, e->n);
  lua_replace(L, ENC_BUF);
  e->p = p; e->cap = cap;
}

#define ENC_RESERVE(L, e, k) \
  do { if ((e)->cap - (e)->n < (size_t)(k)) enc_grow((L), (e), (k)); } while (0)

static void enc_raw(lua_State *L, jenc *e, const char *s, size_t n) {
  ENC_RESERVE(L, e, n);
  memcpy(e->p + e->n, s, n);
  e->n += n;
}

static void enc_string(lua_State *L, jenc *e, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t i;
  char *o;
  if (n > (((size_t)-1) - 2) / 6) luaL_error(L, "json_encode: string too large");
  ENC_RESERVE(L, e, 6 * n + 2);   /* worst case: every byte as \u00XX */
  o = e->p + e->n;
  *o++ = '"';
  for (i = 0; i < n; i++) {
    unsigned char c = u[i];
    if (!jspecial[c]) { *o++ = (char)c; continue; }
    *o++ = '\\';
    switch (c) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      default:
        *o++ = 'u'; *o++ = '0'; *o++ = '0';
        *o++ = hex[c >> 4]; *o++ = hex[c & 15];
    }
  }
  *o++ = '"';
  e->n = (size_t)(o - e->p);
}

static void enc_number(lua_State *L, jenc *e, int idx) {
  char b[40];
  double x;
  int len, prec;
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, idx)) {
    len = snprintf(b, sizeof b, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
    enc_raw(L, e, b, (size_t)len);
    return;
  }
#endif
  x = (double)lua_tonumber(L, idx);
  if (x != x || x - x != 0) luaL_error(L, "json_encode: cannot encode NaN or infinity");
  if (x >= -9007199254740992.0 && x <= 9007199254740992.0 && x == (double)(long long)x) {
    len = snprintf(b, sizeof b, "%lld", (long long)x);
    enc_raw(L, e, b, (size_t)len);
    return;
  }
  for (prec = 15; ; prec++) {   /* the shortest of %.15g .. %.17g that reads back */
    len = snprintf(b, sizeof b, "%.*g", prec, x);
    if (prec == 17 || strtod(b, NULL) == x) break;
  }
  {
    /* snprintf wrote the locale's decimal point; JSON wants '.' */
    char dp = localeconv()->decimal_point[0];
    int i;
    if (dp != '.') for (i = 0; i < len; i++) if (b[i] == dp) b[i] = '.';
  }
  enc_raw(L, e, b, (size_t)len);
}

static void enc_value(lua_State *L, jenc *e, int idx);

/* Array length when the table at idx is encoded as an array, else -1.
 * An array is a table with core.array_mt (then even when empty) or one
 * whose keys are all indexes 1..n (n >= 1). A table of indexes with holes
 * raises, as does an array_mt table with another key: sent as an object
 * ({"1":..,"3":..}) it would reach GitLab as something else than the list
 * the program meant. */
static lua_Number enc_array_len(lua_State *L, int idx) {
  lua_Number max = 0, count = 0;
  int is_arr = 0;
  char b[96];
  if (lua_getmetatable(L, idx)) {
    is_arr = lua_rawequal(L, -1, ENC_MT);
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_Number k = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER || (k = lua_tonumber(L, -1)) < 1 ||
        k > 9.0e15 || k != (lua_Number)(long long)k) {
      lua_pop(L, 1);
      if (!is_arr) return -1;   /* a key that is no index: an object */
      luaL_error(L, "json_encode: an array (core.array_mt) has a key that is not an index 1..n");
    }
    if (k > max) max = k;
    count++;
  }
  if (count == max) return (count > 0 || is_arr) ? max : -1;
  snprintf(b, sizeof b, "%.0f values at indexes up to %.0f", (double)count, (double)max);
  luaL_error(L, "json_encode: cannot encode a sparse array (%s); use gitlab.null for a hole", b);
  return -1;   /* not reached */
}

static void enc_table(lua_State *L, jenc *e, int idx) {
  lua_Number n;
  if (e->depth >= ENC_MAX_DEPTH)
    luaL_error(L, "json_encode: tables nested deeper than %d", ENC_MAX_DEPTH);
  luaL_checkstack(L, 6, "json_encode: tables nested too deep");
  lua_pushvalue(L, idx);
  lua_rawget(L, ENC_SEEN);
  if (!lua_isnil(L, -1)) luaL_error(L, "json_encode: cannot encode a cycle");
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  lua_pushboolean(L, 1);
  lua_rawset(L, ENC_SEEN);
  e->depth++;
  n = enc_array_len(L, idx);
  if (n >= 0) {
    lua_Number i;
    enc_raw(L, e, "[", 1);
    for (i = 1; i <= n; i++) {
      if (i > 1) enc_raw(L, e, ",", 1);
      lua_rawgeti(L, idx, (json_index)i);
      enc_value(L, e, lua_gettop(L));
      lua_pop(L, 1);
    }
    enc_raw(L, e, "]", 1);
  } else {
    int first = 1;
    enc_raw(L, e, "{", 1);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      size_t kl;
      const char *k;
      if (!first) enc_raw(L, e, ",", 1);
      first = 0;
      switch (lua_type(L, -2)) {
        case LUA_TSTRING:
          k = lua_tolstring(L, -2, &kl);
          enc_string(L, e, k, kl);
          break;
        case LUA_TNUMBER:
          /* convert a copy: lua_tolstring on the key itself would change
           * its type under lua_next */
          lua_pushvalue(L, -2);
          k = lua_tolstring(L, -1, &kl);
          enc_string(L, e, k, kl);
          lua_pop(L, 1);
          break;
        default:
          luaL_error(L, "json_encode: table keys must be strings or numbers, not %s",
                     luaL_typename(L, -2));
      }
      enc_raw(L, e, ":", 1);
      enc_value(L, e, lua_gettop(L));
      lua_pop(L, 1);
    }
    enc_raw(L, e, "}", 1);
  }
  e->depth--;
  lua_pushvalue(L, idx);
  lua_pushnil(L);
  lua_rawset(L, ENC_SEEN);
}

static void enc_value(lua_State *L, jenc *e, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL: enc_raw(L, e, "null", 4); break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) enc_raw(L, e, "true", 4);
      else enc_raw(L, e, "false", 5);
      break;
    case LUA_TNUMBER: enc_number(L, e, idx); break;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      enc_string(L, e, s, n);
      break;
    }
    case LUA_TTABLE: enc_table(L, e, idx); break;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) { enc_raw(L, e, "null", 4); break; }
      /* fall through */
    default:
      luaL_error(L, "json_encode: cannot encode a %s", luaL_typename(L, idx));
  }
}

static int json_encode(lua_State *L) {
  jenc e;
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));   /* ENC_MT */
  lua_newtable(L);                         /* ENC_SEEN */
  lua_pushnil(L);                          /* ENC_BUF */
  e.p = NULL; e.n = e.cap = 0; e.depth = 0;
  enc_value(L, &e, ENC_VALUE);
  lua_pushlstring(L, e.p, e.n);
  return 1;
}

/* ====================================================================== */
/* registration                                                           */
/* ====================================================================== */
void gl_json_open(lua_State *L) {
  jhints *h = (jhints *)lua_newuserdata(L, sizeof *h);
  jcache *ks;
  memset(h, 0, sizeof *h);
  lua_setfield(L, LUA_REGISTRYINDEX, JSON_HINTS_KEY);
  /* a fresh table with a fresh slot array: a second load of the module
   * must not pair old slots with a new table */
  lua_createtable(L, JSON_KCACHE_SLOTS + JSON_VCACHE_SLOTS, 0);
  lua_setfield(L, LUA_REGISTRYINDEX, JSON_KCACHE_KEY);
  ks = (jcache *)lua_newuserdata(L, sizeof *ks);
  memset(ks, 0, sizeof *ks);
  lua_setfield(L, LUA_REGISTRYINDEX, JSON_KSLOTS_KEY);
  lua_newtable(L);                      /* array_mt, shared by every decode */
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__jsontype");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, JSON_ARRAY_MT_KEY);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "array_mt");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, json_decode, 1);
  lua_setfield(L, -3, "json_decode");
  lua_pushcclosure(L, json_encode, 1);
  lua_setfield(L, -2, "json_encode");
  lua_pushlightuserdata(L, NULL);       /* == cjson.null */
  lua_setfield(L, -2, "null");
}
