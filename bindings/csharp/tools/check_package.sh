#!/usr/bin/env bash
# usage: check_package.sh MONO PYTHON CSHARP_OUT LIBSPATTN FAKE_MAJOR_LIB REPO VERSION WORK
# CSHARP_OUT holds Spattn.dll, Spattn.dll.config and Lookup.exe (built by CMake).
#   1. Only libspattn.so.0 installed (what a runtime package installs, no libspattn.so link):
#      the example loads it and prints the lookup; without Spattn.dll.config it cannot.
#   2. A libspattn.so.0 of major version 1: refused with a message naming both versions.
#   3. The NuGet package: its layout (lib/netstandard2.0, runtimes/linux-x64/native), the
#      license, one stripped library; an application laid out from it runs.
set -euo pipefail
mono=$1 python=$2 out=$3 lib=$4 fake=$5 repo=$6 version=$7 work=$8
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"; mkdir -p "$work/versioned" "$work/noconfig" "$work/fake" "$work/app"
unset LD_LIBRARY_PATH
args=("$repo/examples/checkpoints/wan-mini" "$repo/examples/configs/visualgen_target.yaml" 0.5)

echo "-- only libspattn.so.0"
cp "$out/Spattn.dll" "$out/Spattn.dll.config" "$out/Lookup.exe" "$work/versioned/"
cp -L "$lib" "$work/versioned/libspattn.so.0"
LD_LIBRARY_PATH=$work/versioned "$mono" "$work/versioned/Lookup.exe" "${args[@]}" | tee "$work/versioned.log"
grep -q "12182\.49" "$work/versioned.log"
cp "$out/Spattn.dll" "$out/Lookup.exe" "$work/noconfig/"
if LD_LIBRARY_PATH=$work/versioned "$mono" "$work/noconfig/Lookup.exe" "${args[@]}" > "$work/noconfig.log" 2>&1; then
  echo "loaded without the dllmap: the test does not show what Spattn.dll.config does"; exit 1
fi
grep -q "DllNotFoundException" "$work/noconfig.log"

echo "-- a library of major version 1"
cp "$out/Spattn.dll" "$out/Spattn.dll.config" "$out/Lookup.exe" "$work/fake/"
cp -L "$fake" "$work/fake/libspattn.so.0"
if LD_LIBRARY_PATH=$work/fake "$mono" "$work/fake/Lookup.exe" "${args[@]}" > "$work/fake.log" 2>&1; then
  echo "a library of major 1 was accepted"; exit 1
fi
grep "the library found is version 1.0.0, these bindings need major 0" "$work/fake.log"

echo "-- NuGet package"
nupkg=$work/Spattn.$version.nupkg
"$python" "$here/pack_nuget.py" "$out/Spattn.dll" "$lib" "$version" "$repo/LICENSE" "$nupkg"
unzip -Z1 "$nupkg" | sort > "$work/contents.txt"
printf '%s\n' "[Content_Types].xml" "LICENSE" "Spattn.nuspec" "_rels/.rels" "lib/netstandard2.0/Spattn.dll" \
  "lib/netstandard2.0/Spattn.dll.config" "runtimes/linux-x64/native/libspattn.so.0" | sort > "$work/expected.txt"
diff -u "$work/expected.txt" "$work/contents.txt"
unzip -p "$nupkg" Spattn.nuspec | grep '<license type="expression">Apache-2.0</license>' > /dev/null
unzip -p "$nupkg" Spattn.nuspec | grep "<version>$version</version>" > /dev/null
(cd "$work/app" && unzip -q "$nupkg" 'lib/*' 'runtimes/*')
readelf -S "$work/app/runtimes/linux-x64/native/libspattn.so.0" | grep symtab > /dev/null && { echo "native library not stripped"; exit 1; }
# An application folder as `dotnet publish` lays it out: managed and native files side by side.
cp "$work/app/lib/netstandard2.0/"* "$work/app/runtimes/linux-x64/native/libspattn.so.0" "$out/Lookup.exe" "$work/app/"
"$mono" "$work/app/Lookup.exe" "${args[@]}" > "$work/app.log"   # the library is found next to the application
grep -q "12182\.49" "$work/app.log"
echo "  $(basename "$nupkg"): $(wc -l < "$work/contents.txt") entries"
echo "csharp load with only libspattn.so.0, major check and NuGet layout: ok"
