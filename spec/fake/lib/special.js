'use strict';
// Endpoints for the client's own tests: echo, redirects, deterministic
// bytes (Range, throttling), and the second origin's object storage and
// upload recorder.

const { Readable } = require('stream');
const { fillBytes, bytesDigest } = require('./util');

// Stream of deterministic bytes [start, end) of seed; `rate` in bytes/s.
function bytesStream(seed, start, end, rate) {
  let pos = start;
  const step = rate ? Math.max(1, Math.min(65536, Math.floor(rate / 10))) : 65536;
  return new Readable({
    highWaterMark: 65536,
    read() {
      if (pos >= end) {
        this.push(null);
        return;
      }
      const n = Math.min(step, end - pos);
      const buf = fillBytes(Buffer.allocUnsafe(n), seed, pos);
      pos += n;
      if (rate) setTimeout(() => this.push(buf), Math.ceil((n * 1000) / rate));
      else this.push(buf);
    },
  });
}

// Parses "bytes=a-b" / "bytes=a-" / "bytes=-n" against size.
// Returns null (no/ignored range), {start, end} (end exclusive) or 'bad'.
function parseRange(h, size) {
  if (!h) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(String(h).trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start;
  let end;
  if (m[1] === '') {
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  }
  if (start >= size || start >= end) return 'bad';
  return { start, end };
}

// Serves `size` bytes produced by source(start, end) with Range support.
// source returns a Readable or a Buffer.
function serveRanged(ctx, size, source, headers) {
  const h = Object.assign({ 'accept-ranges': 'bytes' }, headers);
  const r = parseRange(ctx.headers.range, size);
  if (r === 'bad') {
    h['content-range'] = 'bytes */' + size;
    return ctx.send(416, null, h);
  }
  const chunked = ctx.query.chunked === '1' || ctx.query.chunked === 'true';
  let status = 200;
  let start = 0;
  let end = size;
  if (r) {
    status = 206;
    start = r.start;
    end = r.end;
    h['content-range'] = 'bytes ' + start + '-' + (end - 1) + '/' + size;
  }
  const src = source(start, end);
  if (Buffer.isBuffer(src)) {
    if (chunked) return ctx.stream(status, Readable.from([src]), h);
    return ctx.send(status, src, h);
  }
  return ctx.stream(status, src, h, chunked ? undefined : end - start);
}

// GET /api/v4/__bytes?size=N&seed=S[&digest=1][&rate=B][&chunked=1][&type=T][&filename=F]
function bytes(ctx) {
  const q = ctx.query;
  const size = q.size === undefined ? 1024 : Number(q.size);
  if (!Number.isFinite(size) || size < 0) return ctx.json(400, { error: 'size is invalid' });
  const seed = q.seed === undefined ? 'bytes' : String(q.seed);
  if (q.digest) return ctx.json(200, { size, seed, sha256: bytesDigest(seed, size) });
  const headers = { 'content-type': q.type || 'application/octet-stream', etag: '"' + seed + '-' + size + '"' };
  if (q.filename) headers['content-disposition'] = 'attachment; filename="' + q.filename + '"';
  const rate = q.rate ? Number(q.rate) : 0;
  return serveRanged(ctx, size, (s, e) => bytesStream(seed, s, e, rate), headers);
}

function pairs(raw) {
  const out = [];
  for (let i = 0; raw && i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}

// ANY /api/v4/__echo
function echo(ctx) {
  return ctx.json(200, {
    method: ctx.method,
    path: ctx.rawPath,
    raw_query: ctx.rawQuery,
    query: ctx.query,
    query_pairs: ctx.queryPairs,
    headers: ctx.headers,
    // every header line as sent ([name, value] pairs, names as written):
    // Node's ctx.headers keeps one of a repeated Content-Type
    raw_headers: pairs(ctx.req && ctx.req.rawHeaders),
    body: ctx.bodyText,
    body_size: ctx.bodySize,
    body_sha256: ctx.bodySha256,
    json: ctx.jsonBody === undefined ? null : ctx.jsonBody,
    form: ctx.form || null,
    files: (ctx.files || []).map(fileView),
    http_version: ctx.httpVersion,
    origin: ctx.origin,
  });
}

// GET|ANY /api/v4/__redirect?to=URL&status=302
function redirect(ctx) {
  const to = ctx.query.to;
  if (!to) return ctx.json(400, { error: 'to is missing' });
  return ctx.redirect(String(to), ctx.query.status ? Number(ctx.query.status) : 302);
}

// /api/v4/__loop/N redirects to N+1 forever (redirect_loop fault).
function loop(ctx, n) {
  return ctx.redirect(ctx.baseUrl + ctx.prefix + '/api/v4/__loop/' + (Number(n) + 1), 302);
}

function fileView(p) {
  return { name: p.name, filename: p.filename, type: p.type, size: p.size, sha256: p.sha256 };
}

// ------------------------------------------------------------- "other"

// GET /objects/<path>: a stored blob, or deterministic bytes.
function object(ctx) {
  const blob = ctx.state.blobs.get(ctx.rawPath);
  if (blob) {
    return serveRanged(ctx, blob.data.length, (s, e) => blob.data.subarray(s, e), { 'content-type': blob.type || 'application/octet-stream' });
  }
  const q = ctx.query;
  const size = q.size === undefined ? 1024 : Number(q.size);
  const seed = q.seed === undefined ? ctx.rawPath : String(q.seed);
  if (q.digest) return ctx.json(200, { size, seed, sha256: bytesDigest(seed, size) });
  const headers = { 'content-type': q.type || 'application/octet-stream', etag: '"' + seed + '-' + size + '"' };
  if (q.filename) headers['content-disposition'] = 'attachment; filename="' + q.filename + '"';
  return serveRanged(ctx, size, (s, e) => bytesStream(seed, s, e, q.rate ? Number(q.rate) : 0), headers);
}

// PUT/POST anything on "other": record size and sha256 (and multipart parts).
function upload(ctx, body) {
  const rec = {
    seq: ctx.entry.seq,
    method: ctx.method,
    path: ctx.rawPath,
    query: ctx.rawQuery,
    content_type: ctx.headers['content-type'] || null,
    size: body.size,
    sha256: body.sha256,
    fields: ctx.form || {},
    files: (ctx.files || []).map(fileView),
    credentials: ctx.entry.credentials,
  };
  ctx.entry.upload = rec;
  ctx.state.uploads.push(rec);
  if (ctx.method === 'PUT' && ctx.rawPath.startsWith('/objects/') && !body.truncated) {
    ctx.state.blobs.set(ctx.rawPath, { data: Buffer.from(body.buf), type: ctx.headers['content-type'] });
  }
  return ctx.json(ctx.method === 'POST' ? 201 : 200, rec, { etag: '"' + body.sha256.slice(0, 32) + '"' });
}

module.exports = { bytes, bytesStream, serveRanged, parseRange, echo, redirect, loop, object, upload, fileView };
