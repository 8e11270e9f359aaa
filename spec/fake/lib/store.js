'use strict';
// The generic in-memory REST store behind every /api/v4 path that no route
// module handles.  A path alternates collection / key:
//   /projects/group%2Fproj/issues/3/notes/7
// Keys follow GitLab: projects and groups by id or full path, issues, merge
// requests and epics by iid inside their parent, branches and tags by name,
// repository files by path, variables by key, labels by id or name, the
// rest by id.  Collections are created on first use.

const crypto = require('crypto');
const { thingName, className, isoNow, isHash, clone } = require('./util');
const { paginate, sorter } = require('./paginate');

// Segments that name a namespace, not a collection: joined with the next one.
const NAMESPACES = new Set([
  'repository', 'admin', 'ci', 'registry', 'application', '-', 'analytics',
  'templates', 'user', 'import', 'dependency_proxy', 'usage_data', 'geo',
  'sidekiq', 'search',
]);

// First segments GitLab knows (from the endpoint catalog); anything else is
// an unknown route: 404 {"error":"404 Not Found"}.
const TOP_LEVEL = new Set([
  'projects', 'groups', 'users', 'packages', 'user', 'admin', 'runners',
  'geo_nodes', 'snippets', 'geo_sites', 'templates', 'application', 'topics',
  'personal_access_tokens', 'bulk_imports', 'hooks', 'broadcast_messages',
  'todos', 'sidekiq', 'project_aliases', 'license', 'import', 'usage_data',
  'snippet_repository_storage_moves', 'project_repository_storage_moves',
  'namespaces', 'group_repository_storage_moves', 'features', 'applications',
  'analytics', 'suggestions', 'notification_settings', 'ldap', 'keys', 'job',
  'issues', 'code_suggestions', 'audit_events', 'version', 'user_counts',
  'service_accounts', 'search', 'registry', 'pages', 'metadata',
  'merge_requests', 'markdown', 'licenses', 'issues_statistics',
  'experiments', 'events', 'environments', 'deploy_tokens', 'deploy_keys',
  'clusters', 'ci', 'avatar', 'jobs', 'deployments', 'discover-cert-based-clusters',
  'groups_statistics', 'member_roles', 'organizations', 'runner_controllers',
  'admin_mode', 'web_commits', 'group_aliases', 'container_registry_event',
]);

// Which attributes identify an item in a collection (first = canonical).
const KEY_FIELDS = {
  projects: ['id', 'path_with_namespace'],
  groups: ['id', 'full_path'],
  namespaces: ['id', 'full_path'],
  'repository/branches': ['name'],
  'repository/tags': ['name'],
  'repository/files': ['file_path'],
  'repository/commits': ['id', 'short_id'],
  protected_branches: ['name'],
  protected_tags: ['name'],
  variables: ['key'],
  'admin/ci/variables': ['key'],
  custom_attributes: ['key'],
  labels: ['id', 'name'],
  releases: ['tag_name'],
  wikis: ['slug'],
  feature_flags: ['name'],
  tags: ['name'], // registry repository tags
};

// Collections whose items carry a per-parent iid (and are addressed by it
// when they have a parent).
const IID = new Set(['issues', 'merge_requests', 'epics', 'milestones', 'work_items']);
const BY_IID = new Set(['issues', 'merge_requests', 'epics', 'work_items']);

// Which collections support keyset pagination, and on which order_by:
// doc/api/rest/_index.md, "Supported resources" (groups: "`order_by=name`,
// `sort=asc` only"; audit events, package pipelines, project jobs:
// "`order_by=id`, `sort=desc` only"; projects: "`order_by=id` only").
const KEYSET = {
  projects: ['id'],
  users: ['id', 'name', 'username', 'created_at', 'updated_at'],
  groups: ['name'],
  jobs: ['id'],
  pipelines: ['id'],
  audit_events: ['id'],
  issues: ['id', 'created_at', 'updated_at', 'title', 'weight', 'due_date', 'relative_position'],
  tags: ['name'],
};
const KEYSET_DESC_ONLY = new Set(['jobs', 'audit_events', 'pipelines']);
const KEYSET_ASC_ONLY = new Set(['groups']);
// Paged by `cursor=` (with X-Next-Cursor) whatever the order: GitLab's
// cursor-based keyset (groups, audit events, jobs, package pipelines).
const KEYSET_CURSOR = new Set(['groups', 'jobs', 'audit_events', 'pipelines']);

// The order_by list when collection c supports keyset pagination, else null.
function keysetFor(c) {
  const parent = c.parent ? c.parent.coll.name : null;
  switch (c.name) {
    case 'projects':
    case 'users':
    case 'groups':
      return parent ? null : KEYSET[c.name];
    case 'issues':
    case 'jobs':
      return parent === 'projects' ? KEYSET[c.name] : null;
    case 'pipelines':
      return parent === 'packages' ? KEYSET.pipelines : null;
    case 'tags':
      return parent === 'registry/repositories' ? KEYSET.tags : null;
    case 'audit_events':
      return KEYSET[c.name];
    default:
      return null;
  }
}

// Grape's "x is missing" validation on create.
const REQUIRED = {
  issues: ['title'],
  merge_requests: ['source_branch', 'target_branch', 'title'],
  milestones: ['title'],
  notes: ['body'],
  labels: ['name', 'color'],
  variables: ['key', 'value'],
  'admin/ci/variables': ['key', 'value'],
  'repository/branches': ['branch', 'ref'],
  'repository/tags': ['tag_name', 'ref'],
  'repository/files': ['branch', 'content', 'commit_message'],
  groups: ['name', 'path'],
  users: ['email', 'username', 'name'],
  releases: ['tag_name'],
  hooks: ['url'],
  epics: ['title'],
  // wikis.md, group_wikis.md: "content" and "title" are required on create
  wikis: ['content', 'title'],
  // feature_flags.md: "name" is required on create
  feature_flags: ['name'],
};

// wikis.md: a page's slug follows its title ("Page with Complex Content"
// -> "Page-with-Complex-Content"), on create and when a PUT changes the title.
function wikiSlug(title) {
  return String(title).replace(/ /g, '-');
}

const AUTHORED = new Set([
  'issues', 'merge_requests', 'notes', 'snippets', 'epics', 'releases',
  'discussions', 'award_emoji', 'work_items',
]);

// Query parameters that are never equality filters.
const NOT_FILTERS = new Set([
  'page', 'per_page', 'pagination', 'order_by', 'sort', 'id_after',
  'id_before', 'cursor', 'private_token', 'access_token', 'job_token', 'sudo',
  'search', 'scope', 'simple', 'statistics', 'with_custom_attributes',
  'membership', 'owned', 'starred', 'recursive', 'with_labels_details',
]);

class Collection {
  constructor(path, name, parent) {
    this.path = path; // canonical, e.g. /projects/1/issues
    this.name = name; // e.g. issues, repository/files, admin/ci/variables
    this.last = name.split('/').pop();
    this.parent = parent; // { coll, item } or null
    this.items = [];
    this.byKey = new Map(); // canonical key string -> item
    this.attrs = new Set();
    this.sortedById = true;
    this.singleton = null; // object stored by PUT on a key-less path
    this.keyFields = KEY_FIELDS[name] || KEY_FIELDS[this.last] || ['id'];
    if (parent && BY_IID.has(this.last)) this.keyFields = ['iid'];
    this.canon = this.keyFields[0];
  }

  keyOf(item) {
    return String(item[this.canon]);
  }

  find(key) {
    const s = String(key);
    const hit = this.byKey.get(s);
    if (hit) return hit;
    for (const f of this.keyFields.slice(1)) {
      const ci = f === 'path_with_namespace' || f === 'full_path';
      const want = ci ? s.toLowerCase() : s;
      for (const it of this.items) {
        const v = it[f];
        if (v !== undefined && v !== null && (ci ? String(v).toLowerCase() : String(v)) === want) return it;
      }
    }
    return null;
  }

  insert(item) {
    const last = this.items[this.items.length - 1];
    if (last && Number(item.id) < Number(last.id)) this.sortedById = false;
    this.items.push(item);
    this.byKey.set(this.keyOf(item), item);
    for (const k of Object.keys(item)) this.attrs.add(k);
  }

  remove(item) {
    const i = this.items.indexOf(item);
    if (i >= 0) this.items.splice(i, 1);
    this.byKey.delete(this.keyOf(item));
  }

  reindex(item, oldKey) {
    if (oldKey !== this.keyOf(item)) {
      this.byKey.delete(oldKey);
      this.byKey.set(this.keyOf(item), item);
    }
    for (const k of Object.keys(item)) this.attrs.add(k);
  }
}

function fakeSha(seed) {
  return crypto.createHash('sha1').update(String(seed)).digest('hex');
}

// Values from forms and queries are strings; make the obvious ones typed.
function coerce(attrs) {
  const out = {};
  for (const k of Object.keys(attrs)) {
    let v = attrs[k];
    if (typeof v === 'string') {
      if (v === 'true') v = true;
      else if (v === 'false') v = false;
      else if (/^\d{1,15}$/.test(v) && (k === 'id' || k === 'iid' || /_id$/.test(k) || k === 'weight' || k === 'access_level')) v = Number(v);
    }
    out[k] = v;
  }
  return out;
}

class Store {
  constructor() {
    this.colls = new Map();
    this.ids = new Map(); // collection last name -> last id used
    this.iids = new Map(); // collection path -> last iid used
    this.apiVersion = { version: '18.5.0-ee', revision: '8c1f2a3b4d5' };
    this.redirects = new Map(); // old project full path (lowercase) -> project id
  }

  // ------------------------------------------------------------ paths

  // "/projects/group%2Fproj/issues" -> [{coll, key}] (keys decoded)
  static split(apiPath) {
    const segs = apiPath.split('/').filter((s, i) => i > 0 || s !== '');
    if (segs.length && segs[segs.length - 1] === '') segs.pop();
    const pairs = [];
    let i = 0;
    while (i < segs.length) {
      let coll = safe(segs[i++]);
      let lastSeg = coll;
      while (NAMESPACES.has(lastSeg) && i < segs.length) {
        lastSeg = safe(segs[i++]);
        coll += '/' + lastSeg;
      }
      const pair = { coll };
      if (i < segs.length) pair.key = safe(segs[i++]);
      pairs.push(pair);
    }
    return pairs;
  }

  coll(path, name, parent) {
    let c = this.colls.get(path);
    if (!c) {
      c = new Collection(path, name, parent || null);
      this.colls.set(path, c);
    }
    return c;
  }

  // Walks the pairs. Returns { coll, item, key, parent } or { missing: thing }
  // for an unknown parent or item.
  resolve(pairs, opts) {
    let base = '';
    let parent = null;
    for (let i = 0; i < pairs.length; i++) {
      const { coll, key } = pairs[i];
      const path = base + '/' + coll;
      const c = this.coll(path, coll, parent);
      if (key === undefined) return { coll: c, item: null, parent };
      const item = c.find(key);
      if (!item && i === 0 && coll === 'projects' && this.redirects.has(String(key).toLowerCase())) {
        return { moved: this.redirects.get(String(key).toLowerCase()), coll: c, key };
      }
      if (i === pairs.length - 1) return { coll: c, item, key, parent };
      if (!item) return { missing: thingName(coll), coll: c };
      base = path + '/' + encodeURIComponent(c.keyOf(item));
      parent = { coll: c, item };
      if (opts && opts.stopAt === i) return { coll: c, item, key, parent };
    }
    return { coll: null, item: null, parent };
  }

  // Lookup for route modules: store.get('/projects/1/issues/2') -> item|null
  get(apiPath) {
    const r = this.resolve(Store.split(apiPath));
    return r.item || null;
  }

  collection(apiPath) {
    const r = this.resolve(Store.split(apiPath));
    return r.missing ? null : r.coll;
  }

  nextId(name, want) {
    const cur = this.ids.get(name) || 0;
    if (want !== undefined && want !== null) {
      const n = Number(want);
      if (Number.isFinite(n) && n > cur) this.ids.set(name, n);
      return want;
    }
    this.ids.set(name, cur + 1);
    return cur + 1;
  }

  nextIid(path, want) {
    const cur = this.iids.get(path) || 0;
    if (want !== undefined && want !== null) {
      if (Number(want) > cur) this.iids.set(path, Number(want));
      return Number(want);
    }
    this.iids.set(path, cur + 1);
    return cur + 1;
  }

  // ---------------------------------------------------------- objects

  userSummary(u) {
    if (!u) return null;
    return {
      id: u.id,
      username: u.username,
      name: u.name,
      state: u.state || 'active',
      locked: false,
      avatar_url: u.avatar_url || null,
      web_url: u.web_url,
    };
  }

  findUser(ident) {
    const users = this.coll('/users', 'users', null);
    const s = String(ident);
    if (/^\d+$/.test(s)) return users.find(s);
    const low = s.toLowerCase();
    return users.items.find((u) => String(u.username).toLowerCase() === low) || null;
  }

  // Builds a new item for collection c.  Returns { item } or { error }.
  build(c, attrs, user, opts) {
    attrs = coerce(attrs || {});
    const name = c.name;
    const last = c.last;
    const pitem = c.parent ? c.parent.item : null;
    const plast = c.parent ? c.parent.coll.last : null;
    const ext = (opts && opts.externalUrl) || 'http://127.0.0.1';
    // aliases GitLab uses on create
    if (name === 'repository/branches' && attrs.name === undefined && attrs.branch !== undefined) attrs.name = attrs.branch;
    if (name === 'repository/tags' && attrs.name === undefined && attrs.tag_name !== undefined) attrs.name = attrs.tag_name;
    const missing = (REQUIRED[name] || REQUIRED[last] || []).filter((f) => {
      if (f === 'branch' && name === 'repository/branches') return attrs.branch === undefined && attrs.name === undefined;
      if (f === 'tag_name' && name === 'repository/tags') return attrs.tag_name === undefined && attrs.name === undefined;
      if (f === 'content' && name === 'repository/files') return attrs.content === undefined;
      return attrs[f] === undefined || attrs[f] === '';
    });
    if (opts && opts.validate === false) missing.length = 0;
    if (name === 'projects' && attrs.name === undefined && attrs.path === undefined && !(opts && opts.validate === false)) {
      return { error: { status: 400, body: { error: 'name, path are missing, at least one parameter must be provided' } } };
    }
    if (missing.length) {
      return { error: { status: 400, body: { error: missing.map((f) => f + ' is missing').join(', ') } } };
    }
    const now = isoNow();
    const item = {};
    item.id = this.nextId(last, attrs.id);
    if (IID.has(last) && pitem) item.iid = this.nextIid(c.path, attrs.iid);
    if (plast === 'projects') item.project_id = pitem.id;
    if (plast === 'groups' && last !== 'projects' && last !== 'subgroups') item.group_id = pitem.id;
    if (AUTHORED.has(last) && user) item.author = this.userSummary(user);
    item.created_at = now;
    item.updated_at = now;
    const d = this.defaults(c, attrs, item, pitem, ext, user);
    if (d && d.error) return d;
    Object.assign(item, d, attrs);
    if (IID.has(last) && pitem) item.iid = Number(item.iid);
    if (typeof item.labels === 'string') item.labels = item.labels === '' ? [] : item.labels.split(',').map((s) => s.trim());
    if (name === 'repository/files') this.fileContent(item, attrs);
    // canonical key must be unique
    if (c.canon !== 'id' && c.canon !== 'iid') {
      if (item[c.canon] === undefined) return { error: { status: 400, body: { error: c.canon + ' is missing' } } };
      if (c.byKey.has(String(item[c.canon]))) {
        const body = { message: {} };
        body.message[c.canon] = ['has already been taken'];
        if (name === 'repository/files') return { error: { status: 400, body: { message: 'A file with this name already exists' } } };
        if (name === 'repository/branches') return { error: { status: 400, body: { message: 'Branch already exists' } } };
        if (name === 'repository/tags') return { error: { status: 400, body: { message: 'Tag ' + item.name + ' already exists' } } };
        return { error: { status: 400, body } };
      }
    } else if (c.byKey.has(c.keyOf(item))) {
      return { error: { status: 409, body: { message: thingName(name) + ' already exists' } } };
    }
    return { item };
  }

  create(c, attrs, user, opts) {
    const r = this.build(c, attrs, user, opts);
    if (r.item) c.insert(r.item);
    return r;
  }

  defaults(c, a, item, pitem, ext, user) {
    const last = c.last;
    switch (c.name) {
      case 'projects': {
        const path = a.path || String(a.name).toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
        let ns;
        if (a.namespace_id !== undefined) {
          const g = this.coll('/groups', 'groups', null).find(a.namespace_id);
          if (!g) return { error: { status: 404, body: { message: '404 Namespace Not Found' } } };
          ns = { id: g.id, name: g.name, path: g.path, kind: 'group', full_path: g.full_path, parent_id: g.parent_id || null, web_url: g.web_url };
        } else {
          const u = user || { id: 1, username: 'root', name: 'Administrator' };
          ns = { id: u.id, name: u.name, path: u.username, kind: 'user', full_path: u.username, parent_id: null };
        }
        const pwn = ns.full_path + '/' + path;
        return {
          name: a.name || path,
          path,
          description: null,
          name_with_namespace: ns.name + ' / ' + (a.name || path),
          path_with_namespace: pwn,
          namespace: ns,
          default_branch: 'main',
          visibility: 'private',
          archived: false,
          web_url: ext + '/' + pwn,
          http_url_to_repo: ext + '/' + pwn + '.git',
          ssh_url_to_repo: 'git@127.0.0.1:' + pwn + '.git',
          creator_id: user ? user.id : 1,
          open_issues_count: 0,
          last_activity_at: item.created_at,
        };
      }
      case 'groups': {
        const path = a.path;
        let full = path;
        if (a.parent_id !== undefined && a.parent_id !== null) {
          const g = this.coll('/groups', 'groups', null).find(a.parent_id);
          if (!g) return { error: { status: 404, body: { message: '404 Group Not Found' } } };
          full = g.full_path + '/' + path;
        }
        return { name: a.name, path, full_name: a.name, full_path: full, parent_id: null, visibility: 'private', description: '', web_url: ext + '/groups/' + full };
      }
      case 'users':
        return { username: a.username, name: a.name, state: 'active', locked: false, avatar_url: null, web_url: ext + '/' + a.username, is_admin: false, bot: false };
      case 'repository/branches': {
        const sha = fakeSha(a.name + (a.ref || ''));
        return { name: a.name, merged: false, protected: false, default: false, developers_can_push: false, developers_can_merge: false, can_push: true, web_url: pitem ? pitem.web_url + '/-/tree/' + a.name : null, commit: this.commitStub(sha, user) };
      }
      case 'repository/tags': {
        const sha = fakeSha('tag' + a.name + (a.ref || ''));
        return { name: a.name, message: a.message || '', target: sha, protected: false, release: null, commit: this.commitStub(sha, user) };
      }
      case 'repository/files':
        return { file_path: a.file_path, file_name: String(a.file_path || '').split('/').pop(), ref: a.branch };
      default:
        break;
    }
    switch (last) {
      case 'issues':
        return {
          title: a.title, description: null, state: 'opened', closed_at: null, closed_by: null,
          labels: [], milestone: null, assignees: [], assignee: null, type: 'ISSUE', user_notes_count: 0,
          due_date: null, confidential: false, weight: null, issue_type: 'issue',
          web_url: pitem && pitem.web_url ? pitem.web_url + '/-/issues/' + item.iid : null,
          references: { short: '#' + item.iid, relative: '#' + item.iid, full: (pitem ? pitem.path_with_namespace : '') + '#' + item.iid },
        };
      case 'merge_requests':
        return {
          title: a.title, description: null, state: 'opened', merged_by: null, merged_at: null, closed_at: null,
          source_project_id: pitem ? pitem.id : null, target_project_id: pitem ? pitem.id : null,
          labels: [], draft: false, work_in_progress: false, milestone: null, merge_when_pipeline_succeeds: false,
          merge_status: 'can_be_merged', detailed_merge_status: 'mergeable', sha: fakeSha('mr' + item.id),
          squash: false, user_notes_count: 0, assignees: [], reviewers: [],
          web_url: pitem && pitem.web_url ? pitem.web_url + '/-/merge_requests/' + item.iid : null,
          references: { short: '!' + item.iid, relative: '!' + item.iid, full: (pitem ? pitem.path_with_namespace : '') + '!' + item.iid },
        };
      case 'milestones':
        return { title: a.title, description: null, state: 'active', due_date: null, start_date: null, expired: false, web_url: pitem && pitem.web_url ? pitem.web_url + '/-/milestones/' + item.iid : null };
      case 'epics':
        return { title: a.title, description: null, state: 'opened', labels: [], web_url: pitem && pitem.web_url ? pitem.web_url + '/-/epics/' + item.iid : null };
      case 'notes': {
        const pl = c.parent ? c.parent.coll.last : null;
        const types = { issues: 'Issue', merge_requests: 'MergeRequest', epics: 'Epic', snippets: 'Snippet', commits: 'Commit' };
        return { body: a.body, attachment: null, system: false, noteable_type: types[pl] || null, noteable_id: pitem ? pitem.id : null, noteable_iid: pitem ? pitem.iid : null, resolvable: false, confidential: false, internal: false };
      }
      case 'labels':
        return { name: a.name, color: a.color, text_color: '#FFFFFF', description: null, open_issues_count: 0, closed_issues_count: 0, open_merge_requests_count: 0, subscribed: false, priority: null, is_project_label: !!(c.parent && c.parent.coll.last === 'projects') };
      case 'variables':
        return { key: a.key, value: a.value, variable_type: 'env_var', protected: false, masked: false, raw: false, environment_scope: '*', description: null };
      case 'members':
        return { access_level: 30, expires_at: null };
      case 'hooks':
        return { url: a.url, push_events: true, issues_events: false, merge_requests_events: false, enable_ssl_verification: true };
      case 'wikis':
        return { format: 'markdown', slug: wikiSlug(a.title), encoding: 'UTF-8' };
      case 'feature_flags':
        return { description: null, active: true, version: 'new_version_flag', scopes: [], strategies: [] };
      case 'releases':
        return { name: a.name || a.tag_name, description: a.description || '', released_at: item.created_at, upcoming_release: false, assets: { count: 0, sources: [], links: [] } };
      default:
        return {};
    }
  }

  commitStub(sha, user) {
    return {
      id: sha, short_id: sha.slice(0, 8), title: 'Initial commit', message: 'Initial commit',
      author_name: user ? user.name : 'Administrator', author_email: user && user.email ? user.email : 'admin@example.com',
      created_at: isoNow(), parent_ids: [],
    };
  }

  // Files keep their content base64-encoded, like GET returns it.
  fileContent(item, attrs) {
    if (attrs.content === undefined) return;
    const raw = attrs.encoding === 'base64' ? Buffer.from(String(attrs.content), 'base64') : Buffer.from(String(attrs.content), 'utf8');
    item.content = raw.toString('base64');
    item.encoding = 'base64';
    item.size = raw.length;
    item.content_sha256 = crypto.createHash('sha256').update(raw).digest('hex');
    item.blob_id = fakeSha('blob' + item.content_sha256);
    item.last_commit_id = fakeSha('commit' + item.content_sha256 + (attrs.commit_message || ''));
    item.commit_id = item.last_commit_id;
    delete item.commit_message;
  }

  update(c, item, attrs) {
    const a = coerce(attrs || {});
    const oldKey = c.keyOf(item);
    delete a.id;
    if (item.iid !== undefined) delete a.iid;
    const ev = a.state_event;
    delete a.state_event;
    if (ev === 'close') {
      item.state = 'closed';
      item.closed_at = isoNow();
    } else if (ev === 'reopen' || ev === 'activate') {
      item.state = c.last === 'milestones' ? 'active' : 'opened';
      item.closed_at = null;
    }
    if (ev === 'close' && c.last === 'milestones') item.state = 'closed';
    if (a.add_labels !== undefined || a.remove_labels !== undefined) {
      const cur = new Set(item.labels || []);
      const list = (v) => (Array.isArray(v) ? v : String(v).split(',')).map((s) => String(s).trim()).filter(Boolean);
      if (a.add_labels !== undefined) list(a.add_labels).forEach((l) => cur.add(l));
      if (a.remove_labels !== undefined) list(a.remove_labels).forEach((l) => cur.delete(l));
      item.labels = Array.from(cur);
      delete a.add_labels;
      delete a.remove_labels;
    }
    if (typeof a.labels === 'string') a.labels = a.labels === '' ? [] : a.labels.split(',').map((s) => s.trim());
    if (c.name === 'repository/files') {
      this.fileContent(a, attrs);
      delete a.commit_message;
    }
    // the page moves to its new title's slug; the old slug then 404s
    // (the slug of the path is the page's; no body parameter renames it)
    if (c.last === 'wikis') {
      delete a.slug;
      if (a.title !== undefined) a.slug = wikiSlug(a.title);
    }
    const oldFull = c.name === 'projects' ? item.path_with_namespace : null;
    Object.assign(item, a);
    if (oldFull && !c.parent) this.moveProject(item, oldFull);
    item.updated_at = isoNow();
    c.reindex(item, oldKey);
    return item;
  }

  // A changed path (or namespace) keeps the old full path as a redirect,
  // like GitLab's redirect routes.
  moveProject(item, oldFull) {
    const ns = item.namespace && item.namespace.full_path;
    if (ns && item.path) item.path_with_namespace = ns + '/' + item.path;
    if (item.path_with_namespace === oldFull) return;
    const base = String(item.web_url || '').slice(0, -oldFull.length);
    if (item.web_url && String(item.web_url).endsWith(oldFull)) {
      item.web_url = base + item.path_with_namespace;
      item.http_url_to_repo = base + item.path_with_namespace + '.git';
    }
    this.redirects.set(oldFull.toLowerCase(), item.id);
    this.redirects.delete(item.path_with_namespace.toLowerCase());
  }

  // Removes an item and every collection below it.
  remove(c, item) {
    c.remove(item);
    const prefix = c.path + '/' + encodeURIComponent(c.keyOf(item)) + '/';
    for (const p of Array.from(this.colls.keys())) {
      if (p.startsWith(prefix)) this.colls.delete(p);
    }
  }

  // ------------------------------------------------------------ lists

  filter(c, ctx) {
    const q = ctx.query;
    const tests = [];
    for (const k of Object.keys(q)) {
      if (NOT_FILTERS.has(k)) continue;
      const want = q[k];
      if (k === 'state' && (want === 'all' || want === '')) continue;
      if (k === 'author_id' || k === 'author_username') {
        const f = k === 'author_id' ? 'id' : 'username';
        tests.push((it) => it.author && String(it.author[f]) === String(want));
        continue;
      }
      if (k === 'assignee_id') {
        tests.push((it) => (it.assignees || []).some((a) => String(a.id) === String(want)) || (it.assignee && String(it.assignee.id) === String(want)));
        continue;
      }
      if (k === 'labels' && c.attrs.has('labels')) {
        const wantL = (Array.isArray(want) ? want : String(want).split(',')).map((s) => String(s).trim()).filter(Boolean);
        if (wantL.length === 1 && wantL[0].toLowerCase() === 'none') tests.push((it) => !(it.labels || []).length);
        else if (wantL.length === 1 && wantL[0].toLowerCase() === 'any') tests.push((it) => (it.labels || []).length > 0);
        else tests.push((it) => wantL.every((l) => (it.labels || []).includes(l)));
        continue;
      }
      const m = /^(created|updated)_(after|before)$/.exec(k);
      if (m) {
        const f = m[1] + '_at';
        const t = Date.parse(want);
        if (!Number.isNaN(t)) tests.push((it) => (m[2] === 'after' ? Date.parse(it[f]) >= t : Date.parse(it[f]) <= t));
        continue;
      }
      let attr = k;
      let list = null;
      if (Array.isArray(want)) list = want.map(String);
      if (!c.attrs.has(attr) && /s$/.test(k) && c.attrs.has(k.slice(0, -1))) attr = k.slice(0, -1); // iids[] -> iid
      if (!c.attrs.has(attr)) continue;
      if (isHash(want)) continue;
      tests.push((it) => {
        const v = it[attr];
        if (v === undefined || v === null) return list ? false : want === '' || want === 'null';
        if (list) return list.includes(String(v));
        if (Array.isArray(v)) return v.map(String).includes(String(want));
        if (isHash(v)) return String(v.id) === String(want) || String(v.name) === String(want) || String(v.username) === String(want);
        return String(v) === String(want);
      });
    }
    // doc/api/projects.md, "List all projects": `id_after` "Limit results
    // to projects with IDs greater than the specified ID.", `id_before`
    // "Limit results to projects with IDs less than the specified ID."
    // Filters in their own right, by offset as by keyset (where the keyset
    // Link carries them too).
    if (c.name === 'projects' && !c.parent) {
      for (const k of ['id_after', 'id_before']) {
        if (q[k] === undefined || q[k] === '') continue;
        const v = Number(q[k]);
        if (!Number.isFinite(v)) continue;
        tests.push(k === 'id_after' ? (it) => Number(it.id) > v : (it) => Number(it.id) < v);
      }
    }
    if (q.search) {
      const s = String(q.search).toLowerCase();
      tests.push((it) => ['title', 'name', 'description', 'path', 'username', 'email', 'path_with_namespace', 'full_path']
        .some((f) => typeof it[f] === 'string' && it[f].toLowerCase().includes(s)));
    }
    if (!tests.length) return c.items;
    return c.items.filter((it) => tests.every((t) => t(it)));
  }

  list(ctx, c) {
    // packages.md "List package pipelines" is paginated by keyset; GitLab's
    // route sets `params[:pagination] = 'keyset'` ("keyset is the only
    // available pagination"), declares only per_page and cursor, and
    // orders by id desc: whatever the client asks, it gets keyset pages
    if (c.name === 'pipelines' && c.parent && c.parent.coll.name === 'packages') {
      const forced = { pagination: 'keyset', order_by: 'id', sort: 'desc' };
      if (ctx.query.per_page !== undefined) forced.per_page = ctx.query.per_page;
      if (ctx.query.cursor !== undefined) forced.cursor = ctx.query.cursor;
      ctx.query = forced;
    }
    const q = ctx.query;
    if (q.sort !== undefined && !['asc', 'desc'].includes(String(q.sort).toLowerCase())) {
      return ctx.json(400, { error: 'sort does not have a valid value' });
    }
    let items = this.filter(c, ctx);
    const ks = keysetFor(c);
    let sortedById = c.sortedById;
    if (q.pagination !== 'keyset' && q.order_by) {
      const desc = String(q.sort || 'desc').toLowerCase() !== 'asc';
      items = items.slice().sort(sorter(String(q.order_by), desc));
      sortedById = false;
    } else if (q.pagination !== 'keyset' && q.sort && String(q.sort).toLowerCase() === 'desc') {
      items = items.slice().reverse();
      sortedById = false;
    }
    if (!c.sortedById && q.pagination === 'keyset') {
      c.items.sort((x, y) => Number(x.id) - Number(y.id));
      c.sortedById = true;
      return this.list(ctx, c);
    }
    return paginate(ctx, items, {
      keyset: ks || false,
      keysetSorts: KEYSET_DESC_ONLY.has(c.name) ? ['desc'] : KEYSET_ASC_ONLY.has(c.name) ? ['asc'] : ['asc', 'desc'],
      keysetCursor: KEYSET_CURSOR.has(c.name),
      sortedById,
      type: className(c.name),
    });
  }

  // ---------------------------------------------------------- dispatch

  // Handles ctx (method, apiPath) against the store.  Returns a reply via ctx.
  handle(ctx) {
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    const pairs = Store.split(ctx.apiPath);
    if (!pairs.length || !TOP_LEVEL.has(pairs[0].coll.split('/')[0])) return ctx.json(404, { error: '404 Not Found' });
    // builtins
    if (pairs.length === 1 && pairs[0].key === undefined) {
      const top = pairs[0].coll;
      if (top === 'user' && method === 'GET') return ctx.json(200, this.currentUserView(ctx.user, true));
      if (top === 'version' && method === 'GET') return ctx.json(200, this.apiVersion);
      if (top === 'metadata' && method === 'GET') {
        return ctx.json(200, { version: this.apiVersion.version, revision: this.apiVersion.revision, kas: { enabled: false, externalUrl: null, version: null }, enterprise: true });
      }
    }
    // raw repository files: /projects/:id/repository/files/:path/raw
    const lastPair = pairs[pairs.length - 1];
    if (pairs.length >= 2 && lastPair.coll === 'raw' && lastPair.key === undefined && pairs[pairs.length - 2].coll === 'repository/files') {
      const r = this.resolve(pairs.slice(0, -1));
      if (r.missing) return ctx.json(404, { message: '404 ' + r.missing + ' Not Found' });
      if (!r.item) return ctx.json(404, { message: '404 File Not Found' });
      const buf = Buffer.from(r.item.content || '', 'base64');
      return ctx.send(200, buf, this.fileHeaders(r.item, { 'content-type': 'text/plain; charset=utf-8' }));
    }
    const r = this.resolve(pairs);
    if (r.moved !== undefined) {
      if (method !== 'GET') return ctx.json(404, { message: '404 Project Not Found' });
      const rest = ctx.apiPath.replace(/^\/projects\/[^/]+/, '');
      const url = ctx.externalUrl + '/api/v4/projects/' + r.moved + rest + (ctx.rawQuery ? '?' + ctx.rawQuery : '');
      return ctx.send(301, 'This resource has been moved permanently to ' + url + '.', { location: url, 'content-type': 'text/plain' });
    }
    if (r.missing) return ctx.json(404, { message: '404 ' + r.missing + ' Not Found' });
    const c = r.coll;
    const thing = thingName(c.name);
    const params = ctx.params;
    if (r.key === undefined) {
      // collection
      if (method === 'GET') {
        if (c.singleton) return ctx.json(200, c.singleton);
        return this.list(ctx, c);
      }
      if (method === 'POST') {
        const res = this.create(c, params, ctx.user, { externalUrl: ctx.externalUrl });
        if (res.error) return ctx.json(res.error.status, res.error.body);
        return ctx.json(201, this.createdView(c, res.item));
      }
      if (method === 'PUT' || method === 'PATCH') {
        c.singleton = Object.assign(c.singleton || {}, coerce(params));
        return ctx.json(200, c.singleton);
      }
      if (method === 'DELETE') {
        for (const it of c.items.slice()) this.remove(c, it);
        c.singleton = null;
        return ctx.send(204, null);
      }
      return ctx.json(405, { error: '405 Not Allowed' });
    }
    // item
    const item = r.item;
    if (method === 'POST') {
      if (!item) {
        if (c.canon === 'id' || c.canon === 'iid') return ctx.json(404, { message: '404 ' + thing + ' Not Found' });
        const attrs = Object.assign({}, params);
        attrs[c.canon] = r.key;
        const res = this.create(c, attrs, ctx.user, { externalUrl: ctx.externalUrl });
        if (res.error) return ctx.json(res.error.status, res.error.body);
        return ctx.json(201, this.createdView(c, res.item));
      }
      if (c.canon !== 'id' && c.canon !== 'iid') {
        const b = this.create(c, Object.assign({}, params, { [c.canon]: r.key }), ctx.user, { externalUrl: ctx.externalUrl });
        return ctx.json(b.error.status, b.error.body);
      }
      return ctx.json(201, item);
    }
    if (!item) return ctx.json(404, { message: '404 ' + thing + ' Not Found' });
    if (method === 'GET') {
      if (c.name === 'repository/files') {
        if (ctx.method === 'HEAD') return ctx.send(200, null, this.fileHeaders(item, { 'content-type': 'application/json' }));
        const view = Object.assign({}, item, { ref: ctx.query.ref || item.ref });
        return ctx.json(200, view);
      }
      if (c.name === 'users') return ctx.json(200, this.currentUserView(item, ctx.user && ctx.user.is_admin));
      return ctx.json(200, item);
    }
    if (method === 'PUT' || method === 'PATCH') {
      this.update(c, item, params);
      if (c.name === 'repository/files') return ctx.json(200, { file_path: item.file_path, branch: params.branch || item.ref });
      return ctx.json(200, item);
    }
    if (method === 'DELETE') {
      this.remove(c, item);
      // projects and groups are deleted asynchronously on GitLab
      if (!c.parent && (c.name === 'projects' || c.name === 'groups')) return ctx.json(202, { message: '202 Accepted' });
      return ctx.send(204, null);
    }
    return ctx.json(405, { error: '405 Not Allowed' });
  }

  createdView(c, item) {
    if (c.name === 'repository/files') return { file_path: item.file_path, branch: item.ref };
    return item;
  }

  fileHeaders(item, extra) {
    return Object.assign({
      'x-gitlab-file-name': item.file_name,
      'x-gitlab-file-path': item.file_path,
      'x-gitlab-size': String(item.size || 0),
      'x-gitlab-encoding': 'base64',
      'x-gitlab-blob-id': item.blob_id || '',
      'x-gitlab-commit-id': item.commit_id || '',
      'x-gitlab-last-commit-id': item.last_commit_id || '',
      'x-gitlab-content-sha256': item.content_sha256 || '',
      'x-gitlab-ref': item.ref || '',
    }, extra);
  }

  currentUserView(u, full) {
    if (!u) return null;
    const v = clone(u);
    if (!full) {
      delete v.email;
      delete v.is_admin;
    }
    return v;
  }

  // ------------------------------------------------------------- seed

  seed(ext) {
    ext = ext || 'http://127.0.0.1';
    const users = this.coll('/users', 'users', null);
    const mk = (c, attrs, user) => {
      const r = this.create(c, attrs, user, { externalUrl: ext, validate: false });
      if (r.error) throw new Error('seed failed: ' + JSON.stringify(r.error));
      return r.item;
    };
    const root = mk(users, { username: 'root', name: 'Administrator', email: 'admin@example.com', is_admin: true, can_create_group: true, can_create_project: true });
    const alice = mk(users, { username: 'alice', name: 'Alice Liddell', email: 'alice@example.com' });
    const groups = this.coll('/groups', 'groups', null);
    const g1 = mk(groups, { name: 'group', path: 'group', description: 'Top-level group' }, root);
    mk(groups, { name: 'sub', path: 'sub', parent_id: g1.id, description: 'Subgroup' }, root);
    const projects = this.coll('/projects', 'projects', null);
    const p1 = mk(projects, { name: 'proj', path: 'proj', namespace_id: 1, description: 'First project' }, root);
    mk(projects, { name: 'proj2', path: 'proj2', namespace_id: 2, description: 'Project in a subgroup' }, root);
    const child = (path) => this.resolve(this.constructor.split(path)).coll;
    const issues1 = child('/projects/1/issues');
    mk(issues1, { title: 'First issue', description: 'Something is broken', labels: 'bug' }, alice);
    mk(issues1, { title: 'Second issue', labels: 'feature' }, root);
    const closed = mk(issues1, { title: 'Closed issue' }, root);
    this.update(issues1, closed, { state_event: 'close' });
    mk(child('/projects/2/issues'), { title: 'Issue in proj2' }, root);
    const labels = child('/projects/1/labels');
    mk(labels, { name: 'bug', color: '#FF0000', description: 'Defects' });
    mk(labels, { name: 'feature', color: '#00FF00' });
    const branches = child('/projects/1/repository/branches');
    mk(branches, { name: 'main', ref: 'main', default: true, protected: true }, root);
    mk(branches, { name: 'feature', ref: 'main' }, root);
    mk(child('/projects/1/repository/files'), { file_path: 'README.md', branch: 'main', content: '# proj\n', commit_message: 'init' }, root);
    mk(child('/projects/1/merge_requests'), { title: 'Add feature', source_branch: 'feature', target_branch: 'main' }, alice);
    mk(child('/projects/1/milestones'), { title: 'v1.0' });
    mk(child('/projects/1/members'), { id: root.id, username: root.username, name: root.name, state: 'active', access_level: 50 });
    mk(child('/projects/1/members'), { id: alice.id, username: alice.username, name: alice.name, state: 'active', access_level: 30 });
    void p1;
  }
}

function safe(s) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return s;
  }
}

module.exports = { Store, Collection, coerce, KEY_FIELDS, TOP_LEVEL, NAMESPACES };
