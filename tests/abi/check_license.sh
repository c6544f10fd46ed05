#!/usr/bin/env bash
# usage: check_license.sh REPO
# One license, Apache-2.0, stated everywhere it is declared: the LICENSE file, the header,
# the README, each package's metadata (the Python wheel's METADATA, the crates' and the
# NuGet package's are checked where they are built: bindings/*/check_*).
set -euo pipefail
repo=$1
status=0
need() { grep -q -- "$2" "$repo/$1" || { echo "$1: does not state $3"; status=1; }; }
need LICENSE "Apache License" "the Apache License text"
need LICENSE "Version 2.0, January 2004" "version 2.0"
need include/spattn/spattn.h "SPDX-License-Identifier: Apache-2.0" "an SPDX line"
need README.md "Apache-2.0" "the license"
need bindings/rust/spattn/Cargo.toml 'license = "Apache-2.0"' "the license"
need bindings/rust/spattn-sys/Cargo.toml 'license = "Apache-2.0"' "the license"
need bindings/python/build_backend/spattn_build.py 'LICENSE = "Apache-2.0"' "the license"
need bindings/csharp/Spattn.csproj "<PackageLicenseExpression>Apache-2.0</PackageLicenseExpression>" "the license"
need bindings/csharp/tools/pack_nuget.py '<license type="expression">Apache-2.0</license>' "the license"
for link in bindings/python/LICENSE bindings/rust/spattn/LICENSE bindings/rust/spattn-sys/LICENSE; do
  cmp -s "$repo/$link" "$repo/LICENSE" || { echo "$link is not the project's LICENSE"; status=1; }
done
other=$(grep -rIl --exclude-dir=.git --exclude-dir='build*' -E "SPDX-License-Identifier: (MIT|BSD|GPL)|license = \"(MIT|BSD)" "$repo" || true)
[ -z "$other" ] || { echo "another license declared in: $other"; status=1; }
[ "$status" = 0 ] && echo "Apache-2.0 stated in LICENSE, the header, the README and every package's metadata"
exit $status
