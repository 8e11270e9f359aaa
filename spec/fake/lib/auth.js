'use strict';
// GitLab authentication: which credential a request carries, whether it is
// valid, scopes, and Sudo.  Bodies and statuses are GitLab's own.

const UNAUTHORIZED = { message: '401 Unauthorized' };

// Where GitLab accepts CI/CD job tokens (config job_token_strict): method
// list (null = any) and a pattern on the path after /api/v4.
const JOB_TOKEN_ROUTES = [
  [null, /^\/job(\/|$)/],
  [['GET', 'HEAD'], /^\/projects\/[^/]+\/repository\/(branches|tags|commits)(\/|$)/],
  [['GET', 'HEAD'], /^\/projects\/[^/]+\/repository\/files\/[^/]+\/raw$/],
  [null, /^\/projects\/[^/]+\/(deployments|environments|releases|packages|registry|terraform|secure_files)(\/|$)/],
  [null, /^\/projects\/[^/]+\/jobs\/(artifacts\/|[^/]+\/artifacts)/],
  [['GET', 'HEAD'], /^\/projects\/[^/]+\/merge_requests(\/|$)/],
  [['POST'], /^\/projects\/[^/]+\/(trigger\/pipeline|ref\/[^/]+\/trigger\/pipeline)$/],
  [null, /^\/groups\/[^/]+\/-\/packages(\/|$)/],
  [['GET', 'HEAD'], /^\/projects\/[^/]+$/],
];

function jobTokenAllowed(ctx) {
  const p = ctx.apiPath;
  if (p === null || p === undefined) return true;
  return JOB_TOKEN_ROUTES.some(([methods, re]) => (!methods || methods.includes(ctx.method)) && re.test(p));
}

// The credential a request carries: { value, via, kinds } or null.
// via names the carrier (header or query parameter); kinds lists the token
// kinds GitLab accepts through it.
function credential(ctx) {
  const h = ctx.headers;
  const q = ctx.query;
  if (h['private-token'] !== undefined) return { value: h['private-token'], via: 'PRIVATE-TOKEN', kinds: ['private'] };
  if (typeof q.private_token === 'string') return { value: q.private_token, via: 'private_token', kinds: ['private'] };
  if (h.authorization !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(h.authorization);
    if (m) return { value: m[1].trim(), via: 'Authorization', kinds: ['oauth', 'private'] };
  }
  if (typeof q.access_token === 'string') return { value: q.access_token, via: 'access_token', kinds: ['oauth', 'private'] };
  if (h['job-token'] !== undefined) return { value: h['job-token'], via: 'JOB-TOKEN', kinds: ['job'] };
  if (typeof q.job_token === 'string') return { value: q.job_token, via: 'job_token', kinds: ['job'] };
  return null;
}

function expiredReply(ctx, revoked) {
  const desc = revoked
    ? 'Token was revoked. You have to re-authorize from the user.'
    : 'Token is expired. You can either do re-authorization or token refresh.';
  return ctx.json(401, { error: 'invalid_token', error_description: desc }, {
    'www-authenticate': 'Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="' + desc + '"',
  });
}

// Sets ctx.user / ctx.token / ctx.authVia / ctx.sudoer.  mode: 'required'
// (401 without credentials), 'optional' (anonymous allowed; a bad token is
// still a 401).  Returns true to go on, false when a reply was sent.
function authenticate(ctx, mode) {
  const state = ctx.state;
  const cred = credential(ctx);
  ctx.user = null;
  ctx.token = null;
  ctx.authVia = null;
  if (!cred) {
    if (mode === 'optional') return true;
    ctx.json(401, UNAUTHORIZED);
    return false;
  }
  const t = state.tokens.get(cred.value);
  if (!t || !cred.kinds.includes(t.kind)) {
    ctx.json(401, UNAUTHORIZED);
    return false;
  }
  if (t.revoked) {
    expiredReply(ctx, true);
    return false;
  }
  if (state.tokens.isExpired(t)) {
    expiredReply(ctx, false);
    return false;
  }
  if (t.kind === 'job' && state.config.job_token_strict && !jobTokenAllowed(ctx)) {
    ctx.json(401, UNAUTHORIZED);
    return false;
  }
  const user = state.store.findUser(t.user);
  if (!user || user.state === 'blocked') {
    ctx.json(401, UNAUTHORIZED);
    return false;
  }
  // read_api (and read_user) tokens may only read
  const scopes = t.scopes || ['api'];
  if (!scopes.includes('api') && !['GET', 'HEAD'].includes(ctx.method)) {
    ctx.json(403, {
      error: 'insufficient_scope',
      error_description: 'The request requires higher privileges than provided by the access token.',
      scope: 'api',
    });
    return false;
  }
  ctx.user = user;
  ctx.token = t;
  ctx.authVia = cred.via;
  if (ctx.entry) ctx.entry.user = user.username;
  const sudo = ctx.headers.sudo !== undefined ? ctx.headers.sudo : ctx.query.sudo;
  if (sudo !== undefined && sudo !== '') {
    if (!user.is_admin) {
      ctx.json(403, { message: '403 Forbidden - Must be admin to use sudo' });
      return false;
    }
    if (t.kind === 'job') {
      ctx.json(403, { message: '403 Forbidden - Must be authenticated using an OAuth or Personal Access Token to use sudo' });
      return false;
    }
    if (!scopes.includes('sudo')) {
      ctx.json(403, {
        error: 'insufficient_scope',
        error_description: 'The request requires higher privileges than provided by the access token.',
        scope: 'sudo',
      });
      return false;
    }
    const target = state.store.findUser(sudo);
    if (!target) {
      ctx.json(404, { message: "404 User with ID or username '" + sudo + "' Not Found" });
      return false;
    }
    ctx.sudoer = user;
    ctx.user = target;
    if (ctx.entry) {
      ctx.entry.user = target.username;
      ctx.entry.sudo_from = user.username;
    }
  }
  return true;
}

// Which credential carriers a request has (for the log; values omitted).
function carriers(headers, query) {
  const out = [];
  for (const h of ['private-token', 'authorization', 'job-token']) if (headers[h] !== undefined) out.push(h);
  for (const q of ['private_token', 'access_token', 'job_token']) if (query[q] !== undefined) out.push(q);
  return out;
}

module.exports = { authenticate, credential, carriers, UNAUTHORIZED, expiredReply };
