#!/usr/bin/env bash
# usage: check_install.sh CMAKE BUILD_DIR CONSUMER_SOURCE SCRATCH
# Installs the build into SCRATCH/prefix, builds the consumer project against
# it with find_package(spattn), runs it, and checks the pkg-config file.
set -euo pipefail
cmake=$1 build=$2 consumer=$3 scratch=$4
rm -rf "$scratch"; mkdir -p "$scratch"
"$cmake" --install "$build" --prefix "$scratch/prefix" > "$scratch/install.log"
"$cmake" -S "$consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$scratch/prefix" > "$scratch/configure.log"
"$cmake" --build "$scratch/consumer" > "$scratch/build.log"
libdir=$(dirname "$(find "$scratch/prefix" -name 'libspattn.so' | head -n1)")
LD_LIBRARY_PATH="$libdir" "$scratch/consumer/consumer"
pc=$(find "$scratch/prefix" -name spattn.pc | head -n1)
PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --define-prefix --libs --cflags spattn | grep -q -- '-lspattn'
echo "install, find_package and pkg-config: ok"
