"""Loads libspattn through cffi in ABI mode and turns statuses into exceptions."""
import enum
import glob
import os

import cffi

from ._cdef import CDEF, CONSTANTS

ffi = cffi.FFI()
ffi.cdef(CDEF)


def _library_candidates():
    env = os.environ.get("SPATTN_LIBRARY")
    if env:
        return [env]  # an explicit choice: no silent fallback to another copy
    here = os.path.dirname(os.path.abspath(__file__))
    local = sorted(glob.glob(os.path.join(here, "libspattn.so*")), key=len)
    return local + ["libspattn.so.%d" % CONSTANTS["SPATTN_VERSION_MAJOR"], "libspattn.so"]


def _load():
    errors = []
    for candidate in _library_candidates():
        try:
            lib = ffi.dlopen(candidate)
        except OSError as e:
            errors.append("%s: %s" % (candidate, e))
            continue
        major = lib.spattn_version() // 10000
        if major != CONSTANTS["SPATTN_VERSION_MAJOR"]:
            raise ImportError("spattn: %s is version %s, these bindings need major %d"
                              % (candidate, ffi.string(lib.spattn_version_string()).decode(),
                                 CONSTANTS["SPATTN_VERSION_MAJOR"]))
        return lib, candidate
    raise ImportError("spattn: libspattn not found; set SPATTN_LIBRARY to the full path of "
                      "libspattn.so or copy it next to the package (%s)" % "; ".join(errors))


lib, library_path = _load()


def _enum_names(ctype, prefix):
    """{value: short lower-case name} of a C enum, e.g. SPATTN_SOURCE_USER -> 'user'."""
    return {value: name[len(prefix):].lower()
            for value, name in ffi.typeof(ctype).elements.items()}


Status = enum.IntEnum("Status", {name: value for value, name in
                                 sorted(ffi.typeof("spattn_status").elements.items())})
Status.__module__ = "spattn"
Status.__doc__ = "spattn_status values, named as in the C header (Status.SPATTN_ERR_TYPE)."


class Error(Exception):
    """A failed spattn call: .status (a Status, an int) and .message (the library's text)."""

    def __init__(self, status, message):
        try:
            status = Status(status)
        except ValueError:
            status = int(status)
        self.status = status
        self.message = message
        super().__init__("%s: %s" % (self.status_name, message))

    __module__ = "spattn"

    @property
    def status_name(self):
        return ffi.string(lib.spattn_status_string(int(self.status))).decode()


def check(status):
    """Raises Error with the thread's last message when `status` is not SPATTN_OK."""
    if status != lib.SPATTN_OK:
        raise Error(status, ffi.string(lib.spattn_last_error()).decode("utf-8", "replace"))


def text_or_none(ptr):
    return None if ptr == ffi.NULL else ffi.string(ptr).decode("utf-8")


def take_string(out):
    """Reads a `char **` result and frees it with spattn_free."""
    try:
        return ffi.string(out[0]).decode("utf-8")
    finally:
        lib.spattn_free(out[0])


def closed_error(what):
    return Error(Status.SPATTN_ERR_INVALID_ARGUMENT, "%s is closed" % what)
