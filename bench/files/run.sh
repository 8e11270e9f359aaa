#!/usr/bin/env bash
# `make bench-files`: streams 1 GiB down and up through lua-gitlab against
# the bundled fake GitLab on loopback, under Lua 5.4 and LuaJIT, and prints
# the peak RSS of each Lua process (target: under 32 MiB whatever the size).
#
# Cases: download to a file through the API's redirect to object storage,
# download to a sink function, multipart upload and raw PUT upload, each
# checked byte for byte (sha256) or by count.
#
# Knobs: BENCH_FILES_SIZE (bytes, default 1 GiB), BENCH_FILES_LUAS
# ("lua5.4 luajit"), BENCH_FILES_CASES, BENCH_FILES_LIMIT_MIB (32),
# TMPDIR (where the 1 GiB files go; twice SIZE of free space is needed).
# The table also lands in build/bench/files.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE=${BENCH_FILES_SIZE:-1073741824}
LUAS=${BENCH_FILES_LUAS:-"lua5.4 luajit"}
CASES=${BENCH_FILES_CASES:-"download_file download_sink upload_multipart upload_put"}
LIMIT_MIB=${BENCH_FILES_LIMIT_MIB:-32}

work=$(mktemp -d "${TMPDIR:-/tmp}/lua-gitlab-bench-files.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# The fake server exits when its stdin (our coproc pipe) closes.
coproc FAKE { exec node spec/fake/server.js; }
read -r -t 20 line <&"${FAKE[0]}" || { echo "fake GitLab did not start" >&2; exit 1; }
http=$(printf '%s' "$line" | sed -E 's/.*"http":"([^"]+)".*/\1/')
other=$(printf '%s' "$line" | sed -E 's/.*"other":"([^"]+)".*/\1/')

echo "fake GitLab at $http (object storage at $other); $SIZE bytes per transfer" >&2
# the upload source: deterministic bytes whose digest the server knows
curl -fsS -o "$work/upload.bin" "$http/api/v4/__bytes?size=$SIZE&seed=upload"
want=$(curl -fsS "$http/api/v4/__bytes?size=$SIZE&seed=upload&digest=1" |
  sed -E 's/.*"sha256":"([0-9a-f]+)".*/\1/')

results="$work/results.tsv"
: >"$results"
for lua in $LUAS; do
  case "$lua" in *jit*) cpath=build/jit ;; *) cpath=build/5.4 ;; esac
  for c in $CASES; do
    echo "  $lua $c ..." >&2
    line=$(LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$cpath/?.so;;" \
      "$lua" bench/files/case.lua "$c" "$http" "$other" "$SIZE" "$work" "$want") ||
      line="$c	$SIZE	0	0	0	FAILED"
    printf '%s\t%s\n' "$lua" "$line" >>"$results"
  done
done

mkdir -p build/bench
awk -F '\t' -v limit="$LIMIT_MIB" '
  BEGIN {
    print "| interpreter | case | MiB | seconds | MiB/s | RSS before (MiB) | peak RSS (MiB) | < " limit " MiB | check |"
    print "|---|---|---:|---:|---:|---:|---:|:---:|---|"
  }
  {
    mib = $3 / 1048576; rate = ($4 > 0) ? mib / $4 : 0
    peak = $6 / 1024
    ok = ($7 ~ /ok$/ && peak < limit) ? "yes" : "NO"
    if (ok == "NO") bad++
    printf "| %s | %s | %.0f | %.2f | %.0f | %.1f | %.1f | %s | %s |\n", $1, $2, mib, $4, rate, $5 / 1024, peak, ok, $7
  }
  END { exit bad > 0 }' "$results" | tee build/bench/files.md
