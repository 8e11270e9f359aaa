'use strict';
// GitLab resources whose path has more segments than the generic store's
// "collection/key" pairs: served by the store under a one-segment name, so
// they list, create, update (PATCH or PUT) and delete like any other item.
//
//   /projects/:id/packages/protection/rules[/:rule_id]
//       project_packages_protection_rules.md
//   /projects/:id/registry/protection/repository/rules[/:rule_id]
//       container_repository_protection_rules.md
//   GET|PUT /projects/:id/mirror/pull   project_pull_mirroring.md: the pull
//       mirror configuration, one object per project (PUT merges into it)

const ALIASES = [
  { methods: '*', re: /^\/api\/v4\/projects\/([^/]+)\/packages\/protection\/rules(\/[^/]+)?$/,
    to: 'package_protection_rules' },
  { methods: '*', re: /^\/api\/v4\/projects\/([^/]+)\/registry\/protection\/repository\/rules(\/[^/]+)?$/,
    to: 'registry_protection_rules' },
  { methods: ['GET', 'PUT'], re: /^\/api\/v4\/projects\/([^/]+)\/mirror\/pull()$/, to: 'pull_mirror' },
];

module.exports = function paths(api) {
  for (const a of ALIASES) {
    api.route(a.methods, a.re, (ctx) => {
      if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
      ctx.apiPath = '/projects/' + ctx.match[1] + '/' + a.to + (ctx.match[2] || '');
      return api.store.handle(ctx);
    });
  }
};
