--- Downloads and uploads (methods of `gitlab.client`): bodies streamed to
-- and from files with flat memory, atomic and resumable downloads.
-- @module gitlab.client.transfer

local core = require("gitlab.core")
local errors = require("gitlab.errors")
local options = require("gitlab.options")
local util = require("gitlab.util")
local sorted_keys, int_string = util.sorted_keys, util.int_string

local Client = {}

local function file_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local size = f:seek("end")
  f:close()
  return size
end

-- io.open succeeds on a directory: reading tells it apart from a file.
local function readable(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data, rerr = f:read(1)
  f:close()
  if data == nil and rerr then return nil, path .. ": " .. tostring(rerr) end
  return true
end

local function io_error(method, path, message)
  return errors.new{ kind = "io", method = method, path = core.redact_url(path),
    message = message }
end

-- Options checked as gl:request's are (gitlab.options.check): unknown
-- keys and wrong types raise.
local function check_table_opts(fname, opts, known)
  if type(opts) ~= "table" then
    error(fname .. ": options table required", 3)
  end
  options.check(fname, opts, known, 3)
end

-- Entries as in gitlab.options.request; those passed on to gl:request
-- are its own entries. output: a file name or a handle.
local R = options.request_by_name
local DOWNLOAD_OPTS = options.index{
  { name = "output", type = "any" }, { name = "resume", type = "boolean" },
  R.sink, R.progress, R.query, R.headers, R.retries,
}

-- After a resumed request answered 416: is the part file already whole?
-- ("Content-Range: bytes */SIZE" with SIZE the bytes we have.)
local function part_complete(err, have)
  local resp = err.response
  if err.status ~= 416 or not resp then return false end
  local total = tonumber(((resp.headers["content-range"] or ""):match("^bytes %*/(%d+)")))
  return total == have
end

--- Streams a response body to a file, a file handle or a sink function
-- with flat memory (the body never sits in a Lua string). Redirects to
-- another host (object storage) are followed without the credentials.
-- Writing to a file name is atomic: the body goes to `NAME.part`, renamed
-- to `NAME` on success and removed on failure; with `resume = true` a
-- failed download keeps `NAME.part` and the next call asks only for the
-- missing bytes (`Range`), starting over when the server ignores it.
-- @tparam string path relative to `/api/v4`, or an absolute URL
-- @tparam table opts `output` (file name or file handle) or `sink(chunk)`;
--   `progress(done, total)` (total is nil when unknown; counts resumed
--   bytes too), `query`, `headers`, `resume`, `retries`. A sink or progress
--   function that raises stops the download: kind `"callback"`, the raised
--   value (with its stack) in `err.cause`.
-- @return true, resp (`resp.size`: bytes written); or nil, err (kind
--   `"io"` when the file cannot be written)
function Client:download(path, opts)
  check_table_opts("download", opts, DOWNLOAD_OPTS)
  local output, sink = opts.output, opts.sink
  if output ~= nil and sink ~= nil then error("download: give only one of output and sink", 2) end
  local ropts = { query = opts.query, progress = opts.progress, headers = opts.headers,
                  retries = opts.retries }
  if type(output) == "string" then
    if output == "" then error("download: output must be a non-empty file name", 2) end
    local part = output .. ".part"
    local have = 0
    if opts.resume then
      -- lstat, not open: a symbolic link planted at NAME.part must not be
      -- followed (its target would be appended to), a FIFO would block
      local kind, size = core.file_kind(part)
      if kind and kind ~= "file" then
        return nil, io_error("GET", path, ("cannot resume into %s: it is %s, not a regular file")
          :format(part, kind == "link" and "a symbolic link" or "a " .. kind))
      end
      have = kind and size or 0
    else
      os.remove(part)      -- removes a link itself; the core refuses one made since
    end
    ropts.output = part
    if have > 0 then ropts.resume_from = have end
    local ok, resp = self:request("GET", path, ropts)
    if not ok and have > 0 and resp.status == 416 and not part_complete(resp, have) then
      -- the part is longer than the file now is: it belongs to another
      -- version of it, so start over
      os.remove(part)
      ropts.resume_from, have = nil, 0
      ok, resp = self:request("GET", path, ropts)
    end
    if not ok then
      if have > 0 and part_complete(resp, have) then
        resp = resp.response          -- nothing was missing
      else
        local kind, size = core.file_kind(part)
        -- only a file of ours: a link or FIFO the core refused stays
        if kind == "file" and (not opts.resume or size == 0) then os.remove(part) end
        return nil, resp
      end
    end
    local rok, rerr = os.rename(part, output)
    if not rok then
      os.remove(part)
      return nil, io_error("GET", path, "cannot move the download into place: " .. tostring(rerr))
    end
    resp.size = file_size(output)
    return true, resp
  end
  local size, werr = 0, nil
  if io.type(output) == "file" then
    ropts.sink = function(chunk)
      local ok, e = output:write(chunk)
      if not ok then
        werr = e
        error(e, 0)
      end
      size = size + #chunk
    end
  elseif type(sink) == "function" then
    ropts.sink = function(chunk)
      size = size + #chunk
      return sink(chunk)
    end
  elseif output ~= nil then
    error("download: output must be a file name or an open file handle", 2)
  else
    error("download: give output (file name or handle) or sink (function)", 2)
  end
  local ok, resp = self:request("GET", path, ropts)
  if not ok then
    if werr then return nil, io_error("GET", path, "cannot write the output: " .. tostring(werr)) end
    return nil, resp
  end
  resp.size = size
  return true, resp
end

local UPLOAD_OPTS = options.index{
  { name = "field", type = "string" }, { name = "fields", type = "table" },
  { name = "filename", type = "string" }, { name = "content_type", type = "string" },
  { name = "method", type = "string" },
  R.file, R.raw, R.progress, R.query, R.headers, R.retries,
}

local function field_value(v)
  return int_string(v) or tostring(v)   -- a computed float 42.0 is sent as 42
end

-- Form fields in GitLab's bracket style: {a = {b = 1}} -> a[b]=1,
-- {l = {"x", "y"}} -> l[]=x, l[]=y.
local function add_fields(parts, name, v)
  if type(v) == "table" then
    if #v > 0 then
      for _, x in ipairs(v) do add_fields(parts, name .. "[]", x) end
    else
      for _, k in ipairs(sorted_keys(v)) do add_fields(parts, name .. "[" .. tostring(k) .. "]", v[k]) end
    end
  else
    parts[#parts + 1] = { name = name, value = field_value(v) }
  end
end

--- Uploads a file streamed from disk (never read into memory): as
-- multipart form data (the default: project uploads, avatars, imports),
-- or as the raw request body with `raw = true` (generic packages).
-- @tparam string path e.g. "/projects/42/uploads"
-- @tparam table opts `file` (path, required); multipart: `field`
--   ("file"), `filename` (the file's base name), `content_type`, `fields`
--   (other form fields; tables become `a[b]` and `a[]` fields); raw:
--   `raw = true`, `content_type` ("application/octet-stream"); both:
--   `method` ("POST", or "PUT" when raw), `query`, `headers`,
--   `progress(done, total)` (bytes of the request body), `retries`
-- @return data (decoded JSON reply), resp; or nil, err
function Client:upload(path, opts)
  if type(opts) ~= "table" or type(opts.file) ~= "string" then
    error("upload: opts.file (a file name) is required", 2)
  end
  check_table_opts("upload", opts, UPLOAD_OPTS)
  local method = (opts.method or (opts.raw and "PUT" or "POST")):upper()
  local ok, rerr = readable(opts.file)
  if not ok then
    return nil, io_error(method, path, "cannot read the file to upload: " .. tostring(rerr))
  end
  local ropts = { progress = opts.progress, query = opts.query, retries = opts.retries }
  if opts.raw then
    if opts.field or opts.fields or opts.filename then
      error("upload: a raw upload takes no field, fields or filename", 2)
    end
    local headers = util.copy(opts.headers)
    if opts.content_type then
      -- one Content-Type: content_type replaces a header of any case
      for k in pairs(util.copy(headers)) do
        if type(k) == "string" and k:lower() == "content-type" then headers[k] = nil end
      end
      headers["Content-Type"] = opts.content_type
    end
    ropts.headers, ropts.file = headers, opts.file
    return self:request(method, path, ropts)
  end
  local parts = {}
  if opts.fields then
    for _, k in ipairs(sorted_keys(opts.fields)) do add_fields(parts, tostring(k), opts.fields[k]) end
  end
  parts[#parts + 1] = { name = opts.field or "file", file = opts.file,
    filename = opts.filename or opts.file:match("[^/]+$"), type = opts.content_type }
  ropts.multipart, ropts.headers = parts, opts.headers
  return self:request(method, path, ropts)
end

return Client
