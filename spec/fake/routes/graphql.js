'use strict';
// POST /api/graphql: enough of GitLab's GraphQL endpoint for the client's
// gl:graphql() and gl:graphql_nodes() specs: currentUser,
// project(fullPath), variables, GraphQL-level errors (HTTP 200 with an
// `errors` list, as GitLab answers), and connections paged by cursor.
//
// Connections (doc/api/graphql/getting_started.md, "Pagination"; limits in
// doc/api/graphql/_index.md): `projects` at the top level and, under
// project(fullPath), `issues`, `mergeRequests`, `labels` and `milestones`,
// from the fake's REST store. They take `first` (100 by default and at
// most: "By default, the GitLab GraphQL API returns 100 records per page",
// "Maximum page size: 100 records (nodes) per page"; a larger `first` is
// cut to 100 and a negative one is 0, as graphql-ruby's connections do)
// and `after`, and give `nodes`, `edges { node cursor }`, `pageInfo
// { hasNextPage hasPreviousPage startCursor endCursor }` and `count`, only
// what the query selects. Lists run newest first (GitLab's default sort,
// created_desc). A cursor is what GitLab's keyset connection hands out:
// unpadded URL-safe base64 of a JSON object with the item's `id` (and
// `created_at`); an `after` that is not one is refused as GitLab's
// lib/gitlab/graphql/pagination/keyset/connection.rb refuses it: a
// GraphQL error "Please provide a valid cursor" with the connection null.
// `last`/`before` are not served (an error says so). Node fields are the
// REST item's fields by their snake_case name (`webUrl` -> web_url), `id`
// a global ID, `iid` a string; unknown fields are null.

const CONNECTIONS = {
  issues: { coll: 'issues', type: 'Issue' },
  mergeRequests: { coll: 'merge_requests', type: 'MergeRequest' },
  labels: { coll: 'labels', type: 'ProjectLabel' },
  milestones: { coll: 'milestones', type: 'Milestone' },
};
const MAX_PAGE_SIZE = 100;
const BAD_CURSOR = 'Please provide a valid cursor';

// ------------------------------------------------------------------ parser

// Tokens of a GraphQL document (commas are insignificant, # comments).
function tokenize(src) {
  const out = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === ',' || c === '\ufeff') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const at = { line, column: i - lineStart + 1 };
    if (src.startsWith('...', i)) {
      out.push({ t: 'punct', v: '...', at });
      i += 3;
      continue;
    }
    if ('!$()[]{}:=@|&'.includes(c)) {
      out.push({ t: 'punct', v: c, at });
      i++;
      continue;
    }
    let m = /^[_A-Za-z][_0-9A-Za-z]*/.exec(src.slice(i, i + 256));
    if (m) {
      out.push({ t: 'name', v: m[0], at });
      i += m[0].length;
      continue;
    }
    m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
    if (m) {
      out.push({ t: 'number', v: Number(m[0]), at });
      i += m[0].length;
      continue;
    }
    if (c === '"') {
      if (src.startsWith('"""', i)) {
        const end = src.indexOf('"""', i + 3);
        if (end < 0) throw syntax(at, 'unterminated string');
        out.push({ t: 'string', v: src.slice(i + 3, end), at });
        i = end + 3;
        continue;
      }
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\n') throw syntax(at, 'unterminated string');
        if (src[j] === '\\') {
          const e = src[j + 1];
          if (e === 'u') {
            s += String.fromCharCode(parseInt(src.slice(j + 2, j + 6), 16));
            j += 6;
            continue;
          }
          s += { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' }[e] || e;
          j += 2;
          continue;
        }
        s += src[j];
        j++;
      }
      if (j >= src.length) throw syntax(at, 'unterminated string');
      out.push({ t: 'string', v: s, at });
      i = j + 1;
      continue;
    }
    throw syntax(at, 'unexpected character "' + c + '"');
  }
  return out;
}

function syntax(at, what) {
  const e = new Error('Parse error on ' + what + ' at [' + at.line + ', ' + at.column + ']');
  e.graphqlLocation = at;
  return e;
}

// The first operation's selection set as a tree of fields:
// { name, alias, args: { name: value | { variable } }, selections, at }.
function parse(src) {
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k];
  const end = { line: 1, column: src.length + 1 };
  const next = () => {
    const t = toks[k++];
    if (!t) throw syntax(end, 'end of query');
    return t;
  };
  const expect = (v) => {
    const t = next();
    if (t.v !== v || t.t === 'string') throw syntax(t.at, '"' + t.v + '" (expected "' + v + '")');
    return t;
  };
  const isPunct = (v) => peek() && peek().t === 'punct' && peek().v === v;

  function value() {
    const t = next();
    if (t.t === 'punct' && t.v === '$') return { variable: next().v };
    if (t.t === 'string' || t.t === 'number') return t.v;
    if (t.t === 'name') {
      if (t.v === 'true') return true;
      if (t.v === 'false') return false;
      if (t.v === 'null') return null;
      return t.v; // an enum value
    }
    if (t.v === '[') {
      const list = [];
      while (!isPunct(']')) list.push(value());
      next();
      return list;
    }
    if (t.v === '{') {
      const obj = {};
      while (!isPunct('}')) {
        const n = next().v;
        expect(':');
        obj[n] = value();
      }
      next();
      return obj;
    }
    throw syntax(t.at, '"' + t.v + '"');
  }

  function directives() {
    while (isPunct('@')) {
      next();
      next();
      if (isPunct('(')) args();
    }
  }

  function args() {
    const out = {};
    expect('(');
    while (!isPunct(')')) {
      const n = next();
      if (n.t !== 'name') throw syntax(n.at, '"' + n.v + '"');
      expect(':');
      out[n.v] = value();
    }
    next();
    return out;
  }

  function selectionSet() {
    const fields = [];
    expect('{');
    while (!isPunct('}')) {
      const t = next();
      if (t.t === 'punct' && t.v === '...') throw syntax(t.at, '"..." (the fake serves no fragments)');
      if (t.t !== 'name') throw syntax(t.at, '"' + t.v + '"');
      const f = { name: t.v, alias: null, args: {}, selections: null, at: t.at };
      if (isPunct(':')) {
        next();
        f.alias = f.name;
        f.name = next().v;
      }
      if (isPunct('(')) f.args = args();
      directives();
      if (isPunct('{')) f.selections = selectionSet();
      fields.push(f);
    }
    next();
    if (fields.length === 0) throw syntax(end, '"}" (empty selection)');
    return fields;
  }

  // operation: `{ ... }` or `query|mutation|subscription Name? (vars)? @dirs { ... }`
  let sel = null;
  while (peek()) {
    if (isPunct('{')) {
      const s = selectionSet();
      if (!sel) sel = s;
      continue;
    }
    const t = next();
    if (t.t !== 'name') throw syntax(t.at, '"' + t.v + '"');
    if (t.v === 'fragment') throw syntax(t.at, '"fragment" (the fake serves no fragments)');
    if (peek() && peek().t === 'name') next();
    if (isPunct('(')) {
      // variable definitions: skipped (the values come from `variables`)
      let depth = 0;
      do {
        const p = next();
        if (p.t === 'punct' && p.v === '(') depth++;
        if (p.t === 'punct' && p.v === ')') depth--;
      } while (depth > 0);
    }
    directives();
    const s = selectionSet();
    if (!sel) sel = s;
  }
  if (!sel) throw syntax(end, 'end of query');
  return sel;
}

// ------------------------------------------------------------- resolving

function b64url(s) {
  return Buffer.from(s, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function encodeCursor(item) {
  return b64url(JSON.stringify({ id: String(item.id), created_at: item.created_at }));
}

// The id in a cursor, or null when it is not one of ours.
function decodeCursor(c) {
  if (typeof c !== 'string' || !/^[A-Za-z0-9_\-+/=]+$/.test(c)) return null;
  let o;
  try {
    o = JSON.parse(Buffer.from(c.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch (e) {
    return null;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o) || o.id === undefined) return null;
  const id = Number(o.id);
  return Number.isFinite(id) ? id : null;
}

function snake(name) {
  return name.replace(/[A-Z]/g, (m) => '_' + m.toLowerCase());
}

// A REST item shaped as the selection asks.
function project(value, selections, type) {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map((v) => project(v, selections, type));
  if (!selections) return typeof value === 'object' ? null : value;
  const out = {};
  for (const f of selections) {
    const key = f.alias || f.name;
    let v;
    if (f.name === '__typename') v = type || null;
    else if (f.name === 'id' && type && value.id !== undefined) v = 'gid://gitlab/' + type + '/' + value.id;
    else if (f.name === 'iid' && value.iid !== undefined) v = String(value.iid);
    else if (f.name === 'name' && value.name === undefined && value.title !== undefined) v = value.title;
    else if (f.name === 'username' && value.username !== undefined) v = value.username;
    else v = value[snake(f.name)];
    out[key] = project(v, f.selections, null);
  }
  return out;
}

function resolveVar(v, vars) {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.variable === 'string') {
    return vars[v.variable] === undefined ? null : vars[v.variable];
  }
  return v;
}

// One page of `items` for connection field f (path: its place in the
// answer, for errors). Returns { value } or { error }.
function connection(f, items, type, vars) {
  const a = {};
  for (const k of Object.keys(f.args)) a[k] = resolveVar(f.args[k], vars);
  if ((a.last !== undefined && a.last !== null) || (a.before !== undefined && a.before !== null)) {
    return { error: 'the fake serves `first` and `after` only' };
  }
  let first = a.first === undefined || a.first === null ? MAX_PAGE_SIZE : Number(a.first);
  if (!Number.isInteger(first)) return { error: "Argument 'first' on Field '" + f.name + "' has an invalid value (" + a.first + '). Expected type \'Int\'.' };
  first = Math.max(0, Math.min(first, MAX_PAGE_SIZE));
  const sorted = items.slice().sort((x, y) => Number(y.id) - Number(x.id));
  let start = 0;
  if (a.after !== undefined && a.after !== null) {
    const id = decodeCursor(a.after);
    if (id === null) return { error: BAD_CURSOR };
    start = sorted.findIndex((x) => Number(x.id) < id);
    if (start < 0) start = sorted.length;
  }
  const page = sorted.slice(start, start + first);
  const info = {
    hasNextPage: start + first < sorted.length,
    hasPreviousPage: start > 0,
    startCursor: page.length ? encodeCursor(page[0]) : null,
    endCursor: page.length ? encodeCursor(page[page.length - 1]) : null,
  };
  const out = {};
  for (const s of f.selections || []) {
    const key = s.alias || s.name;
    if (s.name === 'nodes') out[key] = page.map((it) => project(it, s.selections, type));
    else if (s.name === 'edges') {
      out[key] = page.map((it) => {
        const e = {};
        for (const es of s.selections || []) {
          const ek = es.alias || es.name;
          if (es.name === 'node') e[ek] = project(it, es.selections, type);
          else if (es.name === 'cursor') e[ek] = encodeCursor(it);
          else e[ek] = null;
        }
        return e;
      });
    } else if (s.name === 'pageInfo') {
      const pi = {};
      for (const ps of s.selections || []) pi[ps.alias || ps.name] = info[ps.name] === undefined ? null : info[ps.name];
      out[key] = pi;
    } else if (s.name === 'count') out[key] = sorted.length;
    else if (s.name === '__typename') out[key] = type + 'Connection';
    else out[key] = null;
  }
  return { value: out };
}

module.exports = function (api) {
  api.route('POST', /^(\/[^/]+)*\/api\/graphql$/, (ctx) => {
    if (!ctx.authenticate('optional')) return undefined;
    const body = ctx.jsonBody;
    if (!body || typeof body.query !== 'string') {
      return ctx.json(200, { errors: [{ message: 'No query string was present' }] });
    }
    const q = body.query;
    const vars = body.variables && typeof body.variables === 'object' ? body.variables : {};
    const data = {};
    const errors = [];
    if (/\bsyntaxError\b/.test(q) || !/[{}]/.test(q)) {
      return ctx.json(200, { errors: [{ message: "Parse error on \"" + q.slice(0, 20) + "\"", locations: [{ line: 1, column: 1 }] }] });
    }
    let tree;
    try {
      tree = parse(q);
    } catch (e) {
      if (!e.graphqlLocation) throw e;
      return ctx.json(200, { errors: [{ message: e.message, locations: [e.graphqlLocation] }] });
    }
    if (/\bcurrentUser\b/.test(q)) {
      data.currentUser = ctx.user ? { username: ctx.user.username, id: 'gid://gitlab/User/' + ctx.user.id } : null;
    }
    const pm = /\bproject\s*\(\s*fullPath\s*:\s*(?:"([^"]*)"|\$(\w+))\s*\)/.exec(q);
    // the answer names a field by its alias when the query gives one
    // (`p: project(...)` answers `data.p`)
    const ptop = tree.find((t) => t.name === 'project');
    const pkey = (ptop && ptop.alias) || 'project';
    let hit = null;
    if (pm) {
      const full = pm[1] !== undefined ? pm[1] : vars[pm[2]];
      hit = api.store.get('/projects/' + encodeURIComponent(String(full)));
      if (hit) data[pkey] = { fullPath: hit.path_with_namespace, name: hit.name, id: 'gid://gitlab/Project/' + hit.id };
      else {
        data[pkey] = null;
        errors.push({ message: "The resource that you are attempting to access does not exist or you don't have permission to perform this action", path: [pkey] });
      }
    }
    const page = (f, items, type, where) => {
      const r = connection(f, items, type, vars);
      if (r.error) {
        errors.push({ message: r.error, locations: [f.at], path: where.concat(f.alias || f.name) });
        return null;
      }
      return r.value;
    };
    for (const top of tree) {
      if (top.name === 'projects') {
        const c = api.store.collection('/projects');
        data[top.alias || top.name] = page(top, c ? c.items : [], 'Project', []);
      } else if (top === ptop && hit && data[pkey]) {
        for (const f of top.selections || []) {
          const conn = CONNECTIONS[f.name];
          if (!conn) continue;
          const c = api.store.collection('/projects/' + hit.id + '/' + conn.coll);
          data[pkey][f.alias || f.name] = page(f, c ? c.items : [], conn.type, [pkey]);
        }
      }
    }
    const out = { data };
    if (errors.length) out.errors = errors;
    return ctx.json(200, out);
  }, { auth: 'none' });
};
