'use strict';
// Users, members and personal access token endpoints answered as GitLab's
// docs say (spec/44-docs_inv2_spec.lua), where the generic store cannot:
//
//   doc/api/users.md                  GET, PUT, PATCH /user/status (PUT clears
//                                     what it is not given, PATCH keeps it),
//                                     GET /users/:id_or_username/status,
//                                     PUT /user/avatar (multipart, field avatar)
//   doc/api/members.md                GET /groups/:id/billable_members/:user_id/indirect,
//                                     PUT /groups/:id/members/:user_id/state
//   doc/api/personal_access_tokens.md GET /personal_access_tokens/self/associations
//
// Other verbs on these paths are refused as GitLab (Grape) refuses them: 405.

const enc = encodeURIComponent;

const ACCESS = { 5: 'Minimal access', 10: 'Guest', 15: 'Planner', 20: 'Reporter', 30: 'Developer', 40: 'Maintainer', 50: 'Owner' };

// users.md, "Set your user status": clear_status_after values
const CLEAR_AFTER = {
  '30_minutes': 1800, '3_hours': 10800, '8_hours': 28800, '1_day': 86400,
  '3_days': 259200, '7_days': 604800, '30_days': 2592000,
};

module.exports = function docsInv2(api) {
  const store = () => api.store;
  let statuses = new Map(); // user id -> status
  api.onReset(() => {
    statuses = new Map();
  });

  const notAllowed = (ctx) => ctx.json(405, { message: '405 Method Not Allowed' });

  function emptyStatus() {
    return { emoji: null, availability: 'not_set', message: null, message_html: null, clear_status_at: null };
  }

  function statusView(st) {
    return Object.assign({}, st, { message_html: st.message == null ? null : String(st.message) });
  }

  // ------------------------------------------------------------ users.md

  api.route('GET', '/api/v4/user/status', (ctx) => ctx.json(200, statusView(statuses.get(ctx.user.id) || emptyStatus())));

  // "When using PUT any parameters that are not passed are set to null and
  // therefore cleared. When using PATCH any parameters that are not passed
  // are ignored." The emoji defaults to speech_balloon.
  api.route(['PUT', 'PATCH'], '/api/v4/user/status', (ctx) => {
    if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
    const p = ctx.params;
    if (p.message !== undefined && p.message !== null && String(p.message).length > 100) {
      return ctx.json(400, { error: 'message is too long (maximum is 100 characters)' });
    }
    if (p.clear_status_after !== undefined && p.clear_status_after !== null && !CLEAR_AFTER[p.clear_status_after]) {
      return ctx.json(400, { error: 'clear_status_after does not have a valid value' });
    }
    const st = ctx.method === 'PUT' ? emptyStatus() : Object.assign(emptyStatus(), statuses.get(ctx.user.id));
    for (const k of ['emoji', 'message', 'availability']) {
      if (p[k] !== undefined) st[k] = p[k];
    }
    if (p.clear_status_after !== undefined) {
      st.clear_status_at = p.clear_status_after === null ? null
        : new Date(Date.now() + CLEAR_AFTER[p.clear_status_after] * 1000).toISOString();
    }
    if (st.emoji == null) st.emoji = 'speech_balloon';
    statuses.set(ctx.user.id, st);
    return ctx.json(200, statusView(st));
  });
  api.route(['POST', 'DELETE'], '/api/v4/user/status', notAllowed);

  // "You can access this endpoint without authentication."
  api.route('GET', '/api/v4/users/:uid/status', (ctx) => {
    const u = store().findUser(ctx.pathParams.uid);
    if (!u) return ctx.json(404, { message: '404 User Not Found' });
    return ctx.json(200, statusView(statuses.get(u.id) || emptyStatus()));
  }, { auth: 'optional' });

  // "Upload an avatar for yourself": multipart, the file in `avatar`
  api.route('PUT', '/api/v4/user/avatar', (ctx) => {
    const f = (ctx.files || []).find((x) => x.name === 'avatar');
    if (!f) return ctx.json(400, { error: 'avatar is missing' });
    if (f.size > 200 * 1024) return ctx.json(400, { message: { avatar: ['is too big (should be at most 200 KiB)'] } });
    const users = store().collection('/users');
    const u = users.find(ctx.user.id);
    const url = ctx.externalUrl + '/uploads/-/system/user/avatar/' + ctx.user.id + '/' + f.filename;
    if (u) store().update(users, u, { avatar_url: url });
    return ctx.json(200, { avatar_url: url });
  });
  api.route(['GET', 'POST', 'PATCH', 'DELETE'], '/api/v4/user/avatar', notAllowed);

  // ---------------------------------------------------------- members.md

  function groupOr404(ctx) {
    const g = store().get('/groups/' + enc(ctx.pathParams.id));
    if (!g) ctx.json(404, { message: '404 Group Not Found' });
    return g;
  }

  // The groups of `g`'s hierarchy: g and every group under its full path.
  function inHierarchy(g, other) {
    const full = String(g.full_path);
    const o = String(other.full_path);
    return o === full || o.startsWith(full + '/');
  }

  // "List indirect memberships for a billable member of a group": the
  // memberships of the user in groups outside the requested hierarchy
  // (the fake has no group invitations: every other group stands for one).
  api.route('GET', '/api/v4/groups/:id/billable_members/:uid/indirect', (ctx) => {
    const g = groupOr404(ctx);
    if (!g) return undefined;
    const u = store().findUser(ctx.pathParams.uid);
    if (!u) return ctx.json(404, { message: '404 User Not Found' });
    const out = [];
    for (const other of store().collection('/groups').items) {
      if (inHierarchy(g, other)) continue;
      const members = store().collection('/groups/' + enc(String(other.id)) + '/members');
      const m = members && members.find(u.id);
      if (!m) continue;
      const level = Number(m.access_level);
      out.push({
        id: m.id, source_id: other.id, source_full_name: other.full_name || other.name,
        source_members_url: ctx.externalUrl + '/groups/' + other.full_path + '/-/group_members',
        created_at: m.created_at, expires_at: m.expires_at || null,
        access_level: { string_value: ACCESS[level] || String(level), integer_value: level },
      });
    }
    return ctx.paginate(out);
  });
  api.route(['POST', 'PUT', 'DELETE'], '/api/v4/groups/:id/billable_members/:uid/indirect', notAllowed);

  // "Change membership state of a user in a group": state is awaiting or
  // active; answers {"success": true}
  api.route('PUT', '/api/v4/groups/:id/members/:uid/state', (ctx) => {
    const g = groupOr404(ctx);
    if (!g) return undefined;
    const state = ctx.params.state;
    if (state === undefined) return ctx.json(400, { error: 'state is missing' });
    if (state !== 'awaiting' && state !== 'active') return ctx.json(400, { error: 'state does not have a valid value' });
    const members = store().collection('/groups/' + enc(String(g.id)) + '/members');
    const m = members && members.find(ctx.pathParams.uid);
    if (!m) return ctx.json(404, { message: '404 Member Not Found' });
    store().update(members, m, { membership_state: state });
    return ctx.json(200, { success: true });
  });
  api.route(['GET', 'POST', 'PATCH', 'DELETE'], '/api/v4/groups/:id/members/:uid/state', notAllowed);

  // ------------------------------------------- personal_access_tokens.md

  // "List token associations": the groups and projects the token's user is
  // a member of, one object (not an array), min_access_level, page and
  // per_page applied to each of the two lists.
  api.route('GET', '/api/v4/personal_access_tokens/self/associations', (ctx) => {
    const min = ctx.query.min_access_level === undefined ? 0 : Number(ctx.query.min_access_level);
    const page = Math.max(1, Number(ctx.query.page) || 1);
    const per = Math.min(100, Math.max(1, Number(ctx.query.per_page) || 20));
    const slice = (xs) => xs.slice((page - 1) * per, page * per);
    const level = (parent) => {
      const c = store().collection(parent + '/members');
      const m = c && c.find(ctx.user.id);
      return m ? Number(m.access_level) : null;
    };
    const groups = [];
    for (const g of store().collection('/groups').items) {
      const l = level('/groups/' + enc(String(g.id)));
      if (l === null || l < min) continue;
      groups.push({ id: g.id, web_url: g.web_url, name: g.name, parent_id: g.parent_id || null,
        organization_id: 1, access_levels: l, visibility: g.visibility || 'private' });
    }
    const projects = [];
    for (const p of store().collection('/projects').items) {
      const l = level('/projects/' + enc(String(p.id)));
      if (l === null || l < min) continue;
      projects.push({ id: p.id, description: p.description || null, name: p.name,
        name_with_namespace: p.name_with_namespace || p.name, path: p.path,
        path_with_namespace: p.path_with_namespace, created_at: p.created_at,
        access_levels: { project_access_level: l, group_access_level: null },
        visibility: p.visibility || 'private', web_url: p.web_url, namespace: p.namespace });
    }
    return ctx.json(200, { groups: slice(groups), projects: slice(projects) });
  });
  api.route(['POST', 'PUT', 'DELETE'], '/api/v4/personal_access_tokens/self/associations', notAllowed);
};
