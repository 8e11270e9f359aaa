"""Benchmark peer: python-gitlab (Debian python3-gitlab), run by /usr/bin/python3.

Natural configuration: gitlab.Gitlab(url, private_token=...) with its default
requests.Session (keep-alive) and default retry settings. W2/W3 use the
idiomatic lazy listing: project.issues.list(iterator=True, per_page=100),
which follows the Link header page after page.

usage: pygitlab.py w1|w2|w3 http://127.0.0.1:PORT
prints: "<seconds> <count> <checksum>" (checksum: sum of ids or iids)
"""
import sys
import time

import gitlab


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: pygitlab.py w1|w2|w3 URL\n")
        return 2
    start = time.perf_counter()
    gl = gitlab.Gitlab(sys.argv[2], private_token="glpat-bench")
    count = total = 0
    if sys.argv[1] == "w1":
        for _ in range(2000):
            project = gl.projects.get(1)
            count += 1
            total += project.id
    else:
        project = gl.projects.get(1, lazy=True)
        for issue in project.issues.list(iterator=True, per_page=100):
            count += 1
            total += issue.iid
    print("%.6f %d %d" % (time.perf_counter() - start, count, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
