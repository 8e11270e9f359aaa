'use strict';
// GitLab pagination: offset (page/per_page + X-* headers + Link) and keyset
// (pagination=keyset, Link rel="next" only; doc/api/rest/_index.md).  Works on any array, so route
// modules can page their own lists with ctx.paginate(items, opts).

const { buildQuery, className } = require('./util');

const MAX_COUNT = 10000; // above this GitLab stops counting
// doc/administration/instance_limits.md, "Max offset allowed by the REST
// API for offset-based pagination": "**Default offset pagination limit**:
// `50000`." (config offset_pagination_limit; 0 disables it)
const OFFSET_LIMIT = 50000;

function intParam(v, dflt) {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number.parseInt(String(v), 10);
  return Number.isFinite(n) ? n : dflt;
}

function perPageOf(q) {
  let n = intParam(q.per_page, 20);
  if (n <= 0) n = 20;
  return Math.min(n, 100);
}

// Link URL for this request with some query params replaced.
function linkUrl(ctx, set, drop) {
  const pairs = ctx.queryPairs.filter((p) => !(p[0] in set) && !(drop && drop.includes(p[0])));
  for (const k of Object.keys(set)) pairs.push([k, String(set[k])]);
  return ctx.externalUrl + ctx.path + '?' + buildQuery(pairs);
}

function cmp(a, b) {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function sorter(field, desc) {
  const dir = desc ? -1 : 1;
  return (x, y) => {
    const c = cmp(x[field], y[field]) || cmp(x.id, y.id);
    return c * dir;
  };
}

// Index of the first element of a sorted-by-id (ascending) array with id > v.
function upperBoundId(items, v) {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Number(items[mid].id) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const KEYSET_405 = 'Keyset pagination is not yet available for this type of request';

function cursorOf(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64');
}

// GitLab's keyset pagination, doc/api/rest/_index.md "Keyset-based
// pagination":
// - "`order_by` and `sort` are both mandatory": a keyset request without
//   them is not defaulted here.  The docs name no error of their own for
//   it; GitLab answers every keyset request it cannot serve with 405
//   "Keyset pagination is not yet available for this type of request"
//   (lib/api/helpers/pagination_strategies.rb), so that is the answer.
// - "Supported resources": each resource takes only its listed options
//   (groups `order_by=name`, `sort=asc` only; audit events, package
//   pipelines and project jobs `order_by=id`, `sort=desc` only); others
//   get the same 405.
// - "The link to the next page contains an additional filter
//   `id_after=42`" (order_by=id) or "`cursor=...`" (groups, and any other
//   order); "The `X-NEXT-CURSOR` header contains the cursor value for
//   retrieving the next page's records, while the `X-PREV-CURSOR` header
//   contains the cursor value for retrieving the previous page's, when
//   available": both are sent on the lists paged by `cursor`.
// - "When the end of the collection is reached and there are no
//   additional records to retrieve, the `Link` header is absent and the
//   resulting array is empty": every page with items has a Link
//   rel="next"; the end of the list is an empty array without one.
function keyset(ctx, items, opts) {
  const q = ctx.query;
  const allowed = Array.isArray(opts.keyset) ? opts.keyset : ['id'];
  const sorts = opts.keysetSorts || ['asc', 'desc'];
  if (q.order_by === undefined || q.sort === undefined) return ctx.json(405, { error: KEYSET_405 });
  const orderBy = String(q.order_by);
  const sort = String(q.sort).toLowerCase();
  if (!allowed.includes(orderBy) || !sorts.includes(sort)) return ctx.json(405, { error: KEYSET_405 });
  const perPage = perPageOf(q);
  const desc = sort === 'desc';
  // lists paged by cursor even when ordered by id (GitLab's cursor-based
  // keyset: groups, audit events, jobs)
  const byCursor = orderBy !== 'id' || opts.keysetCursor;
  let page;
  let before = 0; // items of the order before this page
  if (!byCursor && opts.sortedById) {
    // Fast path: items are already in ascending id order.
    if (!desc) {
      const start = q.id_after !== undefined ? upperBoundId(items, Number(q.id_after)) : 0;
      page = items.slice(start, start + perPage);
    } else {
      let end = items.length;
      if (q.id_before !== undefined) end = upperBoundId(items, Number(q.id_before) - 1);
      const start = Math.max(0, end - perPage);
      page = items.slice(start, end).reverse();
    }
  } else {
    const cmpf = sorter(orderBy, desc);
    const sorted = items.slice().sort(cmpf);
    let start = 0;
    let key = null;
    if (!byCursor && (q.id_after !== undefined || q.id_before !== undefined)) {
      key = { id: Number(desc ? q.id_before : q.id_after), _kd: 'n' };
    } else if (byCursor && q.cursor) {
      try {
        key = JSON.parse(Buffer.from(String(q.cursor), 'base64').toString('utf8'));
      } catch (e) {
        key = null;
      }
      if (!key || typeof key !== 'object') return ctx.json(400, { error: 'cursor is invalid' });
    }
    if (key) {
      const probe = { id: key.id !== undefined ? Number(key.id) : undefined };
      probe[orderBy] = orderBy === 'id' ? probe.id : key[orderBy];
      while (start < sorted.length && cmpf(sorted[start], probe) <= 0) start++;
      if (key._kd === 'p') {
        // X-PREV-CURSOR: the page before the item the cursor names
        let end = start;
        if (end > 0 && cmpf(sorted[end - 1], probe) === 0) end--;
        start = Math.max(0, end - perPage);
        page = sorted.slice(start, end);
      }
    }
    if (!page) page = sorted.slice(start, start + perPage);
    before = start;
  }
  const headers = {};
  if (page.length) {
    const last = page[page.length - 1];
    let set;
    if (!byCursor) {
      set = desc ? { id_before: last.id } : { id_after: last.id };
    } else {
      const cur = {};
      cur[orderBy] = last[orderBy];
      cur.id = String(last.id);
      cur._kd = 'n';
      const next = cursorOf(cur);
      set = { cursor: next };
      headers['x-next-cursor'] = next;
      if (before > 0) {
        const first = page[0];
        const prev = {};
        prev[orderBy] = first[orderBy];
        prev.id = String(first.id);
        prev._kd = 'p';
        headers['x-prev-cursor'] = cursorOf(prev);
      }
    }
    // the request's own parameters stay, a filter `id_after` beside the
    // `id_before` of a descending list included (GitLab merges the new
    // bound into the request's parameters)
    headers.link = '<' + linkUrl(ctx, set) + '>; rel="next"';
  }
  return ctx.json(200, opts.map ? page.map(opts.map) : page, headers);
}

// The repository tree, doc/api/repositories.md "List repository tree":
// "This endpoint changed to keyset-based pagination in GitLab 15.0.
// Iterating pages of results with a number (`?page=2`) is unsupported.";
// `pagination`: "If `keyset`, use the keyset-based pagination method";
// `page_token`: "The tree record ID at which to fetch the next page. Used
// only with keyset pagination." The Supported resources table of
// doc/api/rest/_index.md lists its options as "N/A": no order_by/sort.
// Without pagination=keyset the first page still comes, with offset-like
// headers (GitLab's lib/gitlab/pagination/gitaly_keyset_pager.rb); a
// numbered page after it is refused (the docs give no wording: this one
// is the fake's).
function gitalyKeyset(ctx, items, opts) {
  const q = ctx.query;
  const perPage = perPageOf(q);
  if (q.pagination === 'none' && q.recursive === 'true') return ctx.json(200, items.map(opts.map || ((x) => x)));
  if (q.pagination !== 'keyset') {
    const n = intParam(q.page, 1);
    if (n > 1) {
      return ctx.json(400, {
        error: 'page is unsupported: this list uses keyset pagination (pagination=keyset, page_token)',
      });
    }
    const slice = items.slice(0, perPage);
    const more = items.length > perPage;
    const headers = {
      'x-page': '1',
      'x-per-page': String(perPage),
      'x-next-page': more ? '2' : '',
      'x-prev-page': '',
      'x-total': String(items.length),
      'x-total-pages': String(Math.max(1, Math.ceil(items.length / perPage))),
    };
    const links = [];
    if (more) links.push('<' + linkUrl(ctx, { page: 2, per_page: perPage }) + '>; rel="next"');
    links.push('<' + linkUrl(ctx, { page: 1, per_page: perPage }) + '>; rel="first"');
    headers.link = links.join(', ');
    return ctx.json(200, opts.map ? slice.map(opts.map) : slice, headers);
  }
  let start = 0;
  if (q.page_token !== undefined && q.page_token !== '') {
    const at = items.findIndex((x) => String(x.id) === String(q.page_token));
    if (at < 0) return ctx.json(400, { error: 'page_token is invalid' });
    start = at + 1;
  }
  const page = items.slice(start, start + perPage);
  const headers = {};
  if (page.length) {
    headers.link = '<' + linkUrl(ctx, { page_token: page[page.length - 1].id }, ['page']) + '>; rel="next"';
  }
  return ctx.json(200, opts.map ? page.map(opts.map) : page, headers);
}

// opts: { keyset: false | true | ['id', ...] (allowed order_by),
//         keysetSorts: ['asc', 'desc'] (allowed sort), keysetCursor (paged
//         by cursor, X-Next-Cursor), gitaly (the repository tree: keyset
//         by page_token only), sortedById, type (class name for the 405
//         message), map: item -> JSON view }
function paginate(ctx, items, opts) {
  opts = opts || {};
  const q = ctx.query;
  if (opts.gitaly) return gitalyKeyset(ctx, items, opts);
  if (q.pagination === 'keyset') {
    if (!opts.keyset) return ctx.json(405, { error: KEYSET_405 });
    return keyset(ctx, items, opts);
  }
  const perPage = perPageOf(q);
  let page = intParam(q.page, 1);
  // doc/administration/instance_limits.md, "Max offset allowed by the REST
  // API for offset-based pagination": "When using offset-based pagination
  // in the REST API, there is a limit to the maximum requested offset into
  // the set of results. This limit is only applied to endpoints that also
  // support keyset-based pagination." (the kinds with opts.keyset, those of
  // doc/api/rest/_index.md's "Supported resources"); doc/api/projects.md:
  // "Use offset-based pagination to access up to 50,000 projects."; "Set
  // the limit to `0` to disable it." The docs give no status or wording:
  // GitLab's lib/api/helpers/pagination_strategies.rb refuses when
  // `params[:page] * params[:per_page] > offset_limit` (page 1 by default,
  // per_page as asked, before the cap at 100) with this 405.
  const cfg = ctx.state && ctx.state.config;
  const limit = cfg && cfg.offset_pagination_limit !== undefined ? Number(cfg.offset_pagination_limit) : OFFSET_LIMIT;
  if (opts.keyset && limit > 0 && page * intParam(q.per_page, 20) > limit) {
    const type = opts.type || 'Object';
    return ctx.json(405, {
      error:
        'Offset pagination has a maximum allowed offset of ' + limit + ' ' +
        'for requests that return objects of type ' + type + '. ' +
        'Remaining records can be retrieved using keyset pagination.',
    });
  }
  if (page <= 0) page = 1;
  const total = items.length;
  const start = (page - 1) * perPage;
  const slice = start < total ? items.slice(start, start + perPage) : [];
  const counted = total <= MAX_COUNT;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const next = start + perPage < total ? page + 1 : null;
  const prev = page > 1 ? page - 1 : null;
  const headers = {
    'x-page': String(page),
    'x-per-page': String(perPage),
    'x-next-page': next ? String(next) : '',
    'x-prev-page': prev ? String(prev) : '',
  };
  if (counted) {
    headers['x-total'] = String(total);
    headers['x-total-pages'] = String(totalPages);
  }
  const links = [];
  const link = (p, rel) => links.push('<' + linkUrl(ctx, { page: p, per_page: perPage }) + '>; rel="' + rel + '"');
  if (prev) link(prev, 'prev');
  if (next) link(next, 'next');
  link(1, 'first');
  if (counted) link(totalPages, 'last');
  headers.link = links.join(', ');
  return ctx.json(200, opts.map ? slice.map(opts.map) : slice, headers);
}

module.exports = { paginate, perPageOf, intParam, sorter, cmp, className, MAX_COUNT, OFFSET_LIMIT };
