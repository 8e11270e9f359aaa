--- Pagination (methods of `gitlab.client`): `pages` follows Link and
-- X-Next-Page (offset) or Link (keyset) and fetches ahead in parallel
-- when the first page gives the total; `paginate` and `all` over it.
-- @module gitlab.client.pages

local core = require("gitlab.core")
local errors = require("gitlab.errors")
local async = require("gitlab.async")
local request = require("gitlab.client.request")
local finish = require("gitlab.client.response").finish
local send = require("gitlab.client.send")
local util = require("gitlab.util")
local options = require("gitlab.options")
local int_string, copy, check_limits = util.int_string, util.copy, util.check_limits

local build, EMPTY, has_dot_segment = request.build, request.EMPTY, request.has_dot_segment

local Client = {}


local EXPECT_ARRAY = { expect = "array" }

local function page_error(resp, path, msg)
  return errors.new{ kind = "decode", method = "GET", path = path, message = msg,
    status = resp and resp.status, response = resp }
end

-- A next page that would not advance: a loop, never more items.
local function loop_error(resp, path, msg)
  return errors.new{ kind = "pagination", method = "GET", path = path, message = msg,
    status = resp.status, url = resp.url, response = resp }
end

local function link_page(url)
  return tonumber(url:match("[?&]page=(%d+)"))
end

------------------------------------------------------------------------
-- Keyset pagination as GitLab documents it
------------------------------------------------------------------------

-- doc/api/rest/_index.md, "Keyset-based pagination": "`order_by` and
-- `sort` are both mandatory"; its "Supported resources" table says which
-- options each list takes. `order_by`/`sort` here are what is sent when
-- the caller gives none: the resource's documented default where that
-- one is keyset-capable (doc/api/users.md, doc/api/issues.md: `id`
-- resp. `created_at`, `desc`; doc/api/projects.md: `sort` `desc`), else
-- the only one listed. `sorts`/`orders`: the only ones listed, refused
-- here before anything is sent. `only`: the list pages by keyset alone
-- (doc/api/repositories.md, "List repository tree": "This endpoint
-- changed to keyset-based pagination in GitLab 15.0. Iterating pages of
-- results with a number (`?page=2`) is unsupported."; its options are
-- "N/A": no order_by or sort).
--
-- Offset pagination on these lists stops at a documented offset
-- (doc/administration/instance_limits.md, "Max offset allowed by the REST
-- API for offset-based pagination": "there is a limit to the maximum
-- requested offset into the set of results. This limit is only applied to
-- endpoints that also support keyset-based pagination."; "**Default
-- offset pagination limit**: `50000`."; "Set the limit to `0` to disable
-- it."): the client's `offset_limit`. GitLab refuses page p of per_page
-- records when p * per_page exceeds it (lib/api/helpers/
-- pagination_strategies.rb: `params[:page] * params[:per_page] >
-- offset_limit`, per_page as asked). `resume`: past it the list goes on by
-- keyset when ordered by that column, through a documented filter (see
-- resume_query). `auto`: the list is paged by keyset from the start when
-- the caller names no page and its order is the one keyset gives too
-- (see keyset_query). `who`: for whom GitLab documents keyset there.
local SEG = "[^/]+"
local DESC_ONLY = { order_by = "id", sort = "desc", sorts = { desc = true }, orders = { id = true },
                    what = "`order_by=id`, `sort=desc` only" }
local KEYSET_RULES = {
  { "^/projects/" .. SEG .. "/repository/tree$", only = true },
  { "^/groups$", order_by = "name", sort = "asc", sorts = { asc = true }, orders = { name = true },
    what = "`order_by=name`, `sort=asc` only", who = "unauthenticated users only" },
  { "^/projects/" .. SEG .. "/jobs$", DESC_ONLY },
  { "^/audit_events$", DESC_ONLY },
  { "^/groups/" .. SEG .. "/audit_events$", DESC_ONLY },
  { "^/projects/" .. SEG .. "/audit_events$", DESC_ONLY },
  -- packages.md "List package pipelines": paginated by keyset; GitLab's
  -- route sets `params[:pagination] = 'keyset'` ("keyset is the only
  -- available pagination"): keyset whatever is asked, like the tree
  { "^/projects/" .. SEG .. "/packages/" .. SEG .. "/pipelines$",
    { order_by = "id", sort = "desc", sorts = DESC_ONLY.sorts, orders = DESC_ONLY.orders,
      what = DESC_ONLY.what, only = true } },
  { "^/projects$", order_by = "id", sort = "desc", orders = { id = true }, what = "`order_by=id` only",
    resume = "id" },
  { "^/users$", order_by = "id", sort = "desc", auto = "id",
    what = "`order_by=id`, `name`, `username`, `created_at` or `updated_at`" },
  { "^/projects/" .. SEG .. "/issues$", order_by = "created_at", sort = "desc",
    what = "`order_by=created_at`, `updated_at`, `title`, `id`, `weight`, `due_date` or"
      .. " `relative_position`" },
  { "^/projects/" .. SEG .. "/registry/repositories/" .. SEG .. "/tags$", order_by = "name", sort = "asc",
    what = "`order_by=name`" },
}

-- The rule for a list path (relative to the API, or a URL).
local function keyset_rule(path)
  local p = path:match("^[%a][%w+.-]*://[^/]*(/.*)$")
  if p then p = p:match("/api/v4(/.*)$") or p else p = path end
  p = p:gsub("[?#].*$", "")
  if p:byte(1) ~= 47 then p = "/" .. p end
  p = p:gsub("/+$", "")
  for _, r in ipairs(KEYSET_RULES) do
    if p:find(r[1]) then return r[2] or r, p end
  end
end

-- Fills q for keyset (opts.pagination, keyset-only lists, the mandatory
-- order_by and sort) and refuses what GitLab documents it refuses. Returns
-- whether the list goes by keyset, its rule, and for a list put on keyset
-- here without being asked (`auto`) the query it had before.
--
-- `auto` (/users): doc/api/rest/_index.md, "Pagination": "Offset-based
-- pagination. The default method and available on all endpoints except, in
-- GitLab 16.5 and later, the `users` endpoint."; "The `users` endpoint was
-- deprecated for offset-based pagination in GitLab 16.5 [...] Use
-- keyset-based pagination for this endpoint instead."; doc/api/users.md:
-- "In GitLab 17.0 and later, keyset pagination is required for responses
-- of 50,000 and above.", `order_by` "Default is `id`", `sort` "Default is
-- `desc`". Ordered by id (unique), keyset and offset give the same
-- records in the same order, so a list the caller does not page by number
-- (no `page`) and orders by id or not at all is paged by keyset: no limit
-- to reach. Other orders (`name`, ...) may break ties otherwise: those
-- stay offset, up to the limit.
local function keyset_query(q, path, opts)
  if q.pagination == nil and opts.pagination ~= nil then q.pagination = opts.pagination end
  local rule, p = keyset_rule(path)
  if not rule then return q.pagination == "keyset" end
  if rule.only then
    -- a page number asked for by name goes as asked (and GitLab refuses it)
    if q.pagination == nil and q.page == nil then q.pagination = "keyset" end
    if q.pagination ~= "keyset" or not rule.order_by then return q.pagination == "keyset", rule end
  end
  local before
  if rule.auto and q.pagination == nil and q.page == nil
     and (q.order_by == nil or tostring(q.order_by) == rule.auto) then
    before = copy(q)
    q.pagination = "keyset"
  end
  if q.pagination ~= "keyset" then return false, rule end
  if q.order_by == nil then q.order_by = rule.order_by end
  if q.sort == nil then q.sort = rule.sort end
  local order, sort = tostring(q.order_by), tostring(q.sort):lower()
  if (rule.orders and not rule.orders[order]) or (rule.sorts and not rule.sorts[sort]) then
    error(("pages: keyset pagination of %s takes %s (doc/api/rest/_index.md, \"Supported"
      .. " resources\"), not order_by=%s, sort=%s"):format(p, rule.what, order, sort), 3)
  end
  return true, rule, before
end

local function per_page_of(url)
  return tonumber(url:match("[?&]per_page=(%d+)"))
end

-- The query that goes on by keyset after `last`, the last record offset
-- gave, or nil when the docs give no way to start there. doc/api/
-- projects.md, "List all projects": `id_after` "Limit results to projects
-- with IDs greater than the specified ID.", `id_before` "Limit results to
-- projects with IDs less than the specified ID."; doc/api/rest/_index.md,
-- "Keyset-based pagination": projects take "`order_by=id` only" and "The
-- link to the next page contains an additional filter `id_after=42` that
-- excludes already-retrieved records." Ordered by id, what offset has not
-- given yet is exactly the list filtered past the last id given: no gap,
-- no record twice (records added or removed meanwhile shift offset pages,
-- never that bound). The caller's other bound stays.
local function resume_query(rule, q, last)
  if not rule.resume or tostring(q.order_by) ~= rule.resume then return nil end
  local id = int_string(type(last) == "table" and last[rule.resume])
  if not id then return nil end
  local sort = tostring(q.sort or rule.sort):lower()
  if sort ~= "asc" and sort ~= "desc" then return nil end
  local kq = copy(q)
  kq.page = nil
  kq.pagination, kq.order_by, kq.sort = "keyset", rule.resume, sort
  kq[rule.resume .. (sort == "desc" and "_before" or "_after")] = id
  return kq
end

-- Raised instead of asking for page p, which GitLab refuses: the records
-- up to the limit were yielded (`past`: p is not the first page asked
-- for), the rest needs keyset.
local function limit_error(rule, path, p, pp, limit, past)
  local how = rule.what and (' (doc/api/rest/_index.md, "Supported resources": ' .. rule.what
    .. (rule.who and ", " .. rule.who or "") .. ")") or ""
  local resume = past and rule.resume and ('; ordered by %s (order_by = "%s") it goes on by keyset past the'
    .. " limit by itself"):format(rule.resume, rule.resume) or ""
  return errors.new{ kind = "pagination", method = "GET", path = path,
    message = ("GitLab refuses offset pagination of this list past offset %d (page %d of %d per page;"
      .. ' offset_limit, doc/administration/instance_limits.md, "Max offset allowed by the REST API for'
      .. ' offset-based pagination"). List it with pagination = "keyset"%s%s')
      :format(limit, p, pp, how, resume) }
end

--- Iterates over pages: `for items, resp in gl:pages(path, query) do`.
-- Offset pagination follows `Link`/`X-Next-Page`; keyset (`pagination =
-- "keyset"`) follows `Link` only, each with the link's own query. When the
-- first page gives the number of pages, the following ones are fetched up
-- to `concurrency` at a time (the next link with its page number changed)
-- and still yielded in order; a page that says it is the last ends the
-- iteration, whatever the total said. A failed page raises the error
-- object; so does a page that is not a JSON array (kind "decode") and a
-- next page that does not advance (kind "pagination": X-Next-Page not
-- after the page, a Link back to a page or cursor already fetched, a
-- prefetched page answering for another page number).
--
-- Keyset as GitLab documents it (doc/api/rest/_index.md, "Keyset-based
-- pagination"): `pagination = "keyset"` (in the query or in opts) on a
-- list of its "Supported resources" sends the mandatory `order_by` and
-- `sort` (the caller's, else the list's documented default), and an
-- order the list does not take (`sort=asc` on the `sort=desc`-only jobs
-- and audit events, groups other than `order_by=name`, `sort=asc`) raises
-- before anything is sent. The repository tree is keyset only
-- (doc/api/repositories.md): it is always paged by keyset, never by page
-- number. Keyset pages are never fetched ahead: each comes from the Link
-- of the one before. The empty array that ends a keyset list is not
-- yielded after its first page; `resp.next_cursor`/`resp.prev_cursor` are
-- the `X-Next-Cursor`/`X-Prev-Cursor` headers where GitLab sends them.
--
-- Offset pagination of the lists that also take keyset stops at
-- `offset_limit` records (GitLab's documented 50000 by default; 0: none):
-- no page past it is fetched ahead or asked for. Past it a list of
-- projects ordered by `id` goes on by keyset from the last record given
-- (`id_before`/`id_after`, documented filters); any other list raises an
-- error of kind "pagination" naming the limit and `pagination = "keyset"`,
-- after the records up to it. `/users` without `page`, ordered by id (its
-- default), is paged by keyset from the start (by offset where GitLab
-- answers that keyset 405: before 16.5).
-- @tparam string path
-- @tparam[opt] table query
-- @tparam[opt] table opts `max_pages`, `concurrency`, `per_page`, `pagination`, `offset_limit`
function Client:pages(path, query, opts)
  if type(path) ~= "string" then error("pages: path must be a string", 2) end
  if query ~= nil and type(query) ~= "table" then error("pages: query must be a table", 2) end
  check_limits(opts, "pages", 2)
  opts = opts or {}
  local q = copy(query)
  if q.per_page == nil then q.per_page = opts.per_page or self.per_page end
  local keyset, rule, auto_from = keyset_query(q, path, opts)
  local offset_limit = opts.offset_limit
  if offset_limit == nil then offset_limit = self.offset_limit or options.by_name.offset_limit.default end
  if type(offset_limit) ~= "number" or offset_limit ~= offset_limit or offset_limit < 0 then
    error("pages: offset_limit must be a number >= 0 (0: no limit)", 2)
  end
  local limited = rule ~= nil and not rule.only and offset_limit > 0
  local concurrency = opts.concurrency or self.concurrency
  local max_pages = opts.max_pages
  local n, done = 0, false
  -- what comes next: a URL (Link; next_no its page number when it has
  -- one) or only a page number (X-Next-Page)
  local next_url, next_no
  -- URLs and page numbers asked for: the next page may not be one of them
  local seen = {}
  -- a next page that does not advance: raised on the call after its page
  -- (whose items are good) was yielded
  local broken
  local batch, pending, last_scheduled, total_pages, template   -- prefetch state
  -- the last record yielded (where keyset goes on from past the offset
  -- limit), and the keyset query that then replaces the next offset page
  local last_item, resume_q
  local ctx = self._ctx

  -- whether GitLab refuses offset page p of pp records on this list
  local function refused(p, pp)
    return limited and not keyset and p ~= nil and p * pp > offset_limit
  end

  local function next_per_page()
    return next_url and per_page_of(next_url) or tonumber(q.per_page) or 20
  end

  local function fail(e)
    if batch then batch:close(); batch = nil end
    done = true
    error(e, 0)
  end

  local function check_page(data, resp)
    if data == nil then fail(resp) end
    if type(data) ~= "table" then
      fail(page_error(resp, path, "expected a JSON array for a page of " .. path))
    end
    return data, resp
  end

  -- Reads what follows resp, the answer for page number `asked` (nil when
  -- unknown); sets `broken` instead when that would not advance.
  local function advance(resp, asked)
    next_url, next_no = nil, nil
    local here = resp.page or asked
    local name = here and ("page " .. int_string(here)) or ("page " .. n .. " of the list")
    -- _next_url: the link as given, when the shown one lost a credential
    -- of the query to redaction
    local u = resp._next_url or resp.next_url
    if u then
      local p = not keyset and link_page(u) or nil
      if p and here and p <= here then
        broken = loop_error(resp, path, ('%s links to page %d as the next one (Link rel="next"): %s')
          :format(name, p, core.redact_url(u)))
      elseif seen[u] or (p and seen[p]) then
        broken = loop_error(resp, path, ('the Link rel="next" of %s leads back to a page already fetched: %s')
          :format(name, core.redact_url(u)))
      elseif has_dot_segment(u) then
        broken = loop_error(resp, path, ('the Link rel="next" of %s has a \'.\' or \'..\' segment'
          .. ' (it would reach another endpoint): %s'):format(name, core.redact_url(u)))
      end
      if broken then return end
      next_url, next_no = u, p
    elseif not keyset and resp.next_page then
      local p = resp.next_page
      if (here and p <= here) or seen[p] then
        broken = loop_error(resp, path, ("%s answered X-Next-Page: %s; the next page must come after it")
          :format(name, int_string(p) or tostring(p)))
        return
      end
      next_no = p
    elseif resp.link_error and not resp.next_page then
      fail(page_error(resp, path, resp.link_error))
    end
  end

  -- URL of page p when fetching ahead: the first page's next link with
  -- its page number changed (its query kept, as GitLab asks), else path,
  -- query and page.
  local function page_url(p)
    if template then return (template:gsub("([?&]page=)%d+", "%1" .. p, 1)) end
    local pq = copy(q)
    pq.page = p
    return (build(self, "GET", path, { query = pq }, "pages")).url
  end

  local function schedule()
    while last_scheduled < total_pages and #pending < concurrency do
      last_scheduled = last_scheduled + 1
      local req = build(self, "GET", page_url(last_scheduled), EMPTY, "pages")
      pending[#pending + 1] = { page = last_scheduled, url = req.url, h = batch:add(req),
                                gen = self._hooks and self._hooks.generation }
    end
  end

  local function start_prefetch(first_resp, first_no)
    if keyset or concurrency <= 1 or async.current() or max_pages then return end
    total_pages = first_resp.total_pages
    local cur = first_resp.page or first_no
    -- never a page GitLab refuses: those up to the offset limit only
    if total_pages and limited then
      total_pages = math.min(total_pages, math.floor(offset_limit / next_per_page()))
    end
    -- by number only when the next page is the following number
    if not total_pages or total_pages <= cur + 1 or next_no ~= cur + 1 then return end
    template = next_url
    batch = self._core:batch()
    pending = {}
    last_scheduled = cur
    schedule()
  end

  local function request_next()
    if resume_q then
      local kq = resume_q
      resume_q = nil
      seen[(build(self, "GET", path, { query = kq }, "pages")).url] = true
      return check_page(self:request("GET", path, { query = kq, expect = "array" }))
    end
    local u, p = next_url, next_no
    if p then seen[p] = true end
    if u then
      seen[u] = true
      return check_page(self:request("GET", u, EXPECT_ARRAY))
    end
    local pq = copy(q)
    pq.page = p
    return check_page(self:request("GET", path, { query = pq, expect = "array" }))
  end

  local function step()
    if done then return nil end
    if max_pages and n >= max_pages then done = true return nil end
    if broken then fail(broken) end
    local data, resp
    if n == 0 then
      local first_no = not keyset and (tonumber(q.page) or 1) or nil
      local pp = tonumber(q.per_page) or 20
      if refused(first_no, pp) then fail(limit_error(rule, path, first_no, pp, offset_limit)) end
      if first_no then seen[first_no] = true end
      seen[(build(self, "GET", path, { query = q }, "pages")).url] = true
      data, resp = self:request("GET", path, { query = q, expect = "array" })
      if data == nil and auto_from and resp.status == 405 then
        -- a GitLab without keyset here (doc/api/users.md: "Keyset
        -- pagination introduced in GitLab 16.5"): by offset, as asked
        q, keyset, auto_from, first_no = auto_from, false, nil, 1
        if refused(first_no, pp) then fail(limit_error(rule, path, first_no, pp, offset_limit)) end
        seen[first_no] = true
        seen[(build(self, "GET", path, { query = q }, "pages")).url] = true
        data, resp = self:request("GET", path, { query = q, expect = "array" })
      end
      data, resp = check_page(data, resp)
      n = 1
      advance(resp, first_no)
      if next_url or next_no then start_prefetch(resp, first_no) elseif not broken then done = true end
      return data, resp
    end
    if batch then
      local item = table.remove(pending, 1)
      local r, e, decoded, service = batch:await(item.h)
      data, resp = finish(ctx, "GET", path, EXPECT_ARRAY, r, e, decoded, service)
      if data == nil and resp.status == 401 and self._hooks then
        -- sent with the pair of its time: the credential refresh decides
        -- (refresh, unless another page did already) and asks again
        data, resp = send.request(self, build(self, "GET", item.url, EMPTY, "pages"), "GET", path,
          EXPECT_ARRAY, { gen = item.gen, data = data, resp = resp })
      end
      data, resp = check_page(data, resp)
      if resp.page and resp.page ~= item.page then
        fail(loop_error(resp, path, ("asked for page %d, the server answered for page %s (X-Page)")
          :format(item.page, int_string(resp.page) or tostring(resp.page))))
      end
      seen[item.page], seen[item.url] = true, true
      n = n + 1
      advance(resp, item.page)
      if broken then
        batch:close()
        batch = nil
      elseif not (next_url or next_no) then
        -- the last page, whatever the total said: what was fetched
        -- ahead beyond it is dropped
        batch:close()
        batch = nil
        done = true
      elseif last_scheduled < total_pages then
        schedule()
      elseif #pending == 0 then
        -- past the total: pages may have been added while we listed, so
        -- carry on from this page's links
        batch:close()
        batch = nil
      end
      return data, resp
    end
    if not (next_url or next_no) then
      done = true
      return nil
    end
    local p, pp = next_no, next_per_page()
    if refused(p, pp) then
      -- past the offset limit: on by keyset where the docs give the way,
      -- else an error before the request GitLab would refuse
      local kq = resume_query(rule, q, last_item)
      if not kq then fail(limit_error(rule, path, p, pp, offset_limit, true)) end
      keyset, resume_q, next_url, next_no = true, kq, nil, nil
    end
    data, resp = request_next()
    local asked = next_no
    n = n + 1
    advance(resp, asked)
    if not (next_url or next_no or broken) then done = true end
    return data, resp
  end

  return function()
    local data, resp = step()
    if data == nil then return nil end
    if data[#data] ~= nil then last_item = data[#data] end
    -- doc/api/rest/_index.md: "The `X-NEXT-CURSOR` header contains the
    -- cursor value for retrieving the next page's records, while the
    -- `X-PREV-CURSOR` header contains the cursor value for retrieving the
    -- previous page's, when available." Shown, never followed: Link is.
    local h = resp.headers
    if h then resp.next_cursor, resp.prev_cursor = h["x-next-cursor"], h["x-prev-cursor"] end
    -- "When the end of the collection is reached [...] the `Link` header
    -- is absent and the resulting array is empty": that empty end of a
    -- list of several pages is not a page of it
    if done and n > 1 and next(data) == nil then return nil end
    return data, resp
  end
end

--- Iterates over items across pages: `for issue in gl:paginate(path, q) do`.
-- @tparam string path
-- @tparam[opt] table query
-- @tparam[opt] table opts `max_items`, `max_pages`, `concurrency`
function Client:paginate(path, query, opts)
  check_limits(opts, "paginate", 2)
  local next_page = self:pages(path, query, opts)
  local items, i, count = nil, 0, 0
  local max_items = opts and opts.max_items
  return function()
    if max_items and count >= max_items then return nil end
    while true do
      if items then
        i = i + 1
        local v = items[i]
        if v ~= nil then
          count = count + 1
          return v
        end
      end
      items, i = next_page(), 0
      if items == nil then return nil end
    end
  end
end

--- Collects every item: `local list, err = gl:all(path, query, opts)`.
-- @tparam[opt] table opts `max_items`, `max_pages`
-- @return list or nil, err
function Client:all(path, query, opts)
  check_limits(opts, "all", 2)
  return errors.collect(function() return self:paginate(path, query, opts) end)
end

return Client
