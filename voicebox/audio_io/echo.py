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
    """A timeline of the samples the speaker played (16 kHz), stamped on the monotonic clock.

    The speaker's callback calls :meth:`played` with each buffer and the time
    its first sample should reach the converter (now plus the stream's output
    latency); the microphone asks :meth:`window` for the samples played at a
    block's capture time (now less its input latency). The latencies the sound
    server reports are not the real ones, so the microphone reads the window
    shifted by what :class:`DelayEstimator` measures. Time never played reads
    as silence. Thread-safe: the callbacks run on the audio threads.
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
        """The ``n`` samples played from ``start_time_s`` on (silence where nothing was, or is no longer, kept).

        A time between two samples reads between them (linear interpolation): the echo's delay drifts by
        fractions of a sample as the two devices' clocks differ, and the canceller's filter must not see it jump.
        """
        out = np.zeros(n + 1, np.float64)
        with self._lock:
            if self._end_time is None:
                return np.zeros(n, np.int16)
            position = len(self._samples) - (self._end_time - start_time_s) * SAMPLE_RATE
            first = int(round(position))
            frac = position - first
            if abs(frac) < 1e-6:
                frac = 0.0
            elif frac < 0:
                first, frac = first - 1, frac + 1.0
            lo, hi = max(first, 0), min(first + n + 1, len(self._samples))
            if hi > lo:
                out[lo - first : hi - first] = self._samples[lo:hi]
        if frac == 0.0:
            return out[:n].astype(np.int16)
        return np.round(out[:n] * (1.0 - frac) + out[1:] * frac).astype(np.int16)


class DelayEstimator:
    """Measures how far the echo in the microphone lags the playback reference, and follows its drift.

    Fed each microphone block with the reference for the same moment (as the
    clocks say); every ``every_blocks`` blocks of playback it correlates
    ``window_s`` of microphone audio with the reference from ``max_delay_s``
    earlier to ``max_lead_s`` later and keeps the lag of a clear peak (to a
    fraction of a sample). The lag can be negative: latencies as the sound
    server reports them can overstate the real ones (on PulseAudio's ALSA
    plugin the echo came back 0.36 s *before* the reported times said it was
    played). The window ends ``max_lead_s`` before the newest block, so the
    reference after it is already in. Two devices' clocks drift apart (by
    about 80 ppm on the virtual loopback, enough to cap the canceller at
    10 dB), so the delay is a straight line fitted through the recent
    measurements, read at each block; a measurement more than
    ``tolerance_s`` off the line is a new path and starts a new line. Pure
    numbers: no clock, no device.
    """

    def __init__(self, *, max_delay_s: float = 2.0, max_lead_s: float = 1.0, window_s: float = 1.0,
                 every_blocks: int = 6, min_correlation: float = 0.2, tolerance_s: float = 0.02) -> None:
        self._window = int(window_s * SAMPLE_RATE) // BLOCK_SAMPLES
        self._delay_blocks = int(max_delay_s * SAMPLE_RATE) // BLOCK_SAMPLES
        self._lead_blocks = int(max_lead_s * SAMPLE_RATE) // BLOCK_SAMPLES
        self._mic: list[Pcm] = []
        self._ref: list[Pcm] = []
        self._every, self._min, self._tolerance = every_blocks, min_correlation, tolerance_s
        self._count = self._blocks = 0
        self._points: list[tuple[float, float]] = []  # (microphone time in s, measured lag in s) on the current line
        self.delay_s: float | None = None
        self.last = (0.0, 0.0)  # the latest measurement's lag (s) and normalised correlation, kept or not

    def feed(self, mic: Pcm, reference: Pcm) -> float | None:
        """Record one block pair; the delay for this block in seconds (None until one is clear)."""
        span = self._window + self._delay_blocks + self._lead_blocks
        self._blocks += 1
        self._mic = (self._mic + [mic])[-(self._window + self._lead_blocks) :]
        self._ref = (self._ref + [reference])[-span:]
        if reference.any():
            self._count += 1
            if self._count % self._every == 0 and len(self._ref) == span:
                self._measure()
        if self._points:
            self.delay_s = self._line(self._blocks * BLOCK_SAMPLES / SAMPLE_RATE)
        return self.delay_s

    def _line(self, at_s: float) -> float:
        t = np.array([p[0] for p in self._points])
        lag = np.array([p[1] for p in self._points])
        if len(t) < 3 or t[-1] - t[0] < 4.0:
            return float(np.median(lag))
        slope, intercept = np.polyfit(t - t[0], lag, 1)
        return float(intercept + slope * (at_s - t[0]))

    def _measure(self) -> None:
        m = np.concatenate(self._mic[: self._window]).astype(np.float64)
        if not m.any():
            return
        r = np.concatenate(self._ref).astype(np.float64)
        at = self._delay_blocks * BLOCK_SAMPLES  # where the microphone window starts within the reference
        n = 1 << int(np.ceil(np.log2(len(r) + len(m))))
        c = np.fft.irfft(np.fft.rfft(r, n) * np.conj(np.fft.rfft(m, n)), n)[: len(r) - len(m) + 1]
        k = int(np.argmax(np.abs(c)))  # c[k] = sum m[i] r[i + k]: the microphone heard r[k:] at r[at:]
        energy = np.sqrt(np.sum(m * m) * np.sum(r[k : k + len(m)] ** 2))
        corr = float(abs(c[k]) / energy) if energy > 0 else 0.0
        offset = 0.0
        if 0 < k < len(c) - 1:  # the peak between samples: a parabola through it and its neighbours
            a, b, d = abs(c[k - 1]), abs(c[k]), abs(c[k + 1])
            offset = 0.5 * (a - d) / (a - 2 * b + d) if a - 2 * b + d != 0 else 0.0
        lag = (at - k - offset) / SAMPLE_RATE
        self.last = (lag, corr)
        if corr < self._min:
            return
        centre_s = (self._blocks - self._lead_blocks - self._window / 2) * BLOCK_SAMPLES / SAMPLE_RATE
        if self._points and abs(lag - self._line(centre_s)) > self._tolerance:
            self._points = []  # a new path (another device, a restarted stream): start a new line
        self._points = (self._points + [(centre_s, lag)])[-30:]
        self._every = max(self._every, 12)  # found: measure again every second of playback
