#!/usr/bin/env bash
# usage: check_install.sh CMAKE CC BUILD_DIR CONSUMER_SOURCE SCRATCH
# Installs the build into a scratch prefix (not the configured one) and moves
# the tree elsewhere, so that nothing may depend on where it was installed.
# Then, with no LD_LIBRARY_PATH: the installed `bin/spattn` starts; a consumer
# builds with find_package(spattn) and runs; the same program builds with
# `pkg-config --cflags --libs spattn` (no --define-prefix) and runs; the
# license is installed.
set -euo pipefail
cmake=$1 cc=$2 build=$3 consumer=$4 scratch=$5
rm -rf "$scratch"; mkdir -p "$scratch"
"$cmake" --install "$build" --prefix "$scratch/staged" > "$scratch/install.log"
mv "$scratch/staged" "$scratch/prefix"
prefix=$scratch/prefix
unset LD_LIBRARY_PATH PKG_CONFIG_SYSROOT_DIR

# The tool finds its library through its RPATH.
"$prefix/bin/spattn" version | grep "^spattn [0-9]" > /dev/null || { echo "installed bin/spattn does not start"; exit 1; }

"$cmake" -S "$consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$prefix" > "$scratch/configure.log"
"$cmake" --build "$scratch/consumer" > "$scratch/build.log"
"$scratch/consumer/consumer"

pc=$(find "$prefix" -name spattn.pc)
export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs spattn)
libdir=$(pkg-config --variable=libdir spattn)
includedir=$(pkg-config --variable=includedir spattn)
[ "$(realpath "$includedir")" = "$(realpath "$prefix/include")" ] ||
  { echo "pkg-config includedir $includedir is not $prefix/include"; exit 1; }
[ -e "$libdir/libspattn.so" ] || { echo "pkg-config libdir $libdir has no libspattn.so"; exit 1; }
# shellcheck disable=SC2086  (the flags are words)
"$cc" -std=c99 "$consumer/main.c" $flags -Wl,-rpath,"$libdir" -o "$scratch/pc_consumer"
"$scratch/pc_consumer"

[ -s "$prefix/share/doc/spattn/LICENSE" ] || { echo "no share/doc/spattn/LICENSE installed"; exit 1; }
echo "install at a moved prefix: bin/spattn, find_package, pkg-config ($flags) and license: ok"
