"""Loads libspattn through cffi in ABI mode and turns statuses into exceptions."""
import os
from typing import Any, List, Optional, Tuple

import cffi

from ._cdef import CDEF, CONSTANTS
from ._enums import Status

ffi = cffi.FFI()
ffi.cdef(CDEF)

MAJOR = CONSTANTS["SPATTN_VERSION_MAJOR"]
SONAME = "libspattn.so.%d" % MAJOR


def _library_candidates() -> List[str]:
    env = os.environ.get("SPATTN_LIBRARY")
    if env:
        return [env]  # an explicit choice: no silent fallback to another copy
    here = os.path.dirname(os.path.abspath(__file__))
    # A copy bundled in the wheel (or placed next to the package), then the system's.
    local = [os.path.join(here, name) for name in (SONAME, "libspattn.so")]
    return [path for path in local if os.path.exists(path)] + [SONAME]


def _load() -> Tuple[Any, str]:
    errors = []
    for candidate in _library_candidates():
        try:
            loaded = ffi.dlopen(candidate)
        except OSError as e:
            errors.append("%s: %s" % (candidate, e))
            continue
        major = loaded.spattn_version() // 10000
        if major != MAJOR:
            raise ImportError("spattn: %s is version %s, these bindings need major %d"
                              % (candidate, ffi.string(loaded.spattn_version_string()).decode(), MAJOR))
        return loaded, candidate
    raise ImportError("spattn: libspattn not found; install the library (%s on the loader's path), "
                      "set SPATTN_LIBRARY to the full path of libspattn.so, or install a wheel that "
                      "bundles it (%s)" % (SONAME, "; ".join(errors)))


lib, library_path = _load()


class Error(Exception):
    """A failed spattn call: `.status` (a Status, or an int for a status newer than these
    bindings) and `.message` (the library's text, naming file, line:column and key path where
    known). Picklable, so it crosses process boundaries (multiprocessing)."""

    def __init__(self, status: int, message: str) -> None:
        try:
            status = Status(status)
        except ValueError:
            status = int(status)
        self.status = status
        self.message = message
        super().__init__(status, message)

    def __str__(self) -> str:
        return "%s: %s" % (self.status_name, self.message)

    def __reduce__(self) -> Tuple[type, Tuple[int, str]]:
        return type(self), (int(self.status), self.message)

    @property
    def status_name(self) -> str:
        """The C name of the status, e.g. "SPATTN_ERR_OUT_OF_RANGE"."""
        return ffi.string(lib.spattn_status_string(int(self.status))).decode()


Error.__module__ = "spattn"


def check(status: int) -> None:
    """Raises Error with the thread's last message when `status` is not SPATTN_OK."""
    if status != lib.SPATTN_OK:
        raise Error(status, ffi.string(lib.spattn_last_error()).decode("utf-8", "replace"))


def text_or_none(ptr: Any) -> Optional[str]:
    """A C string owned by the library, or None for NULL."""
    return None if ptr == ffi.NULL else ffi.string(ptr).decode("utf-8")


def take_string(out: Any) -> str:
    """Reads a `char **` result and frees it with spattn_free."""
    try:
        return ffi.string(out[0]).decode("utf-8")
    finally:
        lib.spattn_free(out[0])


def closed_error(what: str) -> Error:
    """The error of a call on a closed handle."""
    return Error(Status.INVALID_ARGUMENT, "%s is closed" % what)


def utf8(value: Any, what: str) -> bytes:
    """`value` (a str) as UTF-8; TypeError naming `what` for anything else."""
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (what, type(value).__name__))
    return value.encode("utf-8")


def path_bytes(value: Any, what: str) -> bytes:
    """A file-system path (str, bytes or os.PathLike) as bytes; TypeError naming `what` otherwise."""
    try:
        return os.fsencode(value)
    except TypeError:
        raise TypeError("%s must be a path (str, bytes or os.PathLike), not %s"
                        % (what, type(value).__name__)) from None
