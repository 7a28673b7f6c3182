"""Test-side stand-in for a machine without Debian's libportaudio2: put this folder on PYTHONPATH and the
PortAudio library is not found (exactly what ``ctypes.util.find_library`` answers where it is not installed)."""

from __future__ import annotations

import ctypes.util

_find_library = ctypes.util.find_library


def _without_portaudio(name: str) -> str | None:
    return None if "portaudio" in name else _find_library(name)


ctypes.util.find_library = _without_portaudio
