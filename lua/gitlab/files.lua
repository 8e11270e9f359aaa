--- Large files: job artifacts, repository archives and files, packages,
-- release assets, project uploads, avatars and project import.
--
-- Every function takes the client first, then the project (numeric id,
-- `"group/proj"` path, or a resource object with an `id`):
--
--     local files = require("gitlab.files")
--     files.job_artifacts(gl, "group/proj", 42, { output = "artifacts.zip",
--       progress = function(done, total) end })
--     files.generic_upload(gl, 7, "tool", "1.2.0", "tool.tar.gz",
--       { file = "dist/tool.tar.gz" })
--
-- Downloads stream with flat memory through `gl:download` and take its
-- options (`output` file name or handle, `sink`, `progress`, `resume`,
-- `headers`, `retries`, `query`); given neither `output` nor `sink` they
-- return the body as a string, for small files. Redirects to object
-- storage are followed without the credentials. Uploads stream from disk
-- through `gl:upload`.
-- @module gitlab.files

local errors = require("gitlab.errors")
local compile = require("gitlab.resources.compile")
local path = require("gitlab.resources.path")
local util = require("gitlab.util")
local int_string, copy, merge = util.int_string, util.copy, util.merge

local M = {}

-------------------------------------------------------------------------------
-- paths
-------------------------------------------------------------------------------

-- Every path comes from the catalog's route for the endpoint, filled and
-- encoded as the resource layer does it (gitlab.resources.path), so that
-- files.ref_artifacts and project.jobs:artifacts_archive send one URL.
-- Looked up at load: a catalog without one of them fails here, loudly.
local T = compile.template
local ROUTES = {
  job_artifacts = T("projects", "jobs", ".artifacts"),
  job_artifact = T("projects", "jobs", ".artifact_file"),
  ref_artifacts = T("projects", "jobs", ":artifacts_archive"),
  ref_artifact = T("projects", "jobs", ":artifact_file"),
  archive = T("projects", "repository", ".archive"),
  raw_file = T("projects", "repository", "files", ".raw"),
  generic = T("projects", "generic_packages", ".download"),
  package = T("projects", "packages", "."),
  package_files = T("projects", "packages", "package_files"),
  maven = T("projects", "maven_packages", ".download"),
  npm = T("projects", "npm_packages", ".download"),
  pypi = T("projects", "pypi_packages", ".download"),
  nuget = T("projects", "nuget_packages", ".download"),
  rubygems = T("projects", "rubygems_packages", ".download"),
  release_asset = T("projects", "releases", ".download_asset"),
  release_links = T("projects", "releases", "links"),
  project = T("projects", "."),
  project_upload = T("projects", ".upload"),
  avatar = T("projects", ".avatar"),
  import = T("projects", ":import"),
  export_download = T("projects", ".export_download"),
}

local function route(name, ...)
  return path.fill(ROUTES[name], { ... }, nil, 2)
end

-- "." and ".." are refused as segments, literal or encoded: libcurl and
-- servers remove dot segments (RFC 3986 section 5.2.4), some after
-- percent-decoding, so "jobs/9/artifacts/../../../../admin" would reach
-- another endpoint with the credential. No GitLab name is one (git refs,
-- repository paths and package names cannot be "." or ".."). The test is
-- the one of every path the Lua layer sends (gitlab.util).
local is_dot_segment, has_dot_segment = util.is_dot_segment, util.has_dot_segment

-- The checks of an argument before it goes into a path (the encoding is
-- path.fill's): `seg` a name, or an integral number (a float 42.0 must
-- not become "42.0"), that is not a dot segment itself; `parts` a string
-- with no dot segment between its slashes (artifact paths, file names).
local function seg(v)
  local n = int_string(v)
  if n then return n end
  if type(v) ~= "string" or v == "" then return nil end
  if is_dot_segment(v) then return nil, "dot" end
  return v
end

local function parts(v)
  if type(v) ~= "string" or v == "" then return nil end
  if has_dot_segment(v) then return nil, "dot" end
  return v
end

local function arg(fname, what, v, check)
  local s, why = (check or seg)(v)
  if s == nil then
    if why == "dot" then
      error(("files.%s: %s must not be or contain a '.' or '..' path segment: %q")
        :format(fname, what, v), 3)
    end
    error(("files.%s: %s must be a non-empty string or a number, got %s")
      :format(fname, what, type(v)), 3)
  end
  return s
end

local function project_arg(fname, project)
  if type(project) == "table" then project = project.id end
  return arg(fname, "project", project)
end

local function check_client(fname, gl)
  if type(gl) ~= "table" or type(gl.download) ~= "function" then
    error("files." .. fname .. ": the first argument must be a gitlab client", 3)
  end
end

-------------------------------------------------------------------------------
-- downloads
-------------------------------------------------------------------------------

-- Streams when asked to (output or sink), else returns the body string.
local function fetch(gl, p, opts, query)
  opts = copy(opts)
  if query then opts.query = merge(query, opts.query) end   -- the caller's keys win
  if opts.output ~= nil or opts.sink ~= nil then return gl:download(p, opts) end
  if opts.resume ~= nil then error("files: resume needs output", 3) end
  if opts.progress ~= nil then
    error("files: progress needs output or sink (the body is kept in memory otherwise)", 3)
  end
  return gl:request("GET", p, { query = opts.query, headers = opts.headers,
    retries = opts.retries, raw = true })
end

--- The zipped artifacts archive of a job
-- (`GET /projects/:id/jobs/:job_id/artifacts`).
-- @param gl client
-- @param project id, path or project object
-- @tparam number job_id
-- @tparam[opt] table opts download options (`output`, `sink`, `progress`, ...)
-- @return true, resp (streamed) or body, resp; or nil, err
function M.job_artifacts(gl, project, job_id, opts)
  check_client("job_artifacts", gl)
  return fetch(gl, route("job_artifacts", project_arg("job_artifacts", project),
    arg("job_artifacts", "job_id", job_id)), opts)
end

--- One file out of a job's artifacts
-- (`GET /projects/:id/jobs/:job_id/artifacts/*artifact_path`).
-- @tparam string artifact_path e.g. "dist/report.html"
function M.job_artifact(gl, project, job_id, artifact_path, opts)
  check_client("job_artifact", gl)
  return fetch(gl, route("job_artifact", project_arg("job_artifact", project),
    arg("job_artifact", "job_id", job_id),
    arg("job_artifact", "artifact_path", artifact_path, parts)), opts)
end

--- The artifacts archive of the latest successful pipeline's job named
-- `job_name` on branch or tag `ref`
-- (`GET /projects/:id/jobs/artifacts/:ref_name/download?job=`).
-- @tparam string ref branch or tag
-- @tparam string job_name
function M.ref_artifacts(gl, project, ref, job_name, opts)
  check_client("ref_artifacts", gl)
  arg("ref_artifacts", "job_name", job_name)
  local p = route("ref_artifacts", project_arg("ref_artifacts", project),
    arg("ref_artifacts", "ref", ref))
  return fetch(gl, p, opts, { job = job_name })
end

--- One file out of the artifacts of the latest successful job named
-- `job_name` on `ref`
-- (`GET /projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path?job=`).
function M.ref_artifact(gl, project, ref, job_name, artifact_path, opts)
  check_client("ref_artifact", gl)
  arg("ref_artifact", "job_name", job_name)
  local p = route("ref_artifact", project_arg("ref_artifact", project),
    arg("ref_artifact", "ref", ref), arg("ref_artifact", "artifact_path", artifact_path, parts))
  return fetch(gl, p, opts, { job = job_name })
end

--- A repository archive
-- (`GET /projects/:id/repository/archive[.format]?sha=&path=`).
-- @tparam[opt] table opts download options plus `sha` (commit, branch or
--   tag; default branch when nil), `format` ("tar.gz", "tar.bz2", "tbz",
--   "tbz2", "tb2", "bz2", "tar", "zip"), `path` (a subdirectory only)
function M.archive(gl, project, opts)
  check_client("archive", gl)
  opts = copy(opts)
  local format, sha, sub = opts.format, opts.sha, opts.path
  opts.format, opts.sha, opts.path = nil, nil, nil
  local p = route("archive", project_arg("archive", project))
  if format ~= nil then
    if type(format) ~= "string" or not format:match("^[%w.]+$") then
      error("files.archive: format must be a word such as \"zip\" or \"tar.gz\"", 2)
    end
    -- the route's documented format suffix (doc/api/repository.md:
    -- GET /projects/:id/repository/archive[.format])
    p = p .. "." .. format
  end
  return fetch(gl, p, opts, { sha = sha, path = sub })
end

--- A raw file from the repository
-- (`GET /projects/:id/repository/files/:file_path/raw?ref=`).
-- @tparam string file_path e.g. "docs/index.md" (encoded as one segment)
-- @tparam[opt] string ref branch, tag or commit (default branch when nil)
function M.raw_file(gl, project, file_path, ref, opts)
  check_client("raw_file", gl)
  if ref ~= nil and type(ref) ~= "string" then error("files.raw_file: ref must be a string", 2) end
  local p = route("raw_file", project_arg("raw_file", project),
    arg("raw_file", "file_path", file_path, parts))
  return fetch(gl, p, opts, { ref = ref })
end

-------------------------------------------------------------------------------
-- packages
-------------------------------------------------------------------------------

local function generic_path(fname, project, name, version, file_name)
  return route("generic", project_arg(fname, project), arg(fname, "package_name", name),
    arg(fname, "package_version", version), arg(fname, "file_name", file_name, parts))
end

--- Publishes a file to the generic package registry: `PUT` of the raw file
-- body streamed from disk
-- (`PUT /projects/:id/packages/generic/:package_name/:package_version/:file_name`).
-- @tparam string name package name
-- @tparam string version package version
-- @tparam string file_name name in the package (slashes keep a tree)
-- @tparam table opts `file` (path on disk, required), `status`
--   ("default" or "hidden"), `select` ("package_file" returns the file's
--   record), `progress`, `headers`, `retries`
-- @return reply (`{message = "201 Created"}` or the package file), resp;
--   or nil, err
function M.generic_upload(gl, project, name, version, file_name, opts)
  check_client("generic_upload", gl)
  local p = generic_path("generic_upload", project, name, version, file_name)
  if type(opts) ~= "table" or type(opts.file) ~= "string" then
    error("files.generic_upload: opts.file (a file name) is required", 2)
  end
  local o = copy(opts)
  local query = copy(o.query)
  query.status, query.select = o.status, o.select
  o.status, o.select = nil, nil
  o.query, o.raw, o.method = query, true, "PUT"
  return gl:upload(p, o)
end

--- Downloads a file of a generic package
-- (`GET /projects/:id/packages/generic/:package_name/:package_version/:file_name`).
function M.generic_download(gl, project, name, version, file_name, opts)
  check_client("generic_download", gl)
  return fetch(gl, generic_path("generic_download", project, name, version, file_name), opts)
end

-- Where each package type serves its files (the REST API has no
-- type-independent download). Names come from the server's package
-- records: `S` (a name, not a dot segment) and `P` (no dot segment
-- between its slashes) raise a `server_value` error for a value that is
-- missing or would climb out of the path, which package_file returns as an
-- error; the catalog's route decides which slashes stay.
local server_value = {}
local function checked(enc)
  return function(v)
    local s = enc(v)
    if s == nil then error({ [server_value] = true, value = v }, 0) end
    return s
  end
end
local S, P = checked(seg), checked(parts)

local PACKAGE_PATHS = {
  generic = function(p, pkg, f)
    return route("generic", p, S(pkg.name), S(pkg.version), P(f.file_name))
  end,
  maven = function(p, pkg, f)
    -- *path: the package name (slashes kept), then the version
    return route("maven", p, P(pkg.name) .. "/" .. S(pkg.version), S(f.file_name))
  end,
  npm = function(p, pkg, f)
    return route("npm", p, P(pkg.name), P(f.file_name))
  end,
  pypi = function(p, _, f)
    return route("pypi", p, S(f.file_sha256), P(f.file_name))
  end,
  nuget = function(p, pkg, f)
    local function lower(v) return type(v) == "string" and v:lower() or v end
    return route("nuget", p, S(lower(pkg.name)), S(lower(pkg.version)), S(f.file_name))
  end,
  rubygems = function(p, _, f)
    return route("rubygems", p, S(f.file_name))
  end,
}

--- Downloads one file of a package found by id: looks the package and its
-- files up (`GET /projects/:id/packages/:package_id[/package_files]`) and
-- fetches the file from its registry (generic, maven, npm, pypi, nuget,
-- rubygems).
-- @tparam number package_id
-- @param file package file id (number) or file name (the newest of that
--   name)
-- @return as the downloads above; err.kind "not_found" when the package
--   has no such file, "unsupported" for other package types,
--   "unsafe_path" when a name in the server's records is missing or a "."
--   or ".." segment (nothing is downloaded)
function M.package_file(gl, project, package_id, file, opts)
  check_client("package_file", gl)
  local p = project_arg("package_file", project)
  local pid = arg("package_file", "package_id", package_id)
  local base = route("package", p, pid)
  if type(file) ~= "number" and (type(file) ~= "string" or file == "") then
    error("files.package_file: file must be a package file id or a file name", 2)
  end
  local pkg, err = gl:get(base)
  if not pkg then return nil, err end
  local list
  local files_path = route("package_files", p, pid)
  list, err = gl:all(files_path)
  if not list then return nil, err end
  local found
  for _, f in ipairs(list) do
    if f.id == file or f.file_name == file then
      if not found or (f.id or 0) > (found.id or 0) then found = f end
    end
  end
  if not found then
    return nil, errors.new{ kind = "not_found", method = "GET", path = files_path,
      message = ("package %s has no file %s"):format(tostring(pkg.id), tostring(file)) }
  end
  local build = PACKAGE_PATHS[pkg.package_type]
  if not build then
    return nil, errors.new{ kind = "unsupported", method = "GET", path = base,
      message = ("cannot download files of %s packages through the REST API")
        :format(tostring(pkg.package_type)) }
  end
  local ok, fp = pcall(build, p, pkg, found)
  if not ok then
    if type(fp) ~= "table" or not fp[server_value] then error(fp, 0) end
    return nil, errors.new{ kind = "unsafe_path", method = "GET", path = files_path,
      message = ("package %s: the server's name %q cannot be a path segment"
        .. " (missing, or a '.' or '..' segment)"):format(tostring(pkg.id),
          tostring(fp.value):sub(1, 200)) }
  end
  return fetch(gl, fp, opts)
end

-------------------------------------------------------------------------------
-- releases
-------------------------------------------------------------------------------

--- Downloads a release asset by its direct asset path: GitLab redirects
-- to the link's URL, which is followed (credentials go only to GitLab
-- itself) (`GET /projects/:id/releases/:tag_name/downloads/*direct_asset_path`).
-- @tparam string tag release tag
-- @tparam string asset_path e.g. "/bin/tool-linux-amd64" (leading slash optional)
function M.release_asset(gl, project, tag, asset_path, opts)
  check_client("release_asset", gl)
  if type(asset_path) == "string" then asset_path = asset_path:gsub("^/+", "") end
  return fetch(gl, route("release_asset", project_arg("release_asset", project),
    arg("release_asset", "tag", tag), arg("release_asset", "asset_path", asset_path, parts)), opts)
end

--- Adds a link to a release
-- (`POST /projects/:id/releases/:tag_name/assets/links`).
-- @tparam table link `name`, `url` (required), `direct_asset_path`,
--   `link_type` ("other", "runbook", "image", "package")
-- @return link, resp; or nil, err
function M.release_link(gl, project, tag, link)
  check_client("release_link", gl)
  if type(link) ~= "table" or type(link.name) ~= "string" or type(link.url) ~= "string" then
    error("files.release_link: link needs name and url strings", 2)
  end
  return gl:post(route("release_links", project_arg("release_link", project),
    arg("release_link", "tag", tag)), link)
end

--- Publishes a file as a release asset: uploads it to the generic package
-- registry, then links it from the release (which must exist).
-- @tparam table opts `file` (required), `package_name` (required),
--   `version` (the tag when nil), `file_name` (the file's base name),
--   `name` (link title: the file name), `link_type` ("package"),
--   `direct_asset_path` ("/" .. file_name), `progress`
-- @return link, resp; or nil, err
function M.publish_release_asset(gl, project, tag, opts)
  check_client("publish_release_asset", gl)
  if type(opts) ~= "table" or type(opts.file) ~= "string" or type(opts.package_name) ~= "string" then
    error("files.publish_release_asset: opts.file and opts.package_name are required", 2)
  end
  local version = opts.version or tag
  local file_name = opts.file_name or opts.file:match("[^/]+$")
  local ok, err = M.generic_upload(gl, project, opts.package_name, version, file_name,
    { file = opts.file, progress = opts.progress })
  if not ok then return nil, err end
  local url = gl.url .. generic_path("publish_release_asset", project, opts.package_name, version, file_name)
  return M.release_link(gl, project, tag, {
    name = opts.name or file_name, url = url, link_type = opts.link_type or "package",
    direct_asset_path = opts.direct_asset_path or ("/" .. file_name),
  })
end

-------------------------------------------------------------------------------
-- multipart uploads
-------------------------------------------------------------------------------

local function upload_opts(fname, file, opts, defaults)
  if type(file) ~= "string" or file == "" then
    error("files." .. fname .. ": file must be a file name", 3)
  end
  local o = merge(defaults, opts)
  o.file = file
  return o
end

--- Uploads a file to a project for use in Markdown
-- (`POST /projects/:id/uploads`).
-- @tparam string file path on disk
-- @tparam[opt] table opts `filename`, `content_type`, `progress`
-- @return `{id, alt, url, full_path, markdown}`, resp; or nil, err
function M.project_upload(gl, project, file, opts)
  check_client("project_upload", gl)
  local p = route("project_upload", project_arg("project_upload", project))
  return gl:upload(p, upload_opts("project_upload", file, opts, { field = "file" }))
end

--- Sets a project's avatar (`PUT /projects/:id` with `avatar`).
-- @return project, resp; or nil, err
function M.set_avatar(gl, project, file, opts)
  check_client("set_avatar", gl)
  local p = route("project", project_arg("set_avatar", project))
  return gl:upload(p, upload_opts("set_avatar", file, opts, { field = "avatar", method = "PUT" }))
end

--- Downloads a project's avatar (`GET /projects/:id/avatar`).
function M.avatar(gl, project, opts)
  check_client("avatar", gl)
  return fetch(gl, route("avatar", project_arg("avatar", project)), opts)
end

--- Imports a project from an export archive (`POST /projects/import`).
-- @tparam string file the export archive (`.tar.gz`)
-- @tparam table params `path` (required), `namespace`, `name`,
--   `overwrite`, `override_params` (table: `override_params[key]` fields)
-- @tparam[opt] table opts `progress`
-- @return the import record (`import_status`), resp; or nil, err
function M.import_project(gl, file, params, opts)
  check_client("import_project", gl)
  if type(params) ~= "table" or params.path == nil then
    error("files.import_project: params.path is required", 2)
  end
  local o = upload_opts("import_project", file, opts, { field = "file" })
  o.fields = copy(params)
  return gl:upload(route("import"), o)
end

--- Downloads a finished project export (`GET /projects/:id/export/download`).
function M.export_download(gl, project, opts)
  check_client("export_download", gl)
  return fetch(gl, route("export_download", project_arg("export_download", project)), opts)
end

return M
