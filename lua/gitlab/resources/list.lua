--- Lists: lazy iterables over every page of a collection, wrapping each
-- item (as an object, or not at all) on the way out. Made by managers
-- (`mgr:list{...}`) and by list actions; they page through the client's
-- `gl:paginate`, `gl:all` and `gl:pages`.
-- @module gitlab.resources.list

local util = require("gitlab.util")

local M = {}

local setmetatable = setmetatable
local copy, merge = util.copy, util.merge

-- GitLab's largest page (doc/api/rest/_index.md, "Pagination": per_page
-- at most 100)
local MAX_PER_PAGE = 100

local List = {}
List.__index = List
List.__name = "gitlab.list"
M.List = List

--- A list of `path` with `query` and paginate `opts`; `wrapper(item)`
-- (optional) turns each decoded item into what the list yields.
function M.new(gl, path, query, opts, wrapper)
  return setmetatable({ gl = gl, path = path, query = query, opts = opts,
                        wrapper = wrapper }, List)
end
local new_list = M.new

-- `items` with each item turned into what the list yields (in place).
local function wrap_all(wrapper, items)
  if wrapper then
    for i = 1, #items do items[i] = wrapper(items[i]) end
  end
  return items
end

-- One step of `for x in list do`. A generic `for` passes a nil control
-- value on its first call only, so each loop over the same list starts
-- from the first item again, even after a `break`.
function List.__call(self, _, control)
  local it = self._it
  if control == nil or not it then
    local f, s, c = self.gl:paginate(self.path, self.query, self.opts)
    it = { f = f, s = s, c = c }
    self._it = it
  end
  local item = it.f(it.s, it.c)
  it.c = item
  if item == nil then
    self._it = nil
    return nil
  end
  if self.wrapper then return self.wrapper(item) end
  return item
end

--- A plain iterator function over every item, for stepping by hand:
-- `local next_item = list:iter(); local a, b = next_item(), next_item()`.
function List:iter()
  local fresh = new_list(self.gl, self.path, self.query, self.opts, self.wrapper)
  local last
  return function()
    if last == false then return nil end
    local item = List.__call(fresh, nil, last == nil and nil or true)
    last = item == nil and false or item
    return item
  end
end

--- Every item of every page as an array.
-- @tparam[opt] table opts e.g. `{ max_items = 500 }`
-- @return array of items; or nil, err
function List:all(opts)
  local items, r = self.gl:all(self.path, self.query, merge(self.opts, opts))
  if items == nil then return nil, r end
  return wrap_all(self.wrapper, items), r
end

--- The first `n` items (fetches only the pages needed).
-- @tparam integer n
-- @return array; or nil, err
function List:first(n)
  n = n or 1
  local q = copy(self.query)
  if q.per_page == nil then q.per_page = math.min(n, MAX_PER_PAGE) end
  -- bound the pages too, so that prefetching never asks for more
  local max_pages = math.ceil(n / math.max(1, tonumber(q.per_page) or MAX_PER_PAGE))
  local items, r = self.gl:all(self.path, q,
    merge(self.opts, { max_items = n, max_pages = max_pages }))
  if items == nil then return nil, r end
  for i = #items, n + 1, -1 do items[i] = nil end
  return wrap_all(self.wrapper, items), r
end

--- Pages as arrays, with each page's response (`for page, resp in l:pages()`).
function List:pages()
  local f, s, c = self.gl:pages(self.path, self.query, self.opts)
  local wrapper = self.wrapper
  return function()
    local page, r = f(s, c)
    c = page
    if page == nil then return nil end
    return wrap_all(wrapper, page), r
  end
end

return M
