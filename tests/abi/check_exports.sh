#!/usr/bin/env bash
# usage: check_exports.sh LIBRARY VERSION_SCRIPT HEADER
# Fails when the library's exported functions, the version script's list and
# the header's SPATTN_API declarations are not the same set.
set -euo pipefail
lib=$1 map=$2 header=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TtDdBbRrWiVv]$/ {sub(/@.*/, "", $3); print $3}' \
  | grep -v '^SPATTN_' | sort -u > "$tmp/exported"
sed -n '/global:/,/local:/p' "$map" | grep -oE '^[[:space:]]*[a-z_0-9]+;' | tr -d ' ;' | sort -u > "$tmp/listed"
tr '\n' ' ' < "$header" | grep -oE 'SPATTN_API [^;{]*\(' | sed -E 's/\($//; s/.*[ *]//' | sort -u > "$tmp/declared"
status=0
if ! diff -u "$tmp/listed" "$tmp/exported" > "$tmp/d1"; then
  echo "exported symbols differ from $map (- listed, + exported):"; cat "$tmp/d1"; status=1
fi
if ! diff -u "$tmp/declared" "$tmp/listed" > "$tmp/d2"; then
  echo "header declarations differ from $map (- declared, + listed):"; cat "$tmp/d2"; status=1
fi
[ "$status" = 0 ] && echo "exports match: $(wc -l < "$tmp/exported") functions"
exit $status
