'use strict';
// The rest of the catalog checked against GitLab's docs
// (spec/45-docs_sweep_spec.lua): routes the docs give another shape than
// the generic store would, and the verbs and paths GitLab does not serve,
// refused as GitLab (Grape) refuses them: 405 where the path exists with
// another method, 404 where it does not. Without the refusals the generic
// store would accept any path and hide a catalog that sends the wrong one.
//
// Loaded after catalog.js and before the other route modules (file name
// order), so a refusal here wins over a generic handler.

module.exports = function docsSweep(api) {
  const store = () => api.store;

  const notAllowed = (ctx) => ctx.json(405, { message: '405 Method Not Allowed' });
  const notFound = (ctx) => ctx.json(404, { error: '404 Not Found' });

  function refuse(method, pattern, status) {
    api.route(method, pattern, status === 405 ? notAllowed : notFound);
  }

  // ------------------------------------------------------------ epics

  // resource_label_events.md: GET /groups/:id/epics/:epic_id/resource_label_events
  // ("`epic_id` ... The ID of an epic", where issues take "The IID of an
  // issue"). The store keeps epics by iid: find the group's epic with that
  // global id, then serve its events.
  api.route('GET', /^\/api\/v4\/groups\/([^/]+)\/epics\/([^/]+)\/resource_label_events(\/[^/]+)?$/, (ctx) => {
    const group = ctx.match[1];
    const coll = store().collection('/groups/' + group + '/epics');
    const epic = coll && coll.items.find((e) => String(e.id) === decodeURIComponent(ctx.match[2]));
    if (!epic) return ctx.json(404, { message: '404 Epic Not Found' });
    ctx.apiPath = '/groups/' + group + '/epics/' + epic.iid + '/resource_label_events' + (ctx.match[3] || '');
    return store().handle(ctx);
  });

  // ------------------------------------------------------------ groups

  // group_labels.md has no promote: promoting turns a project label into a
  // group label (labels.md, PUT /projects/:id/labels/:label_id/promote)
  refuse('PUT', '/api/v4/groups/:id/labels/:label_id/promote', 404);

  // ---------------------------------------------------------- projects

  // pipeline_triggers.md: list, get, create, update, delete; no take_ownership
  refuse('POST', '/api/v4/projects/:id/triggers/:trigger_id/take_ownership', 404);

  // product_analytics.md: load, dry-run and meta; the funnels list is gone
  refuse('GET', '/api/v4/projects/:id/product_analytics/funnels', 404);

  // ---------------------------------------------------------- packages

  // packages/npm.md: the tarball download and the upload are project routes
  // (GET projects/:id/packages/npm/:package_name/-/:file_name, PUT
  // projects/:id/packages/npm/:package_name); the instance level only has
  // the metadata and dist-tags routes (GET <prefix>/:package_name: a PUT
  // there finds the path with another method)
  refuse('PUT', /^\/api\/v4\/packages\/npm\/[^/]+$/, 405);
  refuse('GET', /^\/api\/v4\/packages\/npm\/[^/]+\/-\/[^/]+$/, 404);
  api.route('PUT', '/api/v4/projects/:id/packages/npm/:package_name', (ctx) =>
    ctx.json(200, { message: 'Package was created' }));
  // packages/maven.md: "PUT projects/:id/packages/maven/*path/:file_name"
  // only; the instance and group levels download (GET on the same path)
  refuse('PUT', /^\/api\/v4\/packages\/maven\/.+$/, 405);
  api.route('PUT', /^\/api\/v4\/projects\/[^/]+\/packages\/maven\/.+$/, (ctx) => ctx.send(200, ''));

  // ---------------------------------------------------------- instance

  // geo_sites.md: sites, repair and status; the failures of the current
  // site (GET .../current/failures) are no longer documented
  refuse('GET', /^\/api\/v4\/geo_(?:sites|nodes)\/current\/failures$/, 404);
  // code_suggestions.md: completions, enabled, direct_access; no tokens
  refuse('POST', '/api/v4/code_suggestions/tokens', 404);
};
