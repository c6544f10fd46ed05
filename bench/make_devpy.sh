#!/usr/bin/env bash
# Builds .devpy/: cffi for the device machine's Python 3.12, which has torch
# but no cffi (and cannot reach PyPI). The cffi source comes from Debian's
# python-cffi source package through apt, its C backend is compiled here
# against a local Python 3.12's headers (pyenv), and pycparser (pure Python)
# is copied from any local install. Carry the folder (`carry: [".devpy"]`);
# bench/device_run.sh puts it on PYTHONPATH when present.
#   usage: bench/make_devpy.sh [PYTHON3.12_PREFIX]   (default: pyenv's 3.12.x)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-$(ls -d /root/.pyenv/versions/3.12.* 2>/dev/null | head -n1)}
[ -f "$prefix/include/python3.12/Python.h" ] || { echo "no Python 3.12 headers under '$prefix'"; exit 1; }
pycparser=$(python3 -c 'import os, pycparser; print(os.path.dirname(pycparser.__file__))')
work=$(mktemp -d); trap 'rm -rf "$work"; rm -f /etc/apt/sources.list.d/spattn-src.sources' EXIT
printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
  > /etc/apt/sources.list.d/spattn-src.sources
apt-get update -qq && apt-get install -y -qq libffi-dev > /dev/null
(cd "$work" && apt-get source -d --only-source python-cffi > /dev/null 2>&1 && tar xzf python-cffi_*.orig.tar.gz)
src=$(ls -d "$work"/cffi-*/)
rm -rf .devpy && mkdir -p .devpy
cp -r "$src/cffi" "$pycparser" .devpy/
gcc -O2 -shared -fPIC -I"$prefix/include/python3.12" "$src/c/_cffi_backend.c" -lffi \
  -o .devpy/_cffi_backend.cpython-312-x86_64-linux-gnu.so
find .devpy -name __pycache__ -prune -exec rm -rf {} +
grep -qx '/.devpy/' .git/info/exclude 2>/dev/null || echo '/.devpy/' >> .git/info/exclude
echo "built .devpy ($(du -sh .devpy | cut -f1)) with cffi from $(basename "$src")"
