-- One JSON implementation both ways (the core's): what the client decodes
-- it sends back unchanged. Arrays stay arrays (an empty one too), integers
-- stay integers, null round-trips; error and OAuth bodies are read by the
-- same decoder; the library itself runs without lua-cjson.
local helpers = require("helpers")
local gitlab = require("gitlab")
local core = require("gitlab.core")

local has_int = math.type ~= nil   -- Lua 5.3+: integers and floats differ

-- The body of the last request to `path` as the fake server received it.
local function sent_body(method, path)
  local e = assert(helpers.last_request{ method = method, path = path })
  return e.body
end

-- A raw JSON string sent as is (the string body path of the client does
-- not encode), so the stored item holds exactly these arrays and nulls.
local function create_raw(gl, path, json)
  return assert(gl:post(path, json, { headers = { ["Content-Type"] = "application/json" } }))
end

describe("JSON request bodies", function()
  local gl
  setup(function()
    helpers.server()
    gl = helpers.client()
  end)
  before_each(function() helpers.reset() end)

  it("sends a decoded empty list back as [] (gl:put of a whole object)", function()
    local issue = create_raw(gl, "/projects/1/issues",
      '{"title":"empty lists","labels":[],"assignee_ids":[],"meta":{"tags":[],"n":1}}')
    local got = assert(gl:get("/projects/1/issues/" .. issue.iid))
    assert.equal(core.array_mt, getmetatable(got.labels))
    assert(gl:put("/projects/1/issues/" .. issue.iid, got))
    local body = sent_body("PUT", "/api/v4/projects/1/issues/" .. issue.iid)
    assert.matches('"labels":%[%]', body)
    assert.matches('"assignee_ids":%[%]', body)
    assert.matches('"tags":%[%]', body)
    assert.not_matches('"labels":{}', body)
  end)

  it("keeps a nested empty list a list when a resource object saves", function()
    local issue = create_raw(gl, "/projects/1/issues",
      '{"title":"nested","meta":{"tags":[],"n":1}}')
    local obj = assert(gl.projects:lazy(1).issues:get(issue.iid))
    obj.meta.n = 2
    assert(obj:save())
    local body = sent_body("PUT", "/api/v4/projects/1/issues/" .. issue.iid)
    assert.matches('"meta":{', body)
    assert.matches('"tags":%[%]', body)
    local stored = helpers.store("/projects/1/issues/" .. issue.iid)
    assert.same({}, stored.meta.tags)
    assert.equal(2, stored.meta.n)
    -- the harness decodes with cjson: check the text, not the table
    assert.not_matches('"tags":{}', body)
  end)

  it("sends a list the program empties ({}) as [] when a resource object saves", function()
    local issue = create_raw(gl, "/projects/1/issues",
      '{"title":"clear me","labels":["bug"],"meta":{"tags":["x"],"n":1},"extra":{"k":"v"}}')
    local obj = assert(gl.projects:lazy(1).issues:get(issue.iid))
    obj.labels = {}
    obj.meta.tags = {}
    obj.extra = {}   -- was an object: stays {}
    assert(obj:save())
    local body = sent_body("PUT", "/api/v4/projects/1/issues/" .. issue.iid)
    assert.matches('"labels":%[%]', body)
    assert.matches('"tags":%[%]', body)
    assert.matches('"extra":{}', body)
    assert.equal(core.array_mt, getmetatable(obj.labels))
  end)

  it("sends a decoded null back as JSON null", function()
    local issue = create_raw(gl, "/projects/1/issues", '{"title":"nulls","due_date":null}')
    local got = assert(gl:get("/projects/1/issues/" .. issue.iid))
    assert.equal(gitlab.null, got.due_date)
    assert.equal(core.null, gitlab.null)
    assert(gl:put("/projects/1/issues/" .. issue.iid, got))
    assert.matches('"due_date":null', sent_body("PUT", "/api/v4/projects/1/issues/" .. issue.iid))
  end)

  it("sends integers as integers, also past 14 digits", function()
    -- 123456789012345 is exact in a double (LuaJIT too)
    assert(gl:post("/__echo", { id = 123456789012345, n = 3, f = 1.5, t = true, list = { 1, 2 } }))
    local body = sent_body("POST", "/api/v4/__echo")
    assert.matches('"id":123456789012345[,}]', body)
    assert.matches('"n":3[,}]', body)
    assert.matches('"f":1.5[,}]', body)
    if has_int then
      assert(gl:post("/__echo", { big = math.maxinteger }))
      assert.matches('"big":9223372036854775807[,}]', sent_body("POST", "/api/v4/__echo"))
    end
  end)

  it("offers gitlab.array for an empty list the program builds", function()
    assert(gl:post("/__echo", { labels = gitlab.array(), plain = {}, ids = gitlab.array{ 1, 2 } }))
    local body = sent_body("POST", "/api/v4/__echo")
    assert.matches('"labels":%[%]', body)
    assert.matches('"plain":{}', body)
    assert.matches('"ids":%[1,2%]', body)
  end)

  it("refuses a body JSON cannot hold, at the caller", function()
    assert.has_error(function() gl:post("/__echo", { ids = { 1, nil, 3 } }) end)
    assert.has_error(function() gl:post("/__echo", { x = 0 / 0 }) end)
    assert.has_error(function() gl:post("/__echo", { x = math.huge }) end)
    assert.equal(0, #helpers.requests{ path = "/api/v4/__echo" })
  end)
end)

describe("JSON error and OAuth bodies", function()
  local gl, srv
  setup(function()
    srv = helpers.server()
    gl = helpers.client()
  end)
  before_each(function() helpers.reset() end)

  it("reads integers of an error body as integers (no 3.0 in the message)", function()
    helpers.fault{ method = "POST", path = "/api/v4/projects/1/issues", status = 422,
                   body = { message = { title = { "is too long (maximum is 255 characters)" },
                                        limit = 3, ratio = 0.5 } } }
    local data, err = gl:post("/projects/1/issues", { title = "x" })
    assert.is_nil(data)
    assert.equal(422, err.status)
    assert.matches("limit 3;", err.message)
    assert.not_matches("3%.0", err.message)
    assert.matches("ratio 0.5", err.message)
  end)

  it("keeps expires_in and created_at of OAuth replies integers", function()
    local oauth = require("gitlab.oauth")
    local info = assert(oauth.token_info{ url = srv.http, token = "oauth-root" })
    assert.is_number(info.created_at)
    if has_int then
      assert.equal("integer", math.type(info.created_at))
      if info.expires_in ~= nil and info.expires_in ~= gitlab.null then
        assert.equal("integer", math.type(info.expires_in))
      end
    end
  end)
end)

describe("the library without lua-cjson", function()
  it("sends bodies, reads error bodies and OAuth errors", function()
    local srv = helpers.server()
    local interp = type(jit) == "table" and "luajit" or "lua5.4"
    -- package.cpath from LUA_CPATH: helpers.child_env() points it at the
    -- plain build under the sanitizers
    local script = table.concat({
      "package.path = " .. ("%q"):format(package.path),
      "for _, m in ipairs{ 'cjson', 'cjson.safe' } do",
      "  package.loaded[m] = nil",
      "  package.preload[m] = function() error('no ' .. m .. ' here') end",
      "end",
      "local gitlab = require('gitlab')",
      "local oauth = require('gitlab.oauth')",
      "local url = ...",
      "local gl = gitlab.new{ url = url, token = 'glpat-root' }",
      "local d = assert(gl:post('/__echo', { labels = gitlab.array(), n = 1 }))",
      "print('echo', d.method)",
      "local _, err = gl:get('/projects/999999')",
      "print('error', err.status, err.message)",
      "local r, oerr = oauth.refresh{ url = url, client_id = 'nobody', refresh_token = 'no-such-token' }",
      "print('oauth', r, oerr and oerr.code)",
      "print('null', gitlab.null == require('gitlab.core').null)",
    }, "\n")
    local dir = helpers.tmpdir()
    local file = dir .. "/nocjson.lua"
    helpers.write_file(file, script)
    local out, code = helpers.exec("cd " .. helpers.shell_quote(helpers.root) .. " && " ..
      helpers.child_env() .. interp .. " " .. helpers.shell_quote(file) .. " " ..
      helpers.shell_quote(srv.http) .. " 2>&1")
    os.execute("rm -rf " .. helpers.shell_quote(dir))
    assert.equal(0, code, out)
    assert.matches("echo\tPOST", out)
    assert.matches("error\t404\t404 Project Not Found", out)
    assert.matches("oauth\tnil\tinvalid_client", out)   -- the code read from the error body
    assert.matches("null\ttrue", out)
  end)
end)
