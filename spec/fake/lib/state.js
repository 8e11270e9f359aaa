'use strict';
// Everything /__admin/reset puts back: the store, tokens, configuration,
// faults and the request log.  Route modules register their own reset
// hooks (api.onReset) so their state follows the same life cycle.

const { Store } = require('./store');
const { nowSeconds } = require('./util');

const SEED_TOKENS = [
  { token: 'glpat-root', kind: 'private', user: 1, scopes: ['api', 'sudo', 'admin_mode'] },
  { token: 'glpat-alice', kind: 'private', user: 2, scopes: ['api'] },
  { token: 'glpat-alice-read', kind: 'private', user: 2, scopes: ['read_api'] },
  { token: 'glpat-expired', kind: 'private', user: 2, scopes: ['api'], expired: true },
  { token: 'oauth-root', kind: 'oauth', user: 1, scopes: ['api', 'sudo'] },
  { token: 'oauth-expired', kind: 'oauth', user: 1, scopes: ['api'], expired: true },
  { token: 'job-root', kind: 'job', user: 1, scopes: ['api'] },
];

const DEFAULT_CONFIG = {
  external_url: null, // base for Link headers; default: the origin asked
  ratelimit: null, // { limit, observed, reset, window, name, enforce }
  max_url: 8192, // longer request targets get nginx's 414
  log_limit: 100000, // oldest log entries are dropped beyond this
  job_token_strict: false, // job tokens only where GitLab takes them
  // doc/administration/instance_limits.md, "Max offset allowed by the REST
  // API for offset-based pagination": "**Default offset pagination
  // limit**: `50000`." "Set the limit to `0` to disable it." An instance
  // setting (`offset_pagination_limit`), so specs may lower it.
  offset_pagination_limit: 50000,
};

class Tokens {
  constructor() {
    this.map = new Map();
  }

  // rec: { token, kind = 'private'|'oauth'|'job', user = id|username,
  //        expired, expires_at (unix s), expires_in (s), revoked, scopes }
  add(rec, store) {
    if (!rec || typeof rec.token !== 'string' || rec.token === '') throw new Error('token is required');
    const kind = rec.kind || 'private';
    if (!['private', 'oauth', 'job'].includes(kind)) throw new Error('kind must be private, oauth or job');
    let user = rec.user === undefined ? 1 : rec.user;
    if (store) {
      const u = store.findUser(user);
      if (!u) throw new Error('unknown user ' + user);
      user = u.id;
    }
    const t = {
      token: rec.token,
      kind,
      user,
      scopes: rec.scopes || ['api'],
      expired: !!rec.expired,
      revoked: !!rec.revoked,
      expires_at: rec.expires_at || (rec.expires_in ? nowSeconds() + Number(rec.expires_in) : null),
      created_at: nowSeconds(),
    };
    for (const k of Object.keys(rec)) if (!(k in t) && k !== 'expires_in') t[k] = rec[k];
    this.map.set(t.token, t);
    return t;
  }

  get(token) {
    return this.map.get(token) || null;
  }

  remove(token) {
    return this.map.delete(token);
  }

  all() {
    return Array.from(this.map.values());
  }

  isExpired(t) {
    return !!(t.expired || (t.expires_at && nowSeconds() >= t.expires_at));
  }
}

class State {
  constructor() {
    this.resetHooks = [];
    this.urls = {};
    this.seq = 0;
    this.reset();
  }

  reset() {
    this.store = new Store();
    this.store.seed(this.urls.http);
    this.tokens = new Tokens();
    for (const t of SEED_TOKENS) this.tokens.add(t);
    this.config = JSON.parse(JSON.stringify(DEFAULT_CONFIG));
    this.ratelimit = null;
    this.faults = [];
    this.faultSeq = 0;
    this.log = [];
    this.blobs = new Map(); // /objects/... path -> { data, type }
    this.uploads = [];
    for (const fn of this.resetHooks) fn(this);
  }

  setConfig(c) {
    for (const k of Object.keys(c || {})) {
      if (k === 'ratelimit') this.setRateLimit(c.ratelimit);
      else this.config[k] = c[k];
    }
    return this.config;
  }

  setRateLimit(rl) {
    if (!rl) {
      this.config.ratelimit = null;
      this.ratelimit = null;
      return;
    }
    const limit = Number(rl.limit || 2000);
    let reset = rl.reset === undefined ? 60 : Number(rl.reset);
    if (reset < 1e9) reset = nowSeconds() + reset; // seconds from now
    this.ratelimit = {
      limit,
      // `remaining` configures how much of the window is used already
      observed: rl.remaining === undefined ? 0 : Math.max(0, limit - Number(rl.remaining)),
      reset,
      window: Number(rl.window || 60),
      name: rl.name || 'throttle_authenticated_api',
      enforce: rl.enforce !== false,
    };
    this.config.ratelimit = rl;
  }

  record(entry) {
    entry.seq = ++this.seq;
    this.log.push(entry);
    const lim = this.config.log_limit;
    if (lim && this.log.length > lim) this.log.splice(0, this.log.length - lim);
    return entry;
  }
}

module.exports = { State, Tokens, SEED_TOKENS, DEFAULT_CONFIG };
