#!/usr/bin/env bash
# usage: check_package.sh LIBSPATTN_DIR WORK_DIR   (cargo on PATH or $CARGO)
# 1. `cargo package --workspace` (offline: the two crates are verified against each other
#    through cargo's local registry) succeeds, and each .crate carries LICENSE and the
#    Apache-2.0 license field;
# 2. spattn-sys finds the library through pkg-config when SPATTN_LIB_DIR is not set (a
#    spattn.pc pointing at LIBSPATTN_DIR), and the example runs with no LD_LIBRARY_PATH;
# 3. with neither, the build prints a cargo warning naming SPATTN_LIB_DIR and PKG_CONFIG_PATH.
set -euo pipefail
libdir=$1 work=$2
cargo=${CARGO:-cargo}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
rm -rf "$work"; mkdir -p "$work/pkgconfig" "$work/empty"
unset SPATTN_LIB_DIR LD_LIBRARY_PATH LIBRARY_PATH
export CARGO_TARGET_DIR=$work/target

echo "-- cargo package --offline --locked --workspace --allow-dirty"
# cargo unpacks the just-packaged spattn-sys under registry/src once per version and reuses
# that copy on the next run, so a second run would verify against the old header's bindings.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/spattn-sys-0.1.0
"$cargo" package --quiet --offline --locked --workspace --allow-dirty --manifest-path "$here/Cargo.toml" 2> "$work/package.log" ||
  { cat "$work/package.log"; exit 1; }
for crate in spattn-sys spattn; do
  file=$CARGO_TARGET_DIR/package/$crate-0.1.0.crate
  tar -tzf "$file" | grep -x "$crate-0.1.0/LICENSE" > /dev/null || { echo "$file has no LICENSE"; exit 1; }
  tar -xzOf "$file" "$crate-0.1.0/Cargo.toml" | grep -x 'license = "Apache-2.0"' > /dev/null ||
    { echo "$file: no Apache-2.0 license field"; exit 1; }
  echo "  $(basename "$file"): $(tar -tzf "$file" | wc -l) files, LICENSE, license = \"Apache-2.0\""
done

echo "-- no SPATTN_LIB_DIR: found through pkg-config"
cat > "$work/pkgconfig/spattn.pc" <<PC
libdir=$libdir
includedir=$repo/include

Name: spattn
Description: spattn from a build folder
Version: 0.1.0
Libs: -L\${libdir} -lspattn
Cflags: -I\${includedir}
PC
PKG_CONFIG_PATH=$work/pkgconfig "$cargo" run --quiet --offline --locked --manifest-path "$here/Cargo.toml" \
  -p spattn --example lookup -- "$repo/examples/checkpoints/wan-mini" "$repo/examples/configs/visualgen_target.yaml" 0.5 \
  | tee "$work/run.log"
grep -q "12182\.49" "$work/run.log"

echo "-- neither: a warning says what to set"
rm -rf "$CARGO_TARGET_DIR"
PKG_CONFIG_PATH=$work/empty PKG_CONFIG_LIBDIR=$work/empty "$cargo" build --offline --locked \
  --manifest-path "$here/Cargo.toml" -p spattn --example lookup > "$work/build.log" 2>&1 || true
grep "warning: spattn-sys.*Set SPATTN_LIB_DIR to the folder of libspattn.so, or PKG_CONFIG_PATH" "$work/build.log" ||
  { echo "no warning naming SPATTN_LIB_DIR:"; cat "$work/build.log"; exit 1; }
echo "rust packaging and library discovery: ok"
