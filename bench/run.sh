#!/usr/bin/env bash
# make bench: builds what it needs, starts loopback servers (HTTP and HTTPS
# with HTTP/2), runs every client several times in two placements and prints
# a Markdown table (bench/report.lua).
#
# Workloads (BENCH_WORKLOADS, all by default):
#   w0    cold start: a process that builds its client, makes one GET of
#         /projects/1 over HTTPS and exits; the whole process is timed
#         (fork to exit), BENCH_W0_RUNS times per client and placement
#   w1    2,000 sequential GETs of /projects/1 (HTTP/1.1)
#   w1s   w1 over HTTPS (HTTP/2 where the client speaks it)
#   w2    every one of 10,000 issues, per_page=100 (100 pages, HTTP/1.1)
#   w2s   w2 over HTTPS
#   w3    w2 against a server that answers each request 50 ms late
#         (BENCH_W3_RUNS rounds, first placement only: it is server delay)
#   w4    fan-out: GETs of /projects/1 .. /1000 over HTTPS, 16 in flight
#   s-get s-get-unbounded s-post s-put
#         the cost of the safety checks, this library only (bench/ours.lua):
#         2,000 GETs with and without the body bound (max_body), 2,000
#         POSTs (prerequest callback that refuses a re-send) against 2,000
#         PUTs of the same body (none); in placement "same" only (where a
#         client's CPU shows most) when both run
#
# Environment knobs:
#   BENCH_RUNS=4                  rounds: runs per client, workload and
#                                 placement (median reported)
#   BENCH_W3_RUNS=3               W3 runs only in the first rounds (each
#                                 one waits 100 x 50 ms per sequential client)
#   BENCH_W0_RUNS=20              W0 runs per client and placement in all
#                                 (spread over the rounds)
#   BENCH_WORKLOADS="..."         subset of the workloads above
#   BENCH_CLIENTS="..."           subset of: floor ours-5.4 ours-jit
#                                 python-gitlab gitbeaker go-gitlab
#   BENCH_NO_DEPS=1               do not apt-get/npm install anything
#   BENCH_KEEP=1                  keep the server directory (for debugging)
#   BENCH_NICE=-10                run nginx and the clients at this niceness
#                                 (negative needs root): less noise from
#                                 other work on a shared machine; off by default
#   BENCH_PIN=both                where the processes run: "both" (default
#                                 with 2+ CPUs) runs every round in "split"
#                                 and then in "same" and reports both;
#                                 "split": nginx's worker on the second
#                                 usable CPU, every client (and wrk) on the
#                                 first, as a client and a server on two
#                                 machines; "same": all on the first CPU
#                                 (a client's own CPU cost shows fully);
#                                 "off": wherever the kernel puts them. Unpinned
#                                 runs flip between the two placements and a
#                                 loopback round trip costs 26 or 100 us by
#                                 luck, so medians are not comparable. W3 is
#                                 server delay, not CPU: it runs in the first
#                                 placement only.
#   BENCH_IR=1                    count the instructions of the safety rows
#                                 (s-*) once under callgrind, lua5.4 only
#                                 (default when valgrind is installed; 0: skip)
#   BENCH_IR_REQUESTS=500         requests per callgrind run
#   BENCH_BASE=DIR                another source tree of this library (built,
#                                 e.g. a git worktree of an older commit):
#                                 adds clients base-5.4 and base-jit that run
#                                 this tree's bench/ours.lua on DIR's library in
#                                 the same rounds, so a change is measured
#                                 against its base in one run
#   BENCH_SERVE=1                 only start the servers, print their URLs as
#                                 one JSON line and serve until stdin closes
#                                 (or Ctrl-C): for trying a client by hand
# Everything listens on and talks to 127.0.0.1 only. The HTTPS servers use a
# CA and a certificate made at run time (openssl) in the server directory;
# every client trusts that CA its own usual way, none turns verification off.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT=$ROOT/build/bench
LUA54=${LUA54:-lua5.4}
LUAJIT=${LUAJIT:-luajit}
RUNS=${BENCH_RUNS:-4}
W3_RUNS=${BENCH_W3_RUNS:-3}
W0_RUNS=${BENCH_W0_RUNS:-20}
W0_PER_ROUND=$(((W0_RUNS + RUNS - 1) / RUNS))
WORKLOADS=${BENCH_WORKLOADS:-"w0 w1 w1s w2 w2s w3 w4 s-get s-get-unbounded s-post s-put"}
CLIENTS=${BENCH_CLIENTS:-"floor ours-5.4 ours-jit python-gitlab gitbeaker go-gitlab"}
BASE=${BENCH_BASE:-}
if [ -n "$BASE" ]; then
  BASE=$(cd "$BASE" && pwd) || exit 1
  case " $CLIENTS " in *" base-"*) ;; *) CLIENTS="$CLIENTS base-5.4 base-jit" ;; esac
fi
TIMEOUT=${BENCH_TIMEOUT:-300}
DELAY=0.05   # W3: seconds of server delay per request
PIN=${BENCH_PIN:-both}
# The first two CPUs this process may use (cgroups may leave out CPU 0).
CPU_A="" CPU_B=""
if command -v taskset >/dev/null 2>&1; then
  read -r CPU_A CPU_B _ <<<"$(taskset -cp $$ 2>/dev/null | sed 's/.*: //' | tr ',' '\n' |
    while IFS=- read -r a b; do seq "$a" "${b:-$a}"; done | head -n 2 | tr '\n' ' ')"
fi
if [ "$PIN" != off ] && [ -z "$CPU_B" ]; then
  PIN=off      # nothing to pin to
fi
case $PIN in
  both)       PLACEMENTS="split same" ;;
  split|same) PLACEMENTS=$PIN ;;
  *)          PIN=off; PLACEMENTS=off ;;
esac
FIRST_PLACEMENT=${PLACEMENTS%% *}
SAFETY_PLACEMENT=$FIRST_PLACEMENT
case " $PLACEMENTS " in *" same "*) SAFETY_PLACEMENT=same ;; esac

mkdir -p "$OUT"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)   # before we add any load
STARTED=$(date +%s)
log() { printf '[bench] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- packages
# Debian packages the harness and the peers need. Installed only when
# missing; the harness still runs (with n/a rows) when an install fails.
DEB_PKGS="nginx-light libnginx-mod-http-echo time wrk curl pkg-config \
  libcurl4-openssl-dev lua5.4 lua-cjson lua-socket openssl \
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
CFLAGS_BENCH="-O2 -std=c99 -Wall -Wextra -pedantic -Wmissing-prototypes -Wshadow"
build_all() {
  log "building the floor, the launcher, the go-gitlab peer and the library"
  # shellcheck disable=SC2046,SC2086  # pkg-config prints several flags
  cc $CFLAGS_BENCH -o "$OUT/floor" bench/floor.c \
    $(pkg-config --cflags --libs libcurl 2>/dev/null || echo -lcurl) \
    >"$OUT/floor-build.log" 2>&1 || log "floor build failed (see $OUT/floor-build.log)"
  # shellcheck disable=SC2086
  cc $CFLAGS_BENCH -o "$OUT/launch" bench/launch.c >"$OUT/launch-build.log" 2>&1 ||
    log "launcher build failed: no W0 (see $OUT/launch-build.log)"

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

# A CA and a server certificate for 127.0.0.1, made now and thrown away with
# the server directory: ECDSA P-256 (what Let's Encrypt issues by default),
# SHA-256, the server certificate signed by the CA and naming
# IP:127.0.0.1 and DNS:localhost. CA is the only file a client is given.
TLS=$SRV/tls
mkdir -p "$TLS"
CA=$TLS/ca.pem
make_certs() {
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -sha256 -days 2 -subj "/CN=lua-gitlab bench CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$TLS/ca.key" -out "$CA" &&
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=127.0.0.1" -keyout "$TLS/server.key" -out "$TLS/server.csr" &&
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$TLS/server.ext" &&
  openssl x509 -req -sha256 -days 2 -in "$TLS/server.csr" -CA "$CA" -CAkey "$TLS/ca.key" \
    -CAcreateserial -extfile "$TLS/server.ext" -out "$TLS/server.pem"
}
make_certs >"$OUT/openssl.log" 2>&1 || { log "certificate generation failed (see $OUT/openssl.log)"; exit 1; }
chmod a+r "$TLS"/*.pem

free_port() {
  node -e 'const s=require("net").createServer();
    s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
PORTS=""
new_port() {   # a free port not in $PORTS (the caller adds it)
  local p
  p=$(free_port)
  while case " $PORTS " in *" $p "*) true ;; *) false ;; esac; do p=$(free_port); done
  echo "$p"
}
PORT_FAST=$(new_port); PORTS="$PORTS $PORT_FAST"
PORT_SLOW=$(new_port); PORTS="$PORTS $PORT_SLOW"
PORT_TLS=$(new_port); PORTS="$PORTS $PORT_TLS"
PORT_PROBE=$(new_port); PORTS="$PORTS $PORT_PROBE"

ECHO_SO=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$ECHO_SO" ] || log "nginx echo module missing: W3 will fail"

# Pagination headers as GitLab sends them, chosen by $arg_page with maps;
# Link points at the scheme and port the client used.
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
  base='$scheme://127.0.0.1:$server_port/api/v4/projects/1/issues?id=1&order_by=created_at&page='
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
# W1, W2, W4 and the safety rows: pages straight from disk (page cache).
# POST /projects/1/issues answers 201 with one issue, PUT /projects/1/issues/1
# 200 with the same issue (nginx's static handler refuses both methods with
# 405, which error_page turns into the file; the request body is read and
# discarded either way, and the connection kept).
cat >"$SRV/locations.conf" <<EOF
location = /api/v4/projects/1/issues {
  error_page 405 =201 /issue.json;
  include $SRV/issues.conf;
}
location = /api/v4/projects/1/issues/1 {
  error_page 405 =200 /issue.json;
  include $SRV/gitlab-headers.conf;
  try_files /issue.json =404;
}
location = /api/v4/projects/1 { include $SRV/project.conf; }
location ~ ^/api/v4/projects/([1-9][0-9]*)\$ {
  include $SRV/gitlab-headers.conf;
  try_files /projects/\$1.json =404;
}
location = /issue.json { internal; include $SRV/gitlab-headers.conf; }
location / { return 404 '{"message":"404 Not Found"}'; }
EOF
# HTTPS: nginx 1.22's "listen ... ssl http2", its defaults otherwise
# (TLS 1.2 and 1.3, session tickets, 128 streams per connection).
cat >"$SRV/tls.conf" <<EOF
ssl_certificate $TLS/server.pem;
ssl_certificate_key $TLS/server.key;
ssl_protocols TLSv1.2 TLSv1.3;
EOF
mkdir -p "$SRV/tmp"
cat >"$SRV/nginx.conf" <<EOF
worker_processes 1;
pid $SRV/nginx.pid;
error_log $SRV/error.log warn;
$( [ -f "$ECHO_SO" ] && echo "load_module $ECHO_SO;" )
events { worker_connections 1024; }
http {
  access_log off;
  log_format probe '\$server_protocol \$ssl_protocol \$connection \$request_method \$uri';
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

  # W1, W2, safety rows: plain HTTP/1.1
  server {
    listen 127.0.0.1:$PORT_FAST;
    include $SRV/locations.conf;
  }

  # W0, W1s, W2s, W4: HTTPS with HTTP/2 (ALPN h2, http/1.1 for clients
  # that only speak that)
  server {
    listen 127.0.0.1:$PORT_TLS ssl http2;
    include $SRV/tls.conf;
    include $SRV/locations.conf;
  }

  # The same HTTPS server with an access log: each client runs W0 and W4
  # once against it before the timed runs, so the report can say which
  # protocol (ALPN) and TLS version each one used and how many connections
  # it opened.
  server {
    listen 127.0.0.1:$PORT_PROBE ssl http2;
    access_log $SRV/probe.log probe;
    include $SRV/tls.conf;
    include $SRV/locations.conf;
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
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT_FAST/api/v4/projects/1" 2>/dev/null &&
    curl -fsS -o /dev/null --cacert "$CA" "https://127.0.0.1:$PORT_TLS/api/v4/projects/1" 2>/dev/null &&
    break
  sleep 0.1
done
FAST="http://127.0.0.1:$PORT_FAST"
SLOW="http://127.0.0.1:$PORT_SLOW"
SECURE="https://127.0.0.1:$PORT_TLS"
PROBE="https://127.0.0.1:$PORT_PROBE"
log "nginx $NGINX_PID: fast $FAST, delayed $SLOW, https $SECURE (CA $CA)"

if [ "${BENCH_SERVE:-0}" = 1 ]; then
  printf '{"fast":"%s","delayed":"%s","https":"%s","probe":"%s","ca":"%s","data":"%s"}\n' \
    "$FAST" "$SLOW" "$SECURE" "$PROBE" "$CA" "$SRV/data"
  cat >/dev/null   # until stdin closes; the EXIT trap stops nginx
  exit 0
fi

# --------------------------------------------------------------- placement
CLIENT_PIN=()
place() {   # split|same|off: pins nginx's worker and sets CLIENT_PIN
  local where pid
  case $1 in
    split) where=$CPU_B; CLIENT_PIN=(taskset -c "$CPU_A") ;;
    same)  where=$CPU_A; CLIENT_PIN=(taskset -c "$CPU_A") ;;
    *)     CLIENT_PIN=(); return ;;
  esac
  for pid in $(pgrep -P "$NGINX_PID"); do
    taskset -pc "$where" "$pid" >/dev/null 2>&1 || log "cannot pin nginx worker $pid"
  done
}

# ---------------------------------------------------------- server capacity
# wrk keeps its connections open like the clients do; -c1 mirrors one
# sequential client, -c4 shows the headroom. wrk speaks HTTP/1.1, also over
# TLS (it does not verify certificates: it is a load generator, not a
# client under test). The numbers go into the report.
CAP="$OUT/capacity.tsv"
: >"$CAP"
capacity() {   # placement name conns url
  local pl=$1 name=$2 conns=$3 url=$4 out
  out=$("${CLIENT_PIN[@]}" wrk -t1 -c"$conns" -d2s --latency "$url" 2>&1) || return
  local rps lat tr
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  tr=$(awk '/^Transfer\/sec:/ {print $2}' <<<"$out")
  lat=$(awk '/^ +50%/ {print $2}' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$conns" "$rps" "$lat" "$tr" "$pl" >>"$CAP"
}
if command -v wrk >/dev/null 2>&1; then
  log "measuring server capacity with wrk"
  for pl in $PLACEMENTS; do
    place "$pl"
    capacity "$pl" "project (W1)" 1 "$FAST/api/v4/projects/1"
    capacity "$pl" "project (W1)" 4 "$FAST/api/v4/projects/1"
    capacity "$pl" "project over TLS (W1s, as HTTP/1.1)" 1 "$SECURE/api/v4/projects/1"
    capacity "$pl" "issues page (W2)" 1 "$FAST/api/v4/projects/1/issues?page=50&per_page=100"
    capacity "$pl" "issues page (W2)" 4 "$FAST/api/v4/projects/1/issues?page=50&per_page=100"
    capacity "$pl" "issues page over TLS (W2s, as HTTP/1.1)" 1 "$SECURE/api/v4/projects/1/issues?page=50&per_page=100"
    [ "$pl" = "$FIRST_PLACEMENT" ] &&
      capacity "$pl" "issues page, delayed (W3)" 16 "$SLOW/api/v4/projects/1/issues?page=50&per_page=100"
  done
else
  log "wrk not installed: no capacity figures"
fi

# -------------------------------------------------------------------- runs
RES="$OUT/results.tsv"
printf 'workload\tclient\trun\tseconds\tprocess_seconds\trss_kb\tstatus\tcount\tchecksum\tserver_cpu_seconds\tplacement\thttp\n' >"$RES"

# CPU time nginx's worker spent during one run (nanoseconds, schedstat), to
# show how much of each client's time the server's own work can explain.
server_ns() {
  local t=0 pid ns
  for pid in $(pgrep -P "$NGINX_PID"); do
    read -r ns _ <"/proc/$pid/schedstat" 2>/dev/null && t=$((t + ns))
  done
  echo "$t"
}

is_tls() { case $1 in w0|w1s|w2s|w4) return 0 ;; esac; return 1; }
is_ours() { case $1 in ours-*|base-*) return 0 ;; esac; return 1; }

# client workload url -> CMD (the command's words) and CENV (VAR=value
# words for its environment); CMD stays empty when the client is missing.
# Each client is given the CA its own way: ours (ca_file), the floor
# (CURLOPT_CAINFO) and python-gitlab (ssl_verify) as an argument; go-gitlab
# as SSL_CERT_FILE and gitbeaker as NODE_EXTRA_CA_CERTS, only for HTTPS.
CMD=() CENV=()
client_cmd() {
  local c=$1 w=$2 u=$3 ca=()
  CMD=() CENV=()
  if is_tls "$w"; then
    ca=("$CA")
    case $c in
      go-gitlab) CENV=("SSL_CERT_FILE=$CA") ;;
      gitbeaker) CENV=("NODE_EXTRA_CA_CERTS=$CA") ;;
    esac
  fi
  case $c in
    floor)         [ -x "$OUT/floor" ] && CMD=("$OUT/floor" "$w" "$u" "${ca[@]}") ;;
    ours-5.4)      CMD=("$LUA54" bench/ours.lua "$w" "$u" "${ca[@]}") ;;
    ours-jit)      CMD=("$LUAJIT" bench/ours.lua "$w" "$u" "${ca[@]}") ;;
    base-5.4)      [ -n "$BASE" ] && CENV+=("BENCH_LIB_ROOT=$BASE") &&
                     CMD=("$LUA54" bench/ours.lua "$w" "$u" "${ca[@]}") ;;
    base-jit)      [ -n "$BASE" ] && CENV+=("BENCH_LIB_ROOT=$BASE") &&
                     CMD=("$LUAJIT" bench/ours.lua "$w" "$u" "${ca[@]}") ;;
    python-gitlab) /usr/bin/python3 -c 'import gitlab' 2>/dev/null &&
                     CMD=(/usr/bin/python3 bench/peers/pygitlab.py "$w" "$u" "${ca[@]}") ;;
    gitbeaker)     [ -f bench/node_modules/@gitbeaker/rest/package.json ] &&
                     CMD=(node bench/peers/gitbeaker.js "$w" "$u") ;;
    go-gitlab)     [ -x "$OUT/gogitlab" ] && CMD=("$OUT/gogitlab" "$w" "$u") ;;
    cjson-5.4)     CMD=("$LUA54" bench/decode.lua "$SRV/data") ;;
    cjson-jit)     CMD=("$LUAJIT" bench/decode.lua "$SRV/data") ;;
  esac
  [ "${#CMD[@]}" -gt 0 ]
}

url_of() {   # workload -> the server it talks to
  case $1 in
    w3) echo "$SLOW" ;;
    w0|w1s|w2s|w4) echo "$SECURE" ;;
    *) echo "$FAST" ;;
  esac
}

# What a correct run prints, from the generated data (data.json).
jnum() { sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p" "$OUT/data.json"; }
PROJECT_BYTES=$(jnum project_bytes)
ISSUES_BYTES=$(jnum issues_bytes)
PROJECTS_BYTES=$(jnum projects_bytes)
expected() {   # client workload -> "count checksum"
  case "$1:$2" in
    floor:w0)  echo "1 $PROJECT_BYTES" ;;
    floor:w1*) echo "2000 $((2000 * PROJECT_BYTES))" ;;
    floor:w4)  echo "1000 $PROJECTS_BYTES" ;;
    floor:*)   echo "100 $ISSUES_BYTES" ;;
    *:w0)      echo "1 1" ;;               # project id 1
    *:w1*)     echo "2000 2000" ;;         # 2,000 times project id 1
    *:w4)      echo "1000 500500" ;;       # project ids 1..1000, each once
    *:s-*)     echo "2000 2000" ;;         # 2,000 times issue iid 1
    *)         echo "10000 50005000" ;;    # iids 1..10000, each once
  esac
}
# The HTTP version a client that shows it must report: HTTP/2 over HTTPS
# (ALPN), except python-gitlab (requests speaks HTTP/1.1 only). "-": the
# client does not show it (gitbeaker; python-gitlab's W0).
expected_http() {   # client workload -> version
  if [ "$1" = python-gitlab ] || ! is_tls "$2"; then echo 1.1; else echo 2; fi
}

# runs one client once: "workload client run placement"
run_one() {
  local w=$1 c=$2 r=$3 pl=$4 url tf of ef status secs="" psecs="" rss="" n="" sum="" http="" s0 s1
  url=$(url_of "$w")
  if ! client_cmd "$c" "$w" "$url"; then
    printf '%s\t%s\t%s\t\t\t\tn/a\t\t\t\t%s\t\n' "$w" "$c" "$r" "$pl" >>"$RES"
    return
  fi
  tf=$OUT/time.out; of=$OUT/run.out; ef=$OUT/logs/$pl-$w-$c-$r.err
  mkdir -p "$OUT/logs"
  : >"$tf"
  s0=$(server_ns)
  if [ "$w" = w0 ]; then
    # the whole process, fork to exit, measured by the launcher
    (
      [ "${#CENV[@]}" -gt 0 ] && export "${CENV[@]}"
      exec "${NICE[@]}" timeout "$TIMEOUT" "${CLIENT_PIN[@]}" "$OUT/launch" "$tf" "${CMD[@]}"
    ) >"$of" 2>"$ef"
    status=$?
  else
    (
      [ "${#CENV[@]}" -gt 0 ] && export "${CENV[@]}"
      exec "${NICE[@]}" timeout "$TIMEOUT" /usr/bin/time -f '%e %M' -o "$tf" \
        "${CLIENT_PIN[@]}" "${CMD[@]}"
    ) >"$of" 2>"$ef"
    status=$?
  fi
  s1=$(server_ns)
  read -r psecs rss _ <"$tf" 2>/dev/null || true
  read -r secs n sum http <"$of" 2>/dev/null || true
  [ "$w" = w0 ] && secs=$psecs        # W0: the process is the measure
  local want_http
  want_http=$(expected_http "$c" "$w")
  if [ "$status" = 3 ] && is_ours "$c"; then
    status=n/a                       # library not built/loadable yet
  elif [ "$status" != 0 ]; then
    status=error
  elif [ "$n $sum" != "$(expected "$c" "$w")" ]; then
    status=wrong                     # lost, repeated or truncated items
  elif [ -n "$http" ] && [ "$http" != - ] && [ "$http" != "$want_http" ]; then
    status=protocol                  # e.g. HTTP/1.1 where HTTP/2 was due
    echo "HTTP version $http, expected $want_http" >>"$ef"
  else
    status=ok
  fi
  [ "$status" = ok ] || log "$pl $w $c run $r: $status (stderr: $ef)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$w" "$c" "$r" "$secs" "$psecs" "$rss" "$status" "$n" "$sum" \
    "$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')" \
    "$pl" "${http:--}" >>"$RES"
}

clients_for() {   # workload -> the clients that run it
  local w=$1 c list=""
  case $w in
    s-*)
      for c in $CLIENTS; do is_ours "$c" && list="$list $c"; done ;;
    w2)
      list=$CLIENTS
      for c in $CLIENTS; do
        case $c in ours-5.4) list="$list cjson-5.4" ;; ours-jit) list="$list cjson-jit" ;; esac
      done ;;
    *) list=$CLIENTS ;;
  esac
  echo "$list"
}

# ------------------------------------------------------------------- probe
# Each client once against the logging HTTPS server: W0 (one GET) and W4
# (1,000 GETs, 16 in flight). nginx's log tells the protocol the client
# negotiated (ALPN), the TLS version and how many connections it opened.
PROBE_TSV="$OUT/probe.tsv"
: >"$PROBE_TSV"
probe_one() {   # client workload
  local c=$1 w=$2 before after
  client_cmd "$c" "$w" "$PROBE" || return
  before=$(wc -l <"$SRV/probe.log" 2>/dev/null || echo 0)
  (
    [ "${#CENV[@]}" -gt 0 ] && export "${CENV[@]}"
    exec timeout "$TIMEOUT" "${CLIENT_PIN[@]}" "${CMD[@]}"
  ) >"$OUT/probe.out" 2>"$OUT/logs/probe-$w-$c.err"
  after=$(wc -l <"$SRV/probe.log" 2>/dev/null || echo 0)
  tail -n "+$((before + 1))" "$SRV/probe.log" | head -n "$((after - before))" |
    awk -v c="$c" -v w="$w" '
      { proto[$1] = 1; tls[$2] = 1; conn[$3] = 1; n++ }
      END {
        p = ""; for (k in proto) p = p (p == "" ? "" : ",") k
        t = ""; for (k in tls) t = t (t == "" ? "" : ",") k
        m = 0; for (k in conn) m++
        printf "%s\t%s\t%s\t%s\t%d\t%d\n", c, w, p, t, m, n
      }' >>"$PROBE_TSV"
}
mkdir -p "$OUT/logs"
case " $WORKLOADS " in
  *" w0 "*|*" w4 "*)
    log "probe: which protocol each client negotiates over HTTPS"
    place "$FIRST_PLACEMENT"
    for c in $CLIENTS; do
      probe_one "$c" w0
      case " $WORKLOADS " in *" w4 "*) probe_one "$c" w4 ;; esac
    done ;;
esac

# Rounds interleave the clients (and, with BENCH_PIN=both, the placements)
# so slow drift (thermal, page cache, other load) spreads over all of them
# instead of favouring one.
declare -A SKIP=()
for r in $(seq 1 "$RUNS"); do
  for pl in $PLACEMENTS; do
    log "round $r/$RUNS, $pl"
    place "$pl"
    for w in $WORKLOADS; do
      [ "$w" = w3 ] && { [ "$pl" != "$FIRST_PLACEMENT" ] || [ "$r" -gt "$W3_RUNS" ]; } && continue
      case $w in s-*) [ "$pl" != "$SAFETY_PLACEMENT" ] && continue ;; esac
      reps=1
      [ "$w" = w0 ] && reps=$W0_PER_ROUND
      for k in $(seq 1 "$reps"); do
        run=$r
        [ "$w" = w0 ] && run=$r.$k
        for c in $(clients_for "$w"); do
          # a client that is not there is not retried every round
          if [ -n "${SKIP[$c]:-}" ]; then
            printf '%s\t%s\t%s\t\t\t\tn/a\t\t\t\t%s\t\n' "$w" "$c" "$run" "$pl" >>"$RES"
            continue
          fi
          run_one "$w" "$c" "$run" "$pl"
          last=$(tail -n 1 "$RES" | cut -f7)
          [ "$last" = n/a ] && SKIP[$c]=1
        done
      done
    done
  done
done

# ------------------------------------------------------------ safety: Ir
# Wall time cannot resolve a few instructions per request, so the safety
# rows also run once under callgrind (the client only; nginx is not traced):
# the whole process's instructions, and those of the core's prerequest
# callback (on_prereq, POSTs only) and body callback (on_write, where the
# max_body bound is checked), per request.
IR_TSV="$OUT/ir.tsv"
: >"$IR_TSV"
IR_N=${BENCH_IR_REQUESTS:-500}
if [ "${BENCH_IR:-1}" = 1 ] && command -v valgrind >/dev/null 2>&1 &&
   command -v callgrind_annotate >/dev/null 2>&1; then
  place "$SAFETY_PLACEMENT"
  for w in $WORKLOADS; do
    case $w in s-*) ;; *) continue ;; esac
    for c in $CLIENTS; do
      case $c in ours-5.4|base-5.4) ;; *) continue ;; esac
      client_cmd "$c" "$w" "$(url_of "$w")" || continue
      log "callgrind: $w $c ($IR_N requests)"
      cg=$OUT/logs/callgrind.$w.$c
      (
        [ "${#CENV[@]}" -gt 0 ] && export "${CENV[@]}"
        export BENCH_REQUESTS="$IR_N"
        exec timeout "$TIMEOUT" "${CLIENT_PIN[@]}" valgrind -q --tool=callgrind \
          --callgrind-out-file="$cg" "${CMD[@]}"
      ) >"$OUT/ir.out" 2>"$OUT/logs/ir-$w-$c.err" || { log "callgrind $w $c failed"; continue; }
      read -r _ n sum _ <"$OUT/ir.out"
      [ "$n $sum" = "$IR_N $IR_N" ] || { log "callgrind $w $c: wrong answer"; continue; }
      callgrind_annotate --auto=no --threshold=100 "$cg" 2>/dev/null |
        awk -v w="$w" -v c="$c" -v n="$IR_N" '
          function num(s) { gsub(",", "", s); return s + 0 }
          /PROGRAM TOTALS/ { total = num($1) }
          NF > 1 && ($NF ~ /:on_prereq$/ || $(NF-1) ~ /:on_prereq$/) { prereq += num($1) }
          NF > 1 && ($NF ~ /:on_write$/ || $(NF-1) ~ /:on_write$/) { write += num($1) }
          END { printf "%s\t%s\t%d\t%.0f\t%.0f\t%.0f\n", w, c, n, total, prereq, write }' >>"$IR_TSV"
    done
  done
fi

# ------------------------------------------------------------------ report
{
  echo "runs=$RUNS"
  echo "w3_runs=$((W3_RUNS < RUNS ? W3_RUNS : RUNS))"
  echo "w0_runs=$((W0_PER_ROUND * RUNS))"
  echo "delay=$DELAY"
  echo "cores=$(nproc)"
  echo "load_before=$LOAD_BEFORE"
  echo "nice=${BENCH_NICE:-}"
  echo "pin=$PIN"
  echo "placements=$PLACEMENTS"
  echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "minutes=$(awk -v a="$STARTED" -v b="$(date +%s)" 'BEGIN { printf "%.1f", (b - a) / 60 }')"
  echo "curl=$(curl-config --version 2>/dev/null)"
  echo "openssl=$(openssl version 2>/dev/null | awk '{print $1, $2}')"
  echo "nginx=$("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"
  echo "lua54=$($LUA54 -v 2>&1 | head -1)"
  echo "luajit=$($LUAJIT -v 2>&1 | head -1)"
  echo "python=$(/usr/bin/python3 -c 'import sys,gitlab,requests; print("Python %d.%d.%d" % sys.version_info[:3], "python-gitlab", gitlab.__version__, "requests", requests.__version__)' 2>/dev/null)"
  echo "node=$(node --version 2>/dev/null) gitbeaker $(node -p 'require("./bench/node_modules/@gitbeaker/rest/package.json").version' 2>/dev/null)"
  echo "go=$(go version 2>/dev/null | awk '{print $3}') go-gitlab $(dpkg-query -W -f='${Version}' golang-github-xanzy-go-gitlab-dev 2>/dev/null)"
  cat "$OUT/data.json"
} >"$OUT/meta.txt"
"$LUA54" bench/report.lua "$RES" "$CAP" "$OUT/meta.txt" "$PROBE_TSV" "$IR_TSV" | tee "$OUT/report.md"
