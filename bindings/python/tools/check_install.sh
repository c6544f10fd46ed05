#!/usr/bin/env bash
# usage: check_install.sh PYTHON LIBSPATTN SOURCE_DIR WORK_DIR
# Runs the README's Python install commands on a fresh venv, offline (--no-index: cffi comes
# from the system, Debian's python3-cffi, through --system-site-packages), from a copy of
# bindings/python so that nothing is written into the tree:
#   1. pip install:            the package imports from the venv and finds the library;
#   2. pip install -e:         imports from the source folder; uninstall and install -e again;
#   3. pip wheel (pure):       py3-none-any, no library inside;
#   4. pip wheel --config-settings library=LIB: tagged for this platform, one stripped
#                              libspattn.so.<major>,
#                              py.typed, LICENSE, license and system needs in METADATA; it
#                              installs into a fresh venv and loads its own copy with no
#                              SPATTN_LIBRARY and no LD_LIBRARY_PATH.
set -euo pipefail
python=$1 lib=$2 src=$3 work=$4
rm -rf "$work"; mkdir -p "$work"
cp -rL "$src/bindings/python" "$work/src"   # -L: the LICENSE symlink becomes a file
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
cd "$work"
unset PYTHONPATH LD_LIBRARY_PATH
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1

step() { printf '%s\n' "-- $*"; }
lookup='import spattn, sys
with spattn.Model.open(sys.argv[1]) as m:
    p = m.lookup("transformer", "blocks.3.attn1", timestep=0.5)
assert p.enabled and p.disabled_reason is spattn.DisabledReason.NOT, p
print("  spattn %s from %s, library %s" % (spattn.version(), spattn.__file__, spattn.library_path))'
checkpoint=$src/examples/checkpoints/wan-mini

step "python3 -m venv --system-site-packages .venv && .venv/bin/pip install --no-index bindings/python"
"$python" -m venv --system-site-packages venv
venv/bin/pip install --quiet --no-index ./src
site=$(venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
SPATTN_LIBRARY=$lib venv/bin/python -c "$lookup" "$checkpoint" | tee out.txt
grep -q "from $site/spattn/__init__.py" out.txt

step "pip install -e, uninstall, pip install -e again"
venv/bin/pip uninstall --quiet --yes spattn
for round in 1 2; do
  venv/bin/pip install --quiet --no-index -e ./src
  SPATTN_LIBRARY=$lib venv/bin/python -c "$lookup" "$checkpoint" | tee out.txt
  grep -q "from $work/src/spattn/__init__.py" out.txt
  venv/bin/pip uninstall --quiet --yes spattn
done
if venv/bin/python -c 'import spattn' 2> /dev/null; then echo "spattn still importable after uninstall"; exit 1; fi

step "pip wheel (pure) and pip wheel --config-settings library=libspattn.so (bundled)"
venv/bin/pip wheel --quiet --no-index --no-deps -w pure ./src
venv/bin/pip wheel --quiet --no-index --no-deps --config-settings library="$lib" -w bundled ./src
venv/bin/python - pure/*.whl bundled/*.whl <<'PY'
import re, subprocess, sys, sysconfig, zipfile
pure, bundled = sys.argv[1], sys.argv[2]
platform = re.sub(r"[^A-Za-z0-9_]", "_", sysconfig.get_platform())
assert pure.endswith("-py3-none-any.whl"), pure
assert bundled.endswith("-py3-none-%s.whl" % platform), bundled
for path, has_library in ((pure, False), (bundled, True)):
    names = zipfile.ZipFile(path).namelist()
    libraries = [n for n in names if "libspattn" in n]
    assert libraries == (["spattn/libspattn.so.0"] if has_library else []), (path, libraries)
    for needed in ("spattn/py.typed", "spattn/__init__.py", "spattn/_enums.py"):
        assert needed in names, (path, needed)
    meta = zipfile.ZipFile(path).read([n for n in names if n.endswith(".dist-info/METADATA")][0]).decode()
    assert "License: Apache-2.0" in meta, meta
    assert any(n.endswith(".dist-info/LICENSE") for n in names), names
    wheel = zipfile.ZipFile(path).read([n for n in names if n.endswith(".dist-info/WHEEL")][0]).decode()
    assert ("Root-Is-Purelib: false" if has_library else "Root-Is-Purelib: true") in wheel, wheel
    external = re.findall(r"^Requires-External: (\S+)", meta, re.M)
    if not has_library:
        assert external == ["libspattn"], external
        continue
    zipfile.ZipFile(path).extract("spattn/libspattn.so.0", "x")
    sections = subprocess.run(["readelf", "-S", "x/spattn/libspattn.so.0"], check=True,
                              capture_output=True, text=True).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections, "bundled library is not stripped"
    dynamic = subprocess.run(["readelf", "-d", "x/spattn/libspattn.so.0"], check=True,
                             capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(lib[a-z+_]+)", dynamic)
    system = {"libc", "libm", "libstdc++", "libgcc_s", "libdl", "libpthread", "librt"}
    unstated = [n for n in needed if n not in system and n not in external]
    assert sorted(external) == ["libcjson", "libyaml"] and not unstated, (needed, external)
    print("  %s: %d files, needs %s (stated: %s)" % (bundled.split("/")[-1], len(names), needed, external))
PY

step "the bundled wheel in a fresh venv, no SPATTN_LIBRARY, no LD_LIBRARY_PATH"
"$python" -m venv --system-site-packages venv2
venv2/bin/pip install --quiet --no-index bundled/*.whl
site2=$(venv2/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
env -u SPATTN_LIBRARY venv2/bin/python -c "$lookup" "$checkpoint" | tee out.txt
grep -q "library $site2/spattn/libspattn.so.0" out.txt
echo "python install, editable install and wheels: ok"
