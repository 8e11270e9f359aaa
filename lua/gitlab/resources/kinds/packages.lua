-- Package registries speaking each package manager's own protocol.
-- Downloads accept `{ output = "file" }` to stream to disk; uploads take
-- `{ file = "path" }`. Every kind here is a namespace without ids.
local function ns(path, actions)
  return { path = path, single = true, ops = "", actions = actions }
end

local CONAN = {
  search = "GET conans/search",
  ping = "GET ping",
  authenticate = "GET users/authenticate raw",
  check_credentials = "GET users/check_credentials",
  recipe = "GET conans/:name/:version/:username/:channel",
  recipe_digest = "GET conans/:name/:version/:username/:channel/digest",
  recipe_download_urls = "GET conans/:name/:version/:username/:channel/download_urls",
  recipe_upload_urls = "POST conans/:name/:version/:username/:channel/upload_urls",
  package = "GET conans/:name/:version/:username/:channel/packages/:reference",
  package_digest = "GET conans/:name/:version/:username/:channel/packages/:reference/digest",
  package_download_urls =
    "GET conans/:name/:version/:username/:channel/packages/:reference/download_urls",
  package_upload_urls =
    "POST conans/:name/:version/:username/:channel/packages/:reference/upload_urls",
  recipe_file =
    "GET files/:name/:version/:username/:channel/:recipe_revision/export/:file_name download",
  package_file = "GET files/:name/:version/:username/:channel/:recipe_revision/package/" ..
    ":reference/:package_revision/:file_name download",
}

local DEBIAN_DISTS = {
  release = "GET dists/*distribution/Release raw",
  release_gpg = "GET dists/*distribution/Release.gpg raw",
  in_release = "GET dists/*distribution/InRelease raw",
  packages_index = "GET dists/*distribution/:component/binary-:architecture/Packages raw",
}

local NUGET_READ = {
  service_index = "GET index",
  metadata_index = "GET metadata/:package_name/index",
  metadata = "GET metadata/:package_name/:package_version",
  query = "GET query",
}

-- packages/npm.md: metadata and dist-tags at every level ("route prefix");
-- the tarball download and publish are project routes only
local NPM_COMMON = {
  metadata = "GET :package_name",
  dist_tags = "GET -/package/:package_name/dist-tags",
  set_dist_tag = "PUT -/package/:package_name/dist-tags/:tag",
  delete_dist_tag = "DELETE -/package/:package_name/dist-tags/:tag",
}

local function merge(a, b)
  local t = {}
  for k, v in pairs(a) do t[k] = v end
  for k, v in pairs(b or {}) do t[k] = v end
  return t
end

return {
  composer_packages = ns("packages/composer", {
    publish = "POST .",
    archive = "GET archives/*package_name download",
  }),
  conan_packages = ns("packages/conan/v1", CONAN),
  debian_packages = ns("packages/debian", merge(DEBIAN_DISTS, {
    upload = "PUT :file_name upload=raw",
    download = "GET pool/:distribution/:letter/:package_name/:package_version/:file_name download",
  })),
  generic_packages = ns("packages/generic", {
    -- the file name keeps its slashes, the version is one segment
    -- (doc/user/packages/generic_packages/_index.md, "Maintain directory structure")
    download = "GET :package_name/:package_version/*file_name download",
    upload = "PUT :package_name/:package_version/*file_name upload=raw",
  }),
  go_proxy = ns("packages/go", {
    versions = "GET *module_name/@v/list raw",
    info = "GET *module_name/@v/:module_version.info",
    mod = "GET *module_name/@v/:module_version.mod raw",
    zip = "GET *module_name/@v/:module_version.zip download",
  }),
  helm_packages = ns("packages/helm", {
    index = "GET :channel/index.yaml raw",
    download = "GET :channel/charts/:file_name.tgz download",
    upload = "POST api/:channel/charts upload",
  }),
  maven_packages = ns("packages/maven", {
    download = "GET *path/:file_name download",
    upload = "PUT *path/:file_name upload=raw",
  }),
  npm_packages = ns("packages/npm", merge(NPM_COMMON, {
    publish = "PUT :package_name",
    download = "GET :package_name/-/:file_name download",
  })),
  nuget_packages = ns("packages/nuget", merge(NUGET_READ, {
    upload = "PUT . upload",
    upload_symbols = "PUT symbolpackage upload",
    versions = "GET download/:package_name/index",
    download = "GET download/:package_name/:package_version/:file_name download",
  })),
  pypi_packages = ns("packages/pypi", {
    upload = "POST . upload",
    simple_index = "GET simple raw",
    simple = "GET simple/:package_name raw",
    download = "GET files/:sha256/*file_identifier download",
  }),
  rubygems_packages = ns("packages/rubygems", {
    dependencies = "GET api/v1/dependencies",
    upload = "POST api/v1/gems upload",
    download = "GET gems/:file_name download",
  }),

  -- packages/maven.md, packages/npm.md: the instance level downloads and
  -- reads metadata; uploads and npm tarballs are project routes only
  instance_maven_packages = ns("packages/maven", {
    download = "GET *path/:file_name download",
  }),
  instance_npm_packages = ns("packages/npm", NPM_COMMON),

  group_composer_packages = ns("-/packages/composer", {
    packages = "GET packages",
    provider = "GET p/:sha",
    package = "GET p2/*package_name",
    package_sha = "GET *package_name$:sha",
  }),
  group_debian_packages = ns("-/packages/debian", DEBIAN_DISTS),
  group_maven_packages = ns("-/packages/maven", {
    download = "GET *path/:file_name download",
  }),
  group_nuget_packages = ns("-/packages/nuget", NUGET_READ),
  group_pypi_packages = ns("-/packages/pypi", {
    simple_index = "GET simple raw",
    simple = "GET simple/:package_name raw",
    download = "GET files/:sha256/*file_identifier download",
  }),
}
