'use strict';
// Answers whose shape the resource objects depend on, as GitLab's docs
// and API code give them (spec/46-objects_docs_spec.lua):
//
// - invitations.md (lib/api/invitations.rb): POST .../invitations answers
//   Grape's 201 for a POST whatever happened, with the service's hash as the
//   body: {"status": "success"}, or {"status": "error", "message": {<email>:
//   <reason>}} for the emails it could not invite (the others are invited).
//   List, update and delete address an invitation by its email.
// - GitLab's 400 shapes (doc/api/rest/troubleshooting.md, "Status code 400"):
//     {"error": "access_level is missing"}        Grape's `requires`
//     {"message": "400 Bad request - <reason>"}    bad_request!(reason)
//     {"message": "400 Bad request - \"x\" not given", "error": "\"x\" not given"}
//                        bad_request_missing_attribute! of the npm endpoints
//     {"message": {"bio": ["is too long (maximum is 255 characters)"]}}
//                        render_validation_error! (the model's errors)
//
// Runs before the generic store (file name order); a request it does not
// take goes on (api.NEXT).

const enc = encodeURIComponent;

// invitations.md, "Valid access levels"
const ACCESS_LEVELS = new Set([0, 5, 10, 15, 20, 30, 40, 50]);

module.exports = function docsObjects(api) {
  const store = () => api.store;

  function sourcePath(ctx) {
    return '/' + ctx.pathParams.source + '/' + enc(ctx.pathParams.id);
  }

  function sourceOr404(ctx) {
    const src = store().get(sourcePath(ctx));
    if (!src) {
      ctx.json(404, { message: '404 ' + (ctx.pathParams.source === 'projects' ? 'Project' : 'Group') + ' Not Found' });
      return null;
    }
    return src;
  }

  function invitations(ctx) {
    return store().collection(sourcePath(ctx) + '/invitations');
  }

  function list(v) {
    return (Array.isArray(v) ? v : String(v).split(',')).map((s) => String(s).trim()).filter(Boolean);
  }

  // Entities::Invitation
  function invitationView(inv) {
    return {
      id: inv.id, invite_email: inv.invite_email, created_at: inv.created_at,
      access_level: inv.access_level, expires_at: inv.expires_at === undefined ? null : inv.expires_at,
      user_name: null, created_by_name: inv.created_by_name,
    };
  }

  // ------------------------------------------------------- invitations

  const INVITATIONS = /^\/api\/v4\/(?<source>projects|groups)\/(?<id>[^/]+)\/invitations$/;
  const INVITATION = /^\/api\/v4\/(?<source>projects|groups)\/(?<id>[^/]+)\/invitations\/(?<email>[^/]+)$/;

  api.route('POST', INVITATIONS, (ctx) => {
    if (!sourceOr404(ctx)) return undefined;
    const prm = ctx.params;
    // Grape's `requires :access_level, values: Gitlab::Access.all_values`
    if (prm.access_level === undefined || prm.access_level === '') return ctx.json(400, { error: 'access_level is missing' });
    const level = Number(prm.access_level);
    if (!ACCESS_LEVELS.has(level)) return ctx.json(400, { error: 'access_level does not have a valid value' });
    const emails = prm.email === undefined ? [] : list(prm.email);
    const userIds = prm.user_id === undefined ? [] : list(prm.user_id);
    // lib/api/invitations.rb: bad_request!('Must provide either email or user_id as a parameter')
    if (!emails.length && !userIds.length) {
      return ctx.json(400, { message: '400 Bad request - Must provide either email or user_id as a parameter' });
    }
    const c = invitations(ctx);
    const members = store().collection(sourcePath(ctx) + '/members');
    const failed = {};
    for (const email of emails) {
      const user = store().collection('/users').items.find((u) => String(u.email).toLowerCase() === email.toLowerCase());
      if (c.items.some((i) => String(i.invite_email).toLowerCase() === email.toLowerCase())) {
        failed[email] = 'Invite email has already been taken';
      } else if (user && members.find(user.id)) {
        failed[email] = 'User already exists in source';
      } else {
        store().create(c, {
          invite_email: email, access_level: level, expires_at: prm.expires_at === undefined ? null : prm.expires_at,
          created_by_name: ctx.user.name,
        }, ctx.user, { validate: false });
      }
    }
    for (const id of userIds) {
      const user = store().findUser(id);
      if (!user) failed[id] = 'User not found'; // the fake's wording
      else if (members.find(user.id)) failed[user.username] = 'User already exists in source';
      else store().create(members, Object.assign(store().userSummary(user), { id: user.id, access_level: level }), ctx.user, { validate: false });
    }
    if (Object.keys(failed).length) return ctx.json(201, { status: 'error', message: failed });
    return ctx.json(201, { status: 'success' });
  });

  api.route('GET', INVITATIONS, (ctx) => {
    if (!sourceOr404(ctx)) return undefined;
    const q = ctx.query.query;
    let items = invitations(ctx).items;
    // "Query text must match email address exactly"
    if (q !== undefined && q !== '') items = items.filter((i) => i.invite_email === q);
    return ctx.paginate(items.map(invitationView));
  });

  api.route(['PUT', 'DELETE'], INVITATION, (ctx) => {
    if (!sourceOr404(ctx)) return undefined;
    const c = invitations(ctx);
    const inv = c.items.find((i) => i.invite_email === ctx.pathParams.email);
    if (!inv) return ctx.json(404, { message: '404 Not found' });
    if (ctx.method === 'DELETE') {
      store().remove(c, inv);
      return ctx.send(204, null);
    }
    const prm = ctx.params;
    const upd = {};
    if (prm.access_level !== undefined) {
      if (!ACCESS_LEVELS.has(Number(prm.access_level))) return ctx.json(400, { error: 'access_level does not have a valid value' });
      upd.access_level = Number(prm.access_level);
    }
    if (prm.expires_at !== undefined) upd.expires_at = prm.expires_at;
    // bad_request! unless update_params.any?
    if (!Object.keys(upd).length) return ctx.json(400, { message: '400 Bad request' });
    Object.assign(inv, upd);
    // invitations.md, "Update an invitation": the example answer
    return ctx.json(200, { expires_at: inv.expires_at, access_level: inv.access_level });
  });

  // ------------------------------------------------------------- users

  // users.md / troubleshooting.md: the user's bio is at most 255 characters;
  // a longer one is the model's validation error.
  function tooLongBio(ctx) {
    const bio = ctx.params.bio;
    if (typeof bio === 'string' && Array.from(bio).length > 255) {
      return ctx.json(400, { message: { bio: ['is too long (maximum is 255 characters)'] } });
    }
    return api.NEXT;
  }
  api.route('POST', '/api/v4/users', tooLongBio);
  api.route('PUT', '/api/v4/users/:uid', tooLongBio);

  // --------------------------------------------------------------- npm

  // lib/api/npm_project_packages.rb: PUT with `Npm-Command: deprecate`
  // deprecates the versions that carry a `deprecated` field; with none,
  // bad_request_missing_attribute!('package versions to deprecate'), which
  // the npm helpers answer with both `message` and `error`. Publishing (any
  // other PUT) and a deprecation that goes through are left to the store.
  api.route('PUT', '/api/v4/projects/:id/packages/npm/:package_name', (ctx) => {
    if (String(ctx.headers['npm-command'] || '') !== 'deprecate') return api.NEXT;
    const versions = ctx.params.versions;
    if (versions === undefined || versions === null || typeof versions !== 'object') {
      return ctx.json(400, { error: 'versions is missing' });
    }
    const some = Object.keys(versions).some((v) => versions[v] && typeof versions[v] === 'object' && 'deprecated' in versions[v]);
    if (some) return api.NEXT;
    const reason = '"package versions to deprecate" not given';
    return ctx.json(400, { message: '400 Bad request - ' + reason, error: reason });
  });
};
