'use strict';
// Small helpers shared by the fake server: query parsing the way Rack does
// it (GitLab runs on Rack/Grape), GitLab-style naming, dates, and the
// deterministic byte generator behind /__bytes and /objects.

const crypto = require('crypto');

// ---------------------------------------------------------------- queries

function safeDecode(s) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return s;
  }
}

// Form/query component: '+' is a space (application/x-www-form-urlencoded).
function decodeComponent(s) {
  return safeDecode(s.replace(/\+/g, ' '));
}

function isHash(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// Port of Rack::QueryParser#normalize_params: a[]=1, a[b]=1, a[][b]=1.
function normalize(params, name, v, depth) {
  if (depth <= 0) return params;
  const m = /^[[\]]*([^[\]]+)\]*/.exec(name);
  const k = m ? m[1] : '';
  const after = m ? name.slice(m[0].length) : '';
  if (!k || k === '__proto__' || k === 'constructor' || k === 'prototype') return params;
  if (after === '') {
    params[k] = v;
  } else if (after === '[') {
    params[name] = v;
  } else if (after === '[]') {
    if (!Array.isArray(params[k])) params[k] = [];
    params[k].push(v);
  } else {
    const m2 = /^\[\]\[([^[\]]+)\]$/.exec(after) || /^\[\](.+)$/.exec(after);
    if (m2) {
      const child = m2[1];
      if (!Array.isArray(params[k])) params[k] = [];
      const last = params[k][params[k].length - 1];
      const childKey = (/^[[\]]*([^[\]]+)/.exec(child) || [])[1];
      if (isHash(last) && !(childKey in last)) {
        normalize(last, child, v, depth - 1);
      } else {
        params[k].push(normalize({}, child, v, depth - 1));
      }
    } else {
      if (!isHash(params[k])) params[k] = {};
      params[k] = normalize(params[k], after, v, depth - 1);
    }
  }
  return params;
}

// Returns { params (nested), pairs: [[k, v]] decoded, in order }.
function parseQuery(str) {
  const params = {};
  const pairs = [];
  if (!str) return { params, pairs };
  for (const part of str.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeComponent(part.slice(eq + 1));
    pairs.push([k, v]);
    normalize(params, k, v, 32);
  }
  return { params, pairs };
}

// Rails' Object#to_query: keys sorted, CGI.escape (space -> '+').
function cgiEscape(s) {
  return encodeURIComponent(String(s))
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

function buildQuery(pairs) {
  const sorted = pairs.map((p, i) => [p[0], p[1], i]);
  sorted.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2]));
  return sorted.map((p) => cgiEscape(p[0]) + '=' + cgiEscape(p[1])).join('&');
}

// ----------------------------------------------------------------- naming

function singular(name) {
  if (/ies$/.test(name)) return name.slice(0, -3) + 'y';
  if (/(ches|shes|sses|xes|uses)$/.test(name)) return name.slice(0, -2);
  if (/s$/.test(name)) return name.slice(0, -1);
  return name;
}

const THING_OVERRIDES = {
  'repository/files': 'File',
  'repository/branches': 'Branch',
  'repository/tags': 'Tag',
  'repository/commits': 'Commit',
  merge_requests: 'Merge Request',
  award_emoji: 'Award Emoji',
};

// "merge_requests" -> "Merge Request" (the word GitLab puts in "404 X Not Found")
function thingName(coll) {
  if (THING_OVERRIDES[coll]) return THING_OVERRIDES[coll];
  const last = coll.split('/').pop();
  return singular(last)
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

// "projects" -> "Project" (class name in GitLab's offset-limit message)
function className(coll) {
  const last = coll.split('/').pop();
  if (last === 'jobs') return 'Ci::Build';
  if (last === 'pipelines') return 'Ci::Pipeline';
  if (last === 'audit_events') return 'AuditEvent';
  return singular(last)
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

// ------------------------------------------------------------------ dates

function isoNow() {
  return new Date().toISOString();
}

function httpDate(unixSeconds) {
  return new Date(unixSeconds * 1000).toUTCString();
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// ------------------------------------------------------ deterministic bytes
// byte(i) = base[i mod P] XOR (floor(i / P) mod 256), base = SHA-256 stream
// of the seed.  P is prime so chunk sizes never line up with the pattern:
// a duplicated or dropped chunk always changes the digest.

const PERIOD = 65521;
const baseCache = new Map();

function baseBlock(seed) {
  const key = String(seed);
  let b = baseCache.get(key);
  if (b) return b;
  b = Buffer.alloc(PERIOD + 32);
  for (let off = 0, ctr = 0; off < PERIOD; off += 32, ctr++) {
    crypto.createHash('sha256').update(key + ':' + ctr).digest().copy(b, off);
  }
  b = b.subarray(0, PERIOD);
  if (baseCache.size >= 16) baseCache.delete(baseCache.keys().next().value);
  baseCache.set(key, b);
  return b;
}

function fillBytes(buf, seed, offset) {
  const base = baseBlock(seed);
  let i = 0;
  while (i < buf.length) {
    const pos = offset + i;
    const seg = Math.floor(pos / PERIOD);
    const r = pos - seg * PERIOD;
    const n = Math.min(PERIOD - r, buf.length - i);
    base.copy(buf, i, r, r + n);
    const x = seg & 0xff;
    if (x) for (let k = i, e = i + n; k < e; k++) buf[k] ^= x;
    i += n;
  }
  return buf;
}

const digestCache = new Map();

function bytesDigest(seed, size) {
  const key = seed + '\0' + size;
  if (digestCache.has(key)) return digestCache.get(key);
  const h = crypto.createHash('sha256');
  const chunk = Buffer.alloc(1 << 20);
  for (let off = 0; off < size; off += chunk.length) {
    const n = Math.min(chunk.length, size - off);
    h.update(fillBytes(n === chunk.length ? chunk : Buffer.alloc(n), seed, off));
  }
  const d = h.digest('hex');
  if (digestCache.size >= 256) digestCache.delete(digestCache.keys().next().value);
  digestCache.set(key, d);
  return d;
}

// ------------------------------------------------------------------- misc

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function clone(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

// Replace "{n}" in every string of a template (seeding N items).
function expand(tpl, n) {
  if (typeof tpl === 'string') return tpl.replace(/\{n\}/g, String(n));
  if (Array.isArray(tpl)) return tpl.map((v) => expand(v, n));
  if (isHash(tpl)) {
    const o = {};
    for (const k of Object.keys(tpl)) o[k] = expand(tpl[k], n);
    return o;
  }
  return tpl;
}

module.exports = {
  safeDecode,
  decodeComponent,
  parseQuery,
  buildQuery,
  cgiEscape,
  isHash,
  singular,
  thingName,
  className,
  isoNow,
  httpDate,
  nowSeconds,
  fillBytes,
  bytesDigest,
  PERIOD,
  sha256,
  clone,
  expand,
};
