'use strict';
// Endpoints of GitLab's docs the generic store cannot answer as the docs
// show them: group-level listings of packages and container repositories
// (with the project of each item, and the group-level item paths GitLab
// does not serve refused with 404: no route there), the instance's and a
// project's runners, a runner's managers and its token reset, keeping a
// job's artifacts, and the environments' bulk stop and review app
// clean-up. spec/44-docs_inv5_spec.lua checks the catalog against these.
//
// The generic store keeps a group's packages apart from its projects', so
// without these GET /groups/:id/packages would answer an empty list and any
// DELETE under it would succeed; GET /runners/all would be runner "all"
// (404), enabling a runner in a project would make a new runner, a
// runner's managers would come 20 a page, and POST
// /runners/reset_authentication_token would reset the token of runner
// "reset_authentication_token" (404).

const crypto = require('crypto');

module.exports = function docsInv5(api) {
  const store = () => api.store;
  const notFound = (ctx) => ctx.json(404, { error: '404 Not Found' });

  // The projects of group :id, its subgroups' too unless exclude_subgroups
  // is true (packages.md "Within a group"), or null after a 404 reply.
  function groupProjects(ctx, subgroups) {
    const group = store().get('/groups/' + encodeURIComponent(ctx.pathParams.id));
    if (!group) {
      ctx.json(404, { message: '404 Group Not Found' });
      return null;
    }
    const projects = store().collection('/projects');
    const full = String(group.full_path);
    return projects.items.filter((p) => {
      const ns = String((p.namespace && p.namespace.full_path) || '');
      return ns === full || (subgroups && ns.startsWith(full + '/'));
    });
  }

  // The items of `sub` under each project, each with its project's id (and
  // path): both pages show project_id on the group listing, the address of
  // the item (DELETE /projects/:id/...).
  function itemsOf(projects, sub) {
    const out = [];
    for (const p of projects) {
      const c = store().collection('/projects/' + p.id + '/' + sub);
      for (const it of c ? c.items : []) {
        out.push(Object.assign({}, it, { project_id: p.id, project_path: p.path_with_namespace }));
      }
    }
    return out.sort((a, b) => Number(a.id) - Number(b.id));
  }

  // doc/api/packages.md "Within a group": GET /groups/:id/packages lists the
  // packages of the group's projects; one package is read and deleted at
  // /projects/:id/packages/:package_id only ("Get a project package",
  // "Delete a project package").
  api.route('GET', '/api/v4/groups/:id/packages', (ctx) => {
    const projects = groupProjects(ctx, String(ctx.query.exclude_subgroups) !== 'true');
    if (!projects) return undefined;
    return ctx.paginate(itemsOf(projects, 'packages'));
  });
  api.route('*', /^\/api\/v4\/groups\/[^/]+\/packages\/[^/]+(\/.*)?$/, notFound);

  // doc/api/container_registry.md "Within a group": GET
  // /groups/:id/registry/repositories lists the repositories of the group's
  // projects; a repository is deleted at
  // DELETE /projects/:id/registry/repositories/:repository_id ("Delete
  // registry repository").
  api.route('GET', '/api/v4/groups/:id/registry/repositories', (ctx) => {
    const projects = groupProjects(ctx, true);
    if (!projects) return undefined;
    return ctx.paginate(itemsOf(projects, 'registry/repositories'));
  });
  api.route('*', /^\/api\/v4\/groups\/[^/]+\/registry\/repositories\/[^/]+(\/.*)?$/, notFound);

  // ------------------------------------------------------------ runners

  let enabled = new Map(); // project id -> Set(runner id)
  api.onReset(() => {
    enabled = new Map();
  });

  function project(ctx) {
    const p = store().get('/projects/' + encodeURIComponent(ctx.pathParams.id));
    if (!p) ctx.json(404, { message: '404 Project Not Found' });
    return p;
  }

  function runners() {
    return store().collection('/runners').items;
  }

  // runners.md: `scope` is one of specific, shared, active, paused, online
  const SCOPES = {
    specific: (r) => !r.is_shared,
    shared: (r) => !!r.is_shared,
    active: (r) => r.active !== false,
    paused: (r) => r.active === false,
    online: (r) => !!r.online,
  };

  function scoped(ctx, items) {
    const scope = ctx.query.scope;
    if (scope === undefined) return items;
    const test = SCOPES[scope];
    if (!test) return null;
    return items.filter(test);
  }

  // runners.md "List all runners": GET /runners/all, every runner of the
  // instance, for administrators only
  api.route('GET', '/api/v4/runners/all', (ctx) => {
    if (!ctx.user.is_admin) return ctx.json(403, { message: '403 Forbidden' });
    const items = scoped(ctx, runners());
    if (!items) return ctx.json(400, { error: 'scope does not have a valid value' });
    return ctx.paginate(items);
  });

  // runners.md "List project's runners": the runners enabled in the
  // project, and the shared ones
  api.route('GET', '/api/v4/projects/:id/runners', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const mine = enabled.get(p.id) || new Set();
    const items = scoped(ctx, runners().filter((r) => r.is_shared || mine.has(r.id)));
    if (!items) return ctx.json(400, { error: 'scope does not have a valid value' });
    return ctx.paginate(items);
  });

  // runners.md "Enable a runner in project": POST /projects/:id/runners with
  // runner_id answers the runner itself
  api.route('POST', '/api/v4/projects/:id/runners', (ctx) => {
    if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
    const p = project(ctx);
    if (!p) return undefined;
    if (ctx.params.runner_id === undefined) return ctx.json(400, { error: 'runner_id is missing' });
    const runner = runners().find((r) => String(r.id) === String(ctx.params.runner_id));
    if (!runner) return ctx.json(404, { message: '404 Runner Not Found' });
    if (runner.is_shared) return ctx.json(403, { message: '403 Forbidden - Runner is a shared runner' });
    const mine = enabled.get(p.id) || new Set();
    enabled.set(p.id, mine);
    if (mine.has(runner.id)) return ctx.json(400, { message: { runner_projects: ['has already been taken'] } });
    mine.add(runner.id);
    return ctx.json(201, runner);
  });

  // runners.md "Disable a runner from project": DELETE
  // /projects/:id/runners/:runner_id, refused while the project is the
  // runner's only one ("Use the Remove a runner call instead")
  api.route('DELETE', '/api/v4/projects/:id/runners/:runner_id', (ctx) => {
    const p = project(ctx);
    if (!p) return undefined;
    const mine = enabled.get(p.id);
    const runner = runners().find((r) => String(r.id) === String(ctx.pathParams.runner_id));
    if (!runner || !mine || !mine.has(runner.id)) return ctx.json(404, { message: '404 Runner Not Found' });
    let count = 0;
    for (const set of enabled.values()) if (set.has(runner.id)) count++;
    if (count === 1) {
      return ctx.json(403, { message: '403 Forbidden - Only one project associated with the runner. Please remove the runner instead' });
    }
    mine.delete(runner.id);
    return ctx.send(204, null);
  });

  function runnerById(ctx) {
    const r = store().get('/runners/' + encodeURIComponent(ctx.pathParams.runner_id));
    if (!r) ctx.json(404, { message: '404 Runner Not Found' });
    return r;
  }

  // runners.md "List runner's managers": GET /runners/:id/managers answers
  // all of them in one array (it is not among the page's paginated
  // endpoints: no page, no per_page, no pagination headers)
  api.route('GET', '/api/v4/runners/:runner_id/managers', (ctx) => {
    const r = runnerById(ctx);
    if (!r) return undefined;
    const c = store().collection('/runners/' + encodeURIComponent(r.id) + '/managers');
    return ctx.json(200, c ? c.items : []);
  });

  // runners.md "Reset runner's authentication token by using the current
  // token": POST /runners/reset_authentication_token with `token` answers
  // the new token and its expiry; a token that is no runner's is refused
  // with 403, as GitLab refuses invalid runner credentials
  api.route('POST', '/api/v4/runners/reset_authentication_token', (ctx) => {
    if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
    const token = ctx.params.token;
    if (token === undefined || token === '') return ctx.json(400, { error: 'token is missing' });
    const runner = runners().find((r) => r.token !== undefined && String(r.token) === String(token));
    if (!runner) return ctx.json(403, { message: '403 Forbidden' });
    runner.token = 'glrt-' + crypto.randomBytes(15).toString('hex');
    const expires = new Date(Date.now() + 90 * 24 * 3600 * 1000).toISOString();
    runner.token_expires_at = expires;
    return ctx.json(201, { token: runner.token, token_expires_at: expires });
  });

  // ---------------------------------------------------- job artifacts

  // job_artifacts.md "Keep artifacts": POST .../jobs/:job_id/artifacts/keep
  // answers the job, its artifacts no longer expiring
  api.route('POST', '/api/v4/projects/:id/jobs/:job_id/artifacts/keep', (ctx) => {
    if (!project(ctx)) return undefined;
    const job = store().get('/projects/' + encodeURIComponent(ctx.pathParams.id) + '/jobs/' +
      encodeURIComponent(ctx.pathParams.job_id));
    if (!job) return ctx.json(404, { message: '404 Job Not Found' });
    if (!job.artifacts_file) return ctx.json(404, { message: '404 Not Found' });
    job.artifacts_expire_at = null;
    return ctx.json(200, job);
  });

  // ----------------------------------------------------- environments

  function envPath(ctx) {
    return '/projects/' + encodeURIComponent(ctx.pathParams.id) + '/environments';
  }

  // environments.md "Create a new environment": a new environment is
  // available, with a slug made from its name
  api.route('POST', '/api/v4/projects/:id/environments', (ctx) => {
    if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
    if (!project(ctx)) return undefined;
    const prm = ctx.params;
    if (prm.name === undefined || prm.name === '') return ctx.json(400, { error: 'name is missing' });
    const c = store().collection(envPath(ctx));
    if (c.items.some((e) => e.name === prm.name)) {
      return ctx.json(400, { message: { name: ['has already been taken'] } });
    }
    const slug = String(prm.name).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
    const made = store().create(c, Object.assign({ description: null, external_url: null, tier: 'other' }, prm,
      { slug, state: 'available' }), ctx.user, { validate: false });
    return ctx.json(201, made.item);
  });

  function environment(ctx) {
    const e = store().get(envPath(ctx) + '/' + encodeURIComponent(ctx.pathParams.environment_id));
    if (!e) ctx.json(404, { message: '404 Environment Not Found' });
    return e;
  }

  // environments.md "Stop an environment": 200 and the stopped environment
  api.route('POST', '/api/v4/projects/:id/environments/:environment_id/stop', (ctx) => {
    if (!project(ctx)) return undefined;
    const e = environment(ctx);
    if (!e) return undefined;
    e.state = 'stopped';
    e.updated_at = new Date().toISOString();
    return ctx.json(200, e);
  });

  function environments(ctx) {
    const c = store().collection(envPath(ctx));
    return c ? c.items : [];
  }

  function isoDate(v) {
    const t = Date.parse(String(v));
    return Number.isFinite(t) ? t : null;
  }

  const DAY = 24 * 3600 * 1000;

  // environments.md "Stop stale environments": POST .../environments/stop_stale
  // with `before` (between 10 years and 1 week ago) stops every environment
  // last changed before it
  api.route('POST', '/api/v4/projects/:id/environments/stop_stale', (ctx) => {
    if (!project(ctx)) return undefined;
    if (ctx.params.before === undefined) return ctx.json(400, { error: 'before is missing' });
    const before = isoDate(ctx.params.before);
    const now = Date.now();
    if (before === null || before > now - 7 * DAY || before < now - 3653 * DAY) {
      return ctx.json(400, { message: 'Invalid Date' });
    }
    for (const e of environments(ctx)) {
      if (e.state === 'available' && isoDate(e.updated_at) < before) e.state = 'stopped';
    }
    return ctx.json(200, { message: 'Successfully requested stop for all stale environments' });
  });

  // environments.md "Delete multiple stopped review apps": DELETE
  // .../environments/review_apps schedules the stopped environments of the
  // review folder last changed before `before` (30 days ago by default),
  // at most `limit` (100); `dry_run` (true by default) only lists them
  api.route('DELETE', '/api/v4/projects/:id/environments/review_apps', (ctx) => {
    if (!project(ctx)) return undefined;
    const prm = Object.assign({}, ctx.query, ctx.params);
    const before = prm.before === undefined ? Date.now() - 30 * DAY : isoDate(prm.before);
    if (before === null) return ctx.json(400, { error: 'before is invalid' });
    const limit = prm.limit === undefined ? 100 : Number(prm.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return ctx.json(400, { error: 'limit does not have a valid value' });
    const dryRun = !(prm.dry_run === false || prm.dry_run === 'false');
    const picked = environments(ctx).filter((e) => String(e.name).startsWith('review/') &&
      e.state === 'stopped' && isoDate(e.updated_at) < before).slice(0, limit);
    if (!dryRun) {
      const at = new Date(Date.now() + 7 * DAY).toISOString();
      for (const e of picked) e.auto_delete_at = at;
    }
    return ctx.json(200, {
      scheduled_entries: picked.map((e) => ({ id: e.id, name: e.name, slug: e.slug, external_url: e.external_url || null })),
      unprocessable_entries: [],
    });
  });

  // environments.md "Delete an environment": "The environment must be
  // stopped first, otherwise the request returns 403"
  api.route('DELETE', '/api/v4/projects/:id/environments/:environment_id', (ctx) => {
    if (!project(ctx)) return undefined;
    const e = environment(ctx);
    if (!e) return undefined;
    if (e.state !== 'stopped') return ctx.json(403, { message: '403 Forbidden' });
    return api.NEXT;
  });
};
