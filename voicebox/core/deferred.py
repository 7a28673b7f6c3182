"""Modules imported only when first used: libraries that our dependencies import but voicebox never calls."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__all__ = ["defer_import"]


class _OnFirstUse(types.ModuleType):
    """Stands in for a module until one of its attributes is used, then imports it and hands that over."""

    def __getattr__(self, name: str) -> Any:
        real = self.__dict__.get("_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return getattr(real, name)


def defer_import(*names: str) -> None:
    """Make a later ``import NAME`` cheap: the module loads on first attribute use (not already imported ones).

    For what a dependency imports at its top only to use in code voicebox
    never runs: faster-whisper's PyAV (decoding audio files: voicebox hands it
    samples) and openWakeWord's requests (downloading models: voicebox has its
    own store). Together about 27 MB of the daemon's memory. Anything that
    does use them still works; it pays the import then.
    """
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)  # finds the module without running it
        if spec is None:
            continue  # not installed: let the real import fail where it is needed
        stand_in = _OnFirstUse(name)
        stand_in.__spec__ = spec  # for importlib.util.find_spec(name) and the import system's checks
        sys.modules[name] = stand_in
