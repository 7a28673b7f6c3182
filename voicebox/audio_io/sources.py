"""① Audio in: microphone (sounddevice), WAV file, or raw PCM on stdin, as 80 ms internal-format blocks."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
import logging
import os
import queue
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from time import monotonic
from typing import Any, BinaryIO

import numpy as np

from voicebox.audio_io.devices import resolve_device
from voicebox.audio_io.echo import REANCHOR_S, Canceller, DelayEstimator, PlaybackReference
from voicebox.core.audio import (
    BLOCK_MS,
    BLOCK_SAMPLES,
    SAMPLE_RATE,
    AudioBlock,
    BlockFramer,
    Pcm,
    audio_chunks,
    blocks_of,
)
from voicebox.core.errors import CODE_DEVICE_LOST, CODE_DEVICE_OPEN, DeviceError

__all__ = ["MicrophoneSource", "StdinSource", "WavFileSource", "file_blocks"]

_LOG = logging.getLogger(__name__)
_REFERENCE_LEAD_S = 0.05
_ECHO_LOG_BLOCKS = 25
_TAIL_SILENCE_MS = 1500  # after a recording or stdin ends, so a command at the very end still ends


def file_blocks(pcm: Pcm, *, tail_silence_ms: int = _TAIL_SILENCE_MS) -> list[AudioBlock]:
    """A recording as blocks, with trailing silence so a command at the very end still ends."""
    pad = np.zeros(SAMPLE_RATE * tail_silence_ms // 1000, np.int16)
    return blocks_of(np.concatenate([pcm, pad]))


class WavFileSource:
    """A sound file (any rate, width, channels) as blocks, as fast as they are consumed or at real-time pace.

    The file is decoded a second at a time while it plays, so memory does not grow with its length; its
    header and first second are checked at construction, so a bad file fails before anything starts.
    """

    def __init__(self, path: str | Path, *, realtime: bool = False) -> None:
        self.name = str(path)
        self._path = path
        self._realtime = realtime
        probe = audio_chunks(path)
        try:
            next(probe)
        finally:
            probe.close()

    def _blocks(self) -> Iterator[AudioBlock]:
        framer = BlockFramer()
        for chunk in audio_chunks(self._path):
            yield from framer.feed(chunk)
        yield from framer.feed(np.zeros(SAMPLE_RATE * _TAIL_SILENCE_MS // 1000, np.int16))
        yield from framer.flush()

    async def blocks(self) -> AsyncIterator[AudioBlock]:
        """Yield every block, then stop."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for block in self._blocks():
            if self._realtime:
                delay = start + block.start_ms / 1000 - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)
            yield block


class _DetachedReader:
    """Reads a stream on one long-lived daemon thread, one request at a time.

    A daemon thread, so a read blocked on an idle pipe never holds up
    shutdown; one thread for the stream's life, not one per read.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        try:  # the raw descriptor: a buffered reader's lock held by this thread would abort interpreter shutdown
            self._fd: int | None = stream.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            self._fd = None
        self._requests: queue.SimpleQueue[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[bytes]]] = (
            queue.SimpleQueue())
        self._thread: threading.Thread | None = None

    async def read(self, nbytes: int) -> bytes:
        """Up to ``nbytes`` (``b""`` at the end of the stream)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, daemon=True, name="stdin-read")
            self._thread.start()
        self._requests.put((nbytes, loop, future))
        return await future

    def _work(self) -> None:
        while True:
            nbytes, loop, future = self._requests.get()
            data, error = b"", None
            try:
                data = os.read(self._fd, nbytes) if self._fd is not None else self._stream.read(nbytes)
            except Exception as err:
                error = err
            with contextlib.suppress(RuntimeError):  # the loop may be closed when shutting down
                loop.call_soon_threadsafe(_deliver, future, data, error)


def _deliver(future: asyncio.Future[bytes], data: bytes, err: BaseException | None) -> None:
    if future.done():  # the reader was cancelled meanwhile
        return
    if err is not None:
        future.set_exception(err)
    else:
        future.set_result(data)


class StdinSource:
    """Raw 16 kHz, 16-bit little-endian mono PCM read from standard input until it closes."""

    name = "stdin"

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin.buffer

    async def blocks(self) -> AsyncIterator[AudioBlock]:
        """Yield blocks as bytes arrive; the final partial block is zero-padded, then silence ends any command."""
        framer = BlockFramer()
        nbytes = BLOCK_SAMPLES * 2
        odd = b""  # the first byte of a sample whose second has not arrived (dropped if it never does)
        reader = _DetachedReader(self._stream)
        while True:  # never read past the end of the block being filled
            data = await reader.read(nbytes - 2 * framer.pending - len(odd))
            if not data:
                break
            data = odd + data
            whole = len(data) - len(data) % 2
            odd = data[whole:]
            for block in framer.feed(np.frombuffer(data[:whole], "<i2").astype(np.int16)):
                yield block
        for block in framer.feed(np.zeros(SAMPLE_RATE * _TAIL_SILENCE_MS // 1000, np.int16)) + framer.flush():
            yield block


class MicrophoneSource:
    """A sounddevice input stream; the callback only copies into a bounded queue (oldest dropped first).

    Any native rate is converted to 16 kHz with a streaming soxr resampler.
    """

    def __init__(self, device: str = "", *, queue_blocks: int = 64, reference: PlaybackReference | None = None,
                 canceller: Canceller | None = None) -> None:
        self.device = resolve_device(device, "input")
        # Echo cancellation: each block less what the speaker played while it was captured.
        self._echo = (reference, canceller) if reference is not None and canceller is not None else None
        self._latency_s = 0.0
        self._echo_energy, self._echo_blocks = [0.0, 0.0], 0
        self._delay = DelayEstimator()  # sound servers add delays the devices do not report
        import sounddevice as sd

        info: Any = sd.query_devices(self.device, "input")
        self.name = str(info["name"])
        self.rate = int(info["default_samplerate"]) or SAMPLE_RATE
        self.dropped_blocks = 0
        self._queue: collections.deque[tuple[np.ndarray, float]] = collections.deque(maxlen=queue_blocks)
        self._ready = threading.Event()
        self._error: str = ""

    def _callback(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        if status.input_overflow:
            _LOG.warning("input overflow reported by the sound device")
        if len(self._queue) == self._queue.maxlen:
            self.dropped_blocks += 1  # deque drops the oldest on append
        # When the chunk's first sample was captured, on the clock the speaker's reference uses.
        captured = monotonic() - self._latency_s - frames / self.rate
        self._queue.append((indata[:, 0].copy(), captured))
        self._ready.set()

    async def _cancel_echo(self, block: AudioBlock, origin: float) -> AudioBlock:
        reference, cancel = self._echo  # type: ignore[misc]
        at = origin + block.start_ms / 1000
        delay = self._delay.feed(block.samples, reference.window(at))
        # The echo of what played at ``at - delay`` is in this block; the canceller is handed the reference a little
        # ahead of it (read from later on the timeline), because its filter models echoes after the reference, up
        # to its tail, never before.
        played = reference.window(at - (delay or 0.0) + _REFERENCE_LEAD_S)
        samples = await asyncio.to_thread(cancel, block.samples, played)
        if played.any():  # how much the canceller takes out while the speaker plays, for the debug log
            self._echo_energy[0] += float(np.mean(np.square(block.samples, dtype=np.float64)))
            self._echo_energy[1] += float(np.mean(np.square(samples, dtype=np.float64)))
            self._echo_blocks += 1
            if self._echo_blocks % _ECHO_LOG_BLOCKS == 0:
                before, after = self._echo_energy
                _LOG.debug("echo canceller: %.1f dB less input over the last %d blocks of playback (delay %s s; "
                           "last estimate %.3f s at correlation %.2f)", 10 * np.log10((before + 1.0) / (after + 1.0)),
                           _ECHO_LOG_BLOCKS, self._delay.delay_s, *self._delay.last)
                self._echo_energy = [0.0, 0.0]
        return AudioBlock(samples, block.start_ms)

    async def blocks(self) -> AsyncIterator[AudioBlock]:
        """Yield blocks until cancelled; a device error raises :class:`DeviceError`."""
        import sounddevice as sd
        import soxr

        resampler = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1, dtype="int16") if self.rate != SAMPLE_RATE else None
        frames = max(1, round(self.rate * BLOCK_MS / 1000))
        framer = BlockFramer()
        fed, origin = 0, 0.0
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def notify(*args: Any) -> None:
            self._callback(*args)
            loop.call_soon_threadsafe(wake.set)

        try:
            stream = sd.InputStream(device=self.device, channels=1, samplerate=self.rate, dtype="int16",
                                    blocksize=frames, callback=notify)
            stream.start()
            self._latency_s = float(stream.latency)
        except Exception as err:
            raise DeviceError(f"cannot open input device {self.name!r}: {err}", code=CODE_DEVICE_OPEN) from err
        warned = accounted = 0
        try:
            while True:
                if not self._queue:
                    wake.clear()
                    try:
                        await asyncio.wait_for(wake.wait(), timeout=2.0)
                    except TimeoutError:
                        if not stream.active:
                            raise DeviceError(f"input device {self.name!r} stopped delivering audio",
                                              code=CODE_DEVICE_LOST) from None
                        continue
                ready: list[AudioBlock] = []
                if (lost := self.dropped_blocks) > accounted:  # chunks lost before these: sample 0 moves on as much
                    origin += (lost - accounted) * frames / self.rate
                    accounted = lost
                while self._queue:  # everything queued first, then the whole blocks it makes
                    chunk, captured = self._queue.popleft()
                    if resampler is not None:
                        chunk = resampler.resample_chunk(chunk)
                    # The stream's sample 0 on the clock: set by the first chunk, moved only by a real jump
                    # (callbacks come in bursts, so each chunk's own time jitters).
                    estimate = captured - fed / SAMPLE_RATE
                    if fed == 0 or abs(estimate - origin) >= REANCHOR_S:
                        origin = estimate
                    fed += len(chunk)
                    ready += framer.feed(chunk)
                for block in ready:
                    if self._echo is not None:
                        block = await self._cancel_echo(block, origin)
                    yield block
                if self.dropped_blocks > warned:
                    _LOG.warning("input queue full: dropped %d old block(s) so far", self.dropped_blocks)
                    warned = self.dropped_blocks
        finally:
            stream.stop()
            stream.close()
