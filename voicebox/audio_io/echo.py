"""The echo canceller's reference: what the speaker played, and when, on the sound devices' common clock."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, Pcm

__all__ = ["Canceller", "PlaybackReference"]

Canceller = Callable[[Pcm, Pcm], Pcm]
"""``cancel(mic_block, played_block) -> mic_block without the echo`` (80 ms blocks)."""

_KEEP_S = 4.0


class PlaybackReference:
    """A timeline of the samples the speaker played (16 kHz), stamped with PortAudio's stream clock.

    The speaker's callback calls :meth:`played` with each buffer and the
    time its first sample reaches the converter (``outputBufferDacTime``);
    the microphone asks :meth:`window` for the samples played while a block
    was captured (from its ``inputBufferAdcTime``). Both device streams read
    the same PortAudio clock, so the two line up without guessing; what is
    left, the path from loudspeaker to microphone, is the canceller's filter
    tail. Time never played reads as silence. Thread-safe: the callbacks run
    on the audio threads.
    """

    def __init__(self, keep_s: float = _KEEP_S) -> None:
        self._lock = threading.Lock()
        self._samples = np.zeros(int(keep_s * SAMPLE_RATE), np.int16)
        self._end_time: float | None = None  # clock time just after the newest sample

    def played(self, pcm: Pcm, dac_time_s: float) -> None:
        """Record ``pcm`` (16 kHz) as played from ``dac_time_s`` on."""
        n = min(len(pcm), len(self._samples))
        with self._lock:
            end = dac_time_s + len(pcm) / SAMPLE_RATE
            if self._end_time is not None:
                # Samples between the last buffer and this one (a gap) read as silence; an overlap is overwritten.
                shift = int(round((end - self._end_time) * SAMPLE_RATE))
                if shift > 0:
                    self._samples = np.roll(self._samples, -min(shift, len(self._samples)))
                    self._samples[-min(shift, len(self._samples)):] = 0
            self._samples[len(self._samples) - n:] = pcm[len(pcm) - n:]
            self._end_time = end

    def window(self, start_time_s: float, n: int = BLOCK_SAMPLES) -> Pcm:
        """The ``n`` samples played from ``start_time_s`` on (silence where nothing was, or is no longer, kept)."""
        out = np.zeros(n, np.int16)
        with self._lock:
            if self._end_time is None:
                return out
            first = len(self._samples) - int(round((self._end_time - start_time_s) * SAMPLE_RATE))
            lo, hi = max(first, 0), min(first + n, len(self._samples))
            if hi > lo:
                out[lo - first : hi - first] = self._samples[lo:hi]
        return out
