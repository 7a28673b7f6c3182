"""Give freed heap memory back to the system between turns, so a long-running daemon's size stays flat."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

__all__ = ["release_free_memory"]


def _load_trim() -> Callable[[], None]:
    if not sys.platform.startswith("linux"):
        return lambda: None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to do
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]

    def release() -> None:
        trim(0)

    return release


release_free_memory = _load_trim()
"""glibc's ``malloc_trim(0)``: returns free pages of the heap (buffers of the last turn) to the system."""

