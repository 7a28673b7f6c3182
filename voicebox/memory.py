"""Give freed heap memory back to the system between turns, so a long-running daemon's size stays flat."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable

__all__ = ["keep_heap_small", "release_free_memory"]

_M_MMAP_THRESHOLD = -3  # mallopt() parameter numbers from glibc's malloc.h
_MMAP_THRESHOLD_BYTES = 128 * 1024


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


def keep_heap_small() -> None:
    """Serve every allocation of 128 KiB or more with its own mapping, returned to the system when freed.

    glibc raises this threshold each time such a block is freed (up to 32 MiB),
    so after the models load, the big, short-lived buffers of model loading,
    recognition and synthesis come from the heap and stay there, fragmented.
    Fixing it at glibc's starting value keeps the daemon's peak memory about
    60 MB lower with the default models (``voicebox bench``'s ``rss_mb``).
    ``MALLOC_MMAP_THRESHOLD_`` in the environment wins, for anyone tuning it.
    """
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):  # not glibc: nothing to do
        return
