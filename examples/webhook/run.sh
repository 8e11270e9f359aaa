#!/usr/bin/env bash
# Runs the example receiver in the foreground, as the current user:
#   GITLAB_WEBHOOK_TOKEN=... [GITLAB_WEBHOOK_SIGNING_TOKEN=whsec_...] \
#     bash examples/webhook/run.sh [PORT]
# (make build first: it loads build/jit/gitlab/core.so). Point a GitLab hook
# at http://127.0.0.1:PORT/webhook (through a tunnel or a reverse proxy
# with TLS). Needs the Debian packages nginx-light (or nginx),
# libnginx-mod-http-lua and luajit2.
set -eu
# The workers run as the user who starts nginx (the `user` line): not root,
# for a process that reads what anyone can post to it.
if [ "$(id -u)" -eq 0 ] && [ "${WEBHOOK_RUN_AS_ROOT:-}" != 1 ]; then
  echo "run.sh: run it as an unprivileged user (the nginx workers would run as root;" \
       "WEBHOOK_RUN_AS_ROOT=1 to do it anyway)" >&2
  exit 1
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
port=${1:-8089}
modules=/usr/lib/nginx/modules
for m in ndk_http_module ngx_http_lua_module; do
  [ -e "$modules/$m.so" ] || { echo "no $modules/$m.so: apt-get install libnginx-mod-http-lua" >&2; exit 1; }
done
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$port|g" -e "s|@ROOT@|$root|g" \
    -e "s|@MODULES@|$modules|g" -e "s|@USER@|$(id -un) $(id -gn)|g" "$root/examples/webhook/nginx.conf.in" > "$prefix/nginx.conf"
echo "listening on http://127.0.0.1:$port/webhook (log: $prefix/error.log)"
nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" -g "daemon off;"
