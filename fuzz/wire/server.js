#!/usr/bin/env node
'use strict';
// Wire fuzzer, server half: a raw TCP server on 127.0.0.1 that answers
// every HTTP request with a generated, often broken, response: odd status
// lines, malformed or huge headers (Link, Content-Length, chunked coding,
// Retry-After, RateLimit-*, Location), truncated or random bodies, then
// closes the connection. Responses depend only on --seed and their index,
// so a failure is replayed with the same seed.
//
//   node fuzz/wire/server.js --seed N [--last FILE]
// Prints {"http":"http://127.0.0.1:P"} once listening; exits when stdin
// closes. --last FILE: every response is also written to FILE (the one a
// crashing client saw last is left there).

const net = require('net');
const fs = require('fs');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const SEED = Number(opt('seed', '1')) >>> 0;
const LAST = opt('last', null);

// mulberry32: small, seedable, good enough to pick cases
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gen(index, base) {
  const r = rng((SEED * 1000003 + index) >>> 0);
  const int = (n) => Math.floor(r() * n);
  const pick = (a) => a[int(a.length)];
  const chance = (p) => r() < p;
  const bytes = (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  const mutate = (s) => {
    const b = Buffer.from(s, 'latin1');
    const n = int(4);
    for (let i = 0; i < n && b.length; i++) {
      const k = int(3);
      const at = int(b.length);
      if (k === 0) b[at] = int(256);
      else if (k === 1) return Buffer.concat([b.subarray(0, at), bytes(int(8)), b.subarray(at)]).toString('latin1');
      else return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(8)))]).toString('latin1');
    }
    return b.toString('latin1');
  };

  // body
  const user = '{"id":1,"username":"root","name":"Administrator","state":"active"}';
  let body;
  switch (int(9)) {
    case 0: body = Buffer.from(user); break;
    case 1: body = Buffer.from('[' + Array.from({ length: int(20) }, (_, i) => '{"id":' + i + '}').join(',') + ']'); break;
    case 2: body = Buffer.from(mutate(user), 'latin1'); break;
    case 3: body = bytes(int(2000)); break;
    case 4: body = Buffer.from('['.repeat(int(3000)) + ']'.repeat(int(3000))); break;
    case 5: body = Buffer.alloc(0); break;
    case 6: body = Buffer.from('<html><head><title>' + mutate('502 Bad Gateway') + '</title></head></html>', 'latin1'); break;
    case 7: body = Buffer.from('{"message":' + pick(['"x"', '{"a":["b"]}', '[1,2]', 'null', '{"error":"e","error_description":"d"}']) + '}'); break;
    default: body = Buffer.from(mutate('{"a":"\\ud800","b":1e999,"c":-0,"d":"\\u0000"}'), 'latin1');
  }

  // status line
  const status = pick([200, 200, 200, 201, 204, 206, 301, 302, 303, 307, 308, 304, 400, 401, 403, 404, 405, 409, 422, 429, 500, 502, 503, 504, 599, 100, 103, 999]);
  let statusLine = pick([
    'HTTP/1.1 ' + status + ' X', 'HTTP/1.1 ' + status, 'HTTP/1.0 ' + status + ' OK',
    'HTTP/1.1 ' + status + ' ' + mutate('Reason Phrase'),
  ]);
  if (chance(0.04)) statusLine = mutate(statusLine);
  if (chance(0.02)) statusLine = 'garbage';

  const h = [];
  const ct = pick(['application/json', 'application/json; charset=utf-8', 'text/html', 'text/plain', null,
    'application/problem+json', mutate('application/json')]);
  if (ct !== null) h.push('Content-Type: ' + ct);
  const link = '<' + base + '/api/v4/projects?page=2&per_page=20>; rel="next", <' + base +
    '/api/v4/projects?page=9>; rel="last"';
  if (chance(0.5)) h.push('Link: ' + (chance(0.6) ? mutate(link) : link));
  if (chance(0.1)) h.push('Link: ' + mutate('<http://x/api/v4/y?page=3>; rel=next'));
  if (chance(0.3)) h.push('X-Next-Page: ' + pick(['2', '', 'x', '-1', '99999999999999999999', mutate('3')]));
  if (chance(0.2)) h.push('X-Total: ' + pick(['45', 'nan', '1e999', mutate('10')]));
  if (chance(0.25)) h.push('Retry-After: ' + pick(['0', '1', '', 'soon', '99999999999', 'Wed, 21 Oct 2015 07:28:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', mutate('Wed, 21 Oct 2015')]));
  if (chance(0.2)) h.push('RateLimit-Remaining: ' + pick(['0', '1', 'x', '']));
  if (chance(0.2)) h.push('RateLimit-Reset: ' + pick(['0', 'nan', 'inf', '-inf', '1e400', String(Math.floor(Date.now() / 1000) + 1), mutate('1700000000')]));
  if (status >= 300 && status < 400 && chance(0.8)) {
    h.push('Location: ' + pick([base + '/api/v4/user', '/api/v4/user', 'http://127.0.0.1:1/x', '', mutate(base + '/api/v4/user'),
      'https://127.0.0.1:1/', '//evil.invalid/x', 'ftp://x/']));
  }
  if (status === 206 || chance(0.05)) h.push('Content-Range: ' + pick(['bytes 0-9/10', 'bytes */10', mutate('bytes 5-9/10'), '']));
  if (chance(0.05)) h.push('X-Long: ' + 'v'.repeat(int(120000)));
  if (chance(0.05)) h.push(mutate('X-Odd: value'));
  if (chance(0.03)) h.push(' folded continuation');
  if (chance(0.03)) h.push('NoColonHere');
  if (chance(0.03)) h.push('X-Bin: ' + bytes(int(40)).toString('latin1').replace(/[\r\n]/g, ''));
  if (chance(0.05)) for (let i = 0, n = int(300); i < n; i++) h.push('X-Many-' + i + ': ' + i);

  // framing
  let payload = body;
  const frame = int(8);
  if (frame <= 2) {
    h.push('Content-Length: ' + body.length);
  } else if (frame === 3) {
    h.push('Content-Length: ' + pick([body.length + 1 + int(100), Math.max(0, body.length - 1 - int(10)), '-1', 'abc', '99999999999999999999', body.length + ', ' + (body.length + 1)]));
  } else if (frame <= 6) {
    h.push('Transfer-Encoding: chunked');
    const parts = [];
    let at = 0;
    while (at < body.length) {
      const n = Math.min(body.length - at, 1 + int(500));
      parts.push(Buffer.from(n.toString(16) + (chance(0.05) ? ';ext=1' : '') + '\r\n', 'latin1'), body.subarray(at, at + n), Buffer.from('\r\n'));
      at += n;
    }
    if (chance(0.85)) parts.push(Buffer.from('0\r\n\r\n'));
    else parts.push(Buffer.from(pick(['', '0\r\n', 'zz\r\n', 'ffffffffffffffff\r\nab', '5\r\nab'])));
    payload = Buffer.concat(parts);
  } // else: no framing, the body ends with the connection
  h.push('Connection: close');

  let head = statusLine + '\r\n';
  if (status >= 100 && status < 200 && chance(0.5)) head = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n';
  let out = Buffer.concat([Buffer.from(head + h.join('\r\n') + '\r\n\r\n', 'latin1'), payload]);
  if (chance(0.05)) out = out.subarray(0, int(out.length + 1));   // cut anywhere
  return out;
}

let count = 0;
const server = net.createServer((sock) => {
  let buf = '';
  sock.on('error', () => {});
  sock.on('data', (d) => {
    buf += d.toString('latin1');
    if (buf.indexOf('\r\n\r\n') < 0) return;
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf);
    const need = m ? Number(m[1]) : 0;
    if (buf.length - buf.indexOf('\r\n\r\n') - 4 < need) return;
    const index = count++;
    const out = gen(index, 'http://127.0.0.1:' + server.address().port);
    if (LAST) fs.writeFileSync(LAST, out);
    sock.end(out);
    buf = '';
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ http: 'http://127.0.0.1:' + server.address().port, seed: SEED }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
