#!/usr/bin/env bash
# Regenerates the bindings from the current header into a temporary file and
# fails when they differ from the checked-in src/bindings.rs. Whitespace is
# ignored, so the check holds whether or not bindgen finds rustfmt to format
# its output; run ./generate.sh to update the checked-in file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$here/generate.sh" "$tmp/bindings.rs"
if [ "$(tr -d ' \t\n' < "$tmp/bindings.rs")" != "$(tr -d ' \t\n' < "$here/src/bindings.rs")" ]; then
  echo "bindings/rust/spattn-sys/src/bindings.rs is stale: run bindings/rust/spattn-sys/generate.sh"
  diff -u "$here/src/bindings.rs" "$tmp/bindings.rs" | head -80 || true
  exit 1
fi
echo "bindings.rs matches include/spattn/spattn.h ($(grep -c 'pub fn spattn_' "$here/src/bindings.rs") functions)"
