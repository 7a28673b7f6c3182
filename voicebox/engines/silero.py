"""Silero VAD adapter (the ONNX model openWakeWord ships), run directly with onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voicebox.core.audio import Pcm
from voicebox.core.errors import CODE_VAD_ENGINE, VadError
from voicebox.engines.onnx import cpu_session

__all__ = ["SileroVad"]

_SUB_BLOCK = 640  # 40 ms: two model steps per 80 ms block


class SileroVad:
    """Speech probability of a block of 16 kHz int16 audio (any multiple of 640 samples)."""

    def __init__(self, model_path: Path, *, threads: int = 1, threshold: float = 0.5) -> None:
        self.threshold = threshold  # for a caller that gates on it (the wake detector's speech gate)
        try:
            self._session = cpu_session(model_path, threads)
        except Exception as err:
            raise VadError(f"could not load VAD model {model_path}: {err}", code=CODE_VAD_ENGINE) from err
        self._sr = np.array(16000, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        """Forget the recurrent state (start of a new command)."""
        self._h = np.zeros((2, 1, 64), np.float32)
        self._c = np.zeros((2, 1, 64), np.float32)

    def probability(self, block: Pcm) -> float:
        """Highest speech probability over the block's 40 ms steps."""
        audio = block.astype(np.float32) / 32768.0
        best = 0.0
        for start in range(0, len(audio) - _SUB_BLOCK + 1, _SUB_BLOCK):
            out, self._h, self._c = self._session.run(
                None, {"input": audio[None, start : start + _SUB_BLOCK], "h": self._h, "c": self._c, "sr": self._sr}
            )
            best = max(best, float(out[0][0]))
        return best
