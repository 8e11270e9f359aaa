#!/usr/bin/env node
'use strict';
// Fake GitLab server for lua-gitlab's tests and `make demo`.
//
//   node spec/fake/server.js [--tls-cert F --tls-key F] [--port N]
//
// Listens on 127.0.0.1 and prints one JSON line once every listener is up:
//   {"http":"http://127.0.0.1:P1","other":"http://127.0.0.1:P2","https":"https://127.0.0.1:P3"}
// Exits when its stdin (a pipe) closes, and on SIGTERM/SIGINT.
// See spec/fake/README.md for the admin API and the route-module interface.

const fs = require('fs');
const path = require('path');
const http = require('http');
const http2 = require('http2');
const { App } = require('./lib/app');

function usage(msg) {
  if (msg) process.stderr.write('server.js: ' + msg + '\n');
  process.stderr.write(
    'usage: node spec/fake/server.js [--tls-cert FILE --tls-key FILE] [--port N]\n' +
    '         [--tls-dir DIR] [--other-port N] [--https-port N] [--host ADDR]\n' +
    '         [--routes DIR]\n' +
    '         [--external-url URL] [--no-stdin-exit] [--rm-on-exit TMPDIR]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { host: '127.0.0.1', port: 0, otherPort: 0, httpsPort: 0, stdinExit: true };
  const need = (i) => {
    if (i + 1 >= argv.length) usage(argv[i] + ' needs a value');
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--tls-cert': o.cert = need(i); i++; break;
      case '--tls-key': o.key = need(i); i++; break;
      case '--port': o.port = Number(need(i)); i++; break;
      case '--other-port': o.otherPort = Number(need(i)); i++; break;
      case '--https-port': o.httpsPort = Number(need(i)); i++; break;
      case '--tls-dir': o.tlsDir = need(i); i++; break;
      case '--host': o.host = need(i); i++; break;
      case '--routes': o.routes = need(i); i++; break;
      case '--external-url': o.externalUrl = need(i); i++; break;
      case '--no-stdin-exit': o.stdinExit = false; break;
      case '--rm-on-exit': o.rmOnExit = need(i); i++; break;
      case '-h': case '--help': usage(); break;
      default: usage('unknown option ' + a);
    }
  }
  if (!!o.cert !== !!o.key) usage('--tls-cert and --tls-key go together');
  if (o.tlsDir && !o.cert) {
    o.cert = path.join(o.tlsDir, 'server.pem');
    o.key = path.join(o.tlsDir, 'server.key');
  }
  return o;
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve(server.address().port);
    });
  });
}

function quietErrors(server) {
  const drop = (err, socket) => {
    if (socket && !socket.destroyed) socket.destroy();
  };
  // Malformed requests get what nginx would send, not a silent reset.
  server.on('clientError', (err, socket) => {
    if (!socket || socket.destroyed) return;
    if (socket.writable && err && err.code !== 'ECONNRESET') {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end('HTTP/1.1 ' + status + '\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    } else {
      socket.destroy();
    }
  });
  server.on('tlsClientError', drop);
  server.on('sessionError', () => {});
  server.on('error', (e) => console.error('[fake] server error:', e.message));
}

function plainServer(handler) {
  const s = http.createServer({ maxHeaderSize: 256 * 1024, requestTimeout: 0, keepAlive: true }, handler);
  s.keepAliveTimeout = 65000;
  s.headersTimeout = 70000;
  s.timeout = 0;
  quietErrors(s);
  return s;
}

// Counts the connections each listener accepts (GET /__admin/connections:
// TCP connections, and on TLS listeners the finished handshakes and those
// that resumed a TLS session) and numbers them: every request's log entry
// names its connection, so a test can tell one multiplexed HTTP/2
// connection from many. A TLS connection gets its number once the
// handshake is done (the socket the requests see is the TLS one).
function countConnections(app, server, name, tls) {
  const n = { accepted: 0 };
  if (tls) Object.assign(n, { tls: 0, resumed: 0 });
  app.connections[name] = n;
  server.on('connection', (socket) => {
    n.accepted++;
    if (!tls) socket.glConnection = ++app.connectionSeq;
  });
  if (tls) {
    server.on('secureConnection', (socket) => {
      n.tls++;
      if (socket.isSessionReused()) n.resumed++;
      socket.glConnection = ++app.connectionSeq;
    });
  }
}

function loadRoutes(app, dir) {
  let files = [];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  } catch (e) {
    return;
  }
  for (const f of files) {
    try {
      const mod = require(path.join(dir, f));
      const fn = typeof mod === 'function' ? mod : mod && mod.register;
      if (typeof fn !== 'function') throw new Error('module must export function (api)');
      fn(app.api);
      app.modules.push(f);
    } catch (e) {
      console.error('[fake] route module ' + f + ' failed to load: ' + (e && e.stack ? e.stack : e));
      app.loadErrors.push({ file: f, error: String(e && e.message ? e.message : e) });
    }
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const app = new App();
  const servers = [];

  const main = plainServer(app.listener('http'));
  const other = plainServer(app.listener('other'));
  servers.push(main, other);
  countConnections(app, main, 'http', false);
  countConnections(app, other, 'other', false);
  const urls = {};
  const host = opts.host.includes(':') ? '[' + opts.host + ']' : opts.host;
  urls.http = 'http://' + host + ':' + (await listen(main, opts.port, opts.host));
  urls.other = 'http://' + host + ':' + (await listen(other, opts.otherPort, opts.host));
  const tls = async (name, cert, key, port) => {
    const secure = http2.createSecureServer({
      cert: fs.readFileSync(cert),
      key: fs.readFileSync(key),
      allowHTTP1: true,
      maxSendHeaderBlockLength: 4 << 20,
      maxSessionMemory: 64,
      settings: { maxHeaderListSize: 1 << 20 },
    }, app.listener(name));
    quietErrors(secure);
    countConnections(app, secure, name, true);
    servers.push(secure);
    urls[name] = 'https://' + host + ':' + (await listen(secure, port, opts.host));
  };
  if (opts.cert) await tls('https', opts.cert, opts.key, opts.httpsPort);
  // --tls-dir also serves the broken certificates of certs.sh
  if (opts.tlsDir) {
    for (const [name, base] of [['https_expired', 'expired'], ['https_wrong_host', 'wrong-host']]) {
      const cert = path.join(opts.tlsDir, base + '.pem');
      if (fs.existsSync(cert)) await tls(name, cert, path.join(opts.tlsDir, base + '.key'), 0);
    }
  }
  app.state.urls = urls;
  loadRoutes(app, opts.routes || path.join(__dirname, 'routes'));
  app.state.reset();
  if (opts.externalUrl) app.state.setConfig({ external_url: opts.externalUrl });

  const stop = () => {
    // a scratch directory of the harness (certs, our stdout/stderr files)
    if (opts.rmOnExit) {
      const dir = path.resolve(opts.rmOnExit);
      const tmp = path.resolve(require('os').tmpdir());
      if (dir.startsWith(tmp + path.sep)) {
        try {
          fs.rmSync(dir, { recursive: true, force: true });
        } catch (e) {
          /* best effort */
        }
      }
    }
    for (const s of servers) {
      try {
        s.close();
      } catch (e) {
        /* already closed */
      }
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', stop);
  process.on('uncaughtException', (e) => console.error('[fake] uncaught:', e && e.stack ? e.stack : e));
  process.on('unhandledRejection', (e) => console.error('[fake] unhandled rejection:', e && e.stack ? e.stack : e));

  // Exit with the parent: only a pipe or socket on stdin is watched (a
  // terminal or /dev/null would end the server at once under `make demo`).
  if (opts.stdinExit) {
    let watch = false;
    try {
      const st = fs.fstatSync(0);
      watch = st.isFIFO() || st.isSocket();
    } catch (e) {
      watch = false;
    }
    if (watch) {
      process.stdin.on('data', () => {});
      process.stdin.on('end', stop);
      process.stdin.on('close', stop);
      process.stdin.on('error', stop);
      process.stdin.resume();
    }
  }
  const line = Object.assign({}, urls);
  if (opts.tlsDir) line.certs = path.resolve(opts.tlsDir); // for helpers.certs() under GITLAB_FAKE
  process.stdout.write(JSON.stringify(line) + '\n');
}

main().catch((e) => {
  console.error('[fake] failed to start: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
