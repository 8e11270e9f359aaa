'use strict';
// Endpoints of doc/api/projects.md, groups.md, search.md and events.md
// (docs/inventory/{projects,groups,search,events}.tsv name the gitlabhq
// commits) that the generic store cannot answer as the docs show: an
// object where the store would list, a 204 or 304, a tar body, a project
// made for another user, the search scopes. spec/44-docs_inv1_spec.lua
// calls every endpoint of those pages through the resource layer.

const enc = encodeURIComponent;

module.exports = function docsInv1(api) {
  const store = () => api.store;
  let shares = new Map(); // project store path -> Map(group id -> link)
  let pushRules = new Map(); // project store path -> push rule
  let nextRule = 1;
  api.onReset(() => {
    shares = new Map();
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
