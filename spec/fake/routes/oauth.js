'use strict';
// GitLab as an OAuth 2 provider (Doorkeeper), as GitLab's doc/api/oauth2.md
// describes it (with doc/integration/oauth_provider.md,
// doc/integration/openid_connect_provider.md, and GitLab's
// config/initializers/doorkeeper.rb where the docs leave a gap):
//
//   GET  /oauth/authorize          authorization code, with or without PKCE
//                                  (S256); the fake user is signed in and
//                                  approves at once (or denies: POST
//                                  /__admin/oauth {deny})
//   POST /oauth/token              grants: authorization_code, refresh_token,
//                                  device_code, password
//   POST /oauth/authorize_device   device authorization (RFC 8628)
//   GET  /oauth/token/info         Doorkeeper's token info
//   POST /oauth/revoke             RFC 7009
//   POST /oauth/register           dynamic client registration (RFC 7591)
//   GET|POST /oauth/userinfo       OpenID Connect claims (openid scope)
//
// What the docs say and the fake does:
// - PKCE is optional (doc/api/oauth2.md lists "Authorization code" without
//   it; Doorkeeper's force_pkce is not set), except for dynamically
//   registered apps (require_pkce). A challenge must come with
//   code_challenge_method=S256, the only method the docs describe: no
//   method (Doorkeeper refuses that too) or "plain" is invalid_request.
// - A confidential app authenticates with its secret on every request to
//   the token, device and revoke endpoints, PKCE or not (the docs' examples
//   send client_secret; Doorkeeper finds the app by uid and secret). A
//   public app sends its client_id alone.
// - A refresh may send redirect_uri and code_verifier (doc/api/oauth2.md,
//   PKCE flow step 3); when sent they must be those of the original
//   authorization request ("The redirect_uri must match the redirect_uri
//   used in the original authorization request"), else invalid_grant.
// - Token responses are the docs' examples: authorization code and refresh
//   {access_token, token_type "bearer", expires_in, refresh_token,
//   created_at}; device {access_token, token_type "Bearer", expires_in,
//   scope, created_at} (a refresh token too with the admin setting
//   device_refresh_token); password {access_token, token_type "bearer",
//   expires_in}.
// - The device endpoint asks for polls every 5 seconds ("interval": 5);
//   specs that do not want to wait set device_interval or pass a sleep.
//
// Access tokens it issues are real API tokens of kind "oauth" in the
// server's token table, so /api/v4 accepts them, and answers 401
// invalid_token once they expire or are revoked.
//
// Admin (JSON):
//   POST /__admin/oauth          { device_script: ["authorization_pending",
//                                  "slow_down", "approved"], device_interval
//                                  (5), device_expires_in, expires_in, deny,
//                                  user, device_refresh_token (false) }
//                                  -> settings
//   GET  /__admin/oauth          settings, apps, live codes and devices
//   POST /__admin/oauth/expire   { token } marks an issued access token expired
//   POST /__admin/oauth/browse   { url, state?, delay_ms? } plays the browser:
//                                  GET url (an authorize URL) here, then GET
//                                  the Location it redirects to (the app's
//                                  loopback listener), `state` replacing the
//                                  state in it when given. Replies at once.
//   GET  /__admin/oauth/browser  what that browser saw: { status, body, url }
//
// Device polls follow device_script by poll count (the last entry repeats),
// so specs drive pending -> slow_down -> success without waiting.

const crypto = require('crypto');
const http = require('http');

// Seeded applications (client ids are readable on purpose).
const SEED_APPS = [
  {
    client_id: 'lua-gitlab-public',
    client_secret: null,
    name: 'lua-gitlab (public)',
    redirect_uris: ['http://127.0.0.1/callback', 'http://127.0.0.1:7171/callback', 'http://localhost:7171/callback'],
    scopes: ['api', 'read_api', 'read_user', 'read_repository', 'write_repository', 'openid', 'profile', 'email'],
    confidential: false,
  },
  {
    client_id: 'lua-gitlab-confidential',
    client_secret: 'lua-gitlab-secret',
    name: 'lua-gitlab (confidential)',
    redirect_uris: ['http://127.0.0.1/callback', 'https://app.example/oauth/callback'],
    // a web application signing users in: OpenID Connect's scopes too
    // (doc/integration/openid_connect_provider.md, "Enable OIDC for OAuth
    // applications": select the `openid` scope)
    scopes: ['api', 'read_api', 'read_user', 'openid', 'profile', 'email'],
    confidential: true,
  },
];

const DEFAULTS = {
  device_script: ['authorization_pending', 'slow_down', 'approved'],
  device_interval: 5, // doc/api/oauth2.md: "interval": 5
  device_expires_in: 300,
  expires_in: 7200,
  deny: false,
  user: 1,
  // doc/api/oauth2.md's device grant example has no refresh token; specs
  // that want a pair from the device flow turn this on.
  device_refresh_token: false,
};

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// Doorkeeper's messages (config/locales/doorkeeper.en.yml)
const DESCRIPTIONS = {
  invalid_request: 'The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.',
  invalid_client: 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
  invalid_grant: 'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
  unsupported_grant_type: 'The authorization grant type is not supported by the authorization server.',
  unsupported_response_type: 'The authorization server does not support this response type.',
  invalid_scope: 'The requested scope is invalid, unknown, or malformed.',
  invalid_redirect_uri: 'The requested redirect uri is malformed or doesn\'t match client redirect URI.',
  access_denied: 'The resource owner or authorization server denied the request.',
  unauthorized_client: 'You are not authorized to revoke this token',
  authorization_pending: 'The authorization request is still pending as the end user hasn\'t yet completed the user interaction steps.',
  slow_down: 'The authorization request is still pending and polling should continue, but the interval MUST be increased by 5 seconds for this and all subsequent requests.',
  expired_token: 'The device_code has expired, and the device authorization session has concluded.',
};

function randomToken(bytes) {
  return crypto.randomBytes(bytes || 32).toString('hex');
}

function s256(verifier) {
  return crypto.createHash('sha256').update(verifier).digest('base64url');
}

function now() {
  return Math.floor(Date.now() / 1000);
}

function isLoopbackHost(h) {
  return h === '127.0.0.1' || h === '[::1]' || h === '::1' || /^127\./.test(h);
}

// RFC 8252 section 7.3: for a loopback IP redirect the port is not
// compared (native apps listen on whatever port is free).
function redirectMatches(registered, given) {
  if (registered === given) return true;
  let a;
  let b;
  try {
    a = new URL(registered);
    b = new URL(given);
  } catch (e) {
    return false;
  }
  if (a.protocol !== 'http:' || b.protocol !== 'http:') return false;
  if (!isLoopbackHost(a.hostname) || a.hostname !== b.hostname) return false;
  return a.pathname === b.pathname && a.search === b.search;
}

module.exports = function oauth(api) {
  let apps;
  let codes; // code -> { client_id, redirect_uri, challenge, method, scopes, user, expires_at }
  let refresh; // refresh token -> { access_token, client_id, scopes, user }
  let devices; // device_code -> { client_id, user_code, scopes, polls, expires_at, done }
  let settings;
  let browser; // last simulated browser visit

  api.onReset(() => {
    apps = new Map(SEED_APPS.map((a) => [a.client_id, Object.assign({}, a)]));
    codes = new Map();
    refresh = new Map();
    devices = new Map();
    settings = JSON.parse(JSON.stringify(DEFAULTS));
    browser = null;
  });

  function oauthError(ctx, status, error, description, extraHeaders) {
    return ctx.json(status, { error, error_description: description || DESCRIPTIONS[error] || error }, extraHeaders);
  }

  function invalidClient(ctx) {
    return oauthError(ctx, 401, 'invalid_client', null, {
      'www-authenticate': 'Bearer realm="Doorkeeper", error="invalid_client", error_description="' + DESCRIPTIONS.invalid_client + '"',
    });
  }

  // Client credentials from the body or HTTP Basic.
  function clientCredentials(ctx) {
    const p = ctx.params;
    let id = typeof p.client_id === 'string' ? p.client_id : undefined;
    let secret = typeof p.client_secret === 'string' ? p.client_secret : undefined;
    const auth = ctx.headers.authorization;
    const m = auth && /^Basic\s+(.+)$/i.exec(auth);
    if (m) {
      const dec = Buffer.from(m[1], 'base64').toString('utf8');
      const i = dec.indexOf(':');
      if (i > 0) {
        id = decodeURIComponent(dec.slice(0, i));
        secret = decodeURIComponent(dec.slice(i + 1));
      }
    }
    return { id, secret };
  }

  // The application, or null after replying 401. As Doorkeeper's
  // by_uid_and_secret: a confidential app must send its secret, on every
  // grant, PKCE or not (doc/api/oauth2.md's examples send client_secret;
  // doc/integration/oauth_provider.md: the secret of a confidential app
  // is kept confidential, a public app has none to send); a wrong secret
  // is refused in every case.
  function authClient(ctx) {
    const c = clientCredentials(ctx);
    const app = c.id ? apps.get(c.id) : null;
    if (!app) {
      invalidClient(ctx);
      return null;
    }
    if (c.secret !== undefined && c.secret !== '' && app.client_secret !== c.secret) {
      invalidClient(ctx);
      return null;
    }
    if (app.confidential && (c.secret === undefined || c.secret === '')) {
      invalidClient(ctx);
      return null;
    }
    return app;
  }

  function scopesOf(str, app) {
    const list = String(str || '').split(/[\s+]+/).filter(Boolean);
    if (list.length === 0) return app.scopes.includes('api') ? ['api'] : app.scopes.slice(0, 1);
    return list;
  }

  function validScopes(list, app) {
    return list.every((s) => app.scopes.includes(s));
  }

  // Issue an access token (an API token from then on) and, unless
  // shape.refresh is false, a refresh token; the reply has the fields of
  // doc/api/oauth2.md's example for the grant (shape.scope,
  // shape.token_type, shape.created_at). shape.binding: what a refresh
  // must match (redirect_uri, challenge, method of the authorization).
  function issue(app, scopes, user, shape) {
    shape = shape || {};
    const access = randomToken(32);
    const t = api.tokens.add({
      token: access,
      kind: 'oauth',
      user,
      scopes,
      expires_in: settings.expires_in,
      client_id: app.client_id,
      oauth_issued: true,
    });
    const reply = {
      access_token: access,
      token_type: shape.token_type || 'bearer',
      expires_in: settings.expires_in,
    };
    if (shape.scope) reply.scope = scopes.join(' ');
    if (shape.created_at !== false) reply.created_at = t.created_at;
    if (shape.refresh !== false) {
      const rt = randomToken(32);
      refresh.set(rt, { access_token: access, client_id: app.client_id, scopes, user, binding: shape.binding || null });
      t.refresh_token = rt;
      reply.refresh_token = rt;
    }
    return reply;
  }

  function revokeAccess(access) {
    const t = api.tokens.get(access);
    if (t) t.revoked = true;
    if (t && t.refresh_token) refresh.delete(t.refresh_token);
  }

  // ------------------------------------------------------------ authorize

  // Returns { status, location } or { status, page } like the real endpoint.
  function authorize(q, extUrl) {
    const app = typeof q.client_id === 'string' ? apps.get(q.client_id) : null;
    const page = (status, error) => ({
      status,
      page: '<!DOCTYPE html><html><head><title>An error has occurred</title></head><body><h1>An error has occurred</h1><p>' +
        DESCRIPTIONS[error] + '</p></body></html>',
      error,
    });
    if (!app) return page(401, 'invalid_client');
    const redirectUri = typeof q.redirect_uri === 'string' ? q.redirect_uri : '';
    if (!redirectUri || !app.redirect_uris.some((r) => redirectMatches(r, redirectUri))) {
      return page(400, 'invalid_redirect_uri');
    }
    const back = (params) => {
      const u = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
      if (q.state !== undefined) u.searchParams.set('state', q.state);
      return { status: 302, location: u.toString() };
    };
    const err = (error, description) => back({ error, error_description: description || DESCRIPTIONS[error] });
    if (q.response_type !== 'code') return err('unsupported_response_type');
    const scopes = scopesOf(q.scope, app);
    if (!validScopes(scopes, app)) return err('invalid_scope');
    let challenge = null;
    let method = null;
    if (q.code_challenge !== undefined && q.code_challenge !== '') {
      // doc/api/oauth2.md: code_challenge_method=S256, the challenge "a
      // URL-safe base64-encoded string of the SHA256 hash of the
      // CODE_VERIFIER". No plain, no default method (Doorkeeper's
      // validate_code_challenge_method refuses a challenge without one).
      method = q.code_challenge_method;
      if (method !== 'S256') return err('invalid_request', 'The code_challenge_method must be S256.');
      challenge = String(q.code_challenge);
      if (!/^[A-Za-z0-9\-_]{43}$/.test(challenge)) return err('invalid_request', 'Invalid code_challenge.');
    } else if (app.require_pkce) {
      // dynamically registered apps (app/controllers/oauth/
      // dynamic_registrations_controller.rb) must use PKCE
      return err('invalid_request', 'PKCE is required for this application: code_challenge is missing.');
    }
    if (settings.deny) return err('access_denied');
    const code = randomToken(32);
    codes.set(code, {
      client_id: app.client_id,
      redirect_uri: redirectUri,
      challenge,
      method,
      scopes,
      user: settings.user,
      expires_at: now() + 600,
    });
    void extUrl;
    return back({ code });
  }

  api.route('GET', '/oauth/authorize', (ctx) => {
    const r = authorize(ctx.query, ctx.externalUrl);
    if (r.location) return ctx.redirect(r.location, 302);
    return ctx.send(r.status, r.page, { 'content-type': 'text/html; charset=utf-8' });
  });

  // ---------------------------------------------------------------- token

  function grantAuthorizationCode(ctx) {
    const p = ctx.params;
    const rec = typeof p.code === 'string' ? codes.get(p.code) : null;
    const app = authClient(ctx);
    if (!app) return undefined;
    if (!rec || rec.client_id !== app.client_id || rec.expires_at < now()) {
      if (rec) codes.delete(p.code);
      return oauthError(ctx, 400, 'invalid_grant');
    }
    if (p.redirect_uri !== rec.redirect_uri) return oauthError(ctx, 400, 'invalid_grant');
    if (rec.challenge) {
      const v = typeof p.code_verifier === 'string' ? p.code_verifier : '';
      if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(v)) return oauthError(ctx, 400, 'invalid_grant');
      if (s256(v) !== rec.challenge) return oauthError(ctx, 400, 'invalid_grant');
    } else if (p.code_verifier !== undefined) {
      return oauthError(ctx, 400, 'invalid_grant');
    }
    codes.delete(p.code); // single use
    return ctx.json(200, issue(app, rec.scopes, rec.user, {
      binding: { redirect_uri: rec.redirect_uri, challenge: rec.challenge },
    }));
  }

  function grantRefresh(ctx) {
    const p = ctx.params;
    const app = authClient(ctx);
    if (!app) return undefined;
    const rec = typeof p.refresh_token === 'string' ? refresh.get(p.refresh_token) : null;
    if (!rec || rec.client_id !== app.client_id) return oauthError(ctx, 400, 'invalid_grant');
    // doc/api/oauth2.md, PKCE flow step 3: the refresh sends redirect_uri
    // (and, in the docs' earlier example, code_verifier); "The redirect_uri
    // must match the redirect_uri used in the original authorization
    // request." Checked when sent; a refused refresh leaves the token as is.
    const b = rec.binding;
    if (p.redirect_uri !== undefined && (!b || p.redirect_uri !== b.redirect_uri)) {
      return oauthError(ctx, 400, 'invalid_grant');
    }
    if (p.code_verifier !== undefined &&
        (!b || !b.challenge || typeof p.code_verifier !== 'string' || s256(p.code_verifier) !== b.challenge)) {
      return oauthError(ctx, 400, 'invalid_grant');
    }
    // GitLab invalidates the old access AND refresh token.
    refresh.delete(p.refresh_token);
    revokeAccess(rec.access_token);
    return ctx.json(200, issue(app, rec.scopes, rec.user, { binding: b }));
  }

  function grantDevice(ctx) {
    const p = ctx.params;
    const app = authClient(ctx);
    if (!app) return undefined;
    const d = typeof p.device_code === 'string' ? devices.get(p.device_code) : null;
    if (!d || d.client_id !== app.client_id || d.done) return oauthError(ctx, 400, 'invalid_grant');
    if (now() >= d.expires_at) {
      devices.delete(p.device_code);
      return oauthError(ctx, 400, 'expired_token');
    }
    const script = d.script;
    const step = script[Math.min(d.polls, script.length - 1)];
    d.polls++;
    if (step === 'approved') {
      d.done = true;
      // doc/api/oauth2.md's device success example: "Bearer", a scope, no
      // refresh token
      return ctx.json(200, issue(app, d.scopes, settings.user, {
        token_type: 'Bearer', scope: true, refresh: !!settings.device_refresh_token,
      }));
    }
    if (step === 'denied' || step === 'access_denied') {
      d.done = true;
      return oauthError(ctx, 400, 'access_denied');
    }
    if (step === 'expired' || step === 'expired_token') {
      devices.delete(p.device_code);
      return oauthError(ctx, 400, 'expired_token');
    }
    return oauthError(ctx, 400, step === 'slow_down' ? 'slow_down' : 'authorization_pending');
  }

  function grantPassword(ctx) {
    const p = ctx.params;
    const c = clientCredentials(ctx);
    let app = null;
    if (c.id) {
      app = authClient(ctx);
      if (!app) return undefined;
    }
    const user = typeof p.username === 'string' ? api.store.findUser(p.username) : null;
    // Fake users' password is "<username>-password".
    if (!user || p.password !== user.username + '-password') return oauthError(ctx, 400, 'invalid_grant');
    const pseudo = app || { client_id: null, scopes: ['api'] };
    const scopes = p.scope ? scopesOf(p.scope, pseudo) : ['api'];
    // doc/api/oauth2.md's password example: three fields
    return ctx.json(200, issue(pseudo, scopes, user.id, { refresh: false, created_at: false }));
  }

  api.route('POST', '/oauth/token', (ctx) => {
    const g = ctx.params.grant_type;
    if (!g) return oauthError(ctx, 400, 'invalid_request', 'Missing required parameter: grant_type.');
    if (g === 'authorization_code') return grantAuthorizationCode(ctx);
    if (g === 'refresh_token') return grantRefresh(ctx);
    if (g === DEVICE_GRANT) return grantDevice(ctx);
    if (g === 'password') return grantPassword(ctx);
    return oauthError(ctx, 400, 'unsupported_grant_type');
  });

  // ------------------------------------------------------- device grant

  api.route('POST', '/oauth/authorize_device', (ctx) => {
    const app = authClient(ctx);
    if (!app) return undefined;
    const scopes = scopesOf(ctx.params.scope, app);
    if (!validScopes(scopes, app)) return oauthError(ctx, 400, 'invalid_scope');
    const deviceCode = crypto.randomBytes(30).toString('base64url');
    const userCode = crypto.randomBytes(5).toString('hex').toUpperCase().slice(0, 8);
    devices.set(deviceCode, {
      client_id: app.client_id,
      user_code: userCode,
      scopes,
      polls: 0,
      script: settings.device_script.slice(),
      expires_at: now() + Number(settings.device_expires_in),
      done: false,
    });
    const base = ctx.externalUrl;
    return ctx.json(200, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: base + '/oauth/device',
      verification_uri_complete: base + '/oauth/device?user_code=' + userCode,
      expires_in: Number(settings.device_expires_in),
      interval: Number(settings.device_interval),
    });
  });

  // ----------------------------------------------------------- token info

  api.route('GET', '/oauth/token/info', (ctx) => {
    const cred = api.credential(ctx);
    const value = cred && (cred.via === 'Authorization' || cred.via === 'access_token') ? cred.value : null;
    const t = value ? api.tokens.get(value) : null;
    const unauthorized = (desc) =>
      oauthError(ctx, 401, 'invalid_token', desc, {
        'www-authenticate': 'Bearer realm="Doorkeeper", error="invalid_token", error_description="' + desc + '"',
      });
    if (!t || t.kind !== 'oauth') return unauthorized('The access token is invalid');
    if (t.revoked) return unauthorized('The access token was revoked');
    if (api.tokens.isExpired(t)) return unauthorized('The access token expired');
    const expiresIn = t.expires_at ? Math.max(0, t.expires_at - now()) : null;
    return ctx.json(200, {
      resource_owner_id: t.user,
      scope: t.scopes,
      expires_in: expiresIn,
      application: { uid: t.client_id || null },
      created_at: t.created_at,
      scopes: t.scopes,
      expires_in_seconds: expiresIn,
    });
  });

  // ------------------------------------------------------------- userinfo

  // doc/integration/openid_connect_provider.md: the claims "Included in
  // userinfo endpoint", for a token with the openid scope
  // (doorkeeper-openid_connect's UserinfoController runs
  // doorkeeper_authorize! :openid). The token comes as GitLab's
  // access_token_methods take it (config/initializers/doorkeeper.rb:
  // access_token parameter, Authorization: Bearer, bearer_token parameter).
  // Doorkeeper's refusals: no, unknown, expired or revoked token (personal
  // access tokens are not Doorkeeper's) -> 401 invalid_token with
  // WWW-Authenticate; a token without openid -> 403 invalid_scope, no
  // WWW-Authenticate.
  function userinfo(ctx) {
    const h = ctx.headers.authorization;
    const m = typeof h === 'string' && /^Bearer\s+(.+)$/i.exec(h);
    const q = ctx.query;
    const value = typeof q.access_token === 'string' ? q.access_token
      : m ? m[1].trim() : typeof q.bearer_token === 'string' ? q.bearer_token : null;
    const t = value ? api.tokens.get(value) : null;
    const unauthorized = (desc) =>
      oauthError(ctx, 401, 'invalid_token', desc, {
        'www-authenticate': 'Bearer realm="Doorkeeper", error="invalid_token", error_description="' + desc + '"',
      });
    if (!t || t.kind !== 'oauth' || !t.oauth_issued) return unauthorized('The access token is invalid');
    if (t.revoked) return unauthorized('The access token was revoked');
    if (api.tokens.isExpired(t)) return unauthorized('The access token expired');
    const scopes = t.scopes || [];
    if (!scopes.includes('openid')) {
      return oauthError(ctx, 403, 'invalid_scope', 'Access to this resource requires scope "openid".');
    }
    const user = api.store.findUser(t.user);
    if (!user) return unauthorized('The access token is invalid');
    const groups = api.store.coll('/groups', 'groups', null).items;
    const direct = [];
    for (const g of groups) {
      const members = api.store.collection('/groups/' + g.id + '/members');
      const me = members && members.items.find((x) => Number(x.id) === Number(user.id));
      if (me) direct.push({ path: g.full_path, level: Number(me.access_level) || 0 });
    }
    // "either directly or through an ancestor group"
    const all = groups.map((g) => g.full_path)
      .filter((fp) => direct.some((d) => fp === d.path || fp.startsWith(d.path + '/')));
    const withRole = (level) => direct.filter((d) => d.level === level).map((d) => d.path);
    // email: the primary address with the email scope, else the public one
    const email = scopes.includes('email') ? user.email : user.public_email;
    const claims = {
      sub: String(user.id),
      name: user.name,
      nickname: user.username,
      preferred_username: user.username,
      email: email || null,
      email_verified: email ? true : null,
      website: user.website_url || null,
      profile: user.web_url || ctx.externalUrl + '/' + user.username,
      picture: user.avatar_url || null,
      groups: all,
      'https://gitlab.org/claims/groups/owner': withRole(50),
      'https://gitlab.org/claims/groups/maintainer': withRole(40),
      'https://gitlab.org/claims/groups/developer': withRole(30),
    };
    // doorkeeper-openid_connect leaves out claims without a value (and
    // GitLab's role claims are `.presence`: absent when empty)
    for (const k of Object.keys(claims)) {
      const v = claims[k];
      if (v === null || v === undefined || v === '' || (k.startsWith('https:') && v.length === 0)) delete claims[k];
    }
    return ctx.json(200, claims);
  }

  api.route('GET', '/oauth/userinfo', userinfo);
  api.route('POST', '/oauth/userinfo', userinfo);

  // --------------------------------------------------------------- revoke

  api.route('POST', '/oauth/revoke', (ctx) => {
    const p = ctx.params;
    const app = authClient(ctx);
    if (!app) return undefined;
    const token = typeof p.token === 'string' ? p.token : '';
    if (!token) return oauthError(ctx, 400, 'invalid_request');
    const asRefresh = refresh.get(token);
    const asAccess = api.tokens.get(token);
    const owner = asRefresh ? asRefresh.client_id : asAccess && asAccess.oauth_issued ? asAccess.client_id : undefined;
    if (owner === undefined) return ctx.json(200, {}); // RFC 7009: unknown tokens are fine
    if (owner !== app.client_id) return oauthError(ctx, 403, 'unauthorized_client');
    revokeAccess(asRefresh ? asRefresh.access_token : token);
    if (asRefresh) refresh.delete(token);
    return ctx.json(200, {});
  });

  // ------------------------------------------------------------- register

  api.route('POST', '/oauth/register', (ctx) => {
    const body = ctx.jsonBody;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return oauthError(ctx, 400, 'invalid_client_metadata', 'invalid JSON body');
    }
    const name = body.client_name;
    // app/controllers/oauth/dynamic_registrations_controller.rb
    // (validate_dynamic_fields): `client_name.present? && client_name.length
    // < 200`, so a name of exactly 200 characters is refused too.
    if (typeof name !== 'string' || name === '' || name.length >= 200) {
      return oauthError(ctx, 400, 'invalid_client_metadata', 'client_name is too long');
    }
    let uris = body.redirect_uris;
    if (typeof uris === 'string') uris = [uris];
    const errors = [];
    if (!Array.isArray(uris) || uris.length === 0) errors.push("Redirect URI can't be blank");
    else {
      for (const u of uris) {
        let parsed = null;
        try {
          parsed = new URL(String(u));
        } catch (e) {
          parsed = null;
        }
        if (!parsed) errors.push('Redirect URI must be an absolute URI.');
        else if (parsed.hash) errors.push('Redirect URI cannot contain a fragment.');
      }
    }
    if (errors.length) return oauthError(ctx, 400, 'invalid_client_metadata', errors.join(', '));
    const app = {
      client_id: randomToken(32),
      client_secret: null,
      name: '[Unverified Dynamic Application] ' + name,
      redirect_uris: uris.map(String),
      scopes: ['mcp'],
      confidential: false,
      require_pkce: true,
      dynamic: true,
      created_at: now(),
    };
    apps.set(app.client_id, app);
    return ctx.json(201, {
      client_id: app.client_id,
      client_id_issued_at: app.created_at,
      redirect_uris: app.redirect_uris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      require_pkce: true,
      client_name: app.name,
      scope: 'mcp',
      dynamic: true,
    });
  });

  // ---------------------------------------------------------------- admin

  api.admin('POST', 'oauth', (ctx, data) => {
    for (const k of Object.keys(DEFAULTS)) if (data[k] !== undefined) settings[k] = data[k];
    if (!Array.isArray(settings.device_script) || settings.device_script.length === 0) {
      throw new Error('device_script must be a non-empty list');
    }
    return settings;
  });

  api.admin('GET', 'oauth', () => ({
    settings,
    apps: Array.from(apps.values()),
    codes: codes.size,
    devices: Array.from(devices.values()).map((d) => ({ client_id: d.client_id, user_code: d.user_code, polls: d.polls, done: d.done })),
    refresh_tokens: refresh.size,
  }));

  api.admin('POST', 'oauth/expire', (ctx, data) => {
    const t = api.tokens.get(String(data.token || ''));
    if (!t) throw new Error('no such token');
    t.expired = true;
    return { token: t.token, expired: true };
  });

  api.admin('POST', 'oauth/browse', (ctx, data) => {
    const target = new URL(String(data.url || ''));
    const q = {};
    for (const [k, v] of target.searchParams) q[k] = v;
    const r = authorize(q, ctx.externalUrl);
    browser = { pending: true, authorize_status: r.status };
    const delay = Number(data.delay_ms === undefined ? 50 : data.delay_ms);
    if (!r.location) {
      browser = { pending: false, authorize_status: r.status, status: r.status, body: r.page };
      return { authorize_status: r.status, error: r.error };
    }
    const loc = new URL(r.location);
    if (data.state !== undefined) loc.searchParams.set('state', String(data.state));
    if (data.drop_code) loc.searchParams.delete('code');
    // The browser follows the redirect a moment later, after this reply.
    setTimeout(() => {
      const req = http.get(loc.toString(), { timeout: 10000 }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          browser = { pending: false, authorize_status: r.status, status: res.statusCode, content_type: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8'), url: loc.toString() };
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        browser = { pending: false, authorize_status: r.status, error: e.message, url: loc.toString() };
      });
    }, delay);
    return { authorize_status: r.status, location: loc.toString() };
  });

  api.admin('GET', 'oauth/browser', () => browser || { pending: false, none: true });
};
