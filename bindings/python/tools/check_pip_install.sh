#!/usr/bin/env bash
# usage: check_pip_install.sh PYTHON LIBSPATTN SOURCE_DIR WORK_DIR
# Installs bindings/python with `pip install --no-build-isolation` (offline: --no-index, and
# --no-deps since cffi is already there) into WORK_DIR/site, with a copy of the library placed
# in the package folder first, then imports it from elsewhere with SPATTN_LIBRARY unset and
# checks that the copy next to the package is the one loaded. The source tree is copied first
# so that the build leaves nothing in it.
set -euo pipefail
python=$1 lib=$2 src=$3 work=$4
rm -rf "$work"
mkdir -p "$work/src"
cp -r "$src/bindings/python/." "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
cp "$lib" "$work/src/spattn/"
"$python" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-index --no-deps \
  --target "$work/site" "$work/src"
cd "$work"
env -u SPATTN_LIBRARY PYTHONPATH="$work/site" "$python" - "$work/site" "$src/examples/checkpoints/wan-mini" <<'PY'
import os, sys
import spattn
site, checkpoint = sys.argv[1], sys.argv[2]
assert os.path.dirname(spattn.__file__) == os.path.join(site, "spattn"), spattn.__file__
assert spattn.library_path.startswith(os.path.join(site, "spattn")), spattn.library_path
with spattn.Model.open(checkpoint) as m:
    assert m.lookup("transformer", "blocks.3.attn1", timestep=0.5).enabled
print("pip install ok: spattn %s loaded %s" % (spattn.version(), spattn.library_path))
PY
