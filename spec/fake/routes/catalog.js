'use strict';
// Endpoints whose GitLab docs the resource catalog was checked against
// (spec/43-catalog_docs_spec.lua), answered as the docs say, and the
// neighbouring verbs and paths GitLab does not serve, refused as GitLab
// (Grape) refuses them: 405 where the path exists with another method,
// 404 where it does not. Without these the generic store would accept any
// path and hide a catalog that sends the wrong one.
//
// Loaded before the other route modules (file name order), so a refusal
// here wins over a generic handler.

const enc = encodeURIComponent;

module.exports = function catalog(api) {
  const store = () => api.store;
  let links = new Map(); // "/groups/:g/epics/:iid" -> [{ id, issue_id, relative_position }]
  let nextLink = 100; // association ids apart from issue ids, as on GitLab
  api.onReset(() => {
    links = new Map();
    nextLink = 100;
  });

  const notAllowed = (ctx) => ctx.json(405, { message: '405 Method Not Allowed' });
  const notFound = (ctx) => ctx.json(404, { error: '404 Not Found' });

  function refuse(method, pattern, status) {
    api.route(method, pattern, status === 405 ? notAllowed : notFound);
  }

  function groupPath(ctx) {
    return '/groups/' + enc(ctx.pathParams.id);
  }

  function epicOr404(ctx) {
    const path = groupPath(ctx) + '/epics/' + enc(ctx.pathParams.iid);
    const epic = store().get(path);
    if (!epic) {
      ctx.json(404, { message: '404 Epic Not Found' });
      return null;
    }
    return { epic, path };
  }

  function findIssue(id) {
    for (const c of store().colls.values()) {
      if (c.last !== 'issues' || !c.parent) continue;
      const hit = c.items.find((it) => Number(it.id) === Number(id));
      if (hit) return hit;
    }
    return null;
  }

  // ------------------------------------------------------------ epics

  // notes.md: "The epics notes API uses the epic ID instead of epic IID";
  // discussions.md takes :epic_id as well. The store keeps epics by iid:
  // find the group's epic with that global id, then serve its notes.
  api.route('*', /^\/api\/v4\/groups\/([^/]+)\/epics\/([^/]+)\/(notes|discussions)(\/.*)?$/, (ctx) => {
    if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
    const group = ctx.match[1];
    const coll = store().collection('/groups/' + group + '/epics');
    const epic = coll && coll.items.find((e) => String(e.id) === decodeURIComponent(ctx.match[2]));
    if (!epic) return ctx.json(404, { message: '404 Epic Not Found' });
    ctx.apiPath = '/groups/' + group + '/epics/' + epic.iid + '/' + ctx.match[3] + (ctx.match[4] || '');
    return store().handle(ctx);
  });

  // epics.md: POST /groups/:id/epics/:epic_iid/todo (singular)
  api.route('POST', '/api/v4/groups/:id/epics/:iid/todo', (ctx) => {
    const e = epicOr404(ctx);
    if (!e) return undefined;
    return ctx.json(201, {
      id: 1, action_name: 'marked', target_type: 'Epic', state: 'pending',
      target: e.epic, author: store().userSummary(ctx.user),
    });
  });
  refuse('POST', '/api/v4/groups/:id/epics/:iid/todos', 404);

  // epic_issues.md: list, assign by the issue's global id, then update
  // (reorder) and remove by :epic_issue_id, the association's id
  api.route('GET', '/api/v4/groups/:id/epics/:iid/issues', (ctx) => {
    const e = epicOr404(ctx);
    if (!e) return undefined;
    const items = (links.get(e.path) || []).map((l) =>
      Object.assign({}, findIssue(l.issue_id) || { id: l.issue_id }, {
        epic_issue_id: l.id, relative_position: l.relative_position,
      }));
    return ctx.paginate(items);
  });
  api.route('POST', '/api/v4/groups/:id/epics/:iid/issues/:issue_id', (ctx) => {
    const e = epicOr404(ctx);
    if (!e) return undefined;
    const issue = findIssue(ctx.pathParams.issue_id);
    if (!issue) return ctx.json(404, { message: '404 Issue Not Found' });
    const list = links.get(e.path) || [];
    links.set(e.path, list);
    const link = { id: nextLink++, issue_id: issue.id, relative_position: list.length };
    list.push(link);
    return ctx.json(201, { id: link.id, epic: e.epic, issue, relative_position: link.relative_position });
  });
  api.route(['PUT', 'DELETE'], '/api/v4/groups/:id/epics/:iid/issues/:epic_issue_id', (ctx) => {
    const e = epicOr404(ctx);
    if (!e) return undefined;
    const list = links.get(e.path) || [];
    const link = list.find((l) => String(l.id) === String(ctx.pathParams.epic_issue_id));
    if (!link) return ctx.json(404, { message: '404 Not found' });
    const issue = findIssue(link.issue_id) || { id: link.issue_id };
    if (ctx.method === 'DELETE') {
      list.splice(list.indexOf(link), 1);
      return ctx.json(200, { id: link.id, epic: e.epic, issue });
    }
    if (ctx.params.move_before_id !== undefined) link.relative_position = -1;
    return ctx.json(200, list.map((l) =>
      Object.assign({}, findIssue(l.issue_id) || { id: l.issue_id }, {
        epic_issue_id: l.id, relative_position: l.relative_position,
      })));
  });

  // ------------------------------------------------------------ groups

  // members.md: POST /groups/:id/members/approve_all
  api.route('POST', '/api/v4/groups/:id/members/approve_all', (ctx) => ctx.send(204, null));
  refuse('PUT', '/api/v4/groups/:id/members/approve_all', 405);

  // group_relations_export.md: POST starts it, GET .../status reads it
  api.route('POST', '/api/v4/groups/:id/export_relations', (ctx) =>
    ctx.json(202, { message: '202 Accepted' }));
  api.route('GET', '/api/v4/groups/:id/export_relations/status', (ctx) =>
    ctx.json(200, [{ relation: 'labels', status: 1, error: null, batched: false }]));
  refuse('GET', '/api/v4/groups/:id/export_relations', 405);

  // group_import_export.md: no import status for groups
  refuse('GET', '/api/v4/groups/:id/import', 404);
  // groups.md: the avatar is a field of PUT /groups/:id; only GET .../avatar
  refuse(['PUT', 'POST'], '/api/v4/groups/:id/avatar', 405);
  // group_milestones.md has no promote (milestones.md promotes project ones)
  refuse('POST', '/api/v4/groups/:id/milestones/:mid/promote', 404);
  // invitations.md: no single get (PUT and DELETE share the path: 405)
  refuse('GET', /^\/api\/v4\/(?:projects|groups)\/[^/]+\/invitations\/[^/]+$/, 405);

  // ---------------------------------------------------------- projects

  // merge_request_approvals.md: the approvers routes are gone, POST
  // .../approvals was removed in GitLab 16.0 (GET .../approvals stays)
  refuse('PUT', '/api/v4/projects/:id/approvers', 404);
  refuse('PUT', '/api/v4/projects/:id/merge_requests/:iid/approvers', 404);
  refuse('POST', '/api/v4/projects/:id/merge_requests/:iid/approvals', 405);
  // merge_requests.md: GET .../merge_ref only
  api.route('GET', '/api/v4/projects/:id/merge_requests/:iid/merge_ref', () => ({ commit_id: 'f'.repeat(40) }));
  refuse('PUT', '/api/v4/projects/:id/merge_requests/:iid/merge_ref', 405);
  // removed in GitLab 16.0 (metrics dashboard) and 17.0 (managed licenses)
  refuse('*', '/api/v4/projects/:id/metrics/user_starred_dashboards', 404);
  refuse('*', /^\/api\/v4\/projects\/[^/]+\/managed_licenses(\/[^/]+)?$/, 404);
  // tags.md: no release routes (releases.md)
  refuse(['POST', 'PUT'], '/api/v4/projects/:id/repository/tags/:tag/release', 404);
  // pipeline_schedules.md: variables are created, edited, deleted
  refuse('GET', '/api/v4/projects/:id/pipeline_schedules/:sid/variables', 405);
  // container_registry.md: one repository is GET /registry/repositories/:id
  refuse('GET', '/api/v4/projects/:id/registry/repositories/:rid', 405);
  api.route('GET', '/api/v4/registry/repositories/:rid', (ctx) =>
    ctx.json(200, { id: Number(ctx.pathParams.rid) || ctx.pathParams.rid, name: '', path: 'group/proj', project_id: 1 }));
  // product_analytics.md documents GET .../request/meta
  api.route('GET', '/api/v4/projects/:id/product_analytics/request/meta', () => ({ cubes: [] }));

  // packages/conan_v1.md: GET .../ping, instance and project level
  for (const pattern of ['/api/v4/packages/conan/v1/ping', '/api/v4/projects/:id/packages/conan/v1/ping']) {
    api.route('GET', pattern, (ctx) => ctx.send(200, '', { 'x-conan-server-capabilities': 'revisions' }));
    refuse('POST', pattern, 405);
  }

  // ---------------------------------------------------------- instance

  // ci/lint.md: POST /ci/lint was removed in GitLab 16.0
  refuse('POST', '/api/v4/ci/lint', 404);
  // geo_sites.md: GET /geo_sites/status (every site); no "statuses"
  api.route('GET', '/api/v4/geo_sites/status', (ctx) => ctx.paginate([{ geo_node_id: 1, healthy: true }]));
  refuse('GET', '/api/v4/geo_sites/statuses', 404);
  // todos.md: no DELETE of a to-do item
  refuse('DELETE', '/api/v4/todos/:tid', 404);
  // users.md: one email is GET /user/emails/:email_id (DELETE shares the path)
  refuse('GET', '/api/v4/users/:uid/emails/:eid', 405);
};
