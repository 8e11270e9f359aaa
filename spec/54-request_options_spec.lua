-- The request options are listed once (gitlab.options.request): gl:request
-- takes exactly those, each of its type, every one the list says reaches
-- the core is a field the core's request reads, and a request reads
-- exactly the listed options, no other. Only the last describe sends
-- requests (to the fake server); the others raise while the request is
-- checked.
local gitlab = require("gitlab")
local helpers = require("helpers")
local core = require("gitlab.core")
local options = require("gitlab.options")

-- a value of another type than `t`
local function wrong(t)
  if t == "table" then return "x" end
  return {}
end

describe("gitlab.options.request", function()
  local gl
  before_each(function() gl = gitlab.new{ url = "https://g.example", retries = 0 } end)
  after_each(function() gl:close() end)

  it("is what gl:request takes, type by type", function()
    for _, o in ipairs(options.request) do
      if o.type ~= "any" then
        assert.has_error(function() gl:request("GET", "/x", { [o.name] = wrong(o.type) }) end,
          ("request: option '%s' must be a %s, got %s"):format(o.name, o.type, type(wrong(o.type))))
      end
    end
    assert.has_error(function() gl:request("GET", "/x", { bogus = 1 }) end,
      "request: unknown option 'bogus'")
  end)

  it("raises at the caller's line, for gl:request and gl:download alike", function()
    local here = debug.getinfo(1, "S").short_src
    for _, call in ipairs{
      function() gl:request("GET", "/x", { bogus = 1 }) end,
      function() gl:request("GET", "/x", { expect = "bogus" }) end,
      function() gl:download("/x", { bogus = 1 }) end,
      function() gl:upload("/x", { file = "f", bogus = 1 }) end,
    } do
      local line = debug.getinfo(call, "S").linedefined
      local ok, err = pcall(call)
      assert.is_false(ok)
      assert.equal(here .. ":" .. line, tostring(err):match("^[^:]+:%d+"))
    end
  end)

  it("names the shortcut in its errors and checks its second argument", function()
    -- gl:get and the others check their options once, then the argument
    -- that fills `query` or `body`, and raise at the caller's line
    local here = debug.getinfo(1, "S").short_src
    local cases = {
      { function() gl:get("/x", "q=1") end, "get: option 'query' must be a table, got string" },
      { function() gl:delete("/x", 5) end, "delete: option 'query' must be a table, got number" },
      { function() gl:get("/x", nil, { bogus = 1 }) end, "get: unknown option 'bogus'" },
      { function() gl:post("/x", {}, { retries = "1" }) end,
        "post: option 'retries' must be a number, got string" },
      { function() gl:put("/x", true) end, "put: body must be a table (JSON) or a string" },
      { function() gl:patch("/x", {}, { form = {} }) end,
        "patch: give only one of body, form, multipart and file" },
      { function() gl:get("") end, "get: path must be a non-empty string" },
      { function() gl:head("/projects/1/../../user") end, "head: the path must not have a '.'" },
    }
    for _, case in ipairs(cases) do
      local call, want = case[1], case[2]
      local ok, err = pcall(call)
      assert.is_false(ok)
      assert.matches(want, tostring(err), 1, true)
      local line = debug.getinfo(call, "S").linedefined
      assert.equal(here .. ":" .. line, tostring(err):match("^[^:]+:%d+"))
    end
  end)

  it("says which words a download's options take, as gl:request does", function()
    assert.has_error(function() gl:download("/x", { output = "o", query = 1 }) end,
      "download: option 'query' must be a table, got number")
    assert.has_error(function() gl:upload("/x", { file = "f", retries = "1" }) end,
      "upload: option 'retries' must be a number, got string")
  end)

  it("names the words an option may be", function()
    for _, o in ipairs(options.request) do
      if o.values then
        assert.has_error(function() gl:request("GET", "/x", { [o.name] = "bogus" }) end)
        for _, v in ipairs(o.values) do
          -- a known word passes the check (the request then fails to connect)
          local ok, err = pcall(gl.request, gl, "GET", "http://127.0.0.1:9/x", { [o.name] = v })
          assert(ok, err)
        end
      end
    end
  end)

  it("passes to the core only fields the core reads", function()
    -- a field the core does not know raises "unknown field" before
    -- anything else; one it knows connects (port 9: refused) or fails on
    -- its value (the file to upload is not there)
    local SAMPLE = { string = "/nonexistent/lua-gitlab/x", number = 1, boolean = false,
                     ["function"] = function() end }
    local c = core.client{ base = "http://127.0.0.1:9/api/v4", retries = 0 }
    for _, name in ipairs(options.REQUEST_CORE) do
      local o = options.request_by_name[name]
      local ok, err = pcall(c.request, c, { method = "GET", url = "http://127.0.0.1:9/x",
        [name] = SAMPLE[o.type] })
      if not ok then assert.not_matches("unknown field", err, 1, true) end
    end
    assert.has_error(function() c:request{ method = "GET", url = "http://127.0.0.1:9/x", bogus = 1 } end,
      "request: unknown field 'bogus'")
    c:close()
  end)
end)

describe("a request", function()
  -- An options table that is empty to pairs (so check_opts passes it) and
  -- records every field the request reads through it.
  local function recording()
    local read = {}
    return setmetatable({}, { __index = function(_, k) read[k] = true end }), read
  end

  local function assert_reads_the_list(read, what)
    for _, o in ipairs(options.request) do
      assert(read[o.name], what .. ": option '" .. o.name .. "' is listed but never read")
    end
    for k in pairs(read) do
      assert(options.request_by_name[k], what .. ": reads option '" .. tostring(k) .. "', not listed")
    end
  end

  local gl
  setup(function() gl = helpers.client() end)
  teardown(function() gl:close() end)

  it("reads every listed option and no other (gl:request)", function()
    local opts, read = recording()
    assert(gl:request("GET", "/projects/1", opts))
    assert_reads_the_list(read, "gl:request")
  end)

  it("reads every listed option and no other (gl:request_async)", function()
    local opts, read = recording()
    local got
    gl:request_async("GET", "/projects/1", opts, function(err, data) got = data or err end)
    gl:wait()
    assert.equal(1, got.id)
    assert_reads_the_list(read, "gl:request_async")
  end)
end)
