#!/usr/bin/env bash
# make check-valgrind: busted under lua5.4 running inside valgrind memcheck
# with the normal build (build/5.4). Fails on any memory error (invalid
# read/write, use of uninitialised values, bad free) and on any definite
# leak; tools/valgrind.supp silences what the interpreter and the system
# libraries keep for the life of the process.
#   bash tools/check-valgrind.sh                      every spec file
#   bash tools/check-valgrind.sh spec/10-client_spec.lua spec/80-faults_spec.lua
#   VALGRIND_ONE=1 ...   one valgrind run per spec file (slower; a report
#                        then names its file)
# Prints "N passed, N failed" last.
set -u
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; echo "0 passed, 1 failed"; exit 1; }
[ -f build/5.4/gitlab/core.so ] || make -s build >/dev/null
# logs stay under build/test-logs/valgrind after the run
log=build/test-logs/valgrind
rm -rf "$log"; mkdir -p "$log"
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(spec)
passed=0; failed=0
start=$(date +%s)

run() {   # name specs...
  local name=$1; shift
  local out="$log/$name.out"
  # Specs with tight timing see a 20-50x slower client: SPEC_VALGRIND lets
  # them widen their limits; SPEC_SLOW_SKIP drops the multi-second ones.
  env SPEC_VALGRIND=1 SPEC_SLOW_SKIP=${SPEC_SLOW_SKIP:-1} LUA_CPATH="build/5.4/?.so;;" \
    valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
      --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=40 \
      --suppressions=tools/valgrind.supp --log-file="$log/$name.vg" \
      lua5.4 /usr/bin/busted -o utfTerminal "$@" >"$out" 2>&1
  local rc=$? line p f e errs
  line=$(grep -aE '[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors?' "$out" | tail -n 1)
  p=$(echo "$line" | grep -oE '[0-9]+ success' | grep -oE '[0-9]+'); p=${p:-0}
  f=$(echo "$line" | grep -oE '[0-9]+ failure' | grep -oE '[0-9]+'); f=${f:-0}
  e=$(echo "$line" | grep -oE '[0-9]+ error' | grep -oE '[0-9]+'); e=${e:-0}
  f=$((f + e))
  errs=$(grep -aoE 'ERROR SUMMARY: [0-9]+' "$log/$name.vg" | tail -n 1 | grep -oE '[0-9]+$')
  errs=${errs:-1}
  if [ "$f" -ne 0 ]; then grep -aE -A10 '^(Failure|Error) (→|->)' "$out" | head -120; fi
  if [ "$errs" -ne 0 ]; then
    grep -aE -v '^==[0-9]+== *$' "$log/$name.vg" | grep -aE -A30 'Invalid|uninitialised|definitely lost|Mismatched|free\(\)' | head -80
    f=$((f + 1))
  elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    tail -n 20 "$out"; f=1
  fi
  echo "-- $name: $p passed, $f failed, valgrind errors: $errs"
  passed=$((passed + p)); failed=$((failed + f))
}

if [ "${VALGRIND_ONE:-0}" = 1 ]; then
  for s in $(find "${specs[@]}" -name '*_spec.lua' | sort); do run "$(basename "$s" .lua)" "$s"; done
else
  run all "${specs[@]}"
fi
echo "valgrind: $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
