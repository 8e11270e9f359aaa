'use strict';
// Endpoints of doc/api/projects.md, groups.md, search.md and events.md
// (docs/inventory/{projects,groups,search,events}.tsv name the gitlabhq
// commits) that the generic store cannot answer as the docs show: an
// object where the store would list, a 204 or 304, a tar body, a project
// made for another user, sharing between projects and groups, the group
// hierarchy, the search scopes; plus the fork relation, push rule and pull
// mirror that projects.md documented before they got pages of their own
// (project_forks.md, project_push_rules.md, project_pull_mirroring.md).
// spec/44-docs_inv1_spec.lua calls every endpoint of those pages through
// the resource layer.

const enc = encodeURIComponent;

module.exports = function docsInv1(api) {
  const store = () => api.store;
  let shares = new Map(); // project store path -> Map(group id -> link)
  let groupShares = new Map(); // group id -> Map(invited group id -> link)
  let groupAvatars = new Map(); // group id -> { filename, type, content }
  let pushRules = new Map(); // project store path -> push rule
  let nextRule = 1;
  api.onReset(() => {
    shares = new Map();
    groupShares = new Map();
    groupAvatars = new Map();
    pushRules = new Map();
    nextRule = 1;
  });

  // { coll, item, path } of the project :id, or replies 404 and returns null
  function project(ctx) {
    const item = store().get('/projects/' + enc(ctx.pathParams.id));
    if (!item) {
      ctx.json(404, { message: '404 Project Not Found' });
      return null;
    }
    return { coll: store().collection('/projects'), item, path: '/projects/' + enc(String(item.id)) };
  }

  // the group :id (or the path parameter `name`), or replies 404 and returns null
  function group(ctx, name) {
    const item = store().get('/groups/' + enc(ctx.pathParams[name || 'id']));
    if (!item) ctx.json(404, { message: '404 Group Not Found' });
    return item;
  }

  function groupById(id) {
    return store().get('/groups/' + enc(String(id)));
  }

  function forbiddenUnlessAdmin(ctx) {
    if (ctx.user && ctx.user.is_admin) return false;
    ctx.json(403, { message: '403 Forbidden' });
    return true;
  }

  // Grape's answer to missing required parameters: "a is missing, b is missing"
  function missing(ctx, names) {
    const gone = names.filter((n) => ctx.params[n] === undefined || ctx.params[n] === '');
    if (gone.length === 0) return false;
    ctx.json(400, { error: gone.map((n) => n + ' is missing').join(', ') });
    return true;
  }

  // ---------------------------------------------------------- projects.md

  // "Languages": an object of language -> percentage, not a list
  api.route('GET', '/api/v4/projects/:id/languages', (ctx) => {
    if (!project(ctx)) return undefined;
    return ctx.json(200, { Ruby: 66.69, JavaScript: 22.98, HTML: 7.91, CoffeeScript: 2.42 });
  });

  // "Create project for user": POST /projects/user/:user_id, admins only;
  // the project lands in that user's namespace
  api.route('POST', '/api/v4/projects/user/:user_id', (ctx) => {
    if (forbiddenUnlessAdmin(ctx)) return undefined;
    const owner = store().findUser(ctx.pathParams.user_id);
    if (!owner) return ctx.json(404, { message: '404 User Not Found' });
    if (missing(ctx, ['name'])) return undefined;
    const r = store().create(store().collection('/projects'), ctx.params, owner, { externalUrl: ctx.externalUrl });
    if (r.error) return ctx.json(r.error.status, r.error.body);
    return ctx.json(201, r.item);
  });

  // "Share project with group" and "Delete a shared project link within a
  // group" (DELETE /projects/:id/share/:group_id: "Returns `204` and no
  // content on success")
  api.route('POST', '/api/v4/projects/:id/share', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    if (missing(ctx, ['group_id', 'group_access'])) return undefined;
    const g = store().get('/groups/' + enc(String(ctx.params.group_id)));
    if (!g) return ctx.json(404, { message: '404 Group Not Found' });
    const links = shares.get(p.path) || new Map();
    shares.set(p.path, links);
    const link = {
      id: links.size + 1, project_id: p.item.id, group_id: g.id,
      group_access: Number(ctx.params.group_access), expires_at: ctx.params.expires_at || null,
    };
    links.set(String(g.id), link);
    p.item.shared_with_groups = Array.from(links.values()).map((l) => ({
      group_id: l.group_id, group_access_level: l.group_access, expires_at: l.expires_at,
    }));
    return ctx.json(201, link);
  });
  api.route('DELETE', '/api/v4/projects/:id/share/:group_id', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const links = shares.get(p.path);
    if (!links || !links.delete(String(ctx.pathParams.group_id))) {
      return ctx.json(404, { message: '404 Not Found' });
    }
    p.item.shared_with_groups = (p.item.shared_with_groups || [])
      .filter((s) => String(s.group_id) !== String(ctx.pathParams.group_id));
    return ctx.send(204, null);
  });

  // "Fork relationship": POST /projects/:id/fork/:forked_from_id marks the
  // project a fork (GitLab: 409 "Project already forked"), DELETE
  // /projects/:id/fork undoes it (304 when it is no fork)
  api.route('POST', '/api/v4/projects/:id/fork/:forked_from_id', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const from = store().get('/projects/' + enc(ctx.pathParams.forked_from_id));
    if (!from) return ctx.json(404, { message: '404 Project Not Found' });
    if (p.item.forked_from_project) return ctx.json(409, { message: 'Project already forked' });
    p.item.forked_from_project = { id: from.id, name: from.name, path_with_namespace: from.path_with_namespace };
    return ctx.json(201, p.item);
  });
  api.route('DELETE', '/api/v4/projects/:id/fork', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    if (!p.item.forked_from_project) return ctx.send(304, null);
    delete p.item.forked_from_project;
    return ctx.send(204, null);
  });

  // "Push Rules": one rule per project at /projects/:id/push_rule (GET
  // answers null without one; POST refuses a second, PUT and DELETE need one)
  api.route(['GET', 'POST', 'PUT', 'DELETE'], '/api/v4/projects/:id/push_rule', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const rule = pushRules.get(p.path);
    if (ctx.method === 'GET') return ctx.json(200, rule || null);
    if (ctx.method === 'POST') {
      if (rule) return ctx.json(422, { error: 'Project push rule exists' });
      const made = Object.assign({
        id: nextRule++, project_id: p.item.id, created_at: new Date().toISOString(),
        commit_message_regex: null, commit_message_negative_regex: null, branch_name_regex: null,
        deny_delete_tag: false, member_check: false, prevent_secrets: false,
        author_email_regex: null, file_name_regex: null, max_file_size: 0,
      }, ctx.params);
      pushRules.set(p.path, made);
      return ctx.json(201, made);
    }
    if (!rule) return ctx.json(404, { message: '404 Push Rule Not Found' });
    if (ctx.method === 'DELETE') {
      pushRules.delete(p.path);
      return ctx.send(204, null);
    }
    Object.assign(rule, ctx.params, { id: rule.id, project_id: rule.project_id });
    return ctx.json(200, rule);
  });

  // "Start the pull mirroring process for a Project": no body documented
  api.route('POST', '/api/v4/projects/:id/mirror/pull', (ctx) => {
    if (!project(ctx)) return undefined;
    return ctx.send(200, null);
  });

  // "Download snapshot of a Git repository": admins only, "always in
  // uncompressed tar format"
  api.route('GET', '/api/v4/projects/:id/snapshot', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    if (forbiddenUnlessAdmin(ctx)) return undefined;
    const what = ctx.query.wiki === 'true' ? '.wiki' : '';
    return ctx.bytes({
      size: 10240, seed: 'snapshot-' + p.item.id + what, type: 'application/x-tar',
      filename: p.item.path + what + '.tar',
    });
  });

  // "List groups": the project's ancestor groups, nearest first
  api.route('GET', '/api/v4/projects/:id/groups', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const out = [];
    let full = p.item.namespace && p.item.namespace.kind === 'group' ? String(p.item.namespace.full_path) : '';
    while (full) {
      const g = groupById(full);
      if (g) out.push(g);
      full = full.includes('/') ? full.slice(0, full.lastIndexOf('/')) : '';
    }
    return ctx.paginate(out);
  });

  // "List a project's invited groups": the groups the project is shared with
  api.route('GET', '/api/v4/projects/:id/invited_groups', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const links = shares.get(p.path) || new Map();
    return ctx.paginate(Array.from(links.keys()).map(groupById).filter(Boolean));
  });

  // "Import members": POST /projects/:id/import_project_members/:project_id
  // copies the source project's members; Owners come in as Maintainers
  // unless the importing user is an Owner (an administrator here) of the
  // target. Answers { status: "success" }; 404 for a missing project.
  api.route('POST', '/api/v4/projects/:id/import_project_members/:project_id', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const from = store().get('/projects/' + enc(ctx.pathParams.project_id));
    if (!from) return ctx.json(404, { message: '404 Project Not Found' });
    const src = store().collection('/projects/' + enc(String(from.id)) + '/members');
    const dst = store().collection(p.path + '/members');
    const mine = ctx.user && dst.find(ctx.user.id);
    const owner = (ctx.user && ctx.user.is_admin) || (mine && Number(mine.access_level) >= 50);
    for (const m of src.items) {
      if (dst.find(m.id)) continue;
      const level = Math.min(Number(m.access_level), owner ? 50 : 40);
      store().create(dst, Object.assign({}, m, { access_level: level }), ctx.user, { validate: false });
    }
    return ctx.json(200, { status: 'success' });
  });

  // "Restore a project marked for deletion": answers the project
  api.route('POST', '/api/v4/projects/:id/restore', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    store().update(p.coll, p.item, { marked_for_deletion_at: null, marked_for_deletion_on: null });
    return ctx.json(200, p.item);
  });

  // "Real-time security scan": the SAST findings of one file; this fake
  // knows one rule, the doc's example (strcpy)
  api.route('POST', '/api/v4/projects/:id/security_scans/sast/scan', (ctx) => {
    if (!project(ctx)) return undefined;
    if (missing(ctx, ['file_path', 'content'])) return undefined;
    const vulnerabilities = [];
    String(ctx.params.content).split('\n').forEach((line, i) => {
      const at = line.indexOf('strcpy(');
      if (at < 0) return;
      const close = line.indexOf(')', at);
      vulnerabilities.push({
        name: 'Insecure string processing function (strcpy)',
        description: 'The `strcpy` family of functions do not provide the ability to limit or check buffer sizes before copying to a destination buffer.',
        severity: 'High',
        location: {
          file: String(ctx.params.file_path), start_line: i + 1, end_line: i + 1,
          start_column: at + 1, end_column: (close < 0 ? line.length : close + 1),
        },
      });
    });
    return ctx.json(200, { vulnerabilities });
  });

  // "Get the path to repository storage": administrators only; the doc's
  // example answer is an array of one entry
  api.route('GET', '/api/v4/projects/:id/storage', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    if (forbiddenUnlessAdmin(ctx)) return undefined;
    const hash = api.util.sha256(Buffer.from(String(p.item.id)));
    return ctx.json(200, [{
      project_id: p.item.id, disk_path: '@hashed/' + hash.slice(0, 2) + '/' + hash.slice(2, 4) + '/' + hash,
      created_at: p.item.created_at, repository_storage: 'default',
    }]);
  });

  // ------------------------------------------------------------ groups.md

  function sharedWith(links) {
    return Array.from(links.values()).map((l) => {
      const g = groupById(l.group_id);
      return {
        group_id: l.group_id, group_name: g ? g.name : null, group_full_path: g ? g.full_path : null,
        group_access_level: l.group_access, expires_at: l.expires_at,
      };
    });
  }

  // "List shared projects": the projects shared with the group
  api.route('GET', '/api/v4/groups/:id/projects/shared', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    const out = [];
    for (const [path, links] of shares) {
      const item = links.has(String(g.id)) && store().get(path);
      if (item) out.push(item);
    }
    return ctx.paginate(out);
  });

  // "List all SAML users": users with a group_saml identity of the group
  // (this fake's SAML provider of a group has the group's id)
  api.route('GET', '/api/v4/groups/:id/saml_users', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    return ctx.paginate(store().collection('/users').items.filter((u) => (u.identities || [])
      .some((i) => i.provider === 'group_saml' && String(i.saml_provider_id) === String(g.id))));
  });

  // "List descendant groups"
  api.route('GET', '/api/v4/groups/:id/descendant_groups', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    return ctx.paginate(store().collection('/groups').items
      .filter((x) => String(x.full_path).startsWith(g.full_path + '/')));
  });

  // "Create a group invitation" (POST /groups/:id/share: "Returns `200` and
  // the group details"), "Delete a group invitation" ("Returns `204` and no
  // content"), "List invited groups" (invited to :id) and "List shared
  // groups" (the groups :id was invited to)
  api.route('POST', '/api/v4/groups/:id/share', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    if (missing(ctx, ['group_id', 'group_access'])) return undefined;
    const invited = groupById(ctx.params.group_id);
    if (!invited) return ctx.json(404, { message: '404 Group Not Found' });
    const links = groupShares.get(String(g.id)) || new Map();
    groupShares.set(String(g.id), links);
    links.set(String(invited.id), {
      group_id: invited.id, group_access: Number(ctx.params.group_access), expires_at: ctx.params.expires_at || null,
    });
    g.shared_with_groups = sharedWith(links);
    return ctx.json(200, g);
  });
  api.route('DELETE', '/api/v4/groups/:id/share/:group_id', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    const links = groupShares.get(String(g.id));
    if (!links || !links.delete(String(ctx.pathParams.group_id))) {
      return ctx.json(404, { message: '404 Group Link Not Found' });
    }
    g.shared_with_groups = sharedWith(links);
    return ctx.send(204, null);
  });
  api.route('GET', '/api/v4/groups/:id/invited_groups', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    const links = groupShares.get(String(g.id)) || new Map();
    return ctx.paginate(Array.from(links.keys()).map(groupById).filter(Boolean));
  });
  api.route('GET', '/api/v4/groups/:id/groups/shared', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    const out = [];
    for (const [id, links] of groupShares) {
      const item = links.has(String(g.id)) && groupById(id);
      if (item) out.push(item);
    }
    return ctx.paginate(out);
  });

  // "Restore a group marked for deletion": answers the group
  api.route('POST', '/api/v4/groups/:id/restore', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    store().update(store().collection('/groups'), g, { marked_for_deletion_on: null });
    return ctx.json(200, g);
  });

  // "Archive a group", "Unarchive a group": the group; "a `422`
  // unprocessable entity error if the group is already archived" (is not
  // archived)
  for (const [action, to] of [['archive', true], ['unarchive', false]]) {
    api.route('POST', '/api/v4/groups/:id/' + action, (ctx) => {
      const g = group(ctx);
      if (!g) return undefined;
      if (!!g.archived === to) {
        return ctx.json(422, { message: to ? 'Group is already archived' : 'Group is not archived' });
      }
      store().update(store().collection('/groups'), g, { archived: to });
      return ctx.json(200, g);
    });
  }

  // "Transfer a group": under group_id, or to the top level without it.
  // (Projects and subgroups below keep their old paths here.)
  api.route('POST', '/api/v4/groups/:id/transfer', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    let parent = null;
    if (ctx.params.group_id !== undefined && ctx.params.group_id !== '') {
      parent = groupById(ctx.params.group_id);
      if (!parent) return ctx.json(404, { message: '404 Group Not Found' });
    }
    const full = parent ? parent.full_path + '/' + g.path : g.path;
    const base = String(g.web_url || '').slice(0, -String(g.full_path).length);
    store().update(store().collection('/groups'), g, {
      parent_id: parent ? parent.id : null, full_path: full,
      full_name: parent ? parent.full_name + ' / ' + g.name : g.name, web_url: base + full,
    });
    return ctx.json(201, g);
  });

  // "Transfer a project to a group": administrators only; answers the group
  api.route('POST', '/api/v4/groups/:id/projects/:project_id', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    if (forbiddenUnlessAdmin(ctx)) return undefined;
    const coll = store().collection('/projects');
    const item = store().get('/projects/' + enc(ctx.pathParams.project_id));
    if (!item) return ctx.json(404, { message: '404 Project Not Found' });
    store().update(coll, item, {
      namespace: { id: g.id, name: g.name, path: g.path, kind: 'group', full_path: g.full_path },
    });
    return ctx.json(201, g);
  });

  // "Upload a group avatar" (PUT /groups/:id with a multipart `avatar`
  // file; other updates go on to the store) and "Download a group avatar"
  api.route('PUT', '/api/v4/groups/:id', (ctx) => {
    const f = (ctx.files || []).find((x) => x.name === 'avatar');
    if (!f) return api.NEXT;
    const g = group(ctx);
    if (!g) return undefined;
    groupAvatars.set(String(g.id), { filename: f.filename, type: f.type, content: f.content });
    const attrs = Object.assign({}, ctx.form || {});
    attrs.avatar_url = ctx.externalUrl + '/uploads/-/system/group/avatar/' + g.id + '/' + f.filename;
    store().update(store().collection('/groups'), g, attrs);
    return ctx.json(200, g);
  });
  api.route('GET', '/api/v4/groups/:id/avatar', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    const a = groupAvatars.get(String(g.id));
    if (!a) return ctx.json(404, { message: '404 Avatar Not Found' });
    return ctx.send(200, a.content, {
      'content-type': a.type || 'application/octet-stream',
      'content-disposition': 'attachment; filename="' + a.filename + '"',
    });
  });

  // "Revoke a token": { token } (required); the token's details, revoked.
  // The page names no status for a token it does not know: 404 here.
  api.route('POST', '/api/v4/groups/:id/tokens/revoke', (ctx) => {
    const g = group(ctx);
    if (!g) return undefined;
    if (missing(ctx, ['token'])) return undefined;
    const t = api.tokens.get(String(ctx.params.token));
    if (!t || t.kind !== 'private') return ctx.json(404, { message: '404 Not Found' });
    t.revoked = true;
    const n = api.tokens.all().findIndex((x) => x.token === t.token) + 1;
    return ctx.json(200, {
      id: n, name: t.name || 'token-' + n, revoked: true, expired: false, active: false,
      scopes: t.scopes, user_id: t.user, expires_at: null,
    });
  });

  // ------------------------------------------------------------ search.md

  // GET /search, /groups/:id/search, /projects/:id/search: `scope` and
  // `search` required; the answer depends on the scope (projects, issues,
  // merge_requests, milestones here; other scopes find nothing)
  function projectsUnder(group) {
    const all = store().collection('/projects').items;
    if (!group) return all;
    return all.filter((x) => {
      const ns = x.namespace ? String(x.namespace.full_path) : '';
      return ns === group.full_path || ns.startsWith(group.full_path + '/');
    });
  }

  function search(ctx, projects, withProjects) {
    if (missing(ctx, ['scope', 'search'])) return undefined;
    const term = String(ctx.params.search).toLowerCase();
    const has = (s) => s !== undefined && s !== null && String(s).toLowerCase().includes(term);
    const scope = String(ctx.params.scope);
    let found = [];
    if (scope === 'projects' && withProjects) {
      found = projects.filter((x) => has(x.name) || has(x.path));
    } else if (['issues', 'merge_requests', 'milestones'].includes(scope)) {
      for (const x of projects) {
        const c = store().colls.get('/projects/' + enc(String(x.id)) + '/' + scope);
        if (c) found.push(...c.items.filter((it) => has(it.title) || has(it.description)));
      }
    }
    return ctx.paginate(found);
  }

  api.route('GET', '/api/v4/search', (ctx) => search(ctx, projectsUnder(null), true));
  api.route('GET', '/api/v4/groups/:id/search', (ctx) => {
    const g = store().get('/groups/' + enc(ctx.pathParams.id));
    if (!g) return ctx.json(404, { message: '404 Group Not Found' });
    return search(ctx, projectsUnder(g), true);
  });
  api.route('GET', '/api/v4/projects/:id/search', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    return search(ctx, [p.item], false);
  });
};
