'use strict';
// Resource actions the generic store does not model: archive/star/transfer/
// fork of projects, subscriptions, issue moves and time tracking, merge
// request merge/approve/rebase, pipelines and jobs (create, retry, cancel,
// play, erase, trace, artifacts), repository tree/commits/compare/blame and
// branch protection.  State lives in the store items (so the generic GET
// shows it) plus a few side tables reset with the server.

const crypto = require('crypto');

const enc = encodeURIComponent;

function sha(seed) {
  return crypto.createHash('sha1').update(String(seed)).digest('hex');
}

function now() {
  return new Date().toISOString();
}

module.exports = function resources(api) {
  const store = () => api.store;
  let approvals = new Map(); // mr store path -> [user summary]
  let stars = new Map(); // project id -> Set(user id)
  api.onReset(() => {
    approvals = new Map();
    stars = new Map();
  });

  function projectPath(ctx) {
    return '/projects/' + enc(ctx.pathParams.id);
  }

  // { coll, item } for an api path, or replies 404 and returns null
  function lookup(ctx, path, thing) {
    const coll = store().collection(path);
    const item = coll ? store().get(path) : null;
    if (!item) {
      ctx.json(404, { message: '404 ' + thing + ' Not Found' });
      return null;
    }
    return { coll, item };
  }

  function project(ctx) {
    return lookup(ctx, projectPath(ctx), 'Project');
  }

  function me(ctx) {
    return store().userSummary(ctx.user);
  }

  // ------------------------------------------------------------ projects

  for (const [action, archived] of [['archive', true], ['unarchive', false]]) {
    api.route('POST', '/api/v4/projects/:id/' + action, (ctx) => {
      const p = project(ctx);
      if (!p) return undefined;
      store().update(p.coll, p.item, { archived });
      return ctx.json(201, p.item);
    });
  }

  for (const [action, on] of [['star', true], ['unstar', false]]) {
    api.route('POST', '/api/v4/projects/:id/' + action, (ctx) => {
      const p = project(ctx);
      if (!p) return undefined;
      const set = stars.get(p.item.id) || new Set();
      stars.set(p.item.id, set);
      if (set.has(ctx.user.id) === on) return ctx.send(304, null);
      if (on) set.add(ctx.user.id);
      else set.delete(ctx.user.id);
      p.item.star_count = set.size;
      return ctx.json(on ? 201 : 201, p.item);
    });
  }

  api.route('PUT', '/api/v4/projects/:id/transfer', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const g = store().get('/groups/' + enc(ctx.params.namespace));
    if (!g) return ctx.json(404, { message: '404 Namespace Not Found' });
    const ns = { id: g.id, name: g.name, path: g.path, kind: 'group', full_path: g.full_path };
    const pwn = g.full_path + '/' + p.item.path;
    store().update(p.coll, p.item, { namespace: ns, path_with_namespace: pwn });
    return ctx.json(200, p.item);
  });

  api.route('POST', '/api/v4/projects/:id/fork', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const attrs = { name: ctx.params.name || p.item.name, path: ctx.params.path || p.item.path };
    if (ctx.params.namespace_id !== undefined) attrs.namespace_id = ctx.params.namespace_id;
    const r = store().create(p.coll, attrs, ctx.user, { externalUrl: ctx.externalUrl });
    if (r.error) return ctx.json(r.error.status, r.error.body);
    r.item.forked_from_project = { id: p.item.id, name: p.item.name, path_with_namespace: p.item.path_with_namespace };
    return ctx.json(201, r.item);
  });

  // ------------------------------------------------------------- members

  // Members are keyed by their user's id: POST takes user_id.
  api.route('POST', /^\/api\/v4\/(?<parent>projects|groups)\/(?<id>[^/]+)\/members$/, (ctx) => {
    const pp = ctx.pathParams;
    const c = store().collection('/' + pp.parent + '/' + enc(pp.id) + '/members');
    if (!c) return ctx.json(404, { message: '404 ' + (pp.parent === 'projects' ? 'Project' : 'Group') + ' Not Found' });
    if (ctx.params.user_id === undefined || ctx.params.access_level === undefined) {
      return ctx.json(400, { error: 'user_id, access_level are missing' });
    }
    const u = store().findUser(ctx.params.user_id);
    if (!u) return ctx.json(404, { message: '404 User Not Found' });
    if (c.find(u.id)) return ctx.json(409, { message: 'Member already exists' });
    const r = store().create(c, Object.assign(store().userSummary(u), {
      id: u.id, access_level: Number(ctx.params.access_level), expires_at: ctx.params.expires_at || null,
    }), ctx.user, { validate: false });
    if (r.error) return ctx.json(r.error.status, r.error.body);
    return ctx.json(201, r.item);
  });

  // -------------------------------------------------- group hierarchy

  api.route('GET', '/api/v4/groups/:id/subgroups', (ctx) => {
    const g = lookup(ctx, '/groups/' + enc(ctx.pathParams.id), 'Group');
    if (!g) return undefined;
    const all = store().collection('/groups').items;
    return ctx.paginate(all.filter((x) => String(x.parent_id) === String(g.item.id)));
  });

  api.route('GET', '/api/v4/groups/:id/projects', (ctx) => {
    const g = lookup(ctx, '/groups/' + enc(ctx.pathParams.id), 'Group');
    if (!g) return undefined;
    const deep = ctx.query.include_subgroups === 'true';
    const full = g.item.full_path;
    const all = store().collection('/projects').items;
    return ctx.paginate(all.filter((p) => {
      const ns = p.namespace ? String(p.namespace.full_path) : '';
      return ns === full || (deep && ns.startsWith(full + '/'));
    }));
  });

  // ------------------------------------ issues and MRs across projects

  // GET /groups/:id/issues, /issues and the merge request twins gather the
  // items of every project in the group (or every project), filtered like
  // the store filters one collection.
  function across(ctx, kind, group) {
    const out = [];
    const projects = store().collection('/projects');
    for (const p of projects ? projects.items : []) {
      const full = p.namespace ? String(p.namespace.full_path) : '';
      if (group && full !== group.full_path && !full.startsWith(group.full_path + '/')) continue;
      const c = store().colls.get('/projects/' + enc(String(p.id)) + '/' + kind);
      if (c) out.push(...store().filter(c, ctx));
    }
    const q = ctx.query;
    out.sort((a, b) => (String(q.sort || 'desc') === 'asc' ? 1 : -1) * (Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id));
    return ctx.paginate(out);
  }

  for (const kind of ['issues', 'merge_requests']) {
    api.route('GET', '/api/v4/groups/:id/' + kind, (ctx) => {
      const g = lookup(ctx, '/groups/' + enc(ctx.pathParams.id), 'Group');
      if (!g) return undefined;
      return across(ctx, kind, g.item);
    });
    api.route('GET', '/api/v4/' + kind, (ctx) => across(ctx, kind, null));
  }

  // GET /issues/:id: an issue by its global id (admins)
  api.route('GET', '/api/v4/issues/:gid', (ctx) => {
    for (const [path, c] of store().colls) {
      if (!/^\/projects\/[^/]+\/issues$/.test(path)) continue;
      const it = c.items.find((i) => String(i.id) === String(ctx.pathParams.gid));
      if (it) return ctx.json(200, it);
    }
    return ctx.json(404, { message: '404 Issue Not Found' });
  });

  // ------------------------------------------------------- subscriptions

  api.route('POST', /^\/api\/v4\/(?<parent>projects|groups)\/(?<id>[^/]+)\/(?<kind>issues|merge_requests|labels)\/(?<key>[^/]+)\/(?<action>subscribe|unsubscribe)$/, (ctx) => {
    const pp = ctx.pathParams;
    const thing = { issues: 'Issue', merge_requests: 'Merge Request', labels: 'Label' }[pp.kind];
    const r = lookup(ctx, '/' + pp.parent + '/' + enc(pp.id) + '/' + pp.kind + '/' + enc(pp.key), thing);
    if (!r) return undefined;
    const want = pp.action === 'subscribe';
    if (r.item.subscribed === want) return ctx.send(304, null);
    r.item.subscribed = want;
    return ctx.json(201, r.item);
  });

  // -------------------------------------------------------------- issues

  function issue(ctx) {
    return lookup(ctx, projectPath(ctx) + '/issues/' + enc(ctx.pathParams.iid), 'Issue');
  }

  api.route('POST', '/api/v4/projects/:id/issues/:iid/move', (ctx) => {
    const r = issue(ctx);
    if (!r) return undefined;
    const dest = store().collection('/projects/' + enc(ctx.params.to_project_id) + '/issues');
    if (!dest) return ctx.json(404, { message: '404 Project Not Found' });
    const copy = Object.assign({}, r.item);
    delete copy.id;
    delete copy.iid;
    delete copy.project_id;
    const made = store().create(dest, copy, ctx.user, { externalUrl: ctx.externalUrl, validate: false });
    store().update(r.coll, r.item, { state_event: 'close', moved_to_id: made.item.id });
    return ctx.json(201, made.item);
  });

  function timeStats(item) {
    return {
      time_estimate: item.time_estimate || 0,
      total_time_spent: item.total_time_spent || 0,
      human_time_estimate: item.time_estimate ? item.time_estimate + 's' : null,
      human_total_time_spent: item.total_time_spent ? item.total_time_spent + 's' : null,
    };
  }

  function seconds(d) {
    const m = /^(\d+)([smhd]?)$/.exec(String(d || ''));
    if (!m) return null;
    return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 28800 }[m[2]]);
  }

  const timeRoutes = {
    time_estimate: (it, d) => { it.time_estimate = d; },
    reset_time_estimate: (it) => { it.time_estimate = 0; },
    add_spent_time: (it, d) => { it.total_time_spent = (it.total_time_spent || 0) + d; },
    reset_spent_time: (it) => { it.total_time_spent = 0; },
  };
  for (const kind of ['issues', 'merge_requests']) {
    const thing = kind === 'issues' ? 'Issue' : 'Merge Request';
    for (const action of Object.keys(timeRoutes)) {
      api.route('POST', '/api/v4/projects/:id/' + kind + '/:iid/' + action, (ctx) => {
        const r = lookup(ctx, projectPath(ctx) + '/' + kind + '/' + enc(ctx.pathParams.iid), thing);
        if (!r) return undefined;
        const d = seconds(ctx.params.duration);
        if (action.indexOf('reset') < 0 && d === null) return ctx.json(400, { error: 'duration is missing' });
        timeRoutes[action](r.item, d);
        r.item.time_stats = timeStats(r.item);
        return ctx.json(action === 'add_spent_time' ? 201 : 200, timeStats(r.item));
      });
    }
    api.route('GET', '/api/v4/projects/:id/' + kind + '/:iid/time_stats', (ctx) => {
      const r = lookup(ctx, projectPath(ctx) + '/' + kind + '/' + enc(ctx.pathParams.iid), thing);
      if (!r) return undefined;
      return ctx.json(200, timeStats(r.item));
    });
    api.route('GET', '/api/v4/projects/:id/' + kind + '/:iid/participants', (ctx) => {
      const r = lookup(ctx, projectPath(ctx) + '/' + kind + '/' + enc(ctx.pathParams.iid), thing);
      if (!r) return undefined;
      return ctx.paginate(r.item.author ? [r.item.author] : []);
    });
  }

  // ------------------------------------------------------ merge requests

  function mrPath(ctx) {
    return projectPath(ctx) + '/merge_requests/' + enc(ctx.pathParams.iid);
  }

  function mr(ctx) {
    return lookup(ctx, mrPath(ctx), 'Merge Request');
  }

  function approvalState(ctx, r) {
    const by = approvals.get(mrPath(ctx)) || [];
    return {
      id: r.item.id, iid: r.item.iid, project_id: r.item.project_id, title: r.item.title,
      state: r.item.state, merge_status: r.item.merge_status,
      approved: by.length > 0, approvals_required: 1, approvals_left: Math.max(0, 1 - by.length),
      approved_by: by.map((u) => ({ user: u })),
    };
  }

  api.route('PUT', '/api/v4/projects/:id/merge_requests/:iid/merge', (ctx) => {
    const r = mr(ctx);
    if (!r) return undefined;
    if (r.item.state !== 'opened') return ctx.json(405, { message: '405 Method Not Allowed' });
    if (ctx.params.sha && ctx.params.sha !== r.item.sha) return ctx.json(409, { message: 'SHA does not match HEAD of source branch' });
    const mergeSha = sha('merge' + r.item.id);
    store().update(r.coll, r.item, {
      state: 'merged', merged_by: me(ctx), merge_user: me(ctx), merged_at: now(),
      merge_commit_sha: mergeSha, squash: ctx.params.squash === true || ctx.params.squash === 'true' || r.item.squash,
      squash_commit_sha: ctx.params.squash ? sha('squash' + r.item.id) : null,
    });
    return ctx.json(200, r.item);
  });

  api.route('POST', '/api/v4/projects/:id/merge_requests/:iid/approve', (ctx) => {
    const r = mr(ctx);
    if (!r) return undefined;
    const by = approvals.get(mrPath(ctx)) || [];
    if (by.some((u) => u.id === ctx.user.id)) return ctx.json(401, { message: '401 Unauthorized' });
    by.push(me(ctx));
    approvals.set(mrPath(ctx), by);
    return ctx.json(201, approvalState(ctx, r));
  });

  api.route('POST', '/api/v4/projects/:id/merge_requests/:iid/unapprove', (ctx) => {
    const r = mr(ctx);
    if (!r) return undefined;
    const by = approvals.get(mrPath(ctx)) || [];
    const left = by.filter((u) => u.id !== ctx.user.id);
    if (left.length === by.length) return ctx.json(404, { message: '404 Not Found' });
    approvals.set(mrPath(ctx), left);
    return ctx.json(201, approvalState(ctx, r));
  });

  api.route('GET', '/api/v4/projects/:id/merge_requests/:iid/approvals', (ctx) => {
    const r = mr(ctx);
    if (!r) return undefined;
    return ctx.json(200, approvalState(ctx, r));
  });

  api.route('PUT', '/api/v4/projects/:id/merge_requests/:iid/rebase', (ctx) => {
    const r = mr(ctx);
    if (!r) return undefined;
    r.item.rebase_in_progress = false;
    return ctx.json(202, { rebase_in_progress: true });
  });

  api.route('GET', '/api/v4/projects/:id/merge_requests/:iid/changes', (ctx) => {
    const r = mr(ctx);
    if (!r) return undefined;
    return ctx.json(200, Object.assign({}, r.item, { changes: [], overflow: false }));
  });

  api.route('GET', '/api/v4/projects/:id/merge_requests/:iid/commits', (ctx) => {
    const r = mr(ctx);
    if (!r) return undefined;
    const c = store().collection(projectPath(ctx) + '/repository/commits');
    return ctx.paginate(c ? c.items : []);
  });

  // ----------------------------------------------------- pipelines, jobs

  function pipelineView(p) {
    return Object.assign({}, p);
  }

  api.route('POST', '/api/v4/projects/:id/pipeline', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const ref = ctx.params.ref;
    if (!ref) return ctx.json(400, { error: 'ref is missing' });
    const pipes = store().collection(projectPath(ctx) + '/pipelines');
    const jobs = store().collection(projectPath(ctx) + '/jobs');
    const s = sha('pipeline' + ref + Date.now());
    const made = store().create(pipes, {
      ref, sha: s, status: 'pending', source: 'api', project_id: p.item.id,
      user: me(ctx), web_url: p.item.web_url + '/-/pipelines', variables: undefined,
    }, ctx.user, { validate: false });
    const pl = made.item;
    delete pl.variables;
    pl.web_url += '/' + pl.id;
    const names = ctx.params.jobs ? [].concat(ctx.params.jobs) : ['build', 'test', 'deploy'];
    names.forEach((name, i) => {
      store().create(jobs, {
        name, stage: name, status: name === 'deploy' ? 'manual' : 'pending', ref, tag: false,
        allow_failure: false, user: me(ctx), commit: { id: s, short_id: s.slice(0, 8) },
        pipeline: { id: pl.id, project_id: p.item.id, ref, sha: s, status: 'pending' },
        artifacts: [{ file_type: 'archive', size: 1000 + i, filename: 'artifacts.zip', file_format: 'zip' }],
        artifacts_file: { filename: 'artifacts.zip', size: 1000 + i },
        web_url: p.item.web_url + '/-/jobs',
      }, ctx.user, { validate: false });
    });
    return ctx.json(201, pipelineView(pl));
  });

  function pipeline(ctx) {
    return lookup(ctx, projectPath(ctx) + '/pipelines/' + enc(ctx.pathParams.pid), 'Pipeline');
  }

  function jobsOf(ctx, pid) {
    const c = store().collection(projectPath(ctx) + '/jobs');
    return c ? c.items.filter((j) => j.pipeline && String(j.pipeline.id) === String(pid)) : [];
  }

  api.route('GET', '/api/v4/projects/:id/pipelines/:pid/jobs', (ctx) => {
    const r = pipeline(ctx);
    if (!r) return undefined;
    let items = jobsOf(ctx, r.item.id);
    const scope = ctx.query.scope;
    if (scope) {
      const want = [].concat(scope);
      items = items.filter((j) => want.includes(j.status));
    }
    return ctx.paginate(items);
  });

  api.route('GET', '/api/v4/projects/:id/pipelines/:pid/bridges', (ctx) => {
    const r = pipeline(ctx);
    if (!r) return undefined;
    return ctx.paginate([]);
  });

  api.route('POST', '/api/v4/projects/:id/pipelines/:pid/retry', (ctx) => {
    const r = pipeline(ctx);
    if (!r) return undefined;
    for (const j of jobsOf(ctx, r.item.id)) if (j.status === 'failed' || j.status === 'canceled') j.status = 'pending';
    store().update(r.coll, r.item, { status: 'pending' });
    return ctx.json(201, pipelineView(r.item));
  });

  api.route('POST', '/api/v4/projects/:id/pipelines/:pid/cancel', (ctx) => {
    const r = pipeline(ctx);
    if (!r) return undefined;
    for (const j of jobsOf(ctx, r.item.id)) if (!['success', 'failed', 'skipped'].includes(j.status)) j.status = 'canceled';
    store().update(r.coll, r.item, { status: 'canceled' });
    return ctx.json(200, pipelineView(r.item));
  });

  function job(ctx) {
    return lookup(ctx, projectPath(ctx) + '/jobs/' + enc(ctx.pathParams.jid), 'Job');
  }

  api.route('POST', '/api/v4/projects/:id/jobs/:jid/retry', (ctx) => {
    const r = job(ctx);
    if (!r) return undefined;
    if (!['failed', 'canceled', 'success'].includes(r.item.status)) return ctx.json(403, { message: '403 Forbidden  - Job is not retryable' });
    const copy = Object.assign({}, r.item, { status: 'pending', retried_from: r.item.id });
    delete copy.id;
    const made = store().create(r.coll, copy, ctx.user, { validate: false });
    r.item.retried = true;
    return ctx.json(201, made.item);
  });

  api.route('POST', '/api/v4/projects/:id/jobs/:jid/cancel', (ctx) => {
    const r = job(ctx);
    if (!r) return undefined;
    if (['success', 'failed', 'canceled', 'skipped'].includes(r.item.status)) return ctx.json(403, { message: '403 Forbidden  - Job is not cancelable' });
    r.item.status = 'canceled';
    return ctx.json(201, r.item);
  });

  api.route('POST', '/api/v4/projects/:id/jobs/:jid/play', (ctx) => {
    const r = job(ctx);
    if (!r) return undefined;
    if (r.item.status !== 'manual') return ctx.json(400, { message: 'Unplayable Job' });
    r.item.status = 'pending';
    if (ctx.params.job_variables_attributes) r.item.job_variables = ctx.params.job_variables_attributes;
    return ctx.json(200, r.item);
  });

  api.route('POST', '/api/v4/projects/:id/jobs/:jid/erase', (ctx) => {
    const r = job(ctx);
    if (!r) return undefined;
    r.item.artifacts = [];
    r.item.artifacts_file = null;
    r.item.erased_at = now();
    return ctx.json(201, r.item);
  });

  api.route('GET', '/api/v4/projects/:id/jobs/:jid/trace', (ctx) => {
    const r = job(ctx);
    if (!r) return undefined;
    const text = 'Running with gitlab-runner 18.5.0\n$ echo ' + r.item.name + '\n' + r.item.name + '\nJob ' + r.item.status + '\n';
    return ctx.send(200, Buffer.from(text), { 'content-type': 'text/plain' });
  });

  api.route('GET', '/api/v4/projects/:id/jobs/:jid/artifacts', (ctx) => {
    const r = job(ctx);
    if (!r) return undefined;
    if (!r.item.artifacts_file) return ctx.json(404, { message: '404 Not Found' });
    return ctx.bytes({ size: r.item.artifacts_file.size, seed: 'artifacts-' + r.item.id, type: 'application/zip', filename: 'artifacts.zip' });
  });

  // ------------------------------------------------------------ releases

  // Release asset links live at .../releases/:tag/assets/links; the store
  // keeps them as the release's "links" collection.
  function linksColl(ctx) {
    const rel = projectPath(ctx) + '/releases/' + enc(ctx.pathParams.tag);
    if (!store().get(rel)) {
      ctx.json(404, { message: '404 Release Not Found' });
      return null;
    }
    return store().collection(rel + '/links');
  }

  function linkView(ctx, l) {
    return Object.assign({}, l, { direct_asset_url: l.direct_asset_path ? ctx.externalUrl + '/-/releases/' + ctx.pathParams.tag + '/downloads' + l.direct_asset_path : l.url });
  }

  api.route('GET', '/api/v4/projects/:id/releases/:tag/assets/links', (ctx) => {
    const c = linksColl(ctx);
    if (!c) return undefined;
    return ctx.paginate(c.items.map((l) => linkView(ctx, l)));
  });

  api.route('POST', '/api/v4/projects/:id/releases/:tag/assets/links', (ctx) => {
    const c = linksColl(ctx);
    if (!c) return undefined;
    if (!ctx.params.name || !ctx.params.url) return ctx.json(400, { error: 'name, url are missing' });
    const r = store().create(c, { name: ctx.params.name, url: ctx.params.url, direct_asset_path: ctx.params.direct_asset_path, link_type: ctx.params.link_type || 'other', external: true }, ctx.user, { validate: false });
    return ctx.json(201, linkView(ctx, r.item));
  });

  api.route(['GET', 'PUT', 'DELETE'], '/api/v4/projects/:id/releases/:tag/assets/links/:link', (ctx) => {
    const c = linksColl(ctx);
    if (!c) return undefined;
    const l = c.find(ctx.pathParams.link);
    if (!l) return ctx.json(404, { message: '404 Link Not Found' });
    if (ctx.method === 'DELETE') {
      store().remove(c, l);
      return ctx.json(200, linkView(ctx, l));
    }
    if (ctx.method === 'PUT') store().update(c, l, ctx.params);
    return ctx.json(200, linkView(ctx, l));
  });

  // ---------------------------------------------------------- repository

  function files(ctx) {
    const c = store().collection(projectPath(ctx) + '/repository/files');
    return c ? c.items : [];
  }

  api.route('GET', '/api/v4/projects/:id/repository/tree', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const base = String(ctx.query.path || '').replace(/^\/+|\/+$/g, '');
    const recursive = ctx.query.recursive === 'true';
    const seen = new Map();
    for (const f of files(ctx)) {
      const fp = String(f.file_path);
      if (base && !fp.startsWith(base + '/')) continue;
      const rest = base ? fp.slice(base.length + 1) : fp;
      const parts = rest.split('/');
      const upto = recursive ? parts.length : 1;
      for (let i = 1; i <= upto; i++) {
        const path = (base ? base + '/' : '') + parts.slice(0, i).join('/');
        const isBlob = i === parts.length;
        if (!seen.has(path)) seen.set(path, { id: sha((isBlob ? 'blob' : 'tree') + path), name: parts[i - 1], type: isBlob ? 'blob' : 'tree', path, mode: isBlob ? '100644' : '040000' });
      }
    }
    const items = Array.from(seen.values()).sort((a, b) => (a.path < b.path ? -1 : 1));
    // keyset only, by page_token (doc/api/repositories.md)
    return ctx.paginate(items, { gitaly: true });
  });

  api.route('POST', '/api/v4/projects/:id/repository/commits', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const prm = ctx.params;
    if (!prm.branch || !prm.commit_message) return ctx.json(400, { error: 'branch, commit_message are missing' });
    const fc = store().collection(projectPath(ctx) + '/repository/files');
    for (const a of [].concat(prm.actions || [])) {
      const existing = fc.find(a.file_path);
      if (a.action === 'create') {
        if (existing) return ctx.json(400, { message: 'A file with this name already exists' });
        store().create(fc, { file_path: a.file_path, branch: prm.branch, content: a.content || '', encoding: a.encoding, commit_message: prm.commit_message }, ctx.user, { validate: false });
      } else if (a.action === 'update') {
        if (!existing) return ctx.json(400, { message: 'A file with this name doesn\'t exist' });
        store().update(fc, existing, { content: a.content || '', encoding: a.encoding });
      } else if (a.action === 'delete') {
        if (!existing) return ctx.json(400, { message: 'A file with this name doesn\'t exist' });
        store().remove(fc, existing);
      } else {
        return ctx.json(400, { error: 'actions[action] does not have a valid value' });
      }
    }
    const cc = store().collection(projectPath(ctx) + '/repository/commits');
    const id = sha('commit' + prm.commit_message + Date.now() + cc.items.length);
    const prev = cc.items[cc.items.length - 1];
    const commit = {
      id, short_id: id.slice(0, 8), title: String(prm.commit_message).split('\n')[0], message: prm.commit_message,
      author_name: prm.author_name || ctx.user.name, author_email: prm.author_email || ctx.user.email,
      committer_name: ctx.user.name, created_at: now(), committed_date: now(), authored_date: now(),
      parent_ids: prev ? [prev.id] : [], stats: { additions: 0, deletions: 0, total: 0 }, status: null,
      web_url: p.item.web_url + '/-/commit/' + id,
    };
    cc.insert(commit);
    const bc = store().collection(projectPath(ctx) + '/repository/branches');
    const br = bc && bc.find(prm.branch);
    if (br) br.commit = commit;
    return ctx.json(201, commit);
  });

  api.route('GET', '/api/v4/projects/:id/repository/compare', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    if (!ctx.query.from || !ctx.query.to) return ctx.json(400, { error: 'from, to are missing' });
    const cc = store().collection(projectPath(ctx) + '/repository/commits');
    return ctx.json(200, { commit: cc.items[cc.items.length - 1] || null, commits: cc.items, diffs: [], compare_timeout: false, compare_same_ref: ctx.query.from === ctx.query.to });
  });

  api.route('GET', '/api/v4/projects/:id/repository/files/:path/blame', (ctx) => {
    const r = lookup(ctx, projectPath(ctx) + '/repository/files/' + enc(ctx.pathParams.path), 'File');
    if (!r) return undefined;
    const lines = Buffer.from(r.item.content || '', 'base64').toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return ctx.json(200, [{ commit: { id: r.item.last_commit_id, message: 'init' }, lines }]);
  });

  for (const [action, prot] of [['protect', true], ['unprotect', false]]) {
    api.route('PUT', '/api/v4/projects/:id/repository/branches/:branch/' + action, (ctx) => {
      const r = lookup(ctx, projectPath(ctx) + '/repository/branches/' + enc(ctx.pathParams.branch), 'Branch');
      if (!r) return undefined;
      r.item.protected = prot;
      if (prot) {
        r.item.developers_can_push = ctx.params.developers_can_push === true || ctx.params.developers_can_push === 'true';
        r.item.developers_can_merge = ctx.params.developers_can_merge === true || ctx.params.developers_can_merge === 'true';
      }
      return ctx.json(200, r.item);
    });
  }
};
