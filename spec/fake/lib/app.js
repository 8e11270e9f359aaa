'use strict';
// The request pipeline shared by every listener:
//   admin -> read body -> log -> rate limit -> faults -> special endpoints
//   -> route modules -> /api/v4 generic store -> 404
// Handlers only describe replies (ctx.json / ctx.send / ctx.stream); the
// pipeline writes them, which is what lets faults break any reply.

const http = require('http');
const crypto = require('crypto');
const zlib = require('zlib');
const { readBody } = require('./body');
const { parseQuery, isHash, safeDecode, nowSeconds, httpDate, sha256, fillBytes, buildQuery, expand, clone } = require('./util');
const { authenticate, carriers, credential } = require('./auth');
const { paginate } = require('./paginate');
const faults = require('./faults');
const respond = require('./respond');
const special = require('./special');
const { Store } = require('./store');
const { State } = require('./state');

const NEXT = Symbol('next');
const LOG_BODY = 256 << 10; // request bodies up to this size appear in the log
const TEXT_BODY = 1 << 20; // ... and as ctx.bodyText

// ------------------------------------------------------------------- ctx

class Ctx {
  constructor(app, req, res, origin) {
    this.app = app;
    this.state = app.state;
    this.req = req;
    this.res = res;
    this.origin = origin; // 'http' | 'https' | 'other'
    this.baseUrl = app.state.urls[origin] || '';
    this.method = req.method;
    this.headers = cleanHeaders(req.headers);
    this.httpVersion = req.httpVersionMajor === 2 ? 2 : 1;
    // the number server.js gave the connection (HTTP/2: the session's socket)
    this.connection = (req.socket && req.socket.glConnection) || null;
    const url = req.url || '/';
    const qi = url.indexOf('?');
    this.rawPath = qi < 0 ? url : url.slice(0, qi);
    this.rawQuery = qi < 0 ? '' : url.slice(qi + 1);
    const pq = parseQuery(this.rawQuery);
    this.query = pq.params;
    this.queryPairs = pq.pairs;
    this.decodedPath = safeDecode(this.rawPath);
    // Relative URL root: /gitlab/api/v4/... is served like /api/v4/...
    this.prefix = '';
    this.path = this.rawPath;
    const root = app.state.config.relative_url_root;
    if (root && this.rawPath.startsWith(root + '/')) {
      this.prefix = root;
      this.path = this.rawPath.slice(root.length);
    } else if (!this.rawPath.startsWith('/api/v4/') && this.rawPath !== '/api/v4') {
      const m = /^((?:\/[^/_][^/]*)+?)(\/api\/v4(?:\/.*)?)$/.exec(this.rawPath);
      if (m) {
        this.prefix = m[1];
        this.path = m[2];
      }
    }
    this.apiPath = this.path === '/api/v4' ? '' : this.path.startsWith('/api/v4/') ? this.path.slice(7) : null;
    this.params = Object.assign({}, this.query);
    this.user = null;
    this.token = null;
    this.authVia = null;
    this.sudoer = null;
    this.reply = null;
    this.extraHeaders = {};
    this.entry = null;
  }

  get store() {
    return this.state.store;
  }

  get externalUrl() {
    const ext = this.state.config.external_url;
    return ext ? String(ext).replace(/\/+$/, '') : this.baseUrl + this.prefix;
  }

  header(name, value) {
    this.extraHeaders[name.toLowerCase()] = value;
    return this;
  }

  send(status, body, headers) {
    const h = Object.assign({}, lowerKeys(headers));
    let b = body;
    if (b !== null && b !== undefined && !Buffer.isBuffer(b)) {
      b = Buffer.from(String(b));
      if (!h['content-type']) h['content-type'] = 'text/plain; charset=utf-8';
    }
    this.reply = { status, headers: h, body: b || null };
    return this.reply;
  }

  json(status, value, headers) {
    const h = Object.assign({ 'content-type': 'application/json', 'cache-control': 'max-age=0, private, must-revalidate' }, lowerKeys(headers));
    this.reply = { status, headers: h, body: Buffer.from(JSON.stringify(value === undefined ? null : value)) };
    return this.reply;
  }

  stream(status, readable, headers, length) {
    this.reply = { status, headers: lowerKeys(headers), stream: readable, length };
    return this.reply;
  }

  error(status, message) {
    return this.json(status, { message: message || status + ' ' + (http.STATUS_CODES[status] || 'Error') });
  }

  notFound(thing) {
    return this.json(404, thing ? { message: '404 ' + thing + ' Not Found' } : { error: '404 Not Found' });
  }

  redirect(url, status) {
    return this.send(status || 302, Buffer.from('<html><body>You are being <a href="' + url + '">redirected</a>.</body></html>'), {
      location: url,
      'content-type': 'text/html; charset=utf-8',
    });
  }

  paginate(items, opts) {
    return paginate(this, items, opts);
  }

  authenticate(mode) {
    return authenticate(this, mode || 'required');
  }

  // Deterministic bytes reply (Range-aware): { size, seed, type, filename, rate }
  bytes(opts) {
    const o = opts || {};
    const size = Number(o.size || 0);
    const seed = o.seed === undefined ? 'bytes' : String(o.seed);
    const h = { 'content-type': o.type || 'application/octet-stream' };
    if (o.filename) h['content-disposition'] = 'attachment; filename="' + o.filename + '"';
    return special.serveRanged(this, size, (s, e) => special.bytesStream(seed, s, e, o.rate || 0), Object.assign(h, lowerKeys(o.headers)));
  }

  otherUrl(path) {
    return this.state.urls.other + (path || '');
  }
}

// HTTP/2 pseudo-headers are dropped; :authority becomes host, so the log
// looks the same for both protocol versions.
function cleanHeaders(h) {
  let pseudo = false;
  for (const k in h) if (k.charCodeAt(0) === 58) pseudo = true;
  if (!pseudo) return h;
  const o = {};
  if (h.host === undefined && h[':authority'] !== undefined) o.host = h[':authority'];
  for (const k of Object.keys(h)) if (k.charCodeAt(0) !== 58) o[k] = h[k];
  return o;
}

function lowerKeys(h) {
  const o = {};
  for (const k of Object.keys(h || {})) o[k.toLowerCase()] = h[k];
  return o;
}

// ------------------------------------------------------------------- app

class App {
  constructor() {
    this.state = new State();
    this.routes = [];
    this.adminRoutes = [];
    this.modules = [];
    this.loadErrors = [];
    // connections per listener name: { accepted, tls, resumed } (counted
    // by server.js); not part of the state /__admin/reset puts back
    this.connections = {};
    this.connectionSeq = 0;
    this.api = this.makeApi();
  }

  makeApi() {
    const app = this;
    return {
      NEXT,
      route(method, pattern, handler, opts) {
        app.routes.push(compileRoute(method, pattern, handler, opts));
      },
      admin(method, name, handler) {
        app.adminRoutes.push({ method: String(method).toUpperCase(), name: String(name).replace(/^\/+/, ''), handler });
      },
      onReset(fn) {
        app.state.resetHooks.push(fn);
        fn(app.state);
      },
      get state() {
        return app.state;
      },
      get store() {
        return app.state.store;
      },
      get tokens() {
        const st = app.state;
        return {
          add: (rec) => st.tokens.add(rec, st.store),
          get: (t) => st.tokens.get(t),
          remove: (t) => st.tokens.remove(t),
          all: () => st.tokens.all(),
          isExpired: (t) => st.tokens.isExpired(t),
        };
      },
      get urls() {
        return app.state.urls;
      },
      get config() {
        return app.state.config;
      },
      paginate,
      authenticate,
      credential,
      Store,
      util: { parseQuery, buildQuery, sha256, fillBytes, nowSeconds, httpDate, expand, clone, safeDecode },
      log(...args) {
        if (process.env.GITLAB_FAKE_DEBUG) console.error('[fake]', ...args);
      },
    };
  }

  listener(origin) {
    return (req, res) => {
      this.handle(req, res, origin).catch((e) => {
        console.error('[fake] internal error:', e && e.stack ? e.stack : e);
        try {
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ message: '500 Internal Server Error', detail: String(e && e.message) }));
          } else {
            respond.cut({ req, res }, 'rst');
          }
        } catch (e2) {
          /* connection already gone */
        }
      });
    };
  }

  async handle(req, res, origin) {
    const ctx = new Ctx(this, req, res, origin);
    if (ctx.rawPath === '/__admin' || ctx.rawPath.startsWith('/__admin/')) return this.admin(ctx);
    const st = this.state;

    if (req.url.length > st.config.max_url) {
      req.resume();
      ctx.entry = st.record(this.entryFor(ctx, null));
      ctx.send(414, respond.nginxPage(414), { 'content-type': 'text/html' });
      return this.finish(ctx);
    }

    const body = await readBody(req);
    this.parseBody(ctx, body);
    ctx.entry = st.record(this.entryFor(ctx, body));

    // rate limit accounting (main origins)
    const rl = origin !== 'other' ? st.ratelimit : null;
    let limited = false;
    if (rl) {
      const now = nowSeconds();
      if (now >= rl.reset) {
        rl.observed = 0;
        rl.reset = now + rl.window;
      }
      // Rack::Attack counts every request of the window, the refused ones
      // too (lib/gitlab/rack_attack.rb: observed = match_data[:count]).
      rl.observed++;
      if (rl.observed > rl.limit && rl.enforce) limited = true;
    }

    const fault = faults.take(st, ctx);
    let mode;
    if (fault) {
      ctx.entry.fault = { id: fault.id, action: fault.action || null, status: fault.status || null, delay_ms: fault.delay_ms || null };
      if (fault.delay_ms) await respond.sleep(Number(fault.delay_ms));
      if (fault.action === 'reset_before_headers') {
        ctx.entry.status = 0;
        respond.cut(ctx, 'rst');
        return undefined;
      }
      const replaced = fault.action ? faults.actionReply(fault, ctx) : null;
      if (replaced) {
        ctx.reply = replaced;
        ctx.faultReply = true;
      } else if (fault.status !== undefined) {
        ctx.reply = faults.explicitReply(fault);
        ctx.faultReply = true;
      }
      if (['truncate', 'reset_mid_body', 'chunked_cut', 'slow'].includes(fault.action)) mode = fault.action;
    }

    if (!ctx.reply && limited) {
      ctx.send(429, 'Retry later\n', {
        'content-type': 'text/plain',
        'retry-after': String(Math.max(1, rl.reset - nowSeconds())),
        'ratelimit-resettime': httpDate(rl.reset),
      });
    }
    if (!ctx.reply) await this.dispatch(ctx, body);
    if (!ctx.reply) ctx.json(404, { error: '404 Not Found' });
    if (fault && fault.set_headers) faults.setHeaders(fault, ctx);
    if (fault && fault.action === 'huge_headers') {
      Object.assign(ctx.reply.headers, faults.hugeHeaders(fault.size ? Number(fault.size) : 400 * 1024));
      if (fault.status) ctx.reply.status = Number(fault.status);
    }
    if (fault && fault.gzip) {
      // Content-Encoding: gzip, as GitLab's nginx sends JSON: `gzip: true`
      // compresses the fault's reply (a huge_body stream too).
      const r = ctx.reply;
      if (r.stream) {
        r.stream = r.stream.pipe(zlib.createGzip());
        r.length = undefined;
      } else if (r.body) {
        r.body = zlib.gzipSync(r.body);
      }
      r.headers['content-encoding'] = 'gzip';
    }
    if (rl && !ctx.faultReply) {
      // As GitLab's Gitlab::RackAttack.throttled_response_headers
      // (lib/gitlab/rack_attack.rb): RateLimit-Limit is the quota scaled
      // to a 60-second window and rounded up; Remaining is the configured
      // limit minus Observed, never below 0.
      Object.assign(ctx.reply.headers, {
        'ratelimit-name': rl.name,
        'ratelimit-limit': String(Math.ceil((rl.limit * 60) / rl.window)),
        'ratelimit-observed': String(rl.observed),
        'ratelimit-remaining': String(Math.max(0, rl.limit - rl.observed)),
        'ratelimit-reset': String(rl.reset),
      });
    }
    return this.finish(ctx, mode, fault);
  }

  finish(ctx, mode, fault) {
    const r = ctx.reply;
    Object.assign(r.headers, ctx.extraHeaders);
    if (r.headers['x-request-id'] === undefined && ctx.entry) r.headers['x-request-id'] = String(ctx.entry.seq);
    if (ctx.origin !== 'other' && !ctx.faultReply) {
      // Rails' defaults on every API reply, and Rack::ETag + ConditionalGet
      // on JSON GETs.
      if (r.headers.vary === undefined) r.headers.vary = 'Origin';
      if (r.headers['x-content-type-options'] === undefined) r.headers['x-content-type-options'] = 'nosniff';
      if (r.headers['x-frame-options'] === undefined) r.headers['x-frame-options'] = 'SAMEORIGIN';
      const ct = String(r.headers['content-type'] || '');
      if (r.status === 200 && r.body && (ctx.method === 'GET' || ctx.method === 'HEAD') && ct.startsWith('application/json') &&
          r.headers.etag === undefined) {
        r.headers.etag = 'W/"' + crypto.createHash('md5').update(r.body).digest('hex') + '"';
        const inm = ctx.headers['if-none-match'];
        if (inm && inm.split(/\s*,\s*/).includes(r.headers.etag)) {
          r.status = 304;
          r.body = null;
          delete r.headers['content-type'];
        }
      }
    }
    if (ctx.entry) ctx.entry.status = r.status;
    return respond.write(ctx, r, mode, fault || {});
  }

  entryFor(ctx, body) {
    const e = {
      seq: 0,
      time: new Date().toISOString(),
      origin: ctx.origin,
      http_version: ctx.httpVersion,
      connection: ctx.connection,
      method: ctx.method,
      path: ctx.rawPath,
      query: ctx.rawQuery,
      headers: ctx.headers,
      body: null,
      body_size: body ? body.size : 0,
      body_sha256: body ? body.sha256 : null,
      credentials: carriers(ctx.headers, ctx.query),
    };
    if (body && body.size <= LOG_BODY) e.body = body.buf.toString('utf8');
    if (body && body.aborted) e.aborted = true; // the client went away mid-body
    if (ctx.files && ctx.files.length) e.files = ctx.files.map(special.fileView);
    if (ctx.form) e.form = ctx.form;
    return e;
  }

  parseBody(ctx, body) {
    ctx.body = body.buf;
    ctx.bodySize = body.size;
    ctx.bodySha256 = body.sha256;
    ctx.bodyTruncated = body.truncated;
    ctx.bodyText = body.size <= TEXT_BODY ? body.buf.toString('utf8') : null;
    const ct = String(ctx.headers['content-type'] || '').toLowerCase();
    let bodyParams = null;
    if (body.size > 0 && /^application\/([a-z.+-]*\+)?json/.test(ct)) {
      try {
        ctx.jsonBody = JSON.parse(body.buf.toString('utf8'));
        if (isHash(ctx.jsonBody)) bodyParams = ctx.jsonBody;
      } catch (e) {
        ctx.bodyError = 'invalid JSON: ' + e.message;
      }
    } else if (body.size > 0 && ct.startsWith('application/x-www-form-urlencoded')) {
      const f = parseQuery(body.buf.toString('utf8'));
      ctx.form = f.params;
      bodyParams = f.params;
    } else if (body.multipart) {
      const fields = {};
      const files = [];
      for (const p of body.multipart.parts) {
        if (p.filename !== undefined) files.push(p);
        else if (p.name !== undefined) parseQueryInto(fields, p.name, p.content.toString('utf8'));
      }
      ctx.form = fields;
      ctx.files = files;
      if (body.multipart.error) ctx.bodyError = body.multipart.error;
      bodyParams = Object.assign({}, fields);
      for (const p of files) if (p.name) bodyParams[p.name] = special.fileView(p);
    }
    if (bodyParams) Object.assign(ctx.params, bodyParams);
  }

  async dispatch(ctx, body) {
    const origin = ctx.origin;
    if (origin === 'other') {
      if (ctx.rawPath === '/__echo' || ctx.rawPath.startsWith('/__echo/')) return special.echo(ctx);
      if (ctx.rawPath === '/__redirect') return special.redirect(ctx);
      if (ctx.rawPath === '/__bytes') return special.bytes(ctx);
    } else if (ctx.apiPath !== null) {
      const a = ctx.apiPath;
      if (a === '/__echo' || a.startsWith('/__echo/')) return special.echo(ctx);
      if (a === '/__redirect') return special.redirect(ctx);
      if (a === '/__bytes') return special.bytes(ctx);
      const lm = /^\/__loop\/(\d+)$/.exec(a);
      if (lm) return special.loop(ctx, lm[1]);
    }
    // route modules
    const m = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    for (const r of this.routes) {
      if (r.origins && !r.origins.includes(origin)) continue;
      if (!r.methods.includes('*') && !r.methods.includes(ctx.method) && !r.methods.includes(m)) continue;
      const match = r.re.exec(ctx.path);
      if (!match) continue;
      ctx.match = match;
      ctx.pathParams = {};
      if (match.groups) for (const k of Object.keys(match.groups)) ctx.pathParams[k] = match.groups[k] === undefined ? undefined : safeDecode(match.groups[k]);
      let auth = r.auth;
      if (auth === undefined) auth = ctx.path.startsWith('/api/') ? 'required' : 'none';
      if (auth !== 'none' && !ctx.user && !authenticate(ctx, auth)) return undefined;
      ctx.reply = null;
      const out = await r.handler(ctx, this.api);
      if (out === NEXT) {
        ctx.reply = null;
        continue;
      }
      if (!ctx.reply) {
        if (out === undefined) throw new Error('route ' + r.source + ' sent no reply');
        ctx.json(200, out);
      }
      return undefined;
    }
    if (origin === 'other') {
      if ((ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.rawPath.startsWith('/objects/')) return special.object(ctx);
      if (ctx.method === 'PUT' || ctx.method === 'POST') return special.upload(ctx, body);
      return ctx.json(404, { error: '404 Not Found' });
    }
    if (ctx.apiPath !== null) {
      if (!ctx.user && !authenticate(ctx, 'required')) return undefined;
      if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
      return ctx.store.handle(ctx);
    }
    return ctx.json(404, { error: '404 Not Found' });
  }

  // ------------------------------------------------------------- admin

  async admin(ctx) {
    const body = await readBody(ctx.req);
    let data = {};
    if (body.size) {
      try {
        data = JSON.parse(body.buf.toString('utf8'));
      } catch (e) {
        ctx.json(400, { error: 'invalid JSON: ' + e.message });
        return respond.write(ctx, ctx.reply);
      }
    }
    ctx.jsonBody = data;
    try {
      await this.adminDispatch(ctx, data);
    } catch (e) {
      ctx.json(400, { error: String(e && e.message ? e.message : e) });
    }
    if (!ctx.reply) ctx.json(404, { error: 'unknown admin endpoint ' + ctx.method + ' ' + ctx.rawPath });
    return respond.write(ctx, ctx.reply);
  }

  async adminDispatch(ctx, data) {
    const st = this.state;
    const name = ctx.rawPath.replace(/^\/__admin\/?/, '');
    const q = ctx.query;
    const M = ctx.method;
    const ok = (v) => ctx.json(200, v === undefined ? { ok: true } : v);
    if (name === 'reset' && M === 'POST') {
      st.reset();
      return ok();
    }
    if (name === 'urls' && M === 'GET') return ok(st.urls);
    // connections per listener since the start or the last DELETE
    if (name === 'connections') {
      if (M === 'DELETE') {
        for (const n of Object.values(this.connections)) for (const k of Object.keys(n)) n[k] = 0;
        return ok();
      }
      if (M === 'GET') return ok(JSON.parse(JSON.stringify(this.connections)));
    }
    if (name === 'requests') {
      if (M === 'DELETE') {
        st.log = [];
        return ok();
      }
      if (M === 'GET') return ok(filterLog(st.log, q));
    }
    if (name === 'faults') {
      if (M === 'POST') {
        const list = Array.isArray(data) ? data : [data];
        const made = list.map((spec) => faults.compile(spec, ++st.faultSeq));
        st.faults.push(...made);
        return ok(Array.isArray(data) ? made.map(faults.view) : faults.view(made[0]));
      }
      if (M === 'GET') return ok(st.faults.map(faults.view));
      if (M === 'DELETE') {
        st.faults = [];
        return ok();
      }
    }
    const fm = /^faults\/(\d+)$/.exec(name);
    if (fm) {
      const f = st.faults.find((x) => x.id === Number(fm[1]));
      if (!f) return ctx.json(404, { error: 'no such fault' });
      if (M === 'DELETE') {
        st.faults = st.faults.filter((x) => x !== f);
        return ok();
      }
      return ok(faults.view(f));
    }
    if (name === 'config') {
      if (M === 'POST' || M === 'PUT') st.setConfig(data);
      const view = Object.assign({}, st.config);
      if (st.ratelimit) view.ratelimit_state = st.ratelimit;
      return ok(view);
    }
    if (name === 'tokens') {
      if (M === 'POST') return ok(st.tokens.add(data, st.store));
      if (M === 'GET') return ok(st.tokens.all());
    }
    const tm = /^tokens\/(.+)$/.exec(name);
    if (tm && M === 'DELETE') return ok({ removed: st.tokens.remove(safeDecode(tm[1])) });
    if (tm && M === 'GET') {
      const t = st.tokens.get(safeDecode(tm[1]));
      return t ? ok(t) : ctx.json(404, { error: 'no such token' });
    }
    if (name === 'seed' && M === 'POST') return ok(this.seed(data));
    if (name === 'store' && M === 'GET') {
      const path = String(q.path || '');
      const pairs = Store.split(path);
      const r = st.store.resolve(pairs);
      if (r.missing) return ctx.json(404, { error: '404 ' + r.missing + ' Not Found' });
      if (!r.coll) return ctx.json(404, { error: 'bad path' });
      if (r.key === undefined) return ok({ count: r.coll.items.length, items: r.coll.items, singleton: r.coll.singleton });
      return r.item ? ok(r.item) : ctx.json(404, { error: 'no such item' });
    }
    if (name === 'blobs' && M === 'POST') {
      const path = String(data.path || '');
      if (!path.startsWith('/objects/')) throw new Error('path must start with /objects/');
      let buf;
      if (data.base64 !== undefined) buf = Buffer.from(String(data.base64), 'base64');
      else if (data.content !== undefined) buf = Buffer.from(String(data.content));
      else buf = fillBytes(Buffer.alloc(Number(data.size || 0)), data.seed === undefined ? path : String(data.seed), 0);
      st.blobs.set(path, { data: buf, type: data.type });
      return ok({ path, url: st.urls.other + path, size: buf.length, sha256: sha256(buf) });
    }
    if (name === 'uploads' && M === 'GET') return ok(st.uploads);
    if (name === 'routes' && M === 'GET') {
      return ok({ modules: this.modules, errors: this.loadErrors, routes: this.routes.map((r) => ({ methods: r.methods, pattern: String(r.re), source: r.source })) });
    }
    for (const r of this.adminRoutes) {
      if ((r.method === M || r.method === '*') && r.name === name) {
        const out = await r.handler(ctx, data, this.api);
        if (!ctx.reply) ok(out);
        return undefined;
      }
    }
    return undefined;
  }

  // POST /__admin/seed { path, count, template, items, clear }
  seed(data) {
    const st = this.state;
    const path = String(data.path || '');
    const pairs = Store.split(path);
    if (!pairs.length || pairs[pairs.length - 1].key !== undefined) throw new Error('path must name a collection');
    const r = st.store.resolve(pairs);
    if (r.missing) throw new Error('404 ' + r.missing + ' Not Found');
    const c = r.coll;
    if (data.clear) for (const it of c.items.slice()) st.store.remove(c, it);
    const author = st.store.findUser(data.author || 1);
    const ext = st.config.external_url || st.urls.http;
    const made = [];
    const add = (attrs) => {
      const res = st.store.create(c, attrs, author, { externalUrl: ext, validate: false });
      if (res.error) throw new Error(JSON.stringify(res.error.body));
      made.push(res.item);
    };
    if (Array.isArray(data.items)) data.items.forEach(add);
    const count = Number(data.count || 0);
    const tpl = data.template || {};
    const start = c.items.length + 1;
    for (let i = 0; i < count; i++) add(expand(tpl, start + i));
    return {
      path,
      count: made.length,
      total: c.items.length,
      first_id: made.length ? made[0].id : null,
      last_id: made.length ? made[made.length - 1].id : null,
      items: made.length <= 100 ? made : undefined,
    };
  }
}

function parseQueryInto(target, name, value) {
  const p = parseQuery(encodeURIComponent(name) + '=' + encodeURIComponent(value)).params;
  for (const k of Object.keys(p)) {
    if (Array.isArray(target[k]) && Array.isArray(p[k])) target[k].push(...p[k]);
    else if (isHash(target[k]) && isHash(p[k])) Object.assign(target[k], p[k]);
    else target[k] = p[k];
  }
}

function filterLog(log, q) {
  let out = log;
  if (q.since !== undefined) out = out.filter((e) => e.seq > Number(q.since));
  if (q.method) out = out.filter((e) => e.method === String(q.method).toUpperCase());
  if (q.origin) out = out.filter((e) => e.origin === q.origin || (q.origin === 'main' && e.origin !== 'other'));
  if (q.path) out = out.filter((e) => e.path === q.path || safeDecode(e.path) === q.path);
  if (q.path_re) {
    const re = new RegExp(q.path_re);
    out = out.filter((e) => re.test(e.path) || re.test(safeDecode(e.path)));
  }
  if (q.limit) out = out.slice(-Number(q.limit));
  return out;
}

// pattern: RegExp, or '/api/v4/projects/:id/merge_requests/:merge_request_iid/merge'
function compileRoute(method, pattern, handler, opts) {
  if (typeof handler !== 'function') throw new Error('route handler must be a function');
  let re = pattern;
  if (typeof pattern === 'string') {
    const src = pattern
      .split('/')
      .map((seg) => (seg.startsWith(':') ? '(?<' + seg.slice(1).replace(/[^A-Za-z0-9_]/g, '_') + '>[^/]+)' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    re = new RegExp('^' + src + '$');
  }
  if (!(re instanceof RegExp)) throw new Error('route pattern must be a RegExp or a string');
  const o = opts || {};
  const methods = [].concat(method).map((m) => String(m).toUpperCase());
  const stack = new Error().stack.split('\n')[3] || '';
  return { methods, re, handler, auth: o.auth, origins: o.origin ? [].concat(o.origin) : o.origins || ['http', 'https'], source: (/\(?([^()]+:\d+):\d+\)?$/.exec(stack) || [])[1] || '?' };
}

module.exports = { App, Ctx, NEXT };
