#!/usr/bin/env bash
# Checks that the C files of gitlab.core call only files of lower layers.
# The layer order is written once, in the "Layers" comment block of
# src/gl.h (one "LAYER name: file file ..." line per layer, bottom first).
# Each src/*.c is compiled alone to an object; for every symbol a file uses
# (nm -u) that another file defines (nm --defined-only -g), the edge
# "a -> b" passes when b sits in a lower layer than a and fails otherwise
# (same layer included: files of one layer know nothing of each other).
# Every file must be placed in exactly one layer. Prints one "-- " line per
# failure and "N passed, N failed" last; exit 1 on any failure.
#   bash tools/layers.sh [SRCDIR]      (default src; LAYERS_HDR=file to read
#                                      the order from another header)
set -u
src=${1:-src}
hdr=${LAYERS_HDR:-src/gl.h}
cc=${CC:-cc}
cflags=$(pkg-config --cflags lua5.4 libcurl 2>/dev/null || echo -I/usr/include/lua5.4)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0

# file -> layer number, from the header's LAYER lines
if ! grep -qE '^ \* LAYER [a-z0-9_-]+:' "$hdr" 2>/dev/null; then
  echo "-- FAIL: no layer order (\" * LAYER name: files\" lines) in $hdr"
  echo "0 passed, 1 failed"; exit 1
fi
sed -nE 's/^ \* LAYER ([a-z0-9_-]+):(.*)$/\1 \2/p' "$hdr" |
  awk '{ for (i = 2; i <= NF; i++) print $i, NR, $1 }' >"$tmp/layers"
echo "== layer order from $hdr (bottom first):"
sed -nE 's/^ \* LAYER ([a-z0-9_-]+):(.*)$/   \1:\2/p' "$hdr"

for f in "$src"/*.c; do
  n=$(basename "$f" .c)
  if ! "$cc" -c -O0 -std=c99 -fPIC $cflags -I "$src" "$f" -o "$tmp/$n.o" 2>"$tmp/$n.err"; then
    echo "-- FAIL: $f does not compile:"; sed 's/^/   /' "$tmp/$n.err" | head -n 5
    failed=$((failed + 1)); continue
  fi
  c=$(awk -v n="$n" '$1 == n' "$tmp/layers" | wc -l)
  if [ "$c" -eq 1 ]; then passed=$((passed + 1))
  else echo "-- FAIL: $n.c is in $c layers of $hdr (needs exactly one)"; failed=$((failed + 1)); fi
  nm --defined-only -g "$tmp/$n.o" | awk -v o="$n" 'NF == 3 { print o, $3 }' >>"$tmp/defs"
  nm -u "$tmp/$n.o" | awk -v o="$n" '{ print o, $2 }' >>"$tmp/uses"
done
while read -r n _ _; do
  [ -e "$src/$n.c" ] || { echo "-- FAIL: $hdr places $n, but there is no $src/$n.c"; failed=$((failed + 1)); }
done <"$tmp/layers"

# "a b level_a level_b symbols..." per edge
touch "$tmp/defs" "$tmp/uses"
awk 'FILENAME == ARGV[1] { lv[$1] = $2; ln[$1] = $3; next }
     FILENAME == ARGV[2] { d[$2] = $1; next }
     ($2 in d) && d[$2] != $1 { k = $1 " " d[$2]; e[k] = e[k] " " $2 }
     END { for (k in e) { split(k, p, " ");
             print p[1], p[2], (p[1] in lv ? lv[p[1]] : 0), (p[2] in lv ? lv[p[2]] : 0),
                   (p[1] in ln ? ln[p[1]] : "?"), (p[2] in ln ? ln[p[2]] : "?") e[k] } }' \
  "$tmp/layers" "$tmp/defs" "$tmp/uses" | sort >"$tmp/edges"
while read -r a b la lb na nb syms; do
  if [ "$la" -gt 0 ] && [ "$lb" -gt 0 ] && [ "$lb" -lt "$la" ]; then
    passed=$((passed + 1))
  else
    echo "-- FAIL: $a ($na) -> $b ($nb), not a lower layer: $syms"
    failed=$((failed + 1))
  fi
done <"$tmp/edges"
# name the circles too: per edge a -> b, the shortest way from b back to
# a (breadth first); each circle printed once
awk '{ adj[$1] = adj[$1] " " $2; ea[NR] = $1; eb[NR] = $2 }
     END {
       for (e = 1; e <= NR; e++) {
         s = eb[e]; t = ea[e]
         delete from; delete q; h = 1; n = 1; q[1] = s; from[s] = ""; found = (s == t)
         while (h <= n && !found) {
           u = q[h++]; m = split(adj[u], k, " ")
           for (i = 1; i <= m && !found; i++)
             if (!(k[i] in from)) { from[k[i]] = u; q[++n] = k[i]; if (k[i] == t) found = 1 }
         }
         if (!found) continue
         c = 0; for (v = t; v != ""; v = from[v]) p[++c] = v   # t back to s
         # the circle: t -> s -> ... -> t, i.e. p[c], ..., p[1] after t
         cyc[1] = t; for (i = 1; i < c; i++) cyc[i + 1] = p[c - i + 1]
         lo = 1; for (i = 2; i <= c; i++) if (cyc[i] < cyc[lo]) lo = i
         line = ""; for (i = 0; i < c; i++) line = line cyc[(lo - 1 + i) % c + 1] " -> "
         print "-- circle: " line cyc[lo]
       } }' "$tmp/edges" | sort -u
echo "== $(wc -l <"$tmp/edges") edges between files checked"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
