'use strict';
// Large files the way GitLab serves them: job artifacts (whole archive,
// one file, by ref and job name) redirected to object storage on the
// "other" origin, repository archives, generic packages (PUT body recorded
// with its sha256, GET redirected to the stored blob), package files,
// release asset downloads (302 to the link's URL), project uploads,
// project avatars and project import (multipart).
//
// Artifacts exist only once registered, so the generic job routes of
// other modules keep answering for every other job:
//   POST /__admin/files/artifact {project, job, ref, name, size,
//        redirect = true, files = {"path/in/zip": size}}
//     -> {url (where the archive is served from), sha256}
//   POST /__admin/files/package {project, name, version, package_type,
//        files = [{file_name, size, file_sha256}]} -> {id, files (ids)}
//   GET  /__admin/files -> {artifacts, packages, uploads, imports, avatars}
// Every route here answers NEXT for what it does not know.

const { bytesDigest, sha256 } = require('../lib/util');

const enc = encodeURIComponent;

module.exports = function files(api) {
  let st;
  api.onReset(() => {
    st = { artifacts: [], packages: [], uploads: [], imports: [], avatars: new Map(), nextPackage: 1, nextFile: 1 };
  });

  const same = (a, b) => String(a) === String(b);

  // Project given by id or by full path.
  function projectItem(ctx) {
    return api.store.get('/projects/' + enc(ctx.pathParams.id));
  }

  function projectKey(ctx) {
    const p = projectItem(ctx);
    return p ? String(p.id) : String(ctx.pathParams.id);
  }

  // ----------------------------------------------------------- artifacts

  function artifactSeed(a) {
    return 'artifacts:' + a.project + ':' + a.job;
  }

  function objectPath(a) {
    return '/objects/artifacts/' + enc(a.project) + '/' + a.job + '/artifacts.zip';
  }

  function objectQuery(a) {
    return '?size=' + a.size + '&seed=' + enc(artifactSeed(a)) + '&type=application%2Fzip';
  }

  api.admin('POST', 'files/artifact', (ctx, data) => {
    const a = {
      project: String(data.project || 1),
      job: Number(data.job || 1),
      ref: String(data.ref || 'main'),
      name: String(data.name || 'build'),
      size: Number(data.size === undefined ? 1024 : data.size),
      redirect: data.redirect !== false,
      files: data.files || {},
    };
    st.artifacts = st.artifacts.filter((x) => !(x.project === a.project && x.job === a.job));
    st.artifacts.push(a);
    const url = a.redirect ? api.urls.other + objectPath(a) + objectQuery(a) : null;
    return { url, sha256: bytesDigest(artifactSeed(a), a.size) };
  });

  api.admin('GET', 'files', () => ({
    artifacts: st.artifacts,
    packages: st.packages,
    uploads: st.uploads,
    imports: st.imports,
    avatars: Array.from(st.avatars.entries()).map(([k, v]) => ({ project: k, filename: v.filename, size: v.size, sha256: v.sha256 })),
  }));

  function findJob(ctx) {
    const p = projectKey(ctx);
    return st.artifacts.find((a) => (same(a.project, p) || same(a.project, ctx.pathParams.id)) && same(a.job, ctx.pathParams.job));
  }

  function findByRef(ctx) {
    const p = projectKey(ctx);
    const hits = st.artifacts.filter((a) => (same(a.project, p) || same(a.project, ctx.pathParams.id)) && a.ref === ctx.pathParams.ref && a.name === String(ctx.query.job));
    return hits.length ? hits.reduce((x, y) => (y.job > x.job ? y : x)) : null;
  }

  function serveArchive(ctx, a) {
    if (a.redirect) return ctx.redirect(ctx.otherUrl(objectPath(a) + objectQuery(a)));
    return ctx.bytes({ size: a.size, seed: artifactSeed(a), type: 'application/zip', filename: 'artifacts.zip' });
  }

  function serveFile(ctx, a, path) {
    const size = a.files[path];
    if (size === undefined) return ctx.json(404, { message: '404 Not Found' });
    return ctx.bytes({ size: Number(size), seed: 'artifact-file:' + a.job + ':' + path, type: 'text/plain', filename: path.split('/').pop() });
  }

  api.route('GET', '/api/v4/projects/:id/jobs/:job/artifacts', (ctx) => {
    const a = findJob(ctx);
    return a ? serveArchive(ctx, a) : api.NEXT;
  });

  api.route('GET', /^\/api\/v4\/projects\/(?<id>[^/]+)\/jobs\/(?<job>\d+)\/artifacts\/(?<path>.+)$/, (ctx) => {
    const a = findJob(ctx);
    if (!a || ctx.pathParams.path === 'keep') return api.NEXT;
    return serveFile(ctx, a, ctx.pathParams.path);
  });

  api.route('GET', '/api/v4/projects/:id/jobs/artifacts/:ref/download', (ctx) => {
    if (!ctx.query.job) return ctx.json(400, { error: 'job is missing' });
    const a = findByRef(ctx);
    return a ? serveArchive(ctx, a) : ctx.json(404, { message: '404 Not Found' });
  });

  api.route('GET', /^\/api\/v4\/projects\/(?<id>[^/]+)\/jobs\/artifacts\/(?<ref>[^/]+)\/raw\/(?<path>.+)$/, (ctx) => {
    if (!ctx.query.job) return ctx.json(400, { error: 'job is missing' });
    const a = findByRef(ctx);
    return a ? serveFile(ctx, a, ctx.pathParams.path) : ctx.json(404, { message: '404 Not Found' });
  });

  // --------------------------------------------------- repository archive

  api.route('GET', /^\/api\/v4\/projects\/(?<id>[^/]+)\/repository\/archive(?:\.(?<fmt>[a-z0-9.]+))?$/, (ctx) => {
    const p = projectItem(ctx);
    if (!p) return ctx.json(404, { message: '404 Project Not Found' });
    const fmt = ctx.pathParams.fmt || 'tar.gz';
    const sha = String(ctx.query.sha || 'main');
    const size = 65536 + sha.length;
    return ctx.bytes({
      size,
      seed: 'archive:' + p.id + ':' + sha + ':' + fmt + ':' + (ctx.query.path || ''),
      type: fmt === 'zip' ? 'application/zip' : 'application/octet-stream',
      filename: p.path + '-' + sha + '.' + fmt,
    });
  });

  // ----------------------------------------------------- generic packages

  const GENERIC = /^\/api\/v4\/projects\/(?<id>[^/]+)\/packages\/generic\/(?<name>[^/]+)\/(?<version>[^/]+)\/(?<file>.+)$/;

  function blobPath(pkg, fileName) {
    return '/objects/packages/' + pkg.id + '/' + fileName.split('/').map(enc).join('/');
  }

  function fileView(pkg, f) {
    return { id: f.id, package_id: pkg.id, created_at: f.created_at, file_name: f.file_name, size: f.size, file_md5: null, file_sha1: null, file_sha256: f.file_sha256 };
  }

  api.route('PUT', GENERIC, (ctx) => {
    const p = projectItem(ctx);
    if (!p) return ctx.json(404, { message: '404 Project Not Found' });
    const { name, version } = ctx.pathParams;
    const fileName = ctx.pathParams.file;
    if (/^[~@]|[~@]$|\s/.test(fileName)) return ctx.json(400, { error: 'file_name is invalid' });
    if (ctx.bodyError) return ctx.json(400, { error: ctx.bodyError });
    let pkg = st.packages.find((x) => x.project === p.id && x.name === name && x.version === version);
    if (!pkg) {
      pkg = { id: st.nextPackage++, project: p.id, name, version, package_type: 'generic', status: ctx.query.status || 'default', created_at: new Date().toISOString(), files: [] };
      st.packages.push(pkg);
    }
    const f = { id: st.nextFile++, file_name: fileName, size: ctx.bodySize, file_sha256: ctx.bodySha256, created_at: new Date().toISOString(), stored: !ctx.bodyTruncated };
    pkg.files = pkg.files.filter((x) => x.file_name !== fileName);
    pkg.files.push(f);
    if (f.stored) api.state.blobs.set(blobPath(pkg, fileName), { data: Buffer.from(ctx.body || Buffer.alloc(0)), type: 'application/octet-stream' });
    if (ctx.query.select === 'package_file') return ctx.json(201, fileView(pkg, f));
    return ctx.json(201, { message: '201 Created' });
  });

  api.route('GET', GENERIC, (ctx) => {
    const p = projectItem(ctx);
    if (!p) return ctx.json(404, { message: '404 Project Not Found' });
    const pkg = st.packages.find((x) => x.project === p.id && x.name === ctx.pathParams.name && x.version === ctx.pathParams.version);
    const f = pkg && pkg.files.find((x) => x.file_name === ctx.pathParams.file);
    if (!f) return ctx.json(404, { message: '404 Package Not Found' });
    if (!f.stored) return ctx.bytes({ size: f.size, seed: 'package:' + f.id });
    return ctx.redirect(ctx.otherUrl(blobPath(pkg, f.file_name)));
  });

  function myPackage(ctx) {
    const p = projectItem(ctx);
    return p ? st.packages.find((x) => x.project === p.id && same(x.id, ctx.pathParams.pkg)) : null;
  }

  function packageView(pkg) {
    return { id: pkg.id, name: pkg.name, version: pkg.version, package_type: pkg.package_type, status: pkg.status, created_at: pkg.created_at };
  }

  // A package of any type with any file names, as a server could list
  // them: the names are the server's, not checked (lua-gitlab must not
  // let them climb out of the download path).
  api.admin('POST', 'files/package', (ctx, data) => {
    const pkg = { id: st.nextPackage++, project: Number(data.project || 1), name: data.name, version: data.version,
      package_type: String(data.package_type || 'generic'), status: 'default', created_at: new Date().toISOString(), files: [] };
    for (const fd of data.files || []) {
      pkg.files.push({ id: st.nextFile++, file_name: fd.file_name, size: Number(fd.size || 0),
        file_sha256: fd.file_sha256 || null, created_at: pkg.created_at, stored: false });
    }
    st.packages.push(pkg);
    return { id: pkg.id, files: pkg.files.map((f) => f.id) };
  });

  api.route('GET', '/api/v4/projects/:id/packages/:pkg', (ctx) => {
    const pkg = myPackage(ctx);
    return pkg ? ctx.json(200, packageView(pkg)) : api.NEXT;
  });

  api.route('GET', '/api/v4/projects/:id/packages/:pkg/package_files', (ctx) => {
    const pkg = myPackage(ctx);
    return pkg ? ctx.paginate(pkg.files.map((f) => fileView(pkg, f))) : api.NEXT;
  });

  api.route('GET', '/api/v4/projects/:id/packages', (ctx) => {
    const p = projectItem(ctx);
    const mine = p ? st.packages.filter((x) => x.project === p.id) : [];
    if (!mine.length) return api.NEXT;
    let list = mine;
    if (ctx.query.package_name) list = list.filter((x) => x.name.includes(String(ctx.query.package_name)));
    if (ctx.query.package_version) list = list.filter((x) => x.version === String(ctx.query.package_version));
    if (ctx.query.package_type) list = list.filter((x) => x.package_type === String(ctx.query.package_type));
    return ctx.paginate(list.map(packageView));
  });

  // ------------------------------------------------------ release assets

  api.route('GET', /^\/api\/v4\/projects\/(?<id>[^/]+)\/releases\/(?<tag>[^/]+)\/downloads\/(?<path>.+)$/, (ctx) => {
    const rel = '/projects/' + enc(ctx.pathParams.id) + '/releases/' + enc(ctx.pathParams.tag);
    if (!api.store.get(rel)) return ctx.json(404, { message: '404 Release Not Found' });
    const coll = api.store.collection(rel + '/links');
    const want = '/' + ctx.pathParams.path;
    const link = coll && coll.items.find((l) => l.direct_asset_path === want || l.direct_asset_path === ctx.pathParams.path);
    if (!link) return ctx.json(404, { message: '404 Not found' });
    return ctx.redirect(link.url);
  });

  // ------------------------------------------------- multipart uploads

  function filePart(ctx, name) {
    return (ctx.files || []).find((f) => f.name === name);
  }

  api.route('POST', '/api/v4/projects/:id/uploads', (ctx) => {
    const p = projectItem(ctx);
    if (!p) return ctx.json(404, { message: '404 Project Not Found' });
    const f = filePart(ctx, 'file');
    if (!f) return ctx.json(400, { error: 'file is missing' });
    const secret = sha256(Buffer.from(f.sha256 + ':' + st.uploads.length)).slice(0, 32);
    const id = st.uploads.length + 1;
    const url = '/uploads/' + secret + '/' + f.filename;
    const image = /^image\//.test(f.type || '') || /\.(png|jpe?g|gif|svg|webp)$/i.test(f.filename);
    const alt = f.filename.replace(/\.[^.]*$/, '');
    st.uploads.push({ id, project: p.id, filename: f.filename, size: f.size, sha256: f.sha256, type: f.type });
    return ctx.json(201, {
      id,
      alt,
      url,
      full_path: '/-/project/' + p.id + url,
      markdown: (image ? '!' : '') + '[' + alt + '](' + url + ')',
    });
  });

  api.route('PUT', '/api/v4/projects/:id', (ctx) => {
    const f = filePart(ctx, 'avatar');
    if (!f) return api.NEXT;
    const coll = api.store.collection('/projects');
    const p = projectItem(ctx);
    if (!p) return ctx.json(404, { message: '404 Project Not Found' });
    st.avatars.set(String(p.id), { filename: f.filename, size: f.size, sha256: f.sha256, type: f.type, content: f.content });
    const attrs = Object.assign({}, ctx.form || {});
    attrs.avatar_url = ctx.externalUrl + '/uploads/-/system/project/avatar/' + p.id + '/' + f.filename;
    api.store.update(coll, p, attrs);
    return ctx.json(200, p);
  });

  api.route('GET', '/api/v4/projects/:id/avatar', (ctx) => {
    const p = projectItem(ctx);
    if (!p) return ctx.json(404, { message: '404 Project Not Found' });
    const a = st.avatars.get(String(p.id));
    if (!a) return ctx.json(404, { message: '404 Avatar Not Found' });
    return ctx.send(200, a.content, { 'content-type': a.type || 'application/octet-stream', 'content-disposition': 'attachment; filename="' + a.filename + '"' });
  });

  api.route('POST', '/api/v4/projects/import', (ctx) => {
    const f = filePart(ctx, 'file');
    if (!f) return ctx.json(400, { error: 'file is missing' });
    if (!ctx.form || !ctx.form.path) return ctx.json(400, { error: 'path is missing' });
    const form = ctx.form;
    const coll = api.store.collection('/projects');
    const r = api.store.create(coll, { name: form.name || form.path, path: form.path }, ctx.user, { validate: false });
    if (r.error) return ctx.json(r.error.status, r.error.body);
    const rec = { project: r.item.id, filename: f.filename, size: f.size, sha256: f.sha256, namespace: form.namespace || null, overwrite: form.overwrite || null, override_params: form.override_params || null };
    st.imports.push(rec);
    return ctx.json(201, {
      id: r.item.id,
      description: null,
      name: r.item.name,
      name_with_namespace: r.item.name_with_namespace,
      path: r.item.path,
      path_with_namespace: r.item.path_with_namespace,
      created_at: r.item.created_at,
      import_status: 'scheduled',
      correlation_id: 'fake-' + r.item.id,
      failed_relations: [],
      import_error: null,
    });
  });
};
