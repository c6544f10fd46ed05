#!/usr/bin/env bash
# usage: check_exports.sh LIBRARY VERSION_SCRIPT HEADER [CC]
# Fails when the library's exported functions, the version script's list and
# the header's SPATTN_API declarations are not the same set, or when a
# declared function has no PFN_<name> function-pointer typedef in the header
# (or a typedef names no function). With CC, also compiles (C99, -pedantic
# -Werror) a table that stores every function in its PFN_ type, so a typedef
# whose signature differs from the declaration fails.
set -euo pipefail
lib=$1 map=$2 header=$3 cc=${4:-}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TtDdBbRrWiVv]$/ {sub(/@.*/, "", $3); print $3}' \
  | grep -v '^SPATTN_' | sort -u > "$tmp/exported"
sed -n '/global:/,/local:/p' "$map" | grep -oE '^[[:space:]]*[a-z_0-9]+;' | tr -d ' ;' | sort -u > "$tmp/listed"
# The header without comments and preprocessor lines, on one line.
sed -E ':a; s@/\*([^*]|\*+[^*/])*\*+/@ @g; /\/\*/ { N; ba }' "$header" | grep -v '^[[:space:]]*#' \
  | tr '\n' ' ' > "$tmp/flat.h"
grep -oE 'SPATTN_API [^;{#]*\(' "$tmp/flat.h" | sed -E 's/\($//; s/.*[ *]//' | sort -u > "$tmp/declared"
grep -oE 'typedef [^;]*\(\*PFN_spattn_[a-z_0-9]+\)' "$tmp/flat.h" | sed -E 's/.*\(\*PFN_//; s/\)$//' \
  | sort -u > "$tmp/pfn"
status=0
if ! diff -u "$tmp/listed" "$tmp/exported" > "$tmp/d1"; then
  echo "exported symbols differ from $map (- listed, + exported):"; cat "$tmp/d1"; status=1
fi
if ! diff -u "$tmp/declared" "$tmp/listed" > "$tmp/d2"; then
  echo "header declarations differ from $map (- declared, + listed):"; cat "$tmp/d2"; status=1
fi
if ! diff -u "$tmp/declared" "$tmp/pfn" > "$tmp/d3"; then
  echo "functions without a PFN_ typedef in $header, or typedefs without a function (- declared, + typedef):"
  cat "$tmp/d3"; status=1
fi
if [ -n "$cc" ]; then
  {
    echo '#include <spattn/spattn.h>'
    echo 'struct pfn_table {'; sed 's/.*/  PFN_& &;/' "$tmp/declared"; echo '};'
    echo 'const struct pfn_table spattn_pfn_table = {'; sed 's/.*/  &,/' "$tmp/declared"; echo '};'
  } > "$tmp/pfn_table.c"
  if ! "$cc" -std=c99 -pedantic -Wall -Werror -fsyntax-only -I "$(dirname "$header")/.." "$tmp/pfn_table.c" \
       > "$tmp/cc.log" 2>&1; then
    echo "a PFN_ typedef does not match its function's signature:"; cat "$tmp/cc.log"; status=1
  fi
fi
[ "$status" = 0 ] && echo "exports match: $(wc -l < "$tmp/exported") functions, each with its PFN_ typedef"
exit $status
