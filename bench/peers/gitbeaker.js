// Benchmark peer: gitbeaker (npm @gitbeaker/rest, installed in bench/node_modules).
//
// Natural configuration: new Gitlab({ host, token }) with its defaults (Node's
// built-in fetch with keep-alive, camelize off, default client-side rate
// limits, 3,000 requests a minute, which never throttle these workloads).
// W2/W3 use the idiomatic Issues.all({ projectId, perPage: 100 }), which
// fetches every page by following the Link header and returns one array.
// W4 starts 16 promises at once, each awaiting Projects.show(id) for the
// next id until 1,000 are done. Over HTTPS Node trusts the CA its usual way,
// NODE_EXTRA_CA_CERTS (the runner sets it). Node's fetch (undici) speaks
// HTTP/1.1 and gitbeaker does not show the response's version: the runner's
// probe (nginx's log) tells which one was used.
//
// usage: node gitbeaker.js WORKLOAD URL
// prints: "<seconds> <count> <checksum> -" (checksum: sum of ids or iids)
'use strict';

const path = require('path');
// resolve from bench/ so bench/node_modules and the package's exports apply
const { Gitlab } = require(require.resolve('@gitbeaker/rest',
  { paths: [path.join(__dirname, '..')] }));

async function main() {
  const [workload, url] = process.argv.slice(2);
  if (!workload || !url) {
    process.stderr.write('usage: node gitbeaker.js WORKLOAD URL\n');
    process.exit(2);
  }
  const start = process.hrtime.bigint();
  const api = new Gitlab({ host: url, token: 'glpat-bench' });
  let count = 0;
  let sum = 0;
  if (workload === 'w0' || workload === 'w1' || workload === 'w1s') {
    const n = workload === 'w0' ? 1 : 2000;
    for (let i = 0; i < n; i++) {
      const p = await api.Projects.show(1);
      count++;
      sum += p.id;
    }
  } else if (workload === 'w4') {
    let next = 1;
    const worker = async () => {
      while (next <= 1000) {
        const p = await api.Projects.show(next++);
        count++;
        sum += p.id;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  } else {
    const issues = await api.Issues.all({ projectId: 1, perPage: 100 });
    for (const issue of issues) {
      count++;
      sum += issue.iid;
    }
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`${secs.toFixed(6)} ${count} ${sum} -\n`);
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
