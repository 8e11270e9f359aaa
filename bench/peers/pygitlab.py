"""Benchmark peer: python-gitlab (Debian python3-gitlab), run by /usr/bin/python3.

Natural configuration: gitlab.Gitlab(url, private_token=...) with its default
requests.Session (keep-alive) and default retry settings. W2/W3 use the
idiomatic lazy listing: project.issues.list(iterator=True, per_page=100),
which follows the Link header page after page. Over HTTPS the CA is given
as python-gitlab's ssl_verify=<CA file> (requests' verify). requests speaks
HTTP/1.1 only.

W4 runs gl.projects.get(id) for ids 1..1000 on a ThreadPoolExecutor of 16
threads sharing the client. requests keeps at most 10 connections per host
by default (HTTPAdapter pool_maxsize=10), so with 16 threads it would close
6 connections after every request and open new ones, each with a full TLS
handshake; W4 therefore passes python-gitlab a session whose adapter keeps
16, as a user who reads urllib3's "Connection pool is full" warning would.

usage: pygitlab.py WORKLOAD URL [CA_FILE]
prints: "<seconds> <count> <checksum> <HTTP version>" (checksum: sum of ids
or iids; the version is that of one more answer on the same session, "-"
for W0)
"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import gitlab
import requests


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: pygitlab.py WORKLOAD URL [CA_FILE]\n")
        return 2
    workload, url = sys.argv[1], sys.argv[2]
    verify = sys.argv[3] if len(sys.argv) == 4 else True
    start = time.perf_counter()
    session = None
    if workload == "w4":
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=16)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    gl = gitlab.Gitlab(url, private_token="glpat-bench", ssl_verify=verify,
                       session=session)
    count = total = 0
    if workload in ("w0", "w1", "w1s"):
        for _ in range(1 if workload == "w0" else 2000):
            project = gl.projects.get(1)
            count += 1
            total += project.id
    elif workload == "w4":
        with ThreadPoolExecutor(max_workers=16) as pool:
            for project in pool.map(gl.projects.get, range(1, 1001)):
                count += 1
                total += project.id
    else:
        project = gl.projects.get(1, lazy=True)
        for issue in project.issues.list(iterator=True, per_page=100):
            count += 1
            total += issue.iid
    secs = time.perf_counter() - start
    # the HTTP version, untimed: one more request on the same session (not
    # for W0, whose whole process is timed: there the runner's probe tells)
    version = "-"
    if workload != "w0":
        raw = gl.http_request("get", "/projects/1").raw
        version = {10: "1.0", 11: "1.1", 20: "2"}.get(getattr(raw, "version", 0), "?")
    print("%.6f %d %d %s" % (secs, count, total, version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
