"""The echo canceller's reference: what the speaker played, and when, on the sound devices' common clock."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, Pcm

__all__ = ["REANCHOR_S", "Canceller", "DelayEstimator", "PlaybackReference"]

Canceller = Callable[[Pcm, Pcm], Pcm]
"""``cancel(mic_block, played_block) -> mic_block without the echo`` (80 ms blocks)."""

_KEEP_S = 4.0
REANCHOR_S = 0.3


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
            # Audio threads are woken in bursts: within REANCHOR_S of where the timeline ends, a buffer follows on
            # from the last (the stream plays continuously); only a real gap or restart moves it to the clock.
            if self._end_time is not None and abs(end - (self._end_time + len(pcm) / SAMPLE_RATE)) < REANCHOR_S:
                end = self._end_time + len(pcm) / SAMPLE_RATE
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


class DelayEstimator:
    """Measures how far the echo in the microphone lags the playback reference, by cross-correlation.

    Fed each microphone block with the reference for the same moment (as the
    clocks say); every ``every_blocks`` blocks of playback it correlates the
    last ``window_s`` of microphone audio with the reference up to
    ``max_delay_s`` earlier, and keeps the lag of a clear peak. Sound-server
    buffers (PulseAudio, PipeWire) add delays the devices do not report; this
    finds them. Pure numbers: no clock, no device.
    """

    def __init__(self, *, max_delay_s: float = 3.0, window_s: float = 2.0, every_blocks: int = 25,
                 min_correlation: float = 0.2) -> None:
        self._window = int(window_s * SAMPLE_RATE) // BLOCK_SAMPLES
        self._extra = int(max_delay_s * SAMPLE_RATE) // BLOCK_SAMPLES
        self._mic: list[Pcm] = []
        self._ref: list[Pcm] = []
        self._every, self._min = every_blocks, min_correlation
        self._count = 0
        self.delay_s: float | None = None
        self.last = (0.0, 0.0)  # the latest estimate's lag (s) and normalised correlation, kept or not

    def feed(self, mic: Pcm, reference: Pcm) -> float | None:
        """Record one block pair; the current delay estimate in seconds (None until one is clear)."""
        self._mic = (self._mic + [mic])[-self._window :]
        self._ref = (self._ref + [reference])[-(self._window + self._extra) :]
        if reference.any():
            self._count += 1
            if self._count % self._every == 0 and len(self._ref) == self._window + self._extra:
                self._estimate()
        return self.delay_s

    def _estimate(self) -> None:
        m = np.concatenate(self._mic).astype(np.float64)
        r = np.concatenate(self._ref).astype(np.float64)
        d = len(r) - len(m)
        n = 1 << int(np.ceil(np.log2(len(r) + len(m))))
        c = np.fft.irfft(np.fft.rfft(r, n) * np.conj(np.fft.rfft(m, n)), n)[: d + 1]  # c[k] = sum m[i] r[i + k]
        k = int(np.argmax(np.abs(c)))
        energy = np.sqrt(np.sum(m * m) * np.sum(r[k : k + len(m)] ** 2))
        self.last = ((d - k) / SAMPLE_RATE, float(abs(c[k]) / energy) if energy > 0 else 0.0)
        if energy > 0 and abs(c[k]) / energy >= self._min:
            self.delay_s = (d - k) / SAMPLE_RATE
