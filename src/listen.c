/*
 * listen.c: a small loopback HTTP listener that receives the browser's
 * redirect at the end of an OAuth authorization-code (PKCE) sign-in.
 *
 *   local l = core.listen{ host = "127.0.0.1", port = 0 }   -- 0: any port
 *   l:port()                       -> the bound port
 *   l:accept(timeout_s)            -> { method=, target=, headers={} }
 *                                  or nil, "timeout" | message
 *   l:respond(status, content_type, body) -> true or nil, message
 *   l:close()                      -- idempotent; also __gc and __close
 *
 * Only loopback addresses may be bound: the redirect carries an
 * authorization code and must not be reachable from the network.
 *
 * Browsers open speculative connections that never send a request, so
 * accept() watches the listening socket and up to GL_LISTEN_SLOTS client
 * connections at once and returns the first one that delivers a complete
 * request head. That connection becomes the "current" one, which respond()
 * answers and closes. Request heads are bounded (GL_LISTEN_MAX_HEAD); a
 * malformed or oversized one is answered with 400/431 here and dropped.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1       /* accept4, SOCK_CLOEXEC, MSG_NOSIGNAL */
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "gl.h"

#define GL_LISTENER_MT "gitlab.listener"
#define GL_LISTEN_MAX_HEAD (16 * 1024)   /* request line + headers */
#define GL_LISTEN_SLOTS 8                /* concurrent client connections */
#define GL_LISTEN_SEND_TIMEOUT_MS 5000   /* for respond() */

#ifndef SOCK_CLOEXEC
#define SOCK_CLOEXEC 0
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* One client connection being read. buf is malloc'd on accept and owned by
 * the slot until the slot is cleared. */
typedef struct {
  int fd;
  size_t len;
  char *buf;          /* GL_LISTEN_MAX_HEAD + 1 bytes */
  unsigned long seq;  /* accept order, to evict the oldest when full */
} gl_slot;

/* The userdata. It is created closed (fd = -1, every slot fd = -1) before
 * any socket exists, so a memory error while creating it leaks nothing. */
typedef struct {
  int fd;             /* listening socket, -1 when closed */
  int port;
  int cur;            /* client fd answered by respond(), -1 if none */
  unsigned long seq;
  gl_slot slots[GL_LISTEN_SLOTS];
} gl_listener;

/* ---------------------------------------------------------------------- */
/* helpers                                                                 */
/* ---------------------------------------------------------------------- */

static void set_cloexec(int fd)
{
  /* Belt and braces where SOCK_CLOEXEC / accept4 are not available. */
  int fl = fcntl(fd, F_GETFD);
  if (fl >= 0)
    (void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static void set_nonblock(int fd)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void slot_clear(gl_slot *s)
{
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
  free(s->buf);
  s->buf = NULL;
  s->len = 0;
}

static void listener_release(gl_listener *l)
{
  int i;
  for (i = 0; i < GL_LISTEN_SLOTS; i++)
    slot_clear(&l->slots[i]);
  if (l->cur >= 0)
    close(l->cur);
  l->cur = -1;
  if (l->fd >= 0)
    close(l->fd);
  l->fd = -1;
}

static gl_listener *check_listener(lua_State *L, int idx)
{
  gl_listener *l = (gl_listener *)luaL_checkudata(L, idx, GL_LISTENER_MT);
  if (l->fd < 0)
    luaL_argerror(L, idx, "listener is closed");
  return l;
}

/* Blocking-with-deadline write of the whole buffer on a nonblocking fd. */
static int send_all(int fd, const char *p, size_t n, int timeout_ms)
{
  double deadline = gl_now() + timeout_ms / 1000.0;
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd pfd;
      int left = (int)((deadline - gl_now()) * 1000.0);
      if (left <= 0)
        return -1;
      pfd.fd = fd;
      pfd.events = POLLOUT;
      pfd.revents = 0;
      if (poll(&pfd, 1, left) < 0 && errno != EINTR)
        return -1;
      continue;
    }
    return -1;
  }
  return 0;
}

static const char *reason_phrase(int status)
{
  switch (status) {
  case 200: return "OK";
  case 204: return "No Content";
  case 302: return "Found";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  default: return "Unknown";
  }
}

/* Answer a connection that we will not hand to Lua, and close it. */
static void reject_slot(gl_slot *s, int status)
{
  char head[160];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n"
                   "Connection: close\r\n\r\n",
                   status, reason_phrase(status));
  if (n > 0 && (size_t)n < sizeof head)
    (void)send_all(s->fd, head, (size_t)n, 1000);
  slot_clear(s);
}

/* Find the end of the request head in buf[0..len). Returns the offset just
 * past the blank line, or 0 when it is not complete yet. Accepts bare LF
 * line ends too (RFC 9112 section 2.2 allows a recipient to). */
static size_t head_end(const char *buf, size_t len)
{
  size_t i;
  for (i = 0; i + 1 < len; i++) {
    if (buf[i] != '\n')
      continue;
    if (buf[i + 1] == '\n')
      return i + 2;
    if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
      return i + 3;
  }
  return 0;
}

static int is_tchar(int c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

/* Parse the request head in buf[0..len) and push
 * { method=, target=, version=, headers = { [lower-name] = "v1, v2" } }.
 * Returns 0 on success (table pushed), or an HTTP status to reject with
 * (nothing pushed). Lua errors (memory) may be raised; the slot is cleared
 * by the caller before calling, so nothing leaks. */
static int parse_head(lua_State *L, const char *buf, size_t len)
{
  const char *p = buf, *end = buf + len, *eol, *sp1, *sp2;
  const char *line_end;

  /* request line: method SP target SP HTTP/x.y */
  eol = memchr(p, '\n', (size_t)(end - p));
  if (eol == NULL)
    return 400;
  line_end = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
  sp1 = memchr(p, ' ', (size_t)(line_end - p));
  if (sp1 == NULL || sp1 == p)
    return 400;
  sp2 = memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1));
  if (sp2 == NULL || sp2 == sp1 + 1)
    return 400;
  if (line_end - sp2 - 1 < 8 || memcmp(sp2 + 1, "HTTP/", 5) != 0)
    return 400;
  {
    const char *q;
    for (q = p; q < sp1; q++)
      if (!is_tchar((unsigned char)*q))
        return 400;
    for (q = sp1 + 1; q < sp2; q++)
      if ((unsigned char)*q <= 0x20 || (unsigned char)*q == 0x7f)
        return 400;
  }

  lua_createtable(L, 0, 4);
  lua_pushlstring(L, p, (size_t)(sp1 - p));
  lua_setfield(L, -2, "method");
  lua_pushlstring(L, sp1 + 1, (size_t)(sp2 - sp1 - 1));
  lua_setfield(L, -2, "target");
  lua_pushlstring(L, sp2 + 1, (size_t)(line_end - sp2 - 1));
  lua_setfield(L, -2, "version");

  lua_newtable(L);                       /* headers */
  p = eol + 1;
  while (p < end) {
    const char *colon, *v, *ve, *q;
    char name[128];
    size_t nlen, i;

    eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL)
      eol = end;
    line_end = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
    if (line_end == p)                   /* the blank line */
      break;
    colon = memchr(p, ':', (size_t)(line_end - p));
    if (colon == NULL || colon == p || (size_t)(colon - p) >= sizeof name) {
      lua_pop(L, 2);
      return 400;
    }
    nlen = (size_t)(colon - p);
    for (i = 0; i < nlen; i++) {
      int c = (unsigned char)p[i];
      if (!is_tchar(c)) {                /* also rejects obs-fold / spaces */
        lua_pop(L, 2);
        return 400;
      }
      name[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    v = colon + 1;
    ve = line_end;
    while (v < ve && (*v == ' ' || *v == '\t'))
      v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
      ve--;
    for (q = v; q < ve; q++)
      if (*q == '\0') {
        lua_pop(L, 2);
        return 400;
      }

    /* Repeated fields are joined with ", " as RFC 9110 section 5.3 allows. */
    lua_pushlstring(L, name, nlen);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isstring(L, -1)) {
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, v, (size_t)(ve - v));
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, v, (size_t)(ve - v));
    }
    lua_rawset(L, -3);
    p = eol + 1;
  }
  lua_setfield(L, -2, "headers");
  return 0;
}

/* Read what is available on slot s. Returns 1 when the head is complete,
 * 0 to keep waiting, -1 when the slot was dropped (closed or rejected). */
static int slot_read(gl_slot *s)
{
  for (;;) {
    ssize_t r;
    size_t room = GL_LISTEN_MAX_HEAD - s->len;
    if (room == 0) {
      reject_slot(s, 431);
      return -1;
    }
    r = recv(s->fd, s->buf + s->len, room, 0);
    if (r > 0) {
      s->len += (size_t)r;
      if (head_end(s->buf, s->len) > 0)
        return 1;
      continue;
    }
    if (r == 0) {                        /* peer closed before a request */
      slot_clear(s);
      return -1;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    slot_clear(s);
    return -1;
  }
}

/* Accept one pending connection into a free slot (evicting the oldest
 * idle one when all are taken: browsers' speculative sockets). */
static void accept_one(gl_listener *l)
{
  int i, fd, victim = -1;
  gl_slot *s;
  char *buf;

#if defined(__linux__)
  fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
#else
  fd = accept(l->fd, NULL, NULL);
#endif
  if (fd < 0)
    return;                              /* EAGAIN, ECONNABORTED, ... */
  set_cloexec(fd);
  set_nonblock(fd);

  for (i = 0; i < GL_LISTEN_SLOTS; i++) {
    if (l->slots[i].fd < 0) {
      victim = i;
      break;
    }
    if (victim < 0 || l->slots[i].seq < l->slots[victim].seq)
      victim = i;
  }
  s = &l->slots[victim];
  slot_clear(s);
  buf = (char *)malloc(GL_LISTEN_MAX_HEAD + 1);
  if (buf == NULL) {
    close(fd);
    return;
  }
  s->fd = fd;
  s->buf = buf;
  s->len = 0;
  s->seq = ++l->seq;
}

/* ---------------------------------------------------------------------- */
/* methods                                                                 */
/* ---------------------------------------------------------------------- */

static int listener_port(lua_State *L)
{
  gl_listener *l = check_listener(L, 1);
  lua_pushinteger(L, l->port);
  return 1;
}

static int listener_accept(lua_State *L)
{
  gl_listener *l = check_listener(L, 1);
  lua_Number timeout = luaL_optnumber(L, 2, 60);
  double deadline;

  luaL_argcheck(L, timeout >= 0, 2, "timeout must be >= 0");
  /* A previous request that was never answered: drop it. */
  if (l->cur >= 0) {
    close(l->cur);
    l->cur = -1;
  }
  deadline = gl_now() + (double)timeout;

  for (;;) {
    struct pollfd pfd[GL_LISTEN_SLOTS + 1];
    int map[GL_LISTEN_SLOTS + 1];
    int n = 0, i, rc, ms;
    double left = deadline - gl_now();

    if (left < 0)
      left = 0;
    ms = left > 2e9 / 1000 ? 2000000000 : (int)(left * 1000.0 + 0.5);

    pfd[n].fd = l->fd;
    pfd[n].events = POLLIN;
    pfd[n].revents = 0;
    map[n++] = -1;
    for (i = 0; i < GL_LISTEN_SLOTS; i++) {
      if (l->slots[i].fd < 0)
        continue;
      pfd[n].fd = l->slots[i].fd;
      pfd[n].events = POLLIN;
      pfd[n].revents = 0;
      map[n++] = i;
    }

    rc = poll(pfd, (nfds_t)n, ms);
    if (rc < 0) {
      if (errno == EINTR)
        continue;
      lua_pushnil(L);
      lua_pushfstring(L, "poll: %s", strerror(errno));
      return 2;
    }
    if (rc == 0) {
      if (gl_now() >= deadline) {
        lua_pushnil(L);
        lua_pushliteral(L, "timeout");
        return 2;
      }
      continue;
    }

    for (i = 1; i < n; i++) {
      gl_slot *s = &l->slots[map[i]];
      if (pfd[i].revents == 0)
        continue;
      if (slot_read(s) == 1) {
        int status, fd = s->fd;
        /* Copy the head out of the slot and release the slot first, so
         * a Lua memory error in parse_head cannot leak the buffer. The
         * copy lives in a Lua string (owned by Lua). */
        lua_pushlstring(L, s->buf, head_end(s->buf, s->len));
        s->fd = -1;                      /* fd now owned by l->cur */
        slot_clear(s);
        l->cur = fd;
        {
          size_t hl;
          const char *h = lua_tolstring(L, -1, &hl);
          status = parse_head(L, h, hl);
        }
        if (status == 0) {
          lua_remove(L, -2);             /* the copied head */
          return 1;
        }
        lua_pop(L, 1);
        {
          gl_slot tmp;
          tmp.fd = l->cur;
          tmp.buf = NULL;
          tmp.len = 0;
          tmp.seq = 0;
          l->cur = -1;
          reject_slot(&tmp, status);
        }
      }
    }
    if (pfd[0].revents & POLLIN)
      accept_one(l);
  }
}

static int listener_respond(lua_State *L)
{
  gl_listener *l = check_listener(L, 1);
  lua_Integer status = luaL_checkinteger(L, 2);
  const char *ctype = luaL_optstring(L, 3, "text/plain; charset=utf-8");
  size_t blen;
  const char *body = luaL_optlstring(L, 4, "", &blen);
  const char *q;
  luaL_Buffer b;
  int rc;

  luaL_argcheck(L, status >= 100 && status <= 599, 2, "invalid status");
  for (q = ctype; *q; q++)               /* no header injection */
    luaL_argcheck(L, *q != '\r' && *q != '\n', 3, "invalid content type");
  if (l->cur < 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "no request to respond to");
    return 2;
  }

  luaL_buffinit(L, &b);
  lua_pushfstring(L,
                  "HTTP/1.1 %d %s\r\n"
                  "Content-Type: %s\r\n"
                  "Content-Length: %d\r\n"
                  "Cache-Control: no-store\r\n"
                  "Referrer-Policy: no-referrer\r\n"
                  "Connection: close\r\n\r\n",
                  (int)status, reason_phrase((int)status), ctype, (int)blen);
  luaL_addvalue(&b);
  luaL_addlstring(&b, body, blen);
  luaL_pushresult(&b);
  {
    size_t n;
    const char *msg = lua_tolstring(L, -1, &n);
    rc = send_all(l->cur, msg, n, GL_LISTEN_SEND_TIMEOUT_MS);
  }
  /* We announced Connection: close; shutting down the write side first
   * lets the browser see the end of the response before the close. */
  (void)shutdown(l->cur, SHUT_WR);
  close(l->cur);
  l->cur = -1;
  if (rc != 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "could not send the response");
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int listener_close(lua_State *L)
{
  gl_listener *l = (gl_listener *)luaL_checkudata(L, 1, GL_LISTENER_MT);
  listener_release(l);
  return 0;
}

static int listener_tostring(lua_State *L)
{
  gl_listener *l = (gl_listener *)luaL_checkudata(L, 1, GL_LISTENER_MT);
  if (l->fd < 0)
    lua_pushliteral(L, "gitlab.listener (closed)");
  else
    lua_pushfstring(L, "gitlab.listener (port %d)", l->port);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* constructor                                                             */
/* ---------------------------------------------------------------------- */

/* core.listen{ host = "127.0.0.1", port = 0 } (port 0: the kernel picks) */
static int core_listen(lua_State *L)
{
  const char *host = "127.0.0.1";
  lua_Integer port = 0;
  gl_listener *l;
  struct sockaddr_storage ss;
  socklen_t sslen;
  int fd, i, one = 1, family;

  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "host");
    if (!lua_isnil(L, -1))
      host = luaL_checkstring(L, -1);    /* stays alive: table holds it */
    lua_pop(L, 1);
    lua_getfield(L, 1, "port");
    if (!lua_isnil(L, -1)) {
      if (!lua_isnumber(L, -1))
        luaL_argerror(L, 1, "port must be a number");
      port = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
  }
  luaL_argcheck(L, port >= 0 && port <= 65535, 1, "port out of range");

  memset(&ss, 0, sizeof ss);
  if (strcmp(host, "localhost") == 0)
    host = "127.0.0.1";
  {
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
      /* 127.0.0.0/8 only */
      if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
        luaL_argerror(L, 1, "host must be a loopback address");
      sin->sin_family = AF_INET;
      sin->sin_port = htons((unsigned short)port);
      sslen = sizeof *sin;
      family = AF_INET;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
      if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
        luaL_argerror(L, 1, "host must be a loopback address");
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons((unsigned short)port);
      sslen = sizeof *sin6;
      family = AF_INET6;
    } else {
      return luaL_argerror(L, 1, "host must be a numeric loopback address");
    }
  }

  /* Userdata first, closed, with its metatable: if anything below raises,
   * __gc has nothing or only our fd to release. */
  l = (gl_listener *)lua_newuserdata(L, sizeof *l);
  l->fd = -1;
  l->port = 0;
  l->cur = -1;
  l->seq = 0;
  for (i = 0; i < GL_LISTEN_SLOTS; i++) {
    l->slots[i].fd = -1;
    l->slots[i].buf = NULL;
    l->slots[i].len = 0;
    l->slots[i].seq = 0;
  }
  luaL_getmetatable(L, GL_LISTENER_MT);
  lua_setmetatable(L, -2);

  fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "socket: %s", strerror(errno));
    return 2;
  }
  l->fd = fd;
  set_cloexec(fd);
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, 8) != 0) {
    int e = errno;
    listener_release(l);
    lua_pushnil(L);
    lua_pushfstring(L, "cannot listen on %s:%d: %s", host, (int)port,
                    strerror(e));
    return 2;
  }
  set_nonblock(fd);
  {
    struct sockaddr_storage got;
    socklen_t glen = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &glen) == 0) {
      if (got.ss_family == AF_INET)
        l->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
      else
        l->port = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
    }
  }
  return 1;
}

/* ---------------------------------------------------------------------- */
/* registration                                                            */
/* ---------------------------------------------------------------------- */

static const luaL_Reg listener_methods[] = {
  { "port", listener_port },
  { "accept", listener_accept },
  { "respond", listener_respond },
  { "close", listener_close },
  { NULL, NULL }
};

/* Called by luaopen_gitlab_core with the module table on top. */
void gl_listen_open(lua_State *L)
{
  gl_newclass(L, GL_LISTENER_MT, listener_methods, listener_close, 0, listener_tostring);
  lua_pop(L, 1);
  lua_pushcfunction(L, core_listen);
  lua_setfield(L, -2, "listen");
}
