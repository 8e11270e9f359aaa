'use strict';
// Faults registered through POST /__admin/faults.  A fault matches by
// method / path / path_re / query_re / origin, lets `skip` matching
// requests through, then applies `times` times (-1: forever).

const http = require('http');
const { nginxPage, hugeBody } = require('./respond');
const { httpDate, nowSeconds } = require('./util');

const ACTIONS = new Set([
  'reset_before_headers', 'reset_mid_body', 'truncate', 'chunked_cut', 'slow',
  'html', 'huge_headers', 'huge_body', 'redirect_loop',
]);

function compile(spec, id) {
  if (!spec || typeof spec !== 'object') throw new Error('fault must be an object');
  if (spec.action !== undefined && !ACTIONS.has(spec.action)) throw new Error('unknown action ' + spec.action);
  const f = Object.assign({}, spec);
  f.id = id;
  f.times = spec.times === undefined ? 1 : Number(spec.times);
  f.skip = Number(spec.skip || 0);
  f.seen = 0;
  f.applied = 0;
  if (spec.path_re !== undefined) f._path_re = new RegExp(spec.path_re);
  if (spec.query_re !== undefined) f._query_re = new RegExp(spec.query_re);
  if (spec.method !== undefined) f._methods = [].concat(spec.method).map((m) => String(m).toUpperCase());
  return f;
}

function view(f) {
  const o = {};
  for (const k of Object.keys(f)) if (k[0] !== '_') o[k] = f[k];
  o.remaining = f.times < 0 ? -1 : Math.max(0, f.times - f.applied);
  return o;
}

function matches(f, ctx) {
  if (f.times >= 0 && f.applied >= f.times) return false;
  if (f.origin !== undefined && f.origin !== ctx.origin && !(f.origin === 'main' && ctx.origin !== 'other')) return false;
  if (f._methods && !f._methods.includes(ctx.method) && !f._methods.includes('*')) return false;
  if (f.path !== undefined) {
    const full = ctx.rawQuery ? ctx.rawPath + '?' + ctx.rawQuery : ctx.rawPath;
    const target = f.path.includes('?') ? full : ctx.rawPath;
    if (f.path !== target && f.path !== ctx.path && f.path !== ctx.decodedPath) return false;
  }
  if (f._path_re && !f._path_re.test(ctx.rawPath) && !f._path_re.test(ctx.decodedPath)) return false;
  if (f._query_re && !f._query_re.test(ctx.rawQuery || '')) return false;
  return true;
}

// First fault that applies to this request (consumes one use), or null.
function take(state, ctx) {
  for (const f of state.faults) {
    if (!matches(f, ctx)) continue;
    f.seen++;
    if (f.seen <= f.skip) continue;
    f.applied++;
    return f;
  }
  return null;
}

// The reply an explicit-status fault gives.
function explicitReply(f) {
  const status = Number(f.status);
  const headers = {};
  let body = f.body;
  if (f.retry_after !== undefined) headers['retry-after'] = String(f.retry_after);
  if (f.retry_after_date !== undefined) headers['retry-after'] = httpDate(nowSeconds() + Number(f.retry_after_date));
  if (f.reset_in !== undefined) headers['ratelimit-reset'] = String(nowSeconds() + Number(f.reset_in));
  if (f.ratelimit_headers) {
    const reset = nowSeconds() + Number(f.reset_in || f.retry_after || 60);
    Object.assign(headers, {
      'ratelimit-name': 'throttle_authenticated_api',
      'ratelimit-limit': '2000',
      'ratelimit-observed': '2001',
      'ratelimit-remaining': '0',
      'ratelimit-reset': String(reset),
      'ratelimit-resettime': httpDate(reset),
    });
    if (headers['retry-after'] === undefined) headers['retry-after'] = String(reset - nowSeconds());
  }
  let out;
  if (body === undefined) {
    if (status === 429) {
      out = Buffer.from('Retry later\n');
      headers['content-type'] = 'text/plain';
    } else if (status === 204 || status === 304 || (status >= 300 && status < 400)) {
      out = null;
    } else {
      out = Buffer.from(JSON.stringify({ message: status + ' ' + (http.STATUS_CODES[status] || 'Error') }));
      headers['content-type'] = 'application/json';
    }
  } else if (typeof body === 'string') {
    out = Buffer.from(body);
    headers['content-type'] = 'text/plain; charset=utf-8';
  } else {
    out = Buffer.from(JSON.stringify(body));
    headers['content-type'] = 'application/json';
  }
  for (const k of Object.keys(f.headers || {})) headers[k.toLowerCase()] = f.headers[k];
  return { status, headers, body: out };
}

function hugeHeaders(size) {
  const h = {};
  const first = Math.min(size, 131072);
  h['x-huge'] = 'h'.repeat(first);
  let left = size - first;
  for (let i = 0; left > 0; i++) {
    const n = Math.min(8192, left);
    h['x-filler-' + i] = 'f'.repeat(n);
    left -= n + 16;
  }
  return h;
}

// `set_headers`: headers set on whatever reply goes out (the normal one
// too), a null value removes one; "{self}" in a value is this request's
// own URL as the server's Link headers spell it (external URL + path +
// the raw query), so a spec can make a page link to itself. false works
// like null (Lua tables cannot hold nil).
function setHeaders(f, ctx) {
  const self = ctx.externalUrl + ctx.path + (ctx.rawQuery ? '?' + ctx.rawQuery : '');
  const h = ctx.reply.headers;
  for (const k of Object.keys(f.set_headers)) {
    const v = f.set_headers[k];
    const name = k.toLowerCase();
    if (v === null || v === false) delete h[name];
    else h[name] = String(v).split('{self}').join(self);
  }
}

// Replies for the body-replacing actions; null when the action keeps the
// normal reply.
function actionReply(f, ctx) {
  switch (f.action) {
    case 'html': {
      const status = f.status ? Number(f.status) : 502;
      return { status, headers: Object.assign({ 'content-type': 'text/html' }, lower(f.headers)), body: Buffer.from(f.body !== undefined ? String(f.body) : nginxPage(status)) };
    }
    case 'huge_body': {
      const size = f.size ? Number(f.size) : 50 << 20;
      return { status: f.status ? Number(f.status) : 500, headers: Object.assign({ 'content-type': 'application/json' }, lower(f.headers)), stream: hugeBody(size), length: size };
    }
    case 'redirect_loop': {
      const to = f.location || ctx.baseUrl + ctx.prefix + '/api/v4/__loop/1';
      return { status: f.status ? Number(f.status) : 302, headers: { location: to, 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from('<html><body>You are being <a href="' + to + '">redirected</a>.</body></html>') };
    }
    default:
      return null;
  }
}

function lower(h) {
  const o = {};
  for (const k of Object.keys(h || {})) o[k.toLowerCase()] = h[k];
  return o;
}

module.exports = {
  setHeaders, compile, view, take, explicitReply, actionReply, hugeHeaders, ACTIONS };
