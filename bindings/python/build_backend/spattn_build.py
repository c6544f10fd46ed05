"""A small PEP 517 build backend for the pure-Python spattn package, standard library only.

setuptools (before 70.1) needs the separate `wheel` package to build a wheel, which is not
always installed and cannot be fetched offline; this backend needs nothing, so
`pip install --no-build-isolation bindings/python` works on any Python 3.8+ without network.
The wheel holds the spattn/ folder as it is, including a libspattn.so* copied there before
installing (pip's "library next to the package"). The version is the C header's, read from
the generated spattn/_cdef.py.
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

NAME = "spattn"
SUMMARY = "Python bindings (cffi, ABI mode) of the spattn sparse-attention runtime library"
REQUIRES = ["cffi>=1.12"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "py3-none-any"


def _version():
    with open(os.path.join(ROOT, NAME, "_cdef.py"), encoding="utf-8") as f:
        text = f.read()
    parts = [re.search(r"'SPATTN_VERSION_%s': (\d+)" % p, text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


def _metadata():
    lines = ["Metadata-Version: 2.1", "Name: " + NAME, "Version: " + _version(), "Summary: " + SUMMARY,
             "Requires-Python: >=3.8"]
    lines += ["Requires-Dist: " + r for r in REQUIRES]
    lines += ["Provides-Extra: torch", 'Requires-Dist: torch; extra == "torch"']
    return "\n".join(lines) + "\n"


def _package_files():
    for folder, dirs, files in os.walk(os.path.join(ROOT, NAME)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(folder, name)
                yield path, os.path.relpath(path, ROOT).replace(os.sep, "/")


def _dist_info_name():
    return "%s-%s.dist-info" % (NAME, _version())


def _write_dist_info(directory):
    dist_info = os.path.join(directory, _dist_info_name())
    os.makedirs(dist_info, exist_ok=True)
    with open(os.path.join(dist_info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    return os.path.basename(dist_info)


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _write_dist_info(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    wheel_name = "%s-%s-%s.whl" % (NAME, _version(), TAG)
    dist_info = _dist_info_name()
    record = []

    def add(archive, arcname, data):
        archive.writestr(zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0)), data,
                         compress_type=zipfile.ZIP_DEFLATED)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (arcname, digest, len(data)))

    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w") as archive:
        for path, arcname in _package_files():
            with open(path, "rb") as f:
                add(archive, arcname, f.read())
        add(archive, dist_info + "/METADATA", _metadata().encode())
        add(archive, dist_info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: spattn_build\n"
                                            "Root-Is-Purelib: true\nTag: %s\n" % TAG).encode())
        add(archive, dist_info + "/top_level.txt", (NAME + "\n").encode())
        record.append(dist_info + "/RECORD,,")
        archive.writestr(dist_info + "/RECORD", "\n".join(record) + "\n")
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, _version())
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz") as tar:
        for rel in ("pyproject.toml", "README.md", "build_backend/spattn_build.py"):
            tar.add(os.path.join(ROOT, rel), base + "/" + rel)
        for path, arcname in _package_files():
            tar.add(path, base + "/" + arcname)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return base + ".tar.gz"
