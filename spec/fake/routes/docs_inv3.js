'use strict';
// Endpoints of doc/api/merge_requests.md, labels.md, snippets.md and
// project_snippets.md (gitlabhq/gitlabhq) that the generic store cannot
// answer the way the docs show (spec/44-docs_inv3_spec.lua): reviewers with
// their review state, raw diffs as plain text, merge request dependencies
// (blocks and blockees), the older label promote by name, and snippet
// repository files addressed by one URL-encoded path segment (GitLab's
// lib/api/snippets.rb: `requirements: { file_path: NO_SLASH_URL_PART_REGEX }`,
// so a path with its slashes reaches no route: 404).

const enc = encodeURIComponent;

module.exports = function docsInv3(api) {
  const store = () => api.store;
  let blocks = []; // { id, blocking (MR item id), blocked (MR item id) }
  let nextBlock = 1;
  api.onReset(() => {
    blocks = [];
    nextBlock = 1;
  });

  const notFound = (ctx, what) => ctx.json(404, { message: '404 ' + what + ' Not Found' });

  function mrPath(ctx) {
    return '/projects/' + enc(ctx.pathParams.id) + '/merge_requests/' + enc(ctx.pathParams.iid);
  }

  function mrOr404(ctx) {
    const mr = store().get(mrPath(ctx));
    if (!mr) notFound(ctx, 'Merge Request');
    return mr;
  }

  function mrById(id) {
    for (const c of store().colls.values()) {
      if (c.last !== 'merge_requests' || !c.parent) continue;
      const hit = c.items.find((it) => Number(it.id) === Number(id));
      if (hit) return hit;
    }
    return null;
  }

  // ------------------------------------------------------ merge requests

  // merge_requests.md "Get single merge request reviewers": an array (paginated)
  // of { user, state, created_at }
  api.route('GET', '/api/v4/projects/:id/merge_requests/:iid/reviewers', (ctx) => {
    const mr = mrOr404(ctx);
    if (!mr) return undefined;
    const ids = Array.isArray(mr.reviewer_ids) ? mr.reviewer_ids : [];
    const users = ids.map((id) => store().findUser(id)).filter(Boolean);
    return ctx.paginate(users.map((u) => ({
      user: store().userSummary(u), state: 'unreviewed', created_at: mr.created_at,
    })));
  });

  // merge_requests.md "Show merge request raw diffs": a raw diff, not JSON
  api.route('GET', '/api/v4/projects/:id/merge_requests/:iid/raw_diffs', (ctx) => {
    const mr = mrOr404(ctx);
    if (!mr) return undefined;
    return ctx.send(200, 'diff --git a/README.md b/README.md\n' +
      'index 1111111..2222222 100644\n--- a/README.md\n+++ b/README.md\n' +
      '@@ -1 +1 @@\n-# proj\n+# proj (' + mr.source_branch + ')\n');
  });

  // merge_requests.md "Get merge request dependencies", "Create a merge
  // request dependency", "Delete a merge request dependency", "Get merge
  // request blocked MRs". lib/api/merge_request_dependencies.rb presents
  // the created block as one object (the doc's example shows it in an array)
  function dependency(b, project) {
    return {
      id: b.id, blocking_merge_request: mrById(b.blocking),
      blocked_merge_request: mrById(b.blocked), project_id: project,
    };
  }

  api.route('GET', '/api/v4/projects/:id/merge_requests/:iid/blocks', (ctx) => {
    const mr = mrOr404(ctx);
    if (!mr) return undefined;
    return ctx.paginate(blocks.filter((b) => b.blocked === mr.id).map((b) => dependency(b, mr.project_id)));
  });

  api.route('POST', '/api/v4/projects/:id/merge_requests/:iid/blocks', (ctx) => {
    if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
    const mr = mrOr404(ctx);
    if (!mr) return undefined;
    const want = ctx.params.blocking_merge_request_id;
    if (want === undefined) return ctx.json(400, { error: 'blocking_merge_request_id is missing' });
    const blocker = mrById(want);
    if (!blocker) return notFound(ctx, 'Merge Request');
    if (blocks.some((b) => b.blocked === mr.id && b.blocking === blocker.id)) {
      return ctx.json(409, { message: 'Block already exists' });
    }
    const b = { id: nextBlock++, blocking: blocker.id, blocked: mr.id };
    blocks.push(b);
    return ctx.json(201, dependency(b, mr.project_id));
  });

  api.route('DELETE', '/api/v4/projects/:id/merge_requests/:iid/blocks/:block_id', (ctx) => {
    const mr = mrOr404(ctx);
    if (!mr) return undefined;
    const at = blocks.findIndex((b) => b.blocked === mr.id && String(b.id) === ctx.pathParams.block_id);
    if (at < 0) return notFound(ctx, 'Merge Request Dependency');
    blocks.splice(at, 1);
    return ctx.send(204, null);
  });

  api.route('GET', '/api/v4/projects/:id/merge_requests/:iid/blockees', (ctx) => {
    const mr = mrOr404(ctx);
    if (!mr) return undefined;
    return ctx.paginate(blocks.filter((b) => b.blocking === mr.id).map((b) => dependency(b, mr.project_id)));
  });

  // -------------------------------------------------------------- labels

  // labels.md: "An older endpoint `PUT /projects/:id/labels/promote` with
  // `name` in the parameters is still available, but deprecated."
  api.route('PUT', '/api/v4/projects/:id/labels/promote', (ctx) => {
    if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
    const coll = store().collection('/projects/' + enc(ctx.pathParams.id) + '/labels');
    if (!coll) return notFound(ctx, 'Project');
    if (ctx.params.name === undefined) return ctx.json(400, { error: 'name is missing' });
    const label = coll.items.find((l) => l.name === String(ctx.params.name));
    if (!label) return notFound(ctx, 'Label');
    label.is_project_label = false;
    return ctx.json(200, label);
  });

  // ------------------------------------------------------------ snippets

  // snippets.md "Snippet repository file content" and project_snippets.md:
  // GET .../files/:ref/:file_path/raw, file_path one URL-encoded segment
  function snippetFile(ctx, path) {
    const snippet = store().get(path);
    if (!snippet) return notFound(ctx, 'Snippet');
    const want = ctx.pathParams.file_path;
    const files = Array.isArray(snippet.files) ? snippet.files : [];
    const f = files.find((x) => x.file_path === want || x.path === want) ||
      (snippet.file_name === want ? { content: snippet.content } : null);
    if (!f) return notFound(ctx, 'File');
    return ctx.send(200, String(f.content === undefined ? '' : f.content));
  }

  api.route('GET', '/api/v4/snippets/:sid/files/:ref/:file_path/raw', (ctx) =>
    snippetFile(ctx, '/snippets/' + enc(ctx.pathParams.sid)));
  api.route('GET', '/api/v4/projects/:id/snippets/:sid/files/:ref/:file_path/raw', (ctx) =>
    snippetFile(ctx, '/projects/' + enc(ctx.pathParams.id) + '/snippets/' + enc(ctx.pathParams.sid)));
  // a file path with its slashes: no such route
  api.route('GET', /^\/api\/v4\/(?:projects\/[^/]+\/)?snippets\/[^/]+\/files\/[^/]+\/.+\/raw$/, (ctx) =>
    ctx.json(404, { error: '404 Not Found' }));
};
