#!/usr/bin/env node
// Generates the benchmark pages: one project (about 2 KB of JSON) and 100
// pages of 100 issues (about 23 MB in all), shaped like GitLab 17's answers
// (compact JSON, every field a real issue carries). Deterministic: the same
// bytes on every machine, so runs compare.
//
// usage: node bench/gen.js OUTDIR
//   writes OUTDIR/project.json, OUTDIR/issues/1.json .. 100.json,
//   OUTDIR/projects/1.json .. 1000.json (W4: one document per project, id N;
//   1.json is project.json) and OUTDIR/issue.json (one issue, for the
//   POST/PUT/GET rows that measure the safety checks)
'use strict';

const fs = require('fs');
const path = require('path');

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node gen.js OUTDIR\n');
  process.exit(2);
}
const PAGES = 100;
const PER_PAGE = 100;
const HOST = 'https://gitlab.example.com';

// mulberry32: small, fast and the same everywhere
let seed = 0x5eed1234;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

const WORDS = ('the pipeline fails when runner cache is restored from a ' +
  'previous job and merge request widget shows stale coverage report ' +
  'after rebase deploy token scope registry package upload timeout ' +
  'retry backoff webhook payload label milestone assignee epic iteration ' +
  'weight due date confidential discussion thread resolve approval rule ' +
  'protected branch tag release environment kubernetes agent terraform ' +
  'state artifact expire keyset pagination offset header link next page ' +
  'user avatar namespace group subgroup fork mirror import export backup ' +
  'élément café naïve 缓存 失败').split(' ');
function sentence(n) {
  const w = [];
  for (let i = 0; i < n; i++) w.push(pick(WORDS));
  const s = w.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const USERS = [];
for (let i = 1; i <= 40; i++) {
  const username = pick(['alice', 'bob', 'carol', 'dave', 'erin', 'frank',
    'grace', 'heidi', 'ivan', 'judy']) + '.' + pick(['smith', 'jones',
    'nguyen', 'garcia', 'müller', 'rossi', 'kowalski', 'tanaka']) + i;
  USERS.push({
    id: i, username, name: username.replace('.', ' ').replace(/\d+$/, ''),
    state: 'active', locked: false,
    avatar_url: i % 3 === 0 ? null : 'https://secure.gravatar.com/avatar/' +
      (i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(4) +
      '?s=80&d=identicon',
    web_url: HOST + '/' + username,
  });
}
const LABELS = ['bug', 'feature', 'documentation', 'priority::1',
  'priority::2', 'severity::3', 'workflow::in dev', 'workflow::ready for review',
  'frontend', 'backend', 'database', 'performance', 'security', 'UX',
  'technical debt', 'regression', 'ci-cd', 'group::source code'];
const MILESTONES = [];
for (let i = 1; i <= 12; i++) {
  MILESTONES.push({
    id: 100 + i, iid: i, project_id: 1, title: '17.' + (i - 1),
    description: 'Release 17.' + (i - 1) + ': ' + sentence(8),
    state: i < 10 ? 'closed' : 'active',
    created_at: '2024-0' + (1 + (i % 9)) + '-0' + (1 + (i % 9)) + 'T10:00:00.000Z',
    updated_at: '2024-0' + (1 + (i % 9)) + '-1' + (i % 9) + 'T10:00:00.000Z',
    due_date: '2024-1' + (i % 3) + '-2' + (i % 9), start_date: null,
    expired: i < 10,
    web_url: HOST + '/acme/platform/-/milestones/' + i,
  });
}

function ts(n) {
  const d = new Date(Date.UTC(2023, 0, 1) + n * 3600000 + int(0, 3599999));
  return d.toISOString();
}

function issue(n) {
  const iid = n;
  const id = 900000 + n;
  const closed = rand() < 0.4;
  const author = pick(USERS);
  const assignees = [];
  const nassign = rand() < 0.55 ? 1 : (rand() < 0.1 ? 2 : 0);
  for (let k = nassign; k > 0; k--) assignees.push(pick(USERS));
  const labels = [];
  for (let k = int(0, 4); k > 0; k--) labels.push(pick(LABELS));
  // half the issues carry a templated description, the rest a short one
  let description = sentence(int(3, 10)) + '.';
  if (rand() < 0.5) {
    description = '## Summary\n\n' + sentence(int(6, 14)) +
      '.\n\n## Steps to reproduce\n\n1. ' + sentence(int(4, 8)) + '\n2. ' +
      'Run `gitlab-ctl reconfigure` and look at "' + sentence(3) +
      '"\n\n/label ~bug';
  }
  const created = ts(n);
  const updated = ts(n + int(1, 400));
  const tasks = int(0, 6);
  const url = HOST + '/acme/platform/-/issues/' + iid;
  const api = HOST + '/api/v4/projects/1/issues/' + iid;
  return {
    id, iid, project_id: 1, title: sentence(int(4, 10)), description,
    state: closed ? 'closed' : 'opened', created_at: created,
    updated_at: updated, closed_at: closed ? updated : null,
    closed_by: closed ? pick(USERS) : null, labels,
    milestone: rand() < 0.45 ? pick(MILESTONES) : null,
    assignees, author, type: 'ISSUE',
    assignee: assignees.length ? assignees[0] : null,
    user_notes_count: int(0, 40), merge_requests_count: int(0, 3),
    upvotes: int(0, 25), downvotes: int(0, 3),
    due_date: rand() < 0.2 ? '2025-0' + int(1, 9) + '-1' + int(0, 9) : null,
    confidential: rand() < 0.05, discussion_locked: null,
    issue_type: 'issue', web_url: url,
    time_stats: { time_estimate: 0, total_time_spent: 0,
      human_time_estimate: null, human_total_time_spent: null },
    task_completion_status: { count: tasks, completed_count: int(0, tasks) },
    weight: rand() < 0.3 ? int(1, 8) : null,
    blocking_issues_count: 0, has_tasks: tasks > 0,
    task_status: tasks > 0 ? '0 of ' + tasks + ' checklist items completed' : '',
    _links: { self: api, notes: api + '/notes',
      award_emoji: api + '/award_emoji',
      project: HOST + '/api/v4/projects/1',
      closed_as_duplicate_of: null },
    references: { short: '#' + iid, relative: '#' + iid,
      full: 'acme/platform#' + iid },
    severity: 'UNKNOWN', subscribed: rand() < 0.3,
    moved_to_id: null, imported: false, imported_from: 'none',
    service_desk_reply_to: null, epic_iid: null, epic: null,
    iteration: null, health_status: null,
  };
}

// Project n (W1 reads project 1, W4 projects 1..1000). Derived from n
// alone, without rand(), so the issues above stay the same bytes.
function project(n = 1) {
  const owner = USERS[0];
  const name = n === 1 ? 'platform' : 'service-' + String(n).padStart(4, '0');
  const api = HOST + '/api/v4/projects/' + n;
  return {
    id: n, description: n === 1 ? 'The platform: API, workers and the web frontend.'
      : 'Service ' + n + ': ' + WORDS[n % WORDS.length] + ' and ' +
        WORDS[(n * 7) % WORDS.length] + '.',
    name, name_with_namespace: 'Acme / ' + name,
    path: name, path_with_namespace: 'acme/' + name,
    created_at: n === 1 ? '2019-03-14T09:26:53.123Z'
      : new Date(Date.UTC(2019, 3, 1) + n * 86400000).toISOString(),
    default_branch: 'main',
    tag_list: ['api', 'platform'], topics: ['api', 'platform'],
    ssh_url_to_repo: 'git@gitlab.example.com:acme/' + name + '.git',
    http_url_to_repo: HOST + '/acme/' + name + '.git',
    web_url: HOST + '/acme/' + name,
    readme_url: HOST + '/acme/' + name + '/-/blob/main/README.md',
    forks_count: n === 1 ? 12 : n % 17, avatar_url: null,
    star_count: n === 1 ? 87 : (n * 13) % 200,
    last_activity_at: '2024-11-20T17:02:11.456Z',
    namespace: { id: 7, name: 'Acme', path: 'acme', kind: 'group',
      full_path: 'acme', parent_id: null, avatar_url: null,
      web_url: HOST + '/groups/acme' },
    _links: { self: api,
      issues: api + '/issues',
      merge_requests: api + '/merge_requests',
      repo_branches: api + '/repository/branches',
      labels: api + '/labels',
      members: api + '/members' },
    packages_enabled: true, empty_repo: false, archived: false,
    visibility: 'internal', owner: null,
    resolve_outdated_diff_discussions: false,
    container_registry_enabled: true, issues_enabled: true,
    merge_requests_enabled: true, wiki_enabled: true, jobs_enabled: true,
    can_create_merge_request_in: true, issues_access_level: 'enabled',
    repository_access_level: 'enabled',
    merge_requests_access_level: 'enabled', forking_access_level: 'enabled',
    wiki_access_level: 'enabled', builds_access_level: 'enabled',
    pages_access_level: 'private', emails_enabled: true,
    shared_runners_enabled: true, lfs_enabled: true,
    creator_id: owner.id, import_status: 'none',
    open_issues_count: n === 1 ? 6021 : (n * 37) % 1000,
    ci_default_git_depth: 20, public_jobs: true,
    ci_config_path: null, shared_with_groups: [],
    only_allow_merge_if_pipeline_succeeds: true,
    request_access_enabled: true, merge_method: 'ff',
    squash_option: 'default_off', autoclose_referenced_issues: true,
    permissions: { project_access: { access_level: 40,
      notification_level: 3 }, group_access: null },
  };
}

fs.mkdirSync(path.join(out, 'issues'), { recursive: true });
fs.mkdirSync(path.join(out, 'projects'), { recursive: true });
fs.writeFileSync(path.join(out, 'project.json'), JSON.stringify(project(1)));
let total = 0;
let first = null;
for (let p = 1; p <= PAGES; p++) {
  const items = [];
  // newest first, as GitLab's default order_by=created_at&sort=desc
  for (let k = 0; k < PER_PAGE; k++) {
    items.push(issue(PAGES * PER_PAGE - ((p - 1) * PER_PAGE + k)));
  }
  if (p === PAGES) first = items[items.length - 1];   // iid 1
  const body = JSON.stringify(items);
  total += Buffer.byteLength(body);
  fs.writeFileSync(path.join(out, 'issues', p + '.json'), body);
}
// W4: 1,000 projects, each its own document (checksum: the sum of the ids)
const PROJECTS = 1000;
let projectsBytes = 0;
for (let n = 1; n <= PROJECTS; n++) {
  const body = JSON.stringify(project(n));
  projectsBytes += Buffer.byteLength(body);
  fs.writeFileSync(path.join(out, 'projects', n + '.json'), body);
}
fs.writeFileSync(path.join(out, 'issue.json'), JSON.stringify(first));
process.stdout.write(JSON.stringify({
  project_bytes: fs.statSync(path.join(out, 'project.json')).size,
  issues_bytes: total, pages: PAGES, per_page: PER_PAGE,
  projects: PROJECTS, projects_bytes: projectsBytes,
  issue_bytes: fs.statSync(path.join(out, 'issue.json')).size,
}) + '\n');
