-- The catalog against GitLab's docs: users (doc/api/users.md), members
-- (doc/api/members.md) and personal access tokens
-- (doc/api/personal_access_tokens.md). Every endpoint the catalog gained or
-- changed for these pages is called through the resource layer; the fake
-- (spec/fake/routes/docs_inv2.js answers these routes as the docs say) must
-- see the documented method and path, and the result must have the
-- documented shape.
local helpers = require("helpers")
local List = require("gitlab.resources.list").List

local gl

local sends = helpers.sends

-- a JSON object (not an array) came back
local function is_object(v)
  assert.is_table(v)
  assert.is_nil(v[1])
  assert.is_truthy(next(v))
end

describe("catalog against GitLab's docs: users, members, tokens", function()
  local g

  setup(function()
    helpers.server()
    gl = helpers.client()
  end)

  before_each(function()
    helpers.reset()
    g = gl.groups:lazy(1)
  end)

  describe("users.md", function()
    it("sets the status with PATCH, which keeps what it is not given (PUT clears it)", function()
      local status = gl.current_user.status
      local st = sends("PUT /user/status", function()
        return status:update{ emoji = "coffee", message = "I crave coffee" }
      end)
      assert.equal("coffee", st.emoji)

      local r = sends("PATCH /user/status", function() return status:patch{ message = "tea" } end)
      is_object(r)
      assert.equal("coffee", r.emoji)
      assert.equal("tea", r.message)

      -- on the loaded object, the answer reloads it
      local obj = assert(status:get())
      local same = sends("PATCH /user/status", function() return obj:patch{ emoji = "tea" } end)
      assert.equal(obj, same)
      assert.equal("tea", obj.emoji)
      assert.equal("tea", obj.message)

      -- PUT sets what it is not given to null: the message goes
      st = sends("PUT /user/status", function() return status:update{ emoji = "coffee" } end)
      assert.equal("coffee", st.emoji)
      assert.equal(require("gitlab").null, st.message)
      assert.equal("coffee", sends("GET /users/1/status", function() return gl.users:lazy(1):status() end).emoji)
    end)

    it("uploads your avatar with PUT /user/avatar, the file in the avatar field", function()
      local png = helpers.tmpdir() .. "/me.png"
      helpers.write_file(png, "\137PNG\r\n\26\n" .. ("x"):rep(100))
      local r = sends("PUT /user/avatar", function() return gl.current_user:set_avatar{ file = png } end)
      is_object(r)
      assert.matches("/user/avatar/1/me%.png$", r.avatar_url)
      local e = helpers.last_request{ method = "PUT", path = "/api/v4/user/avatar" }
      assert.equal(1, #e.files)
      assert.equal("avatar", e.files[1].name)
      assert.equal("me.png", e.files[1].filename)
      -- another field name is still the caller's choice (and GitLab refuses it)
      local data, err = gl.current_user:set_avatar{ file = png, field = "file" }
      assert.is_nil(data)
      assert.equal(400, err.status)
    end)
  end)

  describe("members.md", function()
    it("changes a group member's state with PUT .../members/:user_id/state", function()
      local m = assert(g.members:create{ user_id = 2, access_level = 30 })
      local r = sends("PUT /groups/1/members/2/state", function() return m:set_state{ state = "awaiting" } end)
      assert.same({ success = true }, r)
      assert.equal("awaiting", helpers.store("/groups/1/members/2").membership_state)
      sends("PUT /groups/1/members/2/state",
        function() return g.members:lazy(2):set_state{ state = "active" } end)
      assert.equal("active", helpers.store("/groups/1/members/2").membership_state)
      local data, err = m:set_state{ state = "blocked" }
      assert.is_nil(data)
      assert.equal(400, err.status)
      -- project members have no state route
      assert.is_nil(gl.projects:lazy(1).members:lazy(2).set_state)
    end)

    it("lists a billable member's indirect memberships as a lazy list", function()
      local other = assert(gl.groups:create{ name = "other", path = "other" })
      assert(other.members:create{ user_id = 2, access_level = 30 })
      local list = g.billable_members:lazy(2):indirect()
      assert.equal(List, getmetatable(list))
      local items = sends("GET /groups/1/billable_members/2/indirect", function() return list:all() end)
      assert.equal(1, #items)
      assert.equal(other.id, items[1].source_id)
      assert.equal(30, items[1].access_level.integer_value)
    end)
  end)

  describe("personal_access_tokens.md", function()
    it("lists the token's associations: one object of groups and projects, not a list", function()
      local r = sends("GET /personal_access_tokens/self/associations",
        function() return gl.personal_access_tokens:current_associations() end)
      is_object(r)
      assert.is_table(r.groups)
      assert.equal(1, #r.projects)
      assert.equal(1, r.projects[1].id)
      sends("GET /personal_access_tokens/self/associations",
        function() return gl.personal_access_tokens:current_associations{ min_access_level = 60 } end)
      local e = helpers.last_request{ path = "/api/v4/personal_access_tokens/self/associations" }
      assert.equal("min_access_level=60", e.query)
    end)
  end)
end)
