"""Speex acoustic echo canceller (Debian's ``libspeexdsp``), called through ctypes: 80 ms blocks in and out."""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, Pcm
from voicebox.core.errors import CODE_AUDIO_ECHO, AudioError

__all__ = ["SpeexEchoCanceller", "speexdsp_available"]

_FRAME = 160  # 10 ms: Speex adapts once per frame, so short frames converge faster
_SET_SAMPLING_RATE = 24  # speex_echo.h: SPEEX_ECHO_SET_SAMPLING_RATE
_SET_ECHO_STATE = 24  # speex_preprocess.h: SPEEX_PREPROCESS_SET_ECHO_STATE
_I16 = ctypes.POINTER(ctypes.c_int16)


def _library() -> Any:
    for name in (ctypes.util.find_library("speexdsp"), "libspeexdsp.so.1", "libspeexdsp.dylib"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(lib, "speex_echo_state_init"):
            return lib
    return None


def speexdsp_available() -> bool:
    """Whether libspeexdsp can be loaded (``apt install libspeexdsp1``)."""
    return _library() is not None


class SpeexEchoCanceller:
    """Removes what the speaker played from the microphone signal.

    ``process(mic, played)`` takes one 80 ms block of microphone audio and the
    block the speaker played at the same moment (the reference; the filter
    covers ``tail_ms`` of delay plus room echo), and returns the microphone
    block with the echo removed. Speex's residual-echo suppressor is off by
    default: measured on a simulated room it garbles the user's voice during
    double talk (waveform correlation 0.36 against 0.97 without it).
    """

    def __init__(self, *, tail_ms: int = 200, residual_suppression: bool = False) -> None:
        lib = _library()
        if lib is None:
            raise AudioError("echo cancellation needs libspeexdsp; run: sudo apt install libspeexdsp1 "
                             "(or set [audio] echo_cancel = \"off\")", code=CODE_AUDIO_ECHO)
        self._lib = lib
        lib.speex_echo_state_init.restype = ctypes.c_void_p
        lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, _I16, _I16, _I16]
        lib.speex_echo_state_reset.argtypes = [ctypes.c_void_p]
        lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
        lib.speex_preprocess_state_init.restype = ctypes.c_void_p
        lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, _I16]
        lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
        self._echo = lib.speex_echo_state_init(_FRAME, SAMPLE_RATE * tail_ms // 1000)
        rate = ctypes.c_int(SAMPLE_RATE)
        lib.speex_echo_ctl(self._echo, _SET_SAMPLING_RATE, ctypes.byref(rate))
        self._pre = None
        if residual_suppression:
            self._pre = lib.speex_preprocess_state_init(_FRAME, SAMPLE_RATE)
            lib.speex_preprocess_ctl(self._pre, _SET_ECHO_STATE, ctypes.c_void_p(self._echo))

    def process(self, mic: Pcm, played: Pcm) -> Pcm:
        """The microphone block less the echo of ``played`` (both ``BLOCK_SAMPLES`` long)."""
        if len(mic) != BLOCK_SAMPLES or len(played) != BLOCK_SAMPLES:
            raise AudioError(f"echo canceller needs {BLOCK_SAMPLES}-sample blocks, got {len(mic)} and {len(played)}",
                             code=CODE_AUDIO_ECHO)
        near = np.ascontiguousarray(mic, np.int16)
        far = np.ascontiguousarray(played, np.int16)
        out = np.empty(BLOCK_SAMPLES, np.int16)
        for start in range(0, BLOCK_SAMPLES, _FRAME):
            o = out[start : start + _FRAME]
            self._lib.speex_echo_cancellation(self._echo, near[start:].ctypes.data_as(_I16),
                                              far[start:].ctypes.data_as(_I16), o.ctypes.data_as(_I16))
            if self._pre is not None:
                self._lib.speex_preprocess_run(self._pre, o.ctypes.data_as(_I16))
        return out

    def reset(self) -> None:
        """Forget the learned echo path (a different device or room)."""
        self._lib.speex_echo_state_reset(self._echo)

    def close(self) -> None:
        """Free the native state."""
        if self._pre is not None:
            self._lib.speex_preprocess_state_destroy(self._pre)
            self._pre = None
        if self._echo is not None:
            self._lib.speex_echo_state_destroy(self._echo)
            self._echo = None

    def __del__(self) -> None:
        self.close()
