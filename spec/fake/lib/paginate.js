'use strict';
// GitLab pagination: offset (page/per_page + X-* headers + Link) and keyset
// (pagination=keyset, Link rel="next" only).  Works on any array, so route
// modules can page their own lists with ctx.paginate(items, opts).

const { buildQuery, className } = require('./util');

const MAX_COUNT = 10000; // above this GitLab stops counting
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

function keyset(ctx, items, opts) {
  const q = ctx.query;
  const allowed = Array.isArray(opts.keyset) ? opts.keyset : ['id'];
  const orderBy = q.order_by || allowed[0];
  const sort = String(q.sort || opts.keysetSort || 'asc').toLowerCase();
  if (!allowed.includes(orderBy) || (sort !== 'asc' && sort !== 'desc')) {
    return ctx.json(405, { error: 'Keyset pagination is not yet available for this type of request' });
  }
  const perPage = perPageOf(q);
  const desc = sort === 'desc';
  let page;
  let more;
  if (orderBy === 'id' && opts.sortedById) {
    // Fast path: items are already in ascending id order.
    if (!desc) {
      const start = q.id_after !== undefined ? upperBoundId(items, Number(q.id_after)) : 0;
      page = items.slice(start, start + perPage);
      more = start + perPage < items.length;
    } else {
      let end = items.length;
      if (q.id_before !== undefined) end = upperBoundId(items, Number(q.id_before) - 1);
      const start = Math.max(0, end - perPage);
      page = items.slice(start, end).reverse();
      more = start > 0;
    }
  } else {
    const sorted = items.slice().sort(sorter(orderBy, desc));
    let start = 0;
    let after = null;
    if (orderBy === 'id' && (q.id_after !== undefined || q.id_before !== undefined)) {
      after = { id: Number(desc ? q.id_before : q.id_after) };
    } else if (q.cursor) {
      try {
        after = JSON.parse(Buffer.from(String(q.cursor), 'base64').toString('utf8'));
      } catch (e) {
        return ctx.json(400, { error: 'cursor is invalid' });
      }
    }
    if (after) {
      const cmpf = sorter(orderBy, desc);
      const probe = { id: after.id !== undefined ? Number(after.id) : undefined };
      probe[orderBy] = orderBy === 'id' ? probe.id : after[orderBy];
      while (start < sorted.length && cmpf(sorted[start], probe) <= 0) start++;
    }
    page = sorted.slice(start, start + perPage);
    more = start + perPage < sorted.length;
  }
  const headers = {};
  if (ctx.state.config.keyset_empty_last_page) more = page.length === perPage;
  if (more && page.length) {
    const last = page[page.length - 1];
    let set;
    if (orderBy === 'id') {
      set = desc ? { id_before: last.id } : { id_after: last.id };
    } else {
      const cur = {};
      cur[orderBy] = last[orderBy];
      cur.id = String(last.id);
      cur._kd = 'n';
      set = { cursor: Buffer.from(JSON.stringify(cur)).toString('base64') };
    }
    headers.link = '<' + linkUrl(ctx, set, ['id_after', 'id_before', 'cursor']) + '>; rel="next"';
  }
  return ctx.json(200, page, headers);
}

// opts: { keyset: false | true | ['id', ...] (allowed order_by),
//         keysetSort, sortedById, type (class name for the 405 message),
//         map: item -> JSON view }
function paginate(ctx, items, opts) {
  opts = opts || {};
  const q = ctx.query;
  if (q.pagination === 'keyset') {
    if (!opts.keyset) {
      return ctx.json(405, { error: 'Keyset pagination is not yet available for this type of request' });
    }
    return keyset(ctx, items, opts);
  }
  const perPage = perPageOf(q);
  let page = intParam(q.page, 1);
  if (page <= 0) page = 1;
  if (opts.keyset && q.page !== undefined && page * perPage > OFFSET_LIMIT) {
    const type = opts.type || 'Object';
    return ctx.json(405, {
      error:
        'Offset pagination has a maximum allowed offset of ' + OFFSET_LIMIT + ' ' +
        'for requests that return objects of type ' + type + '. ' +
        'Remaining records can be retrieved using keyset pagination.',
    });
  }
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
