'use strict';
// Repository, repository files, branches, protected branches and webhook
// endpoints answered as GitLab's docs (gitlabhq/gitlabhq doc/api/**) say,
// where the generic store would answer otherwise (spec/44-docs_inv4_spec.lua):
//
//   doc/api/repositories.md "Health": GET /projects/:id/repository/health
//     (404 until a report exists; `generate=true` makes one)
//   doc/api/repository_files.md "Get file blame from repository", "Get file
//     metadata only": HEAD /projects/:id/repository/files/:file_path/blame
//     (the X-Gitlab-* headers, no body)
//   doc/api/branches.md "Delete merged branches":
//     DELETE /projects/:id/repository/merged_branches answers 202 Accepted
//   doc/api/protected_branches.md "Update a protected branch": PATCH only;
//     PUT /projects/:id/protected_branches/:name is refused (405)
//   doc/api/releases/_index.md "Delete a Release": DELETE answers the
//     deleted release (200)
//   doc/api/project_webhooks.md (and group_webhooks.md): "Trigger a test
//     project webhook" POST .../hooks/:hook_id/test/:trigger (201) records
//     an event; "Get a list of project webhook events"
//     GET .../hooks/:hook_id/events (paginated, `status` filter); "Resend a
//     project webhook event" POST .../hooks/:hook_id/events/:hook_event_id/resend
//
// Loaded before files.js and resources.js (file name order).

const enc = encodeURIComponent;

// project_webhooks.md "Trigger a test project webhook": the triggers GitLab takes
const TRIGGERS = new Set(['push_events', 'tag_push_events', 'issues_events', 'confidential_issues_events',
  'note_events', 'merge_requests_events', 'job_events', 'pipeline_events', 'wiki_page_events',
  'releases_events', 'emoji_events', 'resource_access_token_events']);

// project_webhooks.md "Get a list of project webhook events": `status` is a
// code or a category
const CATEGORIES = { successful: [200, 299], client_failure: [400, 499], server_failure: [500, 599] };

module.exports = function docsInv4(api) {
  const store = () => api.store;
  let health = new Map(); // project store path -> report
  let events = new Map(); // hook store path -> [event]
  let nextEvent = 1;
  api.onReset(() => {
    health = new Map();
    events = new Map();
    nextEvent = 1;
  });

  const projectPath = (ctx) => '/projects/' + enc(ctx.pathParams.id);

  function projectOr404(ctx) {
    const path = projectPath(ctx);
    if (!store().get(path)) {
      ctx.json(404, { message: '404 Project Not Found' });
      return null;
    }
    return path;
  }

  // ------------------------------------------------------------ repository

  // repositories.md "Health": rate-limited statistics; "If `true`, a new
  // health report should be generated. Set this if the endpoint returns 404."
  api.route('GET', '/api/v4/projects/:id/repository/health', (ctx) => {
    const path = projectOr404(ctx);
    if (!path) return undefined;
    const generate = ctx.query.generate === 'true' || ctx.query.generate === true;
    if (generate) {
      const files = store().collection(path + '/repository/files');
      const n = files ? files.items.length : 0;
      health.set(path, {
        size: 4096 * (n + 1),
        references: { loose_count: 0, packed_size: 0, reference_backend: 'REFERENCE_BACKEND_FILES' },
        objects: { size: 4096 * n, recent_size: 4096 * n, stale_size: 0, keep_size: 0, packfile_count: 1,
          reverse_index_count: 1, cruft_count: 0, keep_count: 0, loose_objects_count: n,
          stale_loose_objects_count: 0, loose_objects_garbage_count: 0 },
        commit_graph: { commit_graph_chain_length: 1, has_bloom_filters: true, has_generation_data: true,
          has_generation_data_overflow: false },
        bitmap: null,
        multi_pack_index: { packfile_count: 1, version: 1 },
        multi_pack_index_bitmap: { has_hash_cache: true, has_lookup_table: true, version: 1 },
        alternates: null,
        is_object_pool: false,
        last_full_repack: { seconds: Math.floor(Date.now() / 1000), nanos: 0 },
        updated_at: new Date().toISOString(),
      });
    }
    const report = health.get(path);
    if (!report) return ctx.json(404, { message: '404 Repository health Not Found' });
    return ctx.json(200, report);
  });

  // repository_files.md: "Use the HEAD method to return just file metadata"
  // of the blame endpoint, as for the file itself
  api.route('HEAD', '/api/v4/projects/:id/repository/files/:path/blame', (ctx) => {
    const path = projectOr404(ctx);
    if (!path) return undefined;
    if (!ctx.query.ref) return ctx.json(400, { error: 'ref is missing' });
    const item = store().get(path + '/repository/files/' + enc(ctx.pathParams.path));
    if (!item) return ctx.json(404, { message: '404 File Not Found' });
    return ctx.send(200, null, store().fileHeaders(item, { 'content-type': 'application/json', 'x-gitlab-ref': ctx.query.ref }));
  });

  // branches.md "Delete merged branches": "If successful, returns 202 Accepted"
  api.route('DELETE', '/api/v4/projects/:id/repository/merged_branches', (ctx) => {
    if (!projectOr404(ctx)) return undefined;
    return ctx.json(202, { message: '202 Accepted' });
  });

  // protected_branches.md updates with PATCH; Grape has no PUT route there
  api.route('PUT', '/api/v4/projects/:id/protected_branches/:name', (ctx) =>
    ctx.json(405, { message: '405 Method Not Allowed' }));

  // releases/_index.md "Delete a Release": the example response is the release
  api.route('DELETE', '/api/v4/projects/:id/releases/:tag', (ctx) => {
    const path = projectOr404(ctx);
    if (!path) return undefined;
    const coll = store().collection(path + '/releases');
    const item = coll && coll.find(ctx.pathParams.tag);
    if (!item) return ctx.json(404, { message: '404 Not found' });
    store().remove(coll, item);
    return ctx.json(200, item);
  });

  // ------------------------------------------------------------ webhooks

  const HOOK = '^\\/api\\/v4\\/(?<scope>projects|groups)\\/(?<id>[^/]+)\\/hooks\\/(?<hook>[^/]+)';

  function hookOr404(ctx) {
    const path = '/' + ctx.pathParams.scope + '/' + enc(ctx.pathParams.id) + '/hooks/' + enc(ctx.pathParams.hook);
    const hook = store().get(path);
    if (!hook) {
      ctx.json(404, { message: '404 Hook Not Found' });
      return null;
    }
    return { path, hook };
  }

  function record(h, trigger, ctx) {
    const list = events.get(h.path) || [];
    events.set(h.path, list);
    const ev = {
      id: nextEvent++,
      url: h.hook.url,
      trigger,
      request_headers: { 'Content-Type': 'application/json', 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Token': '[REDACTED]' },
      request_data: { object_kind: 'push', event_name: 'push', user_id: ctx.user.id },
      response_headers: { 'Content-Type': 'application/json; charset=utf-8' },
      response_body: '{"success":true}',
      execution_duration: 1.0,
      response_status: '200',
    };
    list.push(ev);
    return ev;
  }

  // project_webhooks.md "Trigger a test project webhook": {"message":"201 Created"}
  api.route('POST', new RegExp(HOOK + '\\/test\\/(?<trigger>[^/]+)$'), (ctx) => {
    const h = hookOr404(ctx);
    if (!h) return undefined;
    const trigger = ctx.pathParams.trigger;
    if (!TRIGGERS.has(trigger)) return ctx.json(400, { error: 'trigger does not have a valid value' });
    record(h, trigger.replace(/_events$/, '_hooks'), ctx);
    return ctx.json(201, { message: '201 Created' });
  });

  // project_webhooks.md "Get a list of project webhook events": page and
  // per_page, `status` a code or a category
  api.route('GET', new RegExp(HOOK + '\\/events$'), (ctx) => {
    const h = hookOr404(ctx);
    if (!h) return undefined;
    let list = events.get(h.path) || [];
    const st = ctx.query.status;
    if (st !== undefined) {
      const range = CATEGORIES[st] || (/^\d{3}$/.test(String(st)) ? [Number(st), Number(st)] : null);
      if (!range) return ctx.json(400, { error: 'status does not have a valid value' });
      list = list.filter((e) => Number(e.response_status) >= range[0] && Number(e.response_status) <= range[1]);
    }
    return ctx.paginate(list);
  });

  // project_webhooks.md "Resend a project webhook event": {"response_status": 200}
  api.route('POST', new RegExp(HOOK + '\\/events\\/(?<event>[^/]+)\\/resend$'), (ctx) => {
    const h = hookOr404(ctx);
    if (!h) return undefined;
    const ev = (events.get(h.path) || []).find((e) => String(e.id) === String(ctx.pathParams.event));
    if (!ev) return ctx.json(404, { message: '404 Not found' });
    record(h, ev.trigger, ctx);
    return ctx.json(201, { response_status: Number(ev.response_status) });
  });
};
