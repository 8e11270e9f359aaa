#!/usr/bin/env bash
# `make demo`: starts the bundled fake GitLab on loopback, seeds a project,
# and runs the examples against it under Lua 5.4 and LuaJIT.
set -euo pipefail
cd "$(dirname "$0")/.."

coproc FAKE { exec node spec/fake/server.js; }
read -r -t 20 line <&"${FAKE[0]}" || { echo "fake GitLab did not start" >&2; exit 1; }
url=$(printf '%s' "$line" | sed -E 's/.*"http":"([^"]+)".*/\1/')
echo "fake GitLab at $url"

admin() { curl -fsS -X "$1" -H 'Content-Type: application/json' --data "$3" "$url/__admin$2" >/dev/null; }
admin POST /seed '{"path":"/projects/1/issues","count":0,"clear":true,"items":[
 {"title":"Login page crashes on submit","labels":["bug","ui"]},
 {"title":"Add dark mode","labels":["feature"]},
 {"title":"Docs: explain tokens","labels":[]},
 {"title":"Slow pipeline on main","labels":["ci","performance"]},
 {"title":"Typo in README","labels":[]}]}'
for ref in main main feature/login; do   # each pipeline gets build/test/deploy jobs
  curl -fsS -X POST -H 'PRIVATE-TOKEN: glpat-root' --data-urlencode "ref=$ref" \
    "$url/api/v4/projects/1/pipeline" >/dev/null
done

admin POST /files/artifact '{"project":1,"job":7,"size":20000000}'   # 20 MB, served via object storage
admin POST /oauth '{"device_script":["pending","approved"],"device_interval":0}'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export GITLAB_URL="$url" GITLAB_TOKEN=glpat-root GITLAB_PROJECT=group/proj
export LUA_PATH="lua/?.lua;lua/?/init.lua;;"
for lua in lua5.4 luajit; do
  if [ "$lua" = lua5.4 ]; then cpath=build/5.4; else cpath=build/jit; fi
  for ex in issues triage pipelines; do
    echo
    echo "== $lua examples/$ex.lua"
    LUA_CPATH="$cpath/?.so;;" "$lua" "examples/$ex.lua"
  done
  echo
  echo "== $lua examples/graphql_nodes.lua (GraphQL connections, 2 nodes a page)"
  LUA_CPATH="$cpath/?.so;;" "$lua" examples/graphql_nodes.lua group/proj 2
done
echo
echo "== lua5.4 examples/artifacts.lua (20 MB through the redirect to object storage)"
lua5.4 examples/artifacts.lua 1 7 "$work/artifacts.zip"
ls -l "$work/artifacts.zip"
echo
echo "== luajit examples/device_login.lua (OAuth device flow; config in a temp dir)"
XDG_CONFIG_HOME="$work" GITLAB_CLIENT_ID=lua-gitlab-public luajit examples/device_login.lua demo
echo
echo "== lua5.4 examples/oauth_webapp.lua (web app sign-in: confidential app, code exchange, userinfo)"
GITLAB_CLIENT_ID=lua-gitlab-confidential GITLAB_CLIENT_SECRET=lua-gitlab-secret \
  GITLAB_REDIRECT_URI=https://app.example/oauth/callback lua5.4 examples/oauth_webapp.lua --browser
echo
echo "== luajit examples/oauth_webapp.lua (web app sign-in: public app with PKCE)"
GITLAB_CLIENT_ID=lua-gitlab-public GITLAB_REDIRECT_URI=http://127.0.0.1/callback \
  luajit examples/oauth_webapp.lua --browser
echo
echo "demo finished"
