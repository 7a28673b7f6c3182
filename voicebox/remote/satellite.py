"""``voicebox satellite --hub URI``: a room device; wake word here, the command's answer from the hub.

The satellite listens for the wake word locally, then streams the command
audio to the hub until the hub says it has heard enough (a ``transcript`` or
an ``error``), and plays whatever audio the hub sends: replies, timer alarms,
announcements. A wake word while audio plays cuts it short (barge-in).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Info
from wyoming.info import Satellite as SatelliteInfo
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.snd import Played

from voicebox.audio_io.sinks import AudioSink
from voicebox.core.audio import SAMPLE_RATE, AudioBlock
from voicebox.core.config import Config
from voicebox.core.errors import (
    CODE_HUB_LOST,
    CODE_HUB_REFUSED,
    CODE_HUB_UNREACHABLE,
    CODE_NO_SPEECH,
    NetworkError,
    RemoteError,
)
from voicebox.core.events import Event as VoiceboxEvent
from voicebox.core.events import EventSink, WakeDetected
from voicebox.core.workers import Worker
from voicebox.hear.wake import WakeDecider, WakeDetector
from voicebox.remote.connection import check_uri, pcm_chunk
from voicebox.remote.info import PROJECT_URL
from voicebox.speak.sounds import alarm

__all__ = ["HubReply", "HubTimer", "HubTranscript", "ReplyPlayed", "Satellite"]

_LOG = logging.getLogger(__name__)
_HELLO_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class HubTranscript(VoiceboxEvent):
    """The hub heard the command (empty text: it heard nothing); streaming stops here."""

    name: ClassVar[str] = "hub_transcript"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HubReply(VoiceboxEvent):
    """The text the hub is about to speak here."""

    name: ClassVar[str] = "hub_reply"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HubTimer(VoiceboxEvent):
    """The hub told this satellite about a timer set here: ``change`` is started, updated, cancelled or finished."""

    name: ClassVar[str] = "hub_timer"
    change: str
    timer_id: str
    total_seconds: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyPlayed(VoiceboxEvent):
    """One audio stream from the hub was played; ``first_audio_wall`` is ``time.perf_counter()`` of its first chunk."""

    name: ClassVar[str] = "reply_played"
    audio_ms: int
    first_audio_wall: float


class Satellite:
    """One connection to a hub, driven by a block source and playing into a sink."""

    def __init__(self, config: Config, hub_uri: str, *, wake: WakeDetector, sink: AudioSink, emit: EventSink,
                 token: str = "", name: str = "", area: str = "") -> None:
        self.config = config
        self.hub_uri = check_uri(hub_uri, what="hub address")
        self.wake = wake
        self.sink = sink
        self.emit = emit
        self.token = token
        self.name = name or socket.gethostname()
        self.area = area
        self.streaming = False
        self._decider = WakeDecider.from_config(config.wake)
        self._client: AsyncClient | None = None
        self._pool = Worker("satellite-wake")
        self._stream_deadline = 0.0
        self._reply_samples = 0
        self._first_audio = 0.0
        self._convert = AudioChunkConverter(rate=SAMPLE_RATE, width=2, channels=1)
        self.replies_pending = 0
        self.awaiting_answer = False  # a turn was started and its answer (reply audio or an error) is still due
        self._write: Callable[[Event], Awaitable[None]] | None = None  # to the hub; None while no hub is served
        self._routes: dict[str, Callable[[Event], Awaitable[None]]] = {
            "transcript": self._on_transcript, "error": self._on_error, "synthesize": self._on_synthesize,
            "audio-start": self._on_audio_start, "audio-chunk": self._on_audio_chunk, "audio-stop": self._on_audio_stop,
            "run-pipeline": self._on_run_pipeline, "timer-started": self._on_timer, "timer-updated": self._on_timer,
            "timer-cancelled": self._on_timer, "timer-finished": self._on_timer,
        }

    async def _send(self, event: Event) -> None:
        if self._write is not None:
            await self._write(event)

    def about(self) -> SatelliteInfo:
        """This satellite as the `info` event describes it."""
        return SatelliteInfo(name=self.name, area=self.area or None, installed=True, version=None, has_vad=False,
                             attribution=Attribution(name="voicebox", url=PROJECT_URL), description="voicebox satellite",
                             active_wake_words=list(self.config.wake.models))

    async def connect(self) -> None:
        """Connect and introduce this satellite; raises :class:`NetworkError` if unreachable, :class:`RemoteError` if refused."""
        client = AsyncClient.from_uri(self.hub_uri, connect_timeout=10.0)
        try:
            await client.connect()
        except (OSError, TimeoutError) as err:
            raise NetworkError(f"cannot reach the hub at {self.hub_uri}: {err}", code=CODE_HUB_UNREACHABLE) from err
        self._client = client
        self._write = client.write_event
        hello = Info(satellite=self.about()).event()
        hello.data["token"] = self.token
        await self._send(hello)
        reply = await asyncio.wait_for(client.read_event(), _HELLO_TIMEOUT_S)
        if reply is None or Error.is_type(reply.type) or not RunSatellite.is_type(reply.type):
            text = Error.from_event(reply).text if reply is not None and Error.is_type(reply.type) else "no answer"
            await self.close()
            raise RemoteError(f"the hub at {self.hub_uri} refused this satellite: {text}", code=CODE_HUB_REFUSED)

    async def run(self, blocks: AsyncIterator[AudioBlock], *, linger_s: float = 120.0) -> None:
        """Serve until the audio ends (then wait up to ``linger_s`` for the answer in flight) or the hub goes."""
        if self._client is None:
            await self.connect()
        receiver = asyncio.create_task(self._receive(), name="satellite receiver")
        listener = asyncio.create_task(self._listen(blocks), name="satellite listener")
        try:
            await asyncio.wait([receiver, listener], return_when=asyncio.FIRST_COMPLETED)
            if not listener.done():
                raise NetworkError(f"lost the connection to the hub at {self.hub_uri}", code=CODE_HUB_LOST)
            listener.result()
            deadline = time.perf_counter() + linger_s
            while self.busy and not receiver.done() and time.perf_counter() < deadline:
                await asyncio.wait([receiver], timeout=0.05)
        finally:
            for task in (listener, receiver):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                    await task
            await self.close()

    async def _listen(self, blocks: AsyncIterator[AudioBlock]) -> None:
        loop = asyncio.get_running_loop()
        async for block in blocks:
            if self.streaming:
                await self._send(pcm_chunk(block.samples, block.start_ms))
                if time.perf_counter() > self._stream_deadline:
                    await self._stop_streaming()  # the hub never ended the command: stop on our own
                continue
            scores = await loop.run_in_executor(self._pool, self.wake.process, block.samples)
            hit = self._decider.feed(scores)
            if hit is not None and self._write is None:
                _LOG.warning("heard %s, but no hub is connected", hit.model)
            elif hit is not None:
                self.emit(WakeDetected(model=hit.model, score=round(hit.score, 4), stream_ms=block.end_ms))
                self.sink.stop()  # barge-in
                await self.start_streaming(hit.model)
        if self.streaming:
            await self._stop_streaming()

    @property
    def busy(self) -> bool:
        """A turn is under way: audio is being sent, or the hub has not answered it yet, or its reply is playing."""
        return self.streaming or self.awaiting_answer or self.replies_pending > 0

    async def start_streaming(self, wake_word: str | None, *, ask: bool = True) -> None:
        """Start sending microphone audio; ``ask`` requests a new turn (not when the hub asked us to listen)."""
        self.streaming = True
        self.awaiting_answer = True
        self._stream_deadline = time.perf_counter() + self.config.listen.max_command_s + 3.0
        if ask:
            await self._send(RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS,
                                         wake_word_name=wake_word).event())
        await self._send(AudioStart(rate=SAMPLE_RATE, width=2, channels=1, timestamp=0).event())

    async def _stop_streaming(self) -> None:
        if self.streaming:
            self.streaming = False
            await self._send(AudioStop().event())
            await asyncio.get_running_loop().run_in_executor(self._pool, self.wake.reset)

    async def _receive(self) -> None:
        assert self._client is not None
        while (event := await self._client.read_event()) is not None:
            await self.on_event(event)
        _LOG.warning("the hub closed the connection")

    async def on_event(self, event: Event) -> None:
        """One event from the hub (replies, audio to play, a follow-up's ``run-pipeline``); others are ignored."""
        route = self._routes.get(event.type)
        if route is not None:
            await route(event)

    async def _on_transcript(self, event: Event) -> None:
        self.emit(HubTranscript(text=str(event.data.get("text", ""))))
        await self._stop_streaming()

    async def _on_error(self, event: Event) -> None:
        err = Error.from_event(event)
        if err.code != CODE_NO_SPEECH:
            _LOG.warning("hub: %s (%s)", err.text, err.code)
        self.emit(HubTranscript(text=""))
        self.awaiting_answer = False  # the turn ended without a reply (no speech, or the hub failed)
        await self._stop_streaming()

    async def _on_timer(self, event: Event) -> None:
        seconds = event.data.get("total_seconds", 0)
        change = event.type.removeprefix("timer-")
        self.emit(HubTimer(change=change, timer_id=str(event.data.get("id", "")),
                           total_seconds=seconds if isinstance(seconds, int) else 0))
        if change == "finished" and not event.data.get("rung_by_hub"):
            # A hub that keeps the timer itself (Home Assistant) only says it is done: the alarm rings here. A
            # voicebox hub has sent its alarm as audio already, and says so.
            await self.sink.write(alarm())
            await self.sink.drain()

    def attach(self, write: Callable[[Event], Awaitable[None]]) -> None:
        """Serve the hub that writes through ``write`` (server mode: it sent ``run-satellite``)."""
        self._write = write

    async def detach(self) -> None:
        """The hub paused this satellite or left: stop streaming; wake words are ignored until a hub comes."""
        self.streaming = False
        self._write = None
        await asyncio.get_running_loop().run_in_executor(self._pool, self.wake.reset)

    async def listen(self, blocks: AsyncIterator[AudioBlock]) -> None:
        """Listen for the wake word and stream commands to whichever hub is attached, until ``blocks`` ends."""
        await self._listen(blocks)

    async def _on_synthesize(self, event: Event) -> None:
        self.emit(HubReply(text=str(event.data.get("text", ""))))

    async def _on_audio_start(self, event: Event) -> None:
        AudioStart.from_event(event)
        self.replies_pending += 1
        self.awaiting_answer = False
        self._reply_samples = 0
        self._first_audio = 0.0

    async def _on_audio_chunk(self, event: Event) -> None:
        chunk = self._convert.convert(AudioChunk.from_event(event))
        pcm = np.frombuffer(chunk.audio, "<i2").astype(np.int16)
        if not self._first_audio:
            self._first_audio = time.perf_counter()
        self._reply_samples += len(pcm)
        await self.sink.write(pcm)

    async def _on_audio_stop(self, event: Event) -> None:
        await self.sink.drain()
        self.replies_pending = max(0, self.replies_pending - 1)
        self.emit(ReplyPlayed(audio_ms=self._reply_samples * 1000 // SAMPLE_RATE,
                              first_audio_wall=self._first_audio))
        await self._send(Played().event())

    async def _on_run_pipeline(self, event: Event) -> None:
        RunPipeline.from_event(event)
        if not self.streaming:  # the hub asks a follow-up question: listen without a wake word
            await self.start_streaming(None, ask=False)

    async def close(self) -> None:
        """Leave the hub."""
        client, self._client = self._client, None
        self._write = None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()
        self._pool.close()
        self._pool = Worker("satellite-wake")  # connect() may be called again (the reconnect loop)
