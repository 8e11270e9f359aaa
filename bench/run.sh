#!/usr/bin/env bash
# make bench: builds what it needs, starts loopback servers, runs every
# client several times and prints a Markdown table (bench/report.lua).
#
# Environment knobs:
#   BENCH_RUNS=7                  runs per client and workload (median reported)
#   BENCH_WORKLOADS="w1 w2 w3"    subset of workloads
#   BENCH_CLIENTS="..."           subset of: floor ours-5.4 ours-jit
#                                 python-gitlab gitbeaker go-gitlab
#   BENCH_NO_DEPS=1               do not apt-get/npm install anything
#   BENCH_KEEP=1                  keep the server directory (for debugging)
#   BENCH_NICE=-10                run nginx and the clients at this niceness
#                                 (negative needs root): less noise from
#                                 other work on a shared machine; off by default
#   BENCH_PIN=split               where the processes run: "split" (default
#                                 with 2+ CPUs): nginx's worker on the second
#                                 usable CPU, every client (and wrk) on the
#                                 first, as a client and a server on two
#                                 machines; "same": all on the first CPU
#                                 (a client's own CPU cost shows fully);
#                                 "off": wherever the kernel puts them. Unpinned
#                                 runs flip between the two placements and a
#                                 loopback round trip costs 26 or 100 us by
#                                 luck, so medians are not comparable.
#   BENCH_BASE=DIR                another source tree of this library (built,
#                                 e.g. a git worktree of an older commit):
#                                 adds clients base-5.4 and base-jit that run
#                                 DIR/bench/ours.lua in the same rounds, so a
#                                 change is measured against its base in one run
#   BENCH_SERVE=1                 only start the servers, print their URLs as
#                                 one JSON line and serve until stdin closes
#                                 (or Ctrl-C): for trying a client by hand
# Everything listens on and talks to 127.0.0.1 only.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT=$ROOT/build/bench
LUA54=${LUA54:-lua5.4}
LUAJIT=${LUAJIT:-luajit}
RUNS=${BENCH_RUNS:-7}
WORKLOADS=${BENCH_WORKLOADS:-"w1 w2 w3"}
CLIENTS=${BENCH_CLIENTS:-"floor ours-5.4 ours-jit python-gitlab gitbeaker go-gitlab"}
BASE=${BENCH_BASE:-}
if [ -n "$BASE" ]; then
  BASE=$(cd "$BASE" && pwd) || exit 1
  case " $CLIENTS " in *" base-"*) ;; *) CLIENTS="$CLIENTS base-5.4 base-jit" ;; esac
fi
TIMEOUT=${BENCH_TIMEOUT:-300}
DELAY=0.05   # W3: seconds of server delay per request
PIN=${BENCH_PIN:-split}
# The first two CPUs this process may use (cgroups may leave out CPU 0).
CPU_A="" CPU_B=""
if command -v taskset >/dev/null 2>&1; then
  read -r CPU_A CPU_B _ <<<"$(taskset -cp $$ 2>/dev/null | sed 's/.*: //' | tr ',' '\n' |
    while IFS=- read -r a b; do seq "$a" "${b:-$a}"; done | head -n 2 | tr '\n' ' ')"
fi
cpu_mask() {   # CPU number -> nginx worker_cpu_affinity mask ("1" then n zeros)
  local m=1 i
  for ((i = 0; i < $1; i++)); do m="${m}0"; done
  echo "$m"
}
if [ "$PIN" != off ] && [ -z "$CPU_B" ]; then
  PIN=off      # nothing to pin to
fi
case $PIN in
  split) NGINX_AFFINITY="worker_cpu_affinity $(cpu_mask "$CPU_B");"; CLIENT_PIN=(taskset -c "$CPU_A") ;;
  same)  NGINX_AFFINITY="worker_cpu_affinity $(cpu_mask "$CPU_A");"; CLIENT_PIN=(taskset -c "$CPU_A") ;;
  *)     PIN=off; NGINX_AFFINITY=""; CLIENT_PIN=() ;;
esac

mkdir -p "$OUT"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)   # before we add any load
log() { printf '[bench] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- packages
# Debian packages the harness and the peers need. Installed only when
# missing; the harness still runs (with n/a rows) when an install fails.
DEB_PKGS="nginx-light libnginx-mod-http-echo time wrk curl pkg-config \
  libcurl4-openssl-dev lua5.4 lua-cjson lua-socket \
  python3 python3-gitlab golang-go golang-github-xanzy-go-gitlab-dev"

install_deps() {
  local missing="" p
  for p in $DEB_PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  # LuaJIT: Debian's (luajit) or OpenResty's (luajit2, what make deps
  # installs for the nginx Lua module); the two conflict, so either will do
  command -v luajit >/dev/null 2>&1 || missing="$missing luajit2"
  command -v node >/dev/null 2>&1 || missing="$missing nodejs"
  command -v npm >/dev/null 2>&1 || missing="$missing npm"
  if [ -n "$missing" ]; then
    log "installing Debian packages:$missing"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq >"$OUT/apt.log" 2>&1
    # shellcheck disable=SC2086  # a list of package names
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      $missing >>"$OUT/apt.log" 2>&1 || log "apt-get install failed (see $OUT/apt.log)"
  fi
  if command -v npm >/dev/null 2>&1 &&
     [ ! -f bench/node_modules/@gitbeaker/rest/package.json ]; then
    log "installing @gitbeaker/rest into bench/node_modules"
    (cd bench && npm ci --no-audit --no-fund --loglevel=error >"$OUT/npm.log" 2>&1 ||
       npm install --no-audit --no-fund --loglevel=error >>"$OUT/npm.log" 2>&1) ||
      log "npm install failed (see $OUT/npm.log)"
  fi
}
[ "${BENCH_NO_DEPS:-0}" = 1 ] || install_deps

# ------------------------------------------------------------------- build
build_all() {
  log "building the floor, the go-gitlab peer and the library"
  # shellcheck disable=SC2046  # pkg-config prints several flags
  cc -O2 -std=c99 -Wall -Wextra -pedantic -Wmissing-prototypes -Wshadow \
    -o "$OUT/floor" bench/floor.c \
    $(pkg-config --cflags --libs libcurl 2>/dev/null || echo -lcurl) \
    >"$OUT/floor-build.log" 2>&1 || log "floor build failed (see $OUT/floor-build.log)"

  # go-gitlab from Debian's source tree, GOPATH mode: no module download.
  if command -v go >/dev/null 2>&1; then
    (cd bench/peers && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS='' \
       GOCACHE="$OUT/gocache" GOTOOLCHAIN=local \
       go build -o "$OUT/gogitlab" gogitlab.go) >"$OUT/go-build.log" 2>&1 ||
      log "go-gitlab peer build failed (see $OUT/go-build.log)"
  fi

  # The library is being written alongside: a failed build just means n/a.
  make -s build >"$OUT/lib-build.log" 2>&1 ||
    log "library build failed: ours will be n/a (see $OUT/lib-build.log)"
}
[ "${BENCH_SERVE:-0}" = 1 ] || build_all

# ------------------------------------------------------------------ server
SRV=$(mktemp -d /tmp/lua-gitlab-bench.XXXXXX)
chmod 755 "$SRV"
NGINX_PID=""
cleanup() {
  if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$NGINX_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$NGINX_PID" 2>/dev/null
  fi
  [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$SRV"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "generating pages in $SRV/data"
node bench/gen.js "$SRV/data" >"$OUT/data.json" || { log "page generation failed"; exit 1; }
printf '[]' >"$SRV/data/empty.json"
chmod -R a+rX "$SRV/data"

free_port() {
  node -e 'const s=require("net").createServer();
    s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
PORT_FAST=$(free_port)
PORT_SLOW=$(free_port)
while [ "$PORT_SLOW" = "$PORT_FAST" ]; do PORT_SLOW=$(free_port); done

ECHO_SO=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$ECHO_SO" ] || log "nginx echo module missing: W3 will fail"

# Pagination headers as GitLab sends them, chosen by $arg_page with maps.
# (The $names in single quotes are nginx variables, not shell ones.)
# shellcheck disable=SC2016
{
  echo 'map $arg_page $gl_page { default 1; "~^[1-9][0-9]*$" $arg_page; }'
  echo 'map $gl_page $gl_next { default "";'
  for p in $(seq 1 99); do echo "  $p $((p + 1));"; done
  echo '}'
  echo 'map $gl_page $gl_prev { default "";'
  for p in $(seq 2 100); do echo "  $p $((p - 1));"; done
  echo '}'
  base='http://127.0.0.1:$server_port/api/v4/projects/1/issues?id=1&order_by=created_at&page='
  tail='&per_page=100&sort=desc&state=all'
  echo 'map $gl_page $gl_link { default "";'
  for p in $(seq 1 100); do
    l=""
    [ "$p" -gt 1 ] && l="<$base$((p - 1))$tail>; rel=\"prev\", "
    [ "$p" -lt 100 ] && l="$l<$base$((p + 1))$tail>; rel=\"next\", "
    l="$l<${base}1$tail>; rel=\"first\", <${base}100$tail>; rel=\"last\""
    echo "  $p '$l';"
  done
  echo '}'
} >"$SRV/maps.conf"

cat >"$SRV/gitlab-headers.conf" <<'EOF'
add_header Cache-Control "max-age=0, private, must-revalidate";
add_header Vary Origin;
add_header X-Content-Type-Options nosniff;
add_header X-Frame-Options SAMEORIGIN;
add_header X-Gitlab-Meta '{"correlation_id":"01JDBENCH0000000000000000","version":"1"}';
add_header X-Request-Id 01JDBENCH0000000000000000;
add_header X-Runtime 0.041200;
EOF
cat >"$SRV/issues.conf" <<EOF
include $SRV/gitlab-headers.conf;
add_header X-Page \$gl_page;
add_header X-Per-Page 100;
add_header X-Next-Page \$gl_next;
add_header X-Prev-Page \$gl_prev;
add_header X-Total 10000;
add_header X-Total-Pages 100;
add_header Link \$gl_link;
try_files /issues/\$gl_page.json /empty.json =404;
EOF
cat >"$SRV/project.conf" <<EOF
include $SRV/gitlab-headers.conf;
try_files /project.json =404;
EOF
mkdir -p "$SRV/tmp"
cat >"$SRV/nginx.conf" <<EOF
worker_processes 1;
$NGINX_AFFINITY
pid $SRV/nginx.pid;
error_log $SRV/error.log warn;
$( [ -f "$ECHO_SO" ] && echo "load_module $ECHO_SO;" )
events { worker_connections 1024; }
http {
  access_log off;
  include $SRV/maps.conf;
  types { application/json json; }
  default_type application/json;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server_tokens off;
  client_body_temp_path $SRV/tmp/body;
  proxy_temp_path $SRV/tmp/proxy;
  fastcgi_temp_path $SRV/tmp/fastcgi;
  uwsgi_temp_path $SRV/tmp/uwsgi;
  scgi_temp_path $SRV/tmp/scgi;
  root $SRV/data;

  # W1/W2: pages straight from disk (page cache), no delay
  server {
    listen 127.0.0.1:$PORT_FAST;
    location = /api/v4/projects/1/issues { include $SRV/issues.conf; }
    location = /api/v4/projects/1 { include $SRV/project.conf; }
    location / { return 404 '{"message":"404 Not Found"}'; }
  }

  # W3: the same answers after ${DELAY}s, a non-blocking timer in nginx's
  # event loop (echo module), so delays overlap for parallel requests
  server {
    listen 127.0.0.1:$PORT_SLOW;
    location = /api/v4/projects/1/issues { echo_sleep $DELAY; echo_exec @issues; }
    location = /api/v4/projects/1 { echo_sleep $DELAY; echo_exec @project; }
    location @issues { include $SRV/issues.conf; }
    location @project { include $SRV/project.conf; }
    location / { echo_sleep $DELAY; echo_status 404; echo -n '{"message":"404 Not Found"}'; }
  }
}
EOF

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if ! "$NGINX" -p "$SRV" -c "$SRV/nginx.conf" -e "$SRV/error.log" -t >"$OUT/nginx-test.log" 2>&1; then
  log "nginx configuration rejected:"; cat "$OUT/nginx-test.log" >&2; exit 1
fi
NICE=()
[ -n "${BENCH_NICE:-}" ] && NICE=(nice -n "$BENCH_NICE")
"${NICE[@]}" "$NGINX" -p "$SRV" -c "$SRV/nginx.conf" -e "$SRV/error.log" ||
  { log "nginx failed to start"; exit 1; }
for _ in $(seq 1 50); do
  [ -s "$SRV/nginx.pid" ] && break
  sleep 0.1
done
NGINX_PID=$(cat "$SRV/nginx.pid" 2>/dev/null)
[ -n "$NGINX_PID" ] || { log "nginx did not come up"; cat "$SRV/error.log" >&2; exit 1; }
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT_FAST/api/v4/projects/1" 2>/dev/null && break
  sleep 0.1
done
FAST="http://127.0.0.1:$PORT_FAST"
SLOW="http://127.0.0.1:$PORT_SLOW"
log "nginx $NGINX_PID: fast $FAST, delayed $SLOW"

if [ "${BENCH_SERVE:-0}" = 1 ]; then
  printf '{"fast":"%s","delayed":"%s","data":"%s"}\n' "$FAST" "$SLOW" "$SRV/data"
  cat >/dev/null   # until stdin closes; the EXIT trap stops nginx
  exit 0
fi

# ---------------------------------------------------------- server capacity
# wrk keeps its connections open like the clients do; -c1 mirrors one
# sequential client, -c4 shows the headroom. The numbers go into the report.
CAP="$OUT/capacity.tsv"
: >"$CAP"
capacity() {   # name conns url
  local name=$1 conns=$2 url=$3 out
  out=$("${CLIENT_PIN[@]}" wrk -t1 -c"$conns" -d2s --latency "$url" 2>&1) || return
  local rps lat tr
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  tr=$(awk '/^Transfer\/sec:/ {print $2}' <<<"$out")
  lat=$(awk '/^ +50%/ {print $2}' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$conns" "$rps" "$lat" "$tr" >>"$CAP"
}
if command -v wrk >/dev/null 2>&1; then
  log "measuring server capacity with wrk"
  capacity "project (W1)" 1 "$FAST/api/v4/projects/1"
  capacity "project (W1)" 4 "$FAST/api/v4/projects/1"
  capacity "issues page (W2)" 1 "$FAST/api/v4/projects/1/issues?page=50&per_page=100"
  capacity "issues page (W2)" 4 "$FAST/api/v4/projects/1/issues?page=50&per_page=100"
  capacity "issues page, delayed (W3)" 16 "$SLOW/api/v4/projects/1/issues?page=50&per_page=100"
else
  log "wrk not installed: no capacity figures"
fi

# -------------------------------------------------------------------- runs
RES="$OUT/results.tsv"
printf 'workload\tclient\trun\tseconds\tprocess_seconds\trss_kb\tstatus\tcount\tchecksum\tserver_cpu_seconds\n' >"$RES"

# CPU time nginx's worker spent during one run (nanoseconds, schedstat), to
# show how much of each client's time the server's own work can explain.
server_ns() {
  local t=0 pid ns
  for pid in $(pgrep -P "$NGINX_PID"); do
    read -r ns _ <"/proc/$pid/schedstat" 2>/dev/null && t=$((t + ns))
  done
  echo "$t"
}

client_cmd() {   # client workload url -> command words on stdout, or nothing
  local c=$1 w=$2 u=$3
  case $c in
    floor)         [ -x "$OUT/floor" ] && echo "$OUT/floor $w $u" ;;
    ours-5.4)      echo "$LUA54 bench/ours.lua $w $u" ;;
    ours-jit)      echo "$LUAJIT bench/ours.lua $w $u" ;;
    base-5.4)      [ -n "$BASE" ] && echo "$LUA54 $BASE/bench/ours.lua $w $u" ;;
    base-jit)      [ -n "$BASE" ] && echo "$LUAJIT $BASE/bench/ours.lua $w $u" ;;
    python-gitlab) /usr/bin/python3 -c 'import gitlab' 2>/dev/null &&
                     echo "/usr/bin/python3 bench/peers/pygitlab.py $w $u" ;;
    gitbeaker)     [ -f bench/node_modules/@gitbeaker/rest/package.json ] &&
                     echo "node bench/peers/gitbeaker.js $w $u" ;;
    go-gitlab)     [ -x "$OUT/gogitlab" ] && echo "$OUT/gogitlab $w $u" ;;
    cjson-5.4)     echo "$LUA54 bench/decode.lua $SRV/data" ;;
    cjson-jit)     echo "$LUAJIT bench/decode.lua $SRV/data" ;;
  esac
}

# What a correct run prints, from the generated data (data.json).
PROJECT_BYTES=$(sed -n 's/.*"project_bytes":\([0-9]*\).*/\1/p' "$OUT/data.json")
ISSUES_BYTES=$(sed -n 's/.*"issues_bytes":\([0-9]*\).*/\1/p' "$OUT/data.json")
expected() {   # client workload -> "count checksum"
  case "$1:$2" in
    floor:w1) echo "2000 $((2000 * PROJECT_BYTES))" ;;
    floor:*)  echo "100 $ISSUES_BYTES" ;;
    *:w1)     echo "2000 2000" ;;          # 2,000 times project id 1
    *)        echo "10000 50005000" ;;     # iids 1..10000, each once
  esac
}

run_one() {   # workload client run
  local w=$1 c=$2 r=$3 url=$FAST cmd tf of ef status secs="" psecs="" rss="" n="" sum="" s0 s1
  [ "$w" = w3 ] && url=$SLOW
  cmd=$(client_cmd "$c" "$w" "$url")
  if [ -z "$cmd" ]; then
    printf '%s\t%s\t%s\t\t\t\tn/a\t\t\n' "$w" "$c" "$r" >>"$RES"
    return
  fi
  tf=$OUT/time.out; of=$OUT/run.out; ef=$OUT/logs/$w-$c-$r.err
  mkdir -p "$OUT/logs"
  s0=$(server_ns)
  # shellcheck disable=SC2086  # cmd is a word list built above
  "${NICE[@]}" timeout "$TIMEOUT" /usr/bin/time -f '%e %M' -o "$tf" "${CLIENT_PIN[@]}" $cmd >"$of" 2>"$ef"
  status=$?
  s1=$(server_ns)
  read -r psecs rss <"$tf" 2>/dev/null || true
  read -r secs n sum <"$of" 2>/dev/null || true
  if [ "$status" = 3 ] && { [ "${c#ours}" != "$c" ] || [ "${c#base}" != "$c" ]; }; then
    status=n/a                       # library not built/loadable yet
  elif [ "$status" != 0 ]; then
    status=error
  elif [ "$n $sum" != "$(expected "$c" "$w")" ]; then
    status=wrong                     # lost, repeated or truncated items
  else
    status=ok
  fi
  [ "$status" = ok ] || log "$w $c run $r: $status (stderr: $ef)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$w" "$c" "$r" "$secs" "$psecs" "$rss" "$status" "$n" "$sum" \
    "$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')" >>"$RES"
}

# Rounds interleave the clients so slow drift (thermal, page cache, other
# load) spreads over all of them instead of favouring one.
declare -A SKIP=()
for r in $(seq 1 "$RUNS"); do
  log "round $r/$RUNS"
  for w in $WORKLOADS; do
    list=$CLIENTS
    if [ "$w" = w2 ]; then
      for c in $CLIENTS; do
        case $c in ours-5.4) list="$list cjson-5.4" ;; ours-jit) list="$list cjson-jit" ;; esac
      done
    fi
    for c in $list; do
      # a client that is not there is not retried every round
      if [ -n "${SKIP[$c]:-}" ]; then
        printf '%s\t%s\t%s\t\t\t\tn/a\t\t\n' "$w" "$c" "$r" >>"$RES"
        continue
      fi
      run_one "$w" "$c" "$r"
      last=$(tail -n 1 "$RES" | cut -f7)
      [ "$last" = n/a ] && SKIP[$c]=1
    done
  done
done

# ------------------------------------------------------------------ report
{
  echo "runs=$RUNS"
  echo "delay=$DELAY"
  echo "cores=$(nproc)"
  echo "load_before=$LOAD_BEFORE"
  echo "nice=${BENCH_NICE:-}"
  echo "pin=$PIN"
  echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "curl=$(curl-config --version 2>/dev/null)"
  echo "nginx=$("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"
  echo "lua54=$($LUA54 -v 2>&1 | head -1)"
  echo "luajit=$($LUAJIT -v 2>&1 | head -1)"
  echo "python=$(/usr/bin/python3 -c 'import sys,gitlab; print("Python %d.%d.%d" % sys.version_info[:3], "python-gitlab", gitlab.__version__)' 2>/dev/null)"
  echo "node=$(node --version 2>/dev/null) gitbeaker $(node -p 'require("./bench/node_modules/@gitbeaker/rest/package.json").version' 2>/dev/null)"
  echo "go=$(go version 2>/dev/null | awk '{print $3}') go-gitlab $(dpkg-query -W -f='${Version}' golang-github-xanzy-go-gitlab-dev 2>/dev/null)"
  cat "$OUT/data.json"
} >"$OUT/meta.txt"
"$LUA54" bench/report.lua "$RES" "$CAP" "$OUT/meta.txt" | tee "$OUT/report.md"
