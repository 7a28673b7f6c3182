"""⑧ Audio out: a sounddevice speaker or a WAV file, fed internal-format chunks, stoppable at once."""

from __future__ import annotations

import asyncio
import collections
import threading
import wave
from pathlib import Path
from time import monotonic
from typing import Any, Protocol

import numpy as np

from voicebox.audio_io.devices import resolve_device
from voicebox.audio_io.echo import PlaybackReference
from voicebox.core.audio import SAMPLE_RATE, Pcm
from voicebox.core.errors import CODE_DEVICE_LOST, CODE_DEVICE_OPEN, CODE_OUTPUT_FILE, DeviceError, Stage

__all__ = ["AudioSink", "NullSink", "SpeakerSink", "WavFileSink"]


class AudioSink(Protocol):
    """Plays 16 kHz int16 mono chunks; ``stop`` drops whatever is still queued (barge-in, "stop")."""

    async def write(self, pcm: Pcm) -> None:
        """Queue audio for playback (returns when it is accepted, not when it has played)."""
        ...

    async def drain(self) -> None:
        """Wait until everything queued has been played."""
        ...

    def stop(self) -> None:
        """Drop queued audio now."""
        ...

    def close(self) -> None:
        """Release the device or finish the file."""
        ...


class NullSink:
    """Discards audio (``--output none``), e.g. for benchmarks of everything but playback."""

    async def write(self, pcm: Pcm) -> None:
        """Accept and drop."""

    async def drain(self) -> None:
        """Nothing to wait for."""

    def stop(self) -> None:
        """Nothing queued."""

    def close(self) -> None:
        """Nothing to release."""


class WavFileSink:
    """Appends every reply to one 16 kHz mono WAV file (valid after :meth:`close`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - kept open across replies
        except OSError as err:
            raise DeviceError(f"cannot write {self.path}: {err.strerror or err}", code=CODE_OUTPUT_FILE,
                              stage=Stage.AUDIO_OUT) from err
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)

    async def write(self, pcm: Pcm) -> None:
        """Append audio to the file."""
        self._wav.writeframes(np.ascontiguousarray(pcm, "<i2").tobytes())

    async def drain(self) -> None:
        """Files need no draining."""

    def stop(self) -> None:
        """Written audio stays written."""

    def close(self) -> None:
        """Finish the WAV header."""
        self._wav.close()


class SpeakerSink:
    """A sounddevice output stream at the device's native rate; a callback pulls from a sample queue."""

    def __init__(self, device: str = "", *, latency_s: float = 0.2, reference: PlaybackReference | None = None) -> None:
        import sounddevice as sd
        import soxr

        self.device = resolve_device(device, "output")
        info: Any = sd.query_devices(self.device, "output")
        self.name = str(info["name"])
        self.rate = int(info["default_samplerate"]) or SAMPLE_RATE
        self._chunks: collections.deque[np.ndarray] = collections.deque()
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        # What is played goes to the echo canceller's reference too, at 16 kHz, stamped on the monotonic clock.
        self._reference = reference
        self._to_16k = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1, dtype="int16") if self.rate != SAMPLE_RATE else None
        self.latency_s = latency_s
        try:
            self._stream = sd.OutputStream(device=self.device, channels=1, samplerate=self.rate, dtype="int16",
                                           latency=latency_s, callback=self._callback)
            self._stream.start()
        except Exception as err:
            raise DeviceError(f"cannot open output device {self.name!r}: {err}", code=CODE_DEVICE_OPEN,
                              stage=Stage.AUDIO_OUT) from err
        self.latency_s = float(self._stream.latency)

    def _callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            while filled < frames and self._chunks:
                chunk = self._chunks[0]
                take = min(frames - filled, len(chunk))
                out[filled : filled + take] = chunk[:take]
                filled += take
                if take == len(chunk):
                    self._chunks.popleft()
                else:
                    self._chunks[0] = chunk[take:]
            if not self._chunks:
                self._idle.set()
        out[filled:] = 0
        if self._reference is not None:
            played = out if self._to_16k is None else self._to_16k.resample_chunk(out)
            # Ends when this buffer ends at the converter: now plus the stream's output latency.
            ends = monotonic() + self.latency_s + frames / self.rate
            self._reference.played(np.asarray(played, np.int16), ends - len(played) / SAMPLE_RATE)

    async def write(self, pcm: Pcm) -> None:
        """Resample to the device rate and queue."""
        if not self._stream.active:
            raise DeviceError(f"output device {self.name!r} stopped", code=CODE_DEVICE_LOST, stage=Stage.AUDIO_OUT)
        if self.rate != SAMPLE_RATE:
            import soxr

            pcm = np.asarray(soxr.resample(pcm, SAMPLE_RATE, self.rate), np.int16)
        with self._lock:
            self._chunks.append(pcm)
            self._idle.clear()

    async def drain(self) -> None:
        """Wait until the queue is empty, plus the device latency so the tail is heard."""
        await asyncio.to_thread(self._idle.wait)
        await asyncio.sleep(self.latency_s + 0.1)

    def stop(self) -> None:
        """Drop everything queued."""
        with self._lock:
            self._chunks.clear()
            self._idle.set()

    def close(self) -> None:
        """Stop and close the stream."""
        self._stream.stop()
        self._stream.close()
