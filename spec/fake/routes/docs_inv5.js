'use strict';
// Group-level listings of packages and container repositories, answered as
// GitLab's docs show them, and the group-level item paths GitLab does not
// serve, refused as GitLab (Grape) refuses them: 404, no route there.
// spec/44-docs_inv5_spec.lua checks the catalog against these.
//
// The generic store keeps a group's packages apart from its projects', so
// without these GET /groups/:id/packages would answer an empty list and any
// DELETE under it would succeed.

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
};
