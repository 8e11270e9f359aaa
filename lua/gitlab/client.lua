--- The client: raw REST calls, pagination, transfers of files, GraphQL,
-- and the non-blocking API. Made by `gitlab.new`.
--
-- Every call returns `data, resp` on success and `nil, err` on failure
-- (see `gitlab.errors`); iterators raise `err` instead, so a failed page
-- never ends a loop silently.
--
-- This class assembles the methods of its parts, one concept each:
-- `gitlab.client.api` (request and its shortcuts, GraphQL),
-- `gitlab.client.pages` (pagination), `gitlab.client.graphql` (GraphQL
-- connections across pages), `gitlab.client.transfer`
-- (downloads, uploads) and `gitlab.client.async` (the non-blocking API),
-- over `gitlab.client.request` (building), `gitlab.client.send` (sending,
-- through `gitlab.client.refresh`) and `gitlab.client.response` (shaping).
-- @classmod gitlab.client

local async = require("gitlab.async")
local send = require("gitlab.client.send")
local options = require("gitlab.options")

local Client = {}
for name, fn in pairs(require("gitlab.client.api")) do Client[name] = fn end

-- The other parts are loaded on the first use of one of their methods:
-- a script of raw calls does not compile pagination, GraphQL connections,
-- file transfers and the non-blocking API (about 45% of the Lua a client
-- loads). Each method names its part here; spec/10 checks that this list
-- and the parts' exports agree. Hard dependencies all the same: an error
-- loading a part is raised to whoever asked for the method.
local LAZY = {
  pages = "pages", paginate = "pages", all = "pages",
  graphql_nodes = "graphql", graphql_nodes_all = "graphql",
  download = "transfer", upload = "transfer",
  request_async = "async", poll = "async", wait = "async", running = "async", attach = "async",
}

local function load_part(part)
  for name, fn in pairs(require("gitlab.client." .. part)) do Client[name] = fn end
end

-- gitlab.resources, loaded on first use (it costs about 7 ms, which a
-- script of raw calls does not pay); a hard dependency all the same: an
-- error loading it is raised to whoever asked for a manager.
local resources_mod

-- A method found here is kept on the client (as a manager is, below):
-- every later `gl:get` finds it at once instead of calling this function.
Client.__index = function(self, k)
  local v = Client[k]
  local part = v == nil and LAZY[k]
  if part then
    load_part(part)
    v = Client[k]
  end
  if v ~= nil then
    if type(v) == "function" then rawset(self, k, v) end
    return v
  end
  if type(k) ~= "string" or k:sub(1, 1) == "_" then return nil end
  if resources_mod == nil then resources_mod = require("gitlab.resources") end
  local m = resources_mod.manager(self, k)
  if m ~= nil then rawset(self, k, m) end
  return m
end

Client.__tostring = function(self)
  return "gitlab client (" .. self.url .. ")"
end

--- Replaces the credential (used by OAuth refresh).
-- @tparam string kind "token", "oauth_token" or "job_token"
-- @tparam string token
function Client:_set_token(kind, token)
  local o = options.by_name[kind]
  local header = o and o.auth
  if not header then error("_set_token: unknown credential kind " .. tostring(kind), 2) end
  self._core:set_token(header, token)
  self._ctx.set_secret(token)
end

--- Closes the client: transfers in flight are cancelled, connections
-- closed. Idempotent; also run by the garbage collector. Safe from any
-- callback (sink, progress, log, request callback, OAuth hook): the client
-- refuses further use at once, and what libcurl is still using is freed
-- as soon as it has returned; the request that was running then fails
-- with kind `"canceled"` ("the client was closed").
function Client:close()
  async.detach(self)
  self._core:close()
  -- a coroutine of gitlab.async.run waiting on a transfer of this client
  -- gets a "canceled" error instead of waiting forever
  send.close_waiters(self)
end
Client.__close = Client.close

-- for spec/10: which method comes from which lazily loaded part
Client._lazy_parts = LAZY

return Client
