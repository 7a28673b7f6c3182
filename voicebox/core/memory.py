"""Give freed heap memory back to the system between turns, so a long-running daemon's size stays flat."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable

__all__ = ["one_heap", "peak_rss_mb", "release_free_memory"]

_M_ARENA_MAX = -8  # mallopt() parameter number from glibc's malloc.h


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has ``malloc_trim`` and ``mallopt``); None elsewhere (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def _load_trim() -> Callable[[], None]:
    if _LIBC is None:
        return lambda: None
    trim = _LIBC.malloc_trim

    def release() -> None:
        trim(0)

    return release


release_free_memory = _load_trim()
"""glibc's ``malloc_trim(0)``: returns free pages of the heap (buffers of the last turn) to the system."""


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux: ``VmHWM``; elsewhere ``ru_maxrss``).

    ``VmHWM`` covers only this program: ``ru_maxrss`` of a process started by a
    big parent also counts the parent's memory from before ``exec``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, 1)


def one_heap() -> None:
    """Have every thread allocate from one heap (glibc's ``M_ARENA_MAX`` = 1); call before threads start.

    By default each thread that allocates gets its own heap, so what the
    synthesizer's thread frees cannot serve the recognizer's threads: over a
    few turns, peak memory carried both (about 430-440 MB with the default
    models against 385 with one heap, four turns measured). Speed was the same
    within noise. ``MALLOC_ARENA_MAX`` in the environment wins.
    """
    if _LIBC is not None and "MALLOC_ARENA_MAX" not in os.environ:
        _LIBC.mallopt(_M_ARENA_MAX, 1)
