"""A small PEP 517 / PEP 660 build backend for the spattn package, standard library only.

It needs nothing to be installed, so `pip install bindings/python` works offline (build
isolation installs no build requirement) on any Python 3.8+.

- build_wheel: the spattn/ folder as it is. By default a pure wheel (py3-none-any) that loads
  the system's libspattn.so.0. With the config setting `library=PATH` (pip wheel
  --config-settings library=build/libspattn.so ...) the wheel bundles that library: one stripped copy, named
  spattn/libspattn.so.<major> (what the package loads first), and the wheel is tagged for this
  platform (py3-none-linux_x86_64), not py3-none-any.
- build_editable: a wheel whose .pth file imports a finder that maps `spattn` (only) to this
  folder's spattn/ (pip install -e).
- build_sdist: the sources.
Name, version (the C header's, read from the generated spattn/_cdef.py), license and
dependencies are set here.
"""
import base64
import hashlib
import io
import os
import re
import shutil
import subprocess
import sysconfig
import tarfile
import tempfile
import zipfile

NAME = "spattn"
SUMMARY = "Python bindings (cffi, ABI mode) of the spattn sparse-attention runtime library"
LICENSE = "Apache-2.0"
REQUIRES = ["cffi>=1.12"]
# What a bundled libspattn needs from the system besides the C/C++ runtime (Debian packages
# libyaml-0-2 and libcjson1); a wheel without the library needs libspattn itself.
EXTERNAL_BUNDLED = ["libyaml", "libcjson"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _version():
    with open(os.path.join(ROOT, NAME, "_cdef.py"), encoding="utf-8") as f:
        text = f.read()
    parts = [re.search(r"'SPATTN_VERSION_%s': (\d+)" % p, text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


def _major():
    return _version().split(".")[0]


def _metadata(bundled):
    lines = ["Metadata-Version: 2.1", "Name: " + NAME, "Version: " + _version(), "Summary: " + SUMMARY,
             "License: " + LICENSE, "Classifier: License :: OSI Approved :: Apache Software License",
             "Classifier: Typing :: Typed", "Requires-Python: >=3.8"]
    lines += ["Requires-Dist: " + r for r in REQUIRES]
    lines += ["Provides-Extra: torch", 'Requires-Dist: torch; extra == "torch"']
    external = EXTERNAL_BUNDLED if bundled else ["libspattn (>=%s, <%d)" % (_version(), int(_major()) + 1)]
    lines += ["Requires-External: " + e for e in external]
    return "\n".join(lines) + "\n"


def _package_files():
    """(path, name in the archive) of the package's files; a libspattn copied into the folder
    is left out (a wheel bundles the library only through the `library` setting)."""
    for folder, dirs, files in os.walk(os.path.join(ROOT, NAME)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")) and not name.startswith("libspattn.so"):
                path = os.path.join(folder, name)
                yield path, os.path.relpath(path, ROOT).replace(os.sep, "/")


def _dist_info_name():
    return "%s-%s.dist-info" % (NAME, _version())


def _write_dist_info(directory, bundled=False):
    dist_info = os.path.join(directory, _dist_info_name())
    os.makedirs(dist_info, exist_ok=True)
    with open(os.path.join(dist_info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata(bundled))
    return os.path.basename(dist_info)


def _platform_tag():
    return re.sub(r"[^A-Za-z0-9_]", "_", sysconfig.get_platform())


def _stripped_copy(library, directory):
    """Strips a copy of `library` (symlinks followed) into `directory`."""
    source = os.path.realpath(library)
    if not os.path.isfile(source):
        raise FileNotFoundError("spattn_build: library=%s: no such file" % library)
    target = os.path.join(directory, "libspattn.so.%s" % _major())
    strip = os.environ.get("STRIP", "strip")
    if shutil.which(strip) is None:
        raise FileNotFoundError("spattn_build: `%s` not found to strip the bundled library "
                                "(Debian: binutils; or set STRIP)" % strip)
    subprocess.run([strip, "--strip-unneeded", "-o", target, source], check=True)
    return target


class _Wheel:
    """A wheel archive being written, with its RECORD."""

    def __init__(self, path):
        self.archive = zipfile.ZipFile(path, "w")
        self.record = []

    def add(self, arcname, data, mode=0o644):
        info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.archive.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self.record.append("%s,sha256=%s,%d" % (arcname, digest, len(data)))

    def finish(self, tag, bundled):
        dist_info = _dist_info_name()
        self.add(dist_info + "/METADATA", _metadata(bundled).encode())
        with open(os.path.join(ROOT, "LICENSE"), "rb") as f:
            self.add(dist_info + "/LICENSE", f.read())
        self.add(dist_info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: spattn_build\nRoot-Is-Purelib: %s\n"
                                        "Tag: %s\n" % ("false" if bundled else "true", tag)).encode())
        self.add(dist_info + "/top_level.txt", (NAME + "\n").encode())
        self.record.append(dist_info + "/RECORD,,")
        self.archive.writestr(dist_info + "/RECORD", "\n".join(self.record) + "\n")
        self.archive.close()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _write_dist_info(metadata_directory, bool((config_settings or {}).get("library")))


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _write_dist_info(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    library = (config_settings or {}).get("library")
    tag = "py3-none-" + _platform_tag() if library else "py3-none-any"
    wheel_name = "%s-%s-%s.whl" % (NAME, _version(), tag)
    wheel = _Wheel(os.path.join(wheel_directory, wheel_name))
    for path, arcname in _package_files():
        with open(path, "rb") as f:
            wheel.add(arcname, f.read())
    if library:
        with tempfile.TemporaryDirectory() as scratch:
            copy = _stripped_copy(library, scratch)
            with open(copy, "rb") as f:
                wheel.add(NAME + "/" + os.path.basename(copy), f.read(), mode=0o755)
    wheel.finish(tag, bool(library))
    return wheel_name


_EDITABLE_FINDER = '''"""Maps the package %(name)r to its source folder (pip install -e); written by spattn_build."""
import importlib.abc
import importlib.util
import os
import sys

PACKAGE = %(package)r


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != %(name)r:
            return None
        return importlib.util.spec_from_file_location(
            fullname, os.path.join(PACKAGE, "__init__.py"), submodule_search_locations=[PACKAGE])


sys.meta_path.append(_Finder())
'''


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    tag = "py3-none-any"
    wheel_name = "%s-%s-%s.whl" % (NAME, _version(), tag)
    wheel = _Wheel(os.path.join(wheel_directory, wheel_name))
    finder = "__editable___%s_finder" % NAME
    source = _EDITABLE_FINDER % {"name": NAME, "package": os.path.join(ROOT, NAME)}
    wheel.add(finder + ".py", source.encode())
    wheel.add("__editable__.%s.pth" % NAME, ("import %s\n" % finder).encode())
    wheel.finish(tag, False)
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, _version())
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz", dereference=True) as tar:
        for rel in ("pyproject.toml", "README.md", "LICENSE", "build_backend/spattn_build.py"):
            tar.add(os.path.join(ROOT, rel), base + "/" + rel)
        for path, arcname in _package_files():
            tar.add(path, base + "/" + arcname)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata(False).encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return base + ".tar.gz"
