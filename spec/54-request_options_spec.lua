-- The request options are listed once (gitlab.options.request): gl:request
-- takes exactly those, each of its type, and every one the list says
-- reaches the core is a field the core's request reads. No request is
-- sent: each case raises while the request is checked.
local gitlab = require("gitlab")
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
