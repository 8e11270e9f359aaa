// Benchmark peer: gitbeaker (npm @gitbeaker/rest, installed in bench/node_modules).
//
// Natural configuration: new Gitlab({ host, token }) with its defaults (Node's
// built-in fetch with keep-alive, camelize off, default client-side rate
// limits, which never throttle these workloads). W2/W3 use the idiomatic
// Issues.all({ projectId, perPage: 100 }), which fetches every page by
// following the Link header and returns one array.
//
// usage: node gitbeaker.js w1|w2|w3 http://127.0.0.1:PORT
// prints: "<seconds> <count> <checksum>" (checksum: sum of ids or iids)
'use strict';

const path = require('path');
// resolve from bench/ so bench/node_modules and the package's exports apply
const { Gitlab } = require(require.resolve('@gitbeaker/rest',
  { paths: [path.join(__dirname, '..')] }));

async function main() {
  const [workload, url] = process.argv.slice(2);
  if (!workload || !url) {
    process.stderr.write('usage: node gitbeaker.js w1|w2|w3 URL\n');
    process.exit(2);
  }
  const start = process.hrtime.bigint();
  const api = new Gitlab({ host: url, token: 'glpat-bench' });
  let count = 0;
  let sum = 0;
  if (workload === 'w1') {
    for (let i = 0; i < 2000; i++) {
      const p = await api.Projects.show(1);
      count++;
      sum += p.id;
    }
  } else {
    const issues = await api.Issues.all({ projectId: 1, perPage: 100 });
    for (const issue of issues) {
      count++;
      sum += issue.iid;
    }
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`${secs.toFixed(6)} ${count} ${sum}\n`);
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
