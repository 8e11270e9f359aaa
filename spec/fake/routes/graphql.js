'use strict';
// POST /api/graphql: enough of GitLab's GraphQL endpoint for the client's
// gl:graphql() specs: currentUser, project(fullPath), variables, and
// GraphQL-level errors (HTTP 200 with an `errors` list, as GitLab answers).

module.exports = function (api) {
  api.route('POST', /^(\/[^/]+)*\/api\/graphql$/, (ctx) => {
    if (!ctx.authenticate('optional')) return undefined;
    const body = ctx.jsonBody;
    if (!body || typeof body.query !== 'string') {
      return ctx.json(200, { errors: [{ message: 'No query string was present' }] });
    }
    const q = body.query;
    const vars = body.variables || {};
    const data = {};
    const errors = [];
    if (/\bsyntaxError\b/.test(q) || !/[{}]/.test(q)) {
      return ctx.json(200, { errors: [{ message: "Parse error on \"" + q.slice(0, 20) + "\"", locations: [{ line: 1, column: 1 }] }] });
    }
    if (/\bcurrentUser\b/.test(q)) {
      data.currentUser = ctx.user ? { username: ctx.user.username, id: 'gid://gitlab/User/' + ctx.user.id } : null;
    }
    const pm = /\bproject\s*\(\s*fullPath\s*:\s*(?:"([^"]*)"|\$(\w+))\s*\)/.exec(q);
    if (pm) {
      const full = pm[1] !== undefined ? pm[1] : vars[pm[2]];
      const hit = api.store.get('/projects/' + encodeURIComponent(String(full)));
      if (hit) data.project = { fullPath: hit.path_with_namespace, name: hit.name, id: 'gid://gitlab/Project/' + hit.id };
      else {
        data.project = null;
        errors.push({ message: "The resource that you are attempting to access does not exist or you don't have permission to perform this action", path: ['project'] });
      }
    }
    const out = { data };
    if (errors.length) out.errors = errors;
    return ctx.json(200, out);
  }, { auth: 'none' });
};
