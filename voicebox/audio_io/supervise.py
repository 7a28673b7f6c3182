"""Audio devices that come and go: reopen a lost input or output with capped exponential backoff."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from voicebox.audio_io.sinks import AudioSink
from voicebox.core.audio import BLOCK_MS, AudioBlock, Pcm
from voicebox.core.events import DeviceLost, DeviceRestored, EventSink

__all__ = ["Backoff", "BlockSource", "SupervisedSink", "SupervisedSource"]

_LOG = logging.getLogger(__name__)


class BlockSource(Protocol):
    """Anything with ``blocks()``: an async iterator of internal-format 80 ms blocks."""

    def blocks(self) -> AsyncIterator[AudioBlock]:
        """The audio, block by block."""
        ...


@dataclass(slots=True)
class Backoff:
    """Retry delays: ``first_s``, doubling after each failure, never above ``max_s`` (clock-free)."""

    first_s: float
    max_s: float
    failures: int = 0

    def next_delay_s(self) -> float:
        """The wait before the next attempt; counts one more failure."""
        delay = min(self.max_s, self.first_s * (2.0 ** min(self.failures, 60)))
        self.failures += 1
        return delay

    def reset(self) -> None:
        """The device works again: start from ``first_s`` next time."""
        self.failures = 0


class SupervisedSource:
    """An input that survives its device: on an error it emits :class:`DeviceLost`, waits, reopens.

    ``open_source`` is called once now (so a wrong device name fails at
    start-up) and again after each failure. Block positions stay monotonic
    across reopenings. ``heartbeat`` is called while waiting, so a service
    watchdog knows the loop is alive rather than stalled.
    """

    def __init__(self, open_source: Callable[[], BlockSource], *, name: str, emit: EventSink,
                 retry_max_s: float, first_retry_s: float = 0.5, heartbeat: Callable[[], None] | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.name = name
        self._open = open_source
        self._source: BlockSource | None = open_source()
        self._emit = emit
        self._backoff = Backoff(min(first_retry_s, retry_max_s), retry_max_s)
        self.heartbeat: Callable[[], None] = heartbeat or (lambda: None)
        self._sleep = sleep or asyncio.sleep
        self.losses = 0

    async def _wait(self, delay_s: float) -> None:
        remaining = delay_s
        while remaining > 0:  # in slices, with a heartbeat each, so the watchdog sees a live loop
            step = min(1.0, remaining)
            await self._sleep(step)
            self.heartbeat()
            remaining -= step

    async def _reopen(self) -> BlockSource:
        while True:
            try:
                source = self._open()
            except Exception as err:
                delay = self._backoff.next_delay_s()
                _LOG.warning("input device %s still unavailable (%s); next try in %.1f s", self.name, err, delay)
                await self._wait(delay)
                continue
            self._backoff.reset()
            _LOG.warning("input device %s is back", self.name)
            self._emit(DeviceRestored(device=self.name))
            return source

    async def blocks(self) -> AsyncIterator[AudioBlock]:
        """Blocks from the device, across losses, until the underlying source ends or the task is cancelled."""
        position = 0
        while True:
            if self._source is None:
                self._source = await self._reopen()
            try:
                async for block in self._source.blocks():
                    yield AudioBlock(block.samples, position)
                    position += BLOCK_MS
                return
            except Exception as err:  # any device failure: report, wait, reopen; cancellation passes
                self._source = None
                self.losses += 1
                delay = self._backoff.next_delay_s()
                _LOG.error("input device %s lost: %s; retrying in %.1f s", self.name, err, delay)
                self._emit(DeviceLost(device=self.name, message=str(err), retry_s=delay))
                await self._wait(delay)


class SupervisedSink:
    """An output that survives its device: failures drop the audio, emit :class:`DeviceLost`, and the
    device is reopened (with backoff) on a later write. It never raises into the pipeline.
    """

    def __init__(self, open_sink: Callable[[], AudioSink], *, name: str, emit: EventSink, retry_max_s: float,
                 first_retry_s: float = 0.5, drain_slack_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._open = open_sink
        self._sink: AudioSink | None = open_sink()
        self._emit = emit
        self._backoff = Backoff(min(first_retry_s, retry_max_s), retry_max_s)
        self._clock = clock
        self._next_try_s = 0.0
        self._queued_s = 0.0
        self._drain_slack_s = drain_slack_s
        self.losses = 0

    def _lost(self, err: BaseException) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            for release in (sink.stop, sink.close):
                try:
                    release()
                except Exception as close_err:  # the device is already gone; closing may fail too
                    _LOG.debug("closing lost output %s: %s", self.name, close_err)
        self.losses += 1
        delay = self._backoff.next_delay_s()
        self._next_try_s = self._clock() + delay
        self._queued_s = 0.0
        _LOG.error("output device %s lost: %s; retrying in %.1f s", self.name, err, delay)
        self._emit(DeviceLost(device=self.name, message=str(err) or type(err).__name__, retry_s=delay))

    def _usable(self) -> AudioSink | None:
        if self._sink is None and self._clock() >= self._next_try_s:
            try:
                self._sink = self._open()
            except Exception as err:
                delay = self._backoff.next_delay_s()
                self._next_try_s = self._clock() + delay
                _LOG.warning("output device %s still unavailable (%s); next try in %.1f s", self.name, err, delay)
                return None
            self._backoff.reset()
            self._emit(DeviceRestored(device=self.name))
        return self._sink

    async def write(self, pcm: Pcm) -> None:
        """Play ``pcm``, or drop it while the device is gone."""
        sink = self._usable()
        if sink is None:
            return
        try:
            await sink.write(pcm)
            self._queued_s += len(pcm) / 16000
        except Exception as err:
            self._lost(err)

    async def drain(self) -> None:
        """Wait for playback; a device that stops playing within the queued time plus slack counts as lost."""
        sink = self._sink
        if sink is None:
            return
        try:
            await asyncio.wait_for(sink.drain(), self._queued_s + self._drain_slack_s)
            self._queued_s = 0.0
        except TimeoutError as err:
            self._lost(err)
        except Exception as err:
            self._lost(err)

    def stop(self) -> None:
        """Drop queued audio."""
        self._queued_s = 0.0
        if self._sink is not None:
            try:
                self._sink.stop()
            except Exception as err:
                self._lost(err)

    def close(self) -> None:
        """Release the device."""
        sink, self._sink = self._sink, None
        if sink is not None:
            try:
                sink.close()
            except Exception as err:
                _LOG.debug("closing output %s: %s", self.name, err)
