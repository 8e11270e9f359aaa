'use strict';
// Writing replies, normally or broken on purpose.  A handler only describes
// its reply (ctx.reply = { status, headers, body | stream, length }); this
// module puts it on the wire for HTTP/1.1 and HTTP/2, and implements the
// wire-level fault modes: reset, truncate, chunked_cut, slow.

const http = require('http');
const http2 = require('http2');
const { Readable } = require('stream');

const { NGHTTP2_INTERNAL_ERROR, NGHTTP2_CANCEL } = http2.constants;

// Headers HTTP/2 forbids; dropped there.
const H1_ONLY = new Set(['connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'proxy-connection']);

function isH2(ctx) {
  return ctx.req.httpVersionMajor === 2;
}

function closed(ctx) {
  const res = ctx.res;
  return !!(res.destroyed || res.writableEnded || (res.stream && res.stream.destroyed) ||
    (ctx.req.socket && ctx.req.socket.destroyed));
}

function headerObject(ctx, headers) {
  const out = {};
  const h2 = isH2(ctx);
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (v === undefined || v === null) continue;
    if (h2 && H1_ONLY.has(k)) continue;
    out[k] = Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}

function writeAsync(ctx, data) {
  return new Promise((resolve) => {
    if (closed(ctx)) return resolve(false);
    let done = false;
    const fin = (ok) => {
      if (done) return;
      done = true;
      ctx.res.removeListener('close', onClose);
      resolve(ok);
    };
    const onClose = () => fin(false);
    ctx.res.once('close', onClose);
    ctx.res.write(data, () => fin(true));
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Breaks the connection: 'rst' = TCP reset / RST_STREAM, 'fin' = close
// cleanly without finishing the body.
function cut(ctx, how) {
  if (isH2(ctx)) {
    const stream = ctx.req.stream;
    if (!stream || stream.destroyed) return;
    if (how === 'end') ctx.res.end();
    else stream.close(how === 'rst' ? NGHTTP2_INTERNAL_ERROR : NGHTTP2_CANCEL);
    return;
  }
  const sock = ctx.req.socket;
  if (!sock || sock.destroyed) return;
  if (how === 'rst') {
    if (typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
    else sock.destroy();
  } else {
    sock.end();
    setTimeout(() => sock.destroy(), 1000).unref();
  }
}

function replyLength(reply) {
  if (reply.body) return reply.body.length;
  if (reply.stream && reply.length !== undefined) return reply.length;
  return undefined;
}

// Async chunks of the reply body, at most `limit` bytes.
async function* chunks(reply, limit) {
  if (limit === undefined) limit = Infinity;
  if (reply.body) {
    yield reply.body.subarray(0, Math.min(limit, reply.body.length));
    return;
  }
  if (!reply.stream) return;
  let sent = 0;
  try {
    for await (const c of reply.stream) {
      const buf = Buffer.isBuffer(c) ? c : Buffer.from(c);
      const take = sent + buf.length > limit ? buf.subarray(0, limit - sent) : buf;
      if (take.length) yield take;
      sent += take.length;
      if (sent >= limit) break;
    }
  } finally {
    if (reply.stream.destroy) reply.stream.destroy();
  }
}

function head(ctx, reply, headers) {
  ctx.res.writeHead(reply.status, headerObject(ctx, headers));
}

// mode: undefined (normal) | 'truncate' | 'reset_mid_body' | 'chunked_cut' | 'slow'
async function write(ctx, reply, mode, opts) {
  opts = opts || {};
  const res = ctx.res;
  const headers = Object.assign({}, reply.headers);
  const len = replyLength(reply);
  const isHead = ctx.method === 'HEAD';
  if (closed(ctx)) {
    // the client went away while the reply was being prepared
    if (reply.stream && reply.stream.destroy) reply.stream.destroy();
    return;
  }
  if (!mode) {
    if (len !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(len);
    head(ctx, reply, headers);
    if (isHead || (!reply.body && !reply.stream)) {
      if (reply.stream && reply.stream.destroy) reply.stream.destroy();
      res.end();
      return;
    }
    if (reply.body) {
      res.end(reply.body);
      return;
    }
    const s = reply.stream;
    res.on('close', () => s.destroy());
    s.on('error', () => cut(ctx, 'rst'));
    s.pipe(res);
    return;
  }
  const total = len === undefined ? 0 : len;
  if (mode === 'slow') {
    if (len !== undefined) headers['content-length'] = String(len);
    head(ctx, reply, headers);
    if (res.flushHeaders) res.flushHeaders();
    const interval = opts.interval_ms === undefined ? 1000 : Number(opts.interval_ms);
    for await (const c of chunks(reply)) {
      for (let i = 0; i < c.length; i++) {
        await sleep(interval);
        if (!(await writeAsync(ctx, c.subarray(i, i + 1)))) return;
      }
    }
    if (!closed(ctx)) res.end();
    return;
  }
  // The broken-body modes send `bytes` bytes (default: half the body).
  const limit = opts.bytes !== undefined ? Number(opts.bytes) : Math.floor(total / 2);
  if (mode === 'truncate' || mode === 'reset_mid_body') {
    headers['content-length'] = String(total > limit ? total : limit + (opts.missing || 1024));
  } else {
    delete headers['content-length'];
  }
  head(ctx, reply, headers);
  if (res.flushHeaders) res.flushHeaders();
  for await (const c of chunks(reply, limit)) {
    if (!(await writeAsync(ctx, c))) return;
  }
  if (mode === 'reset_mid_body') {
    // Give the kernel time to deliver what was written: a reset drops
    // unsent data.
    await sleep(50);
    cut(ctx, 'rst');
  } else if (mode === 'truncate') {
    await sleep(20);
    cut(ctx, isH2(ctx) ? 'end' : 'fin');
  } else {
    await sleep(20);
    cut(ctx, isH2(ctx) ? 'cancel' : 'fin');
  }
}

// --------------------------------------------------------------- bodies

// nginx's own reason phrases where they differ from Node's
const NGINX_REASONS = {
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

function nginxPage(status) {
  const title = status + ' ' + (NGINX_REASONS[status] || http.STATUS_CODES[status] || 'Error');
  return '<html>\r\n<head><title>' + title + '</title></head>\r\n<body>\r\n<center><h1>' + title +
    '</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
}

// A large JSON error body generated on the fly.
function hugeBody(size) {
  const prefix = Buffer.from('{"message":"');
  const suffix = Buffer.from('"}');
  const fill = Buffer.alloc(65536, 0x78);
  let pos = 0;
  return new Readable({
    read() {
      if (pos >= size) return this.push(null);
      let out;
      if (pos === 0) out = Buffer.concat([prefix, fill]).subarray(0, Math.min(size, 65536));
      else out = fill.subarray(0, Math.min(65536, size - pos));
      if (pos + out.length >= size) {
        out = Buffer.from(out);
        suffix.copy(out, Math.max(0, out.length - suffix.length));
      }
      pos += out.length;
      this.push(out);
    },
  });
}

module.exports = { write, cut, nginxPage, hugeBody, sleep, isH2, closed };
