-- gl:graphql(): POST /api/graphql, data returned, GraphQL errors surfaced
-- as error objects.
local helpers = require("helpers")

describe("graphql", function()
  local gl
  setup(function() gl = helpers.client() end)

  it("returns the data of a query", function()
    local data, resp = gl:graphql("query { currentUser { username } }")
    assert.truthy(data, tostring(resp))
    assert.equal("root", data.currentUser.username)
    local req = helpers.last_request{ path = "/api/graphql" }
    assert.equal("POST", req.method)
    assert.equal("glpat-root", req.headers["private-token"])
  end)

  it("sends variables", function()
    local data = assert(gl:graphql("query($p: ID!) { project(fullPath: $p) { name } }",
      { p = "group/proj" }))
    assert.equal("proj", data.project.name)
  end)

  it("turns GraphQL errors into an error object", function()
    local data, err = gl:graphql('query { project(fullPath: "no/such") { name } }')
    assert.is_nil(data)
    assert.equal("graphql", err.kind)
    assert.matches("does not exist", err.message)
    assert.equal(1, #err.errors)
    assert.matches("^POST /api/graphql: ", tostring(err))
  end)

  it("finds /api/graphql when the url already ends in /api/v4", function()
    local srv = helpers.server()
    local gl2 = require("gitlab").new{ url = srv.http .. "/api/v4", token = "glpat-root" }
    assert.equal("root", assert(gl2:graphql("{ currentUser { username } }")).currentUser.username)
  end)

  -- The GraphQL specification, "Response": the answer is a map with `data`
  -- (the result), or `errors` (a non-empty list) when the request failed.
  -- A 200 that is neither (a sign-in page, a proxy's JSON) is no data.
  it("refuses a 200 that is no GraphQL answer", function()
    local cases = {
      { headers = { ["content-type"] = "text/html" }, body = "<html><title>Sign in</title></html>",
        kind = "decode", msg = "expected a JSON object, got text/html" },
      { body = { 1, 2 }, kind = "decode", msg = "expected a JSON object, got a JSON array" },
      { body = { message = "upstream says hi" }, kind = "decode", msg = "neither data nor errors" },
      { body = { errors = { message = "boom" } }, kind = "graphql", msg = "^boom$" },
      { body = { errors = "boom" }, kind = "graphql", msg = "^boom$" },
    }
    for _, c in ipairs(cases) do
      helpers.fault{ path = "/api/graphql", status = 200, times = 1, headers = c.headers, body = c.body }
      local data, err = gl:graphql("{ currentUser { username } }")
      assert.is_nil(data, c.msg)
      assert.equal(c.kind, err.kind, c.msg)
      assert.matches(c.msg, err.message)
      assert.equal(200, err.status)
    end
    -- an empty errors list is no error
    helpers.fault{ path = "/api/graphql", status = 200, times = 1,
      body = { data = { currentUser = { username = "x" } }, errors = {} } }
    assert.equal("x", assert(gl:graphql("{ currentUser { username } }")).currentUser.username)
  end)

  it("rejects a non-string query", function()
    assert.has_error(function() gl:graphql(42) end)
  end)
end)
