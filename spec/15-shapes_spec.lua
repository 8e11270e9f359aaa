-- Answers of the wrong shape: a resource call never makes an object or a
-- list out of something that is not one. A 2xx HTML page (an SSO sign-in
-- page in front of GitLab), a JSON object where a page of items belongs,
-- an array where one object belongs: each is an error of kind "decode"
-- that says what was expected and what came.
--
-- GitLab's side (doc/api/rest/_index.md, "Response format"): "REST API
-- responses are returned in JSON format. Some API endpoints also support
-- plain text format." Lists are JSON arrays ("the resulting array is
-- empty" at the end of a keyset collection, same page); single resources
-- are JSON objects (doc/api/projects.md "Get a single project",
-- doc/api/users.md "Get the current user").
local helpers = require("helpers")
local errors = require("gitlab.errors")
local resources = require("gitlab.resources")

local SSO_PAGE = '<!DOCTYPE html>\n<html><head><title>Sign in - Example SSO</title></head>'
  .. '<body><form action="/sso/login"><input name="t" value="glpat-root"></form></body></html>\n'

-- A 2xx answer with this body and Content-Type for requests matching `match`.
local function answer(match, status, body, ctype, times)
  local f = { status = status, body = body, times = times or 1,
              headers = ctype and { ["Content-Type"] = ctype } or nil }
  for k, v in pairs(match) do f[k] = v end
  return helpers.fault(f)
end

local function decode_error(err, expected)
  assert.is_true(errors.is_error(err), "not an error object: " .. tostring(err))
  assert.equal("decode", err.kind)
  assert.matches("expected " .. expected, err.message, 1, true)
  -- never a credential, even when the page reflects it
  assert.is_nil(tostring(err):find("glpat-root", 1, true), tostring(err))
  assert.is_nil(err.message:find("glpat-root", 1, true))
  if err.body then assert.is_nil(err.body:find("glpat-root", 1, true)) end
end

-- Runs the iterator to its end; returns ok, err and the number of items.
local function drain(iter, ...)
  local n = 0
  local ok, err = pcall(function(...)
    for _ in iter(...) do n = n + 1 end
  end, ...)
  return ok, err, n
end

describe("answers of the wrong shape", function()
  local gl
  setup(function()
    helpers.reset()
    gl = helpers.client{ retries = 0 }
  end)
  before_each(function() helpers.admin("DELETE", "/faults") end)
  teardown(function() helpers.reset() end)

  describe("one object expected", function()
    it("an HTML sign-in page answered 200 to projects:get is an error, not an empty object", function()
      answer({ path = "/api/v4/projects/group%2Fproj" }, 200, SSO_PAGE, "text/html; charset=utf-8")
      local p, err = gl.projects:get("group/proj")
      assert.is_nil(p)
      decode_error(err, "a JSON object")
      assert.equal(200, err.status)
      assert.matches('got text/html ("<!DOCTYPE html> <html><head><title>', err.message, 1, true)
      local want = "GET /projects/group%2Fproj: expected a JSON object, got text/html"
      assert.equal(want, tostring(err):sub(1, #want))
      assert.equal("text/html; charset=utf-8", err.headers["content-type"])
    end)

    it("a JSON array answered to get is an error", function()
      answer({ path = "/api/v4/projects/1" }, 200, '[{"id":1},{"id":2}]', "application/json")
      local p, err = gl.projects:get(1)
      assert.is_nil(p)
      decode_error(err, "a JSON object, got a JSON array")
    end)

    it("an empty 200 answered to get is an error", function()
      answer({ path = "/api/v4/projects/1" }, 200, "", "application/json")
      local p, err = gl.projects:get(1)
      assert.is_nil(p)
      decode_error(err, "a JSON object, got an empty body")
    end)

    it("JSON scalars answered to get are errors", function()
      for body, what in pairs{ ['"ok"'] = "a JSON string", ["42"] = "a JSON number",
                               ["true"] = "a JSON boolean" } do
        answer({ path = "/api/v4/projects/1" }, 200, body, "application/json")
        local p, err = gl.projects:get(1)
        assert.is_nil(p, body)
        decode_error(err, "a JSON object, got " .. what)
      end
    end)

    it("JSON null answered to get stays gitlab.null: a singleton that does not exist", function()
      -- ee/lib/api/project_push_rule.rb: `present push_rule` of no push rule
      -- answers 200 `null`
      answer({ path = "/api/v4/projects/1/push_rule" }, 200, "null", "application/json")
      local rule, resp = gl.projects:lazy(1).push_rule:get()
      assert.equal(require("gitlab").null, rule)
      assert.equal(200, resp.status)
    end)

    it("a text body without a Content-Type is an error", function()
      answer({ path = "/api/v4/projects/1" }, 200, "OK", "")
      local p, err = gl.projects:get(1)
      assert.is_nil(p)
      decode_error(err, "a JSON object, got")
      assert.matches('"OK"', err.message, 1, true)
    end)

    it("refresh answered with HTML keeps the object and fails", function()
      local p = assert(gl.projects:get(1))
      answer({ path = "/api/v4/projects/1" }, 200, SSO_PAGE, "text/html")
      local r, err = p:refresh()
      assert.is_nil(r)
      decode_error(err, "a JSON object")
      assert.equal("group/proj", p.path_with_namespace)
    end)

    it("gl:user() answered with HTML or an array is an error", function()
      answer({ path = "/api/v4/user" }, 200, SSO_PAGE, "text/html")
      local u, err = gl:user()
      assert.is_nil(u)
      decode_error(err, "a JSON object, got text/html")
      assert.equal("GET /user: expected", tostring(err):sub(1, 19))
      answer({ path = "/api/v4/user" }, 200, "[]", "application/json")
      u, err = gl:user()
      assert.is_nil(u)
      decode_error(err, "a JSON object, got a JSON array")
      assert.equal("root", assert(gl:user()).username)
    end)

    it("create answered 201 with HTML or an array is an error", function()
      local issues = gl.projects:lazy(1).issues
      answer({ method = "POST", path = "/api/v4/projects/1/issues" }, 201, SSO_PAGE, "text/html")
      local i, err = issues:create{ title = "x" }
      assert.is_nil(i)
      decode_error(err, "a JSON object, got text/html")
      assert.equal("POST", err.method)
      answer({ method = "POST", path = "/api/v4/projects/1/issues" }, 201, "[1,2]", "application/json")
      i, err = issues:create{ title = "x" }
      assert.is_nil(i)
      decode_error(err, "a JSON object, got a JSON array")
    end)

    it("update and save answered 200 with HTML are errors", function()
      local issue = assert(gl.projects:lazy(1).issues:get(1))
      answer({ method = "PUT", path = "/api/v4/projects/1/issues/1" }, 200, SSO_PAGE, "text/html")
      issue.title = "changed"
      local r, err = issue:save()
      assert.is_nil(r)
      decode_error(err, "a JSON object, got text/html")
      answer({ method = "PUT", path = "/api/v4/projects/1/issues/1" }, 200, '"done"', "application/json")
      r, err = gl.projects:lazy(1).issues:update(1, { title = "again" })
      assert.is_nil(r)
      decode_error(err, "a JSON object, got a JSON string")
    end)

    it("an action that returns an object fails on HTML; 204 and 304 stay fine", function()
      local p = gl.projects:lazy(1)
      answer({ method = "POST", path = "/api/v4/projects/1/fork" }, 201, SSO_PAGE, "text/html")
      local f, err = p:fork{}
      assert.is_nil(f)
      decode_error(err, "a JSON object, got text/html")
      -- GitLab answers 304 Not Modified to star on a starred project
      -- (doc/api/project_starring.md)
      answer({ method = "POST", path = "/api/v4/projects/1/star" }, 304, nil, nil)
      assert.truthy((p:star()))
      answer({ method = "POST", path = "/api/v4/projects/1/archive" }, 204, nil, nil)
      assert.truthy((p:archive()))
    end)

    it("delete answered 204 No Content is success", function()
      local issue = assert(gl.projects:lazy(1).issues:create{ title = "to delete" })
      assert.is_true((issue:delete()))
      answer({ method = "DELETE", path_re = "/projects/1/labels/" }, 204, nil, nil)
      assert.is_true((gl.projects:lazy(1).labels:delete("bug")))
    end)

    it("a good answer still makes an object", function()
      local p = assert(gl.projects:get("group/proj"))
      assert.is_true(resources.is_object(p))
      assert.equal(1, p.id)
    end)
  end)

  describe("the answer's own Content-Type", function()
    -- a redirect hop's headers are not the answer's: the core notes the
    -- Content-Type of each answer afresh (src/transfer.c, on_header)
    it("decides what is decoded, never a redirect hop's", function()
      helpers.fault{ path = "/api/v4/projects/1", status = 302, body = "{}",
                     headers = { ["Content-Type"] = "application/json", Location = "/api/v4/projects/2" } }
      answer({ path = "/api/v4/projects/2" }, 200, '{"id": 2}', "text/plain")
      local data = assert(gl:get("/projects/1"))
      assert.equal('{"id": 2}', data)
      helpers.fault{ path = "/api/v4/projects/1", status = 302, body = "<html></html>",
                     headers = { ["Content-Type"] = "text/html", Location = "/api/v4/projects/2" } }
      answer({ path = "/api/v4/projects/2" }, 200, '{"id": 2}', "Application/JSON; charset=utf-8")
      data = assert(gl:get("/projects/1"))
      assert.equal(2, data.id)
    end)
  end)

  describe("a list expected", function()
    local path = "/projects/1/issues"

    it("a JSON object answered to a resource list is an error, not 0 items", function()
      answer({ path = "/api/v4" .. path }, 200, { message = "moved to another place" })
      local ok, err, n = drain(function() return gl.projects:lazy(1).issues:list() end)
      assert.is_false(ok)
      assert.equal(0, n)
      decode_error(err, "a JSON array, got a JSON object")
      answer({ path = "/api/v4" .. path }, 200, { message = "moved" })
      local all, err2 = gl.projects:lazy(1).issues:list():all()
      assert.is_nil(all)
      decode_error(err2, "a JSON array, got a JSON object")
    end)

    it("a string, number or null answered to a list is an error", function()
      for body, what in pairs{ ['"x"'] = "a JSON string", ["7"] = "a JSON number",
                               ["null"] = "JSON null" } do
        answer({ path = "/api/v4" .. path }, 200, body, "application/json")
        local ok, err = drain(function() return gl.projects:lazy(1).issues:list() end)
        assert.is_false(ok, body)
        decode_error(err, "a JSON array, got " .. what)
      end
    end)

    it("an HTML page answered to a list is an error", function()
      answer({ path = "/api/v4" .. path }, 200, SSO_PAGE, "text/html")
      local ok, err = drain(function() return gl.projects:lazy(1).issues:list() end)
      assert.is_false(ok)
      decode_error(err, "a JSON array, got text/html")
    end)

    it("gl:paginate, gl:pages and gl:all fail on a page that is not an array", function()
      answer({ path = "/api/v4" .. path }, 200, { message = "nope" })
      local ok, err, n = drain(gl.paginate, gl, path)
      assert.is_false(ok)
      assert.equal(0, n)
      decode_error(err, "a JSON array, got a JSON object")
      answer({ path = "/api/v4" .. path }, 200, { message = "nope" })
      ok, err = drain(gl.pages, gl, path)
      assert.is_false(ok)
      decode_error(err, "a JSON array, got a JSON object")
      answer({ path = "/api/v4" .. path }, 200, { message = "nope" })
      local all
      all, err = gl:all(path)
      assert.is_nil(all)
      decode_error(err, "a JSON array, got a JSON object")
    end)

    it("a later page that is not an array is an error after the first page's items", function()
      helpers.seed{ path = path, count = 12, template = { title = "s {n}" }, clear = true }
      answer({ path = "/api/v4" .. path, query_re = "(^|&)page=2(&|$)" }, 200, { id = 99 })
      local ok, err, n = drain(gl.paginate, gl, path, { per_page = 5 }, { concurrency = 1 })
      assert.is_false(ok)
      assert.equal(5, n)
      decode_error(err, "a JSON array, got a JSON object")
    end)

    it("a prefetched page that is not an array is an error", function()
      helpers.seed{ path = path, count = 20, template = { title = "s {n}" }, clear = true }
      answer({ path = "/api/v4" .. path, query_re = "(^|&)page=3(&|$)" }, 200, { id = 99 }, nil, -1)
      local ok, err, n = drain(gl.paginate, gl, path, { per_page = 5 }, { concurrency = 4 })
      assert.is_false(ok)
      assert.equal(10, n)
      decode_error(err, "a JSON array, got a JSON object")
    end)
  end)
end)
