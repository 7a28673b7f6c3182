"""Long recordings cut into recognizer-sized windows at their quietest moments (pure: samples in, windows out).

The recognizer hears at most 30 s at once; ``voicebox transcribe`` of a longer
file feeds it window by window. A cut at a fixed length would fall inside a
word, so each window ends at the quietest 100 ms of its last few seconds.
"""

from __future__ import annotations

import numpy as np

from voicebox.core.audio import SAMPLE_RATE, Pcm

__all__ = ["WindowCutter", "is_silent"]

_FRAME = SAMPLE_RATE // 10  # 100 ms


def is_silent(pcm: Pcm, *, floor_dbfs: float = -60.0) -> bool:
    """Whether ``pcm`` is below ``floor_dbfs`` throughout (nothing for the recognizer to hear, only to invent)."""
    if len(pcm) == 0:
        return True
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64)))))
    return bool(20.0 * np.log10(max(rms, 1e-9) / 32768.0) < floor_dbfs)


class WindowCutter:
    """Feed any lengths of PCM; get windows of at most ``max_s``, each cut at the quietest 100 ms frame of its
    last ``search_s``. Holds at most one window of audio, whatever the recording's length."""

    def __init__(self, *, max_s: float = 28.0, search_s: float = 8.0) -> None:
        if not 0 < search_s < max_s:
            raise ValueError("need 0 < search_s < max_s")
        self.max_samples = int(max_s * SAMPLE_RATE)
        self.search_samples = int(search_s * SAMPLE_RATE)
        self._pending: list[Pcm] = []
        self._held = 0

    def _cut_point(self, window: Pcm) -> int:
        lo = len(window) - self.search_samples
        frames = (len(window) - lo) // _FRAME
        region = window[lo : lo + frames * _FRAME].astype(np.float64).reshape(frames, _FRAME)
        energy = np.square(region).mean(axis=1)
        quietest = int(np.argmin(energy[::-1]))  # the latest of equally quiet frames: the longest window
        return lo + (frames - 1 - quietest) * _FRAME + _FRAME // 2

    def feed(self, pcm: Pcm) -> list[Pcm]:
        """Append ``pcm``; returns the windows it completes, in order."""
        self._pending.append(np.asarray(pcm, np.int16))
        self._held += len(pcm)
        out: list[Pcm] = []
        while self._held >= self.max_samples:
            held = np.concatenate(self._pending)
            window = held[: self.max_samples]
            cut = self._cut_point(window)
            out.append(held[:cut].copy())
            rest = held[cut:].copy()
            self._pending, self._held = [rest], len(rest)
        return out

    def flush(self) -> list[Pcm]:
        """The last, shorter window (none when nothing is held)."""
        if not self._held:
            return []
        rest = np.concatenate(self._pending)
        self._pending, self._held = [], 0
        return [rest]
