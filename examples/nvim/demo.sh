#!/usr/bin/env bash
# Opens Neovim on the example plugin against the fake GitLab server, whose
# merge request list answers after 2 seconds: type, move, open other
# buffers meanwhile; the list appears when the answer does.
#   bash examples/nvim/demo.sh        (or: make nvim-demo)
set -eu
cd "$(dirname "$0")/../.."
root=$PWD
[ -f build/jit/gitlab/core.so ] || make build
dir=$(mktemp -d)
node spec/fake/server.js --no-stdin-exit >"$dir/ready" 2>"$dir/err" &
pid=$!
trap 'kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -s "$dir/ready" ] && break; sleep 0.05; done
url=$(sed -E 's/.*"http":"([^"]+)".*/\1/' "$dir/ready")
[ -n "$url" ] || { cat "$dir/err"; exit 1; }
post() { curl -fsS -H 'Content-Type: application/json' -d "$2" "$url/__admin/$1" >/dev/null; }
post seed '{"path":"/projects/1/merge_requests","items":[
  {"title":"Fix the login page","source_branch":"fix-login","target_branch":"main"},
  {"title":"Faster CI","source_branch":"ci","target_branch":"main","draft":true}]}'
post faults '{"path_re":"^/api/v4/projects/[^/]+/merge_requests$","delay_ms":2000,"times":-1}'
GITLAB_URL=$url GITLAB_TOKEN=glpat-root GITLAB_PROJECT=group/proj \
nvim -u NONE -i NONE -n \
  --cmd "set rtp^=$root/examples/nvim" \
  --cmd "lua package.path = '$root/lua/?.lua;$root/lua/?/init.lua;' .. package.path" \
  --cmd "lua package.cpath = '$root/build/jit/?.so;' .. package.cpath" \
  -c "runtime plugin/gitlab.lua" \
  -c "GitlabMergeRequests"
