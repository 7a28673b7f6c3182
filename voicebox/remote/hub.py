"""The hub: ``voicebox run`` accepts room satellites; each gets its own pipeline, conversation and voice.

A satellite connects, presents its name (and the shared token), and after
each local wake word streams the command audio here. The hub captures the
command with its own VAD state for that satellite, answers with the shared
recognizer, skills and synthesizer, and sends the reply audio back. Skills
that speak later (a timer ringing) speak on the satellite whose conversation
set them (see :mod:`voicebox.core.conversation`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from wyoming.asr import Transcript as TranscriptEvent
from wyoming.audio import AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Info
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.server import AsyncServer
from wyoming.tts import Synthesize

from voicebox.core.audio import SAMPLE_RATE, AudioBlock, Pcm
from voicebox.core.conversation import origin
from voicebox.core.errors import CODE_HELLO, CODE_NO_SPEECH, CODE_UNAUTHORIZED, Stage
from voicebox.core.events import ErrorEvent, EventSink, NoSpeech, SpeechEnded, SynthesisStarted, Transcript
from voicebox.core.events import Event as VoiceboxEvent
from voicebox.daemon.assistant import Assistant, load_vad
from voicebox.hear.capture import SpeechDetector
from voicebox.remote.connection import (
    AudioReceiver,
    GuardedHandler,
    Limits,
    ProtocolError,
    check_uri,
    is_loopback,
    pcm_chunk,
    read_event,
    start_server,
)
from voicebox.turn.pipeline import Pipeline

__all__ = ["Hub", "IdleSource", "RemoteSink", "with_hub"]

_LOG = logging.getLogger(__name__)
T = TypeVar("T")
_HELLO_TIMEOUT_S = 10.0
_QUEUE_BLOCKS = 64  # 5 s of command audio waiting for the VAD at most
_OUTBOX = 512
_PUT_TIMEOUT_S = 2.0
_REPLY_CHUNK = SAMPLE_RATE // 2  # reply audio goes out in 0.5 s events
# Errors that end a turn before its reply, told to the satellite so that it stops streaming: a wake-word
# failure does not end the turn, and a failure while speaking comes after the command was heard.
_TURN_ENDING = frozenset(Stage) - {Stage.WAKE, Stage.TTS, Stage.AUDIO_OUT}


class RemoteSink:
    """An :class:`~voicebox.speaker.AudioSink` that sends the audio to a satellite as Wyoming events."""

    def __init__(self, send: Callable[[Event], Awaitable[None]], send_now: Callable[[Event], None]) -> None:
        self._send = send
        self._send_now = send_now
        self._open = False

    async def write(self, pcm: Pcm) -> None:
        """Open the stream if needed, then send the audio in half-second events."""
        if not self._open:
            self._open = True
            await self._send(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
        for start in range(0, len(pcm), _REPLY_CHUNK):
            await self._send(pcm_chunk(pcm[start : start + _REPLY_CHUNK]))

    async def drain(self) -> None:
        """End the stream; the satellite plays it to the end."""
        if self._open:
            self._open = False
            await self._send(AudioStop().event())

    def stop(self) -> None:
        """End the stream now (barge-in); the satellite drops what it has not played."""
        if self._open:
            self._open = False
            self._send_now(AudioStop().event())

    def close(self) -> None:
        """Nothing to release: the connection belongs to the hub."""


class SatelliteHandler(GuardedHandler):
    """One satellite connection: hello and token, then turns on its audio."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hub: Hub) -> None:
        super().__init__(reader, writer, limits=hub.limits, active=hub.active)
        self.hub = hub
        self.name = ""
        self.pipeline: Pipeline | None = None
        self._vad: SpeechDetector | None = None
        self._queue: asyncio.Queue[AudioBlock | None] = asyncio.Queue(_QUEUE_BLOCKS)
        self._outbox: asyncio.Queue[Event] = asyncio.Queue(_OUTBOX)
        self._writer_task: asyncio.Task[None] | None = None
        self._turn: asyncio.Task[None] | None = None
        self._audio = AudioReceiver()
        self._streaming = False

    async def run(self) -> None:
        """Say hello first (within 10 s), then the usual guarded loop."""
        try:
            first = await asyncio.wait_for(self._hello(), _HELLO_TIMEOUT_S)
        except TimeoutError:
            first = "no hello within 10 s"
        except ProtocolError as err:
            first = err.message
        if first:
            _LOG.warning("satellite %s refused: %s", self.peer, first)
            await self.send_error(first, CODE_UNAUTHORIZED if "token" in first else CODE_HELLO)
            self.writer.close()
            return
        await super().run()

    async def _hello(self) -> str:
        event = await read_event(self.reader, self.limits.max_event_bytes)
        if event is None or not Info.is_type(event.type):
            return "a satellite must first send `info` with its name"
        token = event.data.get("token", "")
        if self.hub.token and not (isinstance(token, str) and hmac.compare_digest(token, self.hub.token)):
            return "wrong or missing token: set [hub] token on the satellite to the hub's"
        info = Info.from_event(event)
        name = info.satellite.name if info.satellite is not None and info.satellite.name else self.peer
        if len(self.hub.sessions) >= self.hub.max_satellites and name not in self.hub.sessions:
            return f"hub full: {self.hub.max_satellites} satellites already connected"
        self.name = str(name)[:100]
        hub = self.hub
        self._vad = await asyncio.to_thread(hub.make_vad)
        self.pipeline = Pipeline(hub.assistant.engines, hub.assistant.config, sink=RemoteSink(self._send, self._send_now),
                                 emit=self._emit, realtime=True)
        self._writer_task = asyncio.create_task(self._write_out(), name=f"satellite {self.name} writer")
        previous = hub.sessions.get(self.name)
        if previous is not None:
            await previous.stop()  # the same room reconnected: the new connection wins
        hub.sessions[self.name] = self
        hub.assistant.speak_routes[self.name] = self.pipeline  # skills speaking for this room, timers ringing
        await self.write_event(RunSatellite().event())
        _LOG.info("satellite %r connected from %s", self.name, self.peer)
        return ""

    # ---- outgoing: one writer task keeps the events in order ----------------------------------------------
    async def _send(self, event: Event) -> None:
        await self._outbox.put(event)

    def _send_now(self, event: Event) -> None:
        try:
            self._outbox.put_nowait(event)
        except asyncio.QueueFull:
            _LOG.warning("satellite %r is not reading; dropped a %s event", self.name, event.type)

    async def _write_out(self) -> None:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            while True:
                await self.write_event(await self._outbox.get())

    def _emit(self, event: VoiceboxEvent) -> None:
        self.hub.emit(event)
        if isinstance(event, (SpeechEnded, NoSpeech)):
            self._streaming = False  # the command is captured: audio still on its way is not needed
        if isinstance(event, Transcript):
            self._send_now(TranscriptEvent(text=event.text).event())
        elif isinstance(event, NoSpeech):
            self._send_now(Error(text="no speech after the wake word", code=CODE_NO_SPEECH).event())
        elif isinstance(event, ErrorEvent) and event.stage in _TURN_ENDING:
            self._send_now(Error(text=event.message, code=event.code).event())
        elif isinstance(event, SynthesisStarted):
            self._send_now(Synthesize(text=event.text).event())

    # ---- incoming -------------------------------------------------------------------------------------
    async def handle_event(self, event: Event) -> bool:
        """Turns start on ``run-pipeline``; audio goes to the turn in progress."""
        if RunPipeline.is_type(event.type):
            RunPipeline.from_event(event)
            self._start_turn()
        elif event.type == "audio-start":
            self._audio = AudioReceiver()
        elif event.type == "audio-chunk":
            for block in self._audio.feed(event):
                await self._put(block)
        elif event.type == "audio-stop":
            await self._put(None)
        elif event.type == "describe":
            await self._send(self.hub.info.event())
        return True

    async def _put(self, block: AudioBlock | None) -> None:
        if not self._streaming:
            return
        if block is None:
            self._streaming = False
        try:
            # A busy hub slows the satellite down (TCP backpressure) rather than losing words; a turn that
            # stopped reading without ending the stream must not stall the connection for long.
            await asyncio.wait_for(self._queue.put(block), _PUT_TIMEOUT_S)
        except TimeoutError:
            _LOG.warning("satellite %r: the hub is behind; dropped 80 ms of audio", self.name)

    def _start_turn(self) -> None:
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()
        self._open_stream()
        self._turn = asyncio.create_task(self._run_turn(time.perf_counter()), name=f"satellite {self.name} turn")

    def _open_stream(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._streaming = True

    async def _blocks(self) -> AsyncIterator[AudioBlock]:
        while (block := await self._queue.get()) is not None:
            yield block

    async def _run_turn(self, wake_wall: float) -> None:
        assert self.pipeline is not None and self._vad is not None
        with origin(self.name):
            # Shared engines (re-read each turn: a reload may replace the skills), this satellite's own VAD.
            self.pipeline.engines = dataclasses.replace(self.hub.assistant.engines, vad=self._vad)
            self.pipeline.stop_speaking()
            await self.pipeline.turn(self._blocks(), wake_wall)
            while self.pipeline.awaiting_reply is not None:  # a follow-up question: this room answers, no wake word
                asked = self.pipeline.awaiting_reply
                await self.pipeline.finish()
                self._open_stream()
                await self._send(RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS).event())
                await self.pipeline.turn(self._blocks(), time.perf_counter())
                if self.pipeline.awaiting_reply is asked:  # nobody answered
                    self.pipeline.awaiting_reply = None

    async def disconnect(self) -> None:
        """Forget this satellite; its skills' later speech goes to the hub's own speaker."""
        for task in (self._turn, self._writer_task):
            if task is not None:
                task.cancel()
        if self.pipeline is not None:
            self.pipeline.stop_speaking()
            self.pipeline.close()
        if self.hub.sessions.get(self.name) is self:
            del self.hub.sessions[self.name]
            self.hub.assistant.speak_routes.pop(self.name, None)
            _LOG.info("satellite %r disconnected", self.name)


class Hub:
    """Accepts satellites at ``uri`` for an :class:`Assistant` (its engines, skills and speak routes)."""

    def __init__(self, assistant: Assistant, *, token: str = "", max_satellites: int = 8,
                 limits: Limits | None = None, emit: EventSink | None = None,
                 make_vad: Callable[[], SpeechDetector] | None = None) -> None:
        from voicebox.daemon.assistant import model_store
        from voicebox.remote.info import build_info

        self.assistant = assistant
        self.token = token
        self.max_satellites = max_satellites
        self.limits = limits or Limits(max_clients=max_satellites + 4)
        self.emit = emit or assistant.emit
        self.make_vad = make_vad or (lambda: load_vad(model_store(assistant.config)))
        self.info = build_info(assistant.config, wake_models=assistant.engines.wake_models,
                               skills=assistant.engines.dispatcher.skill_names)
        self.sessions: dict[str, SatelliteHandler] = {}
        self.active: set[GuardedHandler] = set()
        self._server: AsyncServer | None = None

    async def start(self, uri: str) -> None:
        """Listen for satellites."""
        self._server = await start_server(uri, lambda r, w: SatelliteHandler(r, w, self))
        _LOG.info("hub listening for satellites on %s", uri)

    async def stop(self) -> None:
        """Disconnect every satellite and stop listening."""
        if self._server is not None:
            await self._server.stop()


class IdleSource:
    """No local microphone (``voicebox run --input none``): a hub that only serves satellites."""

    name = "none"

    async def blocks(self) -> AsyncIterator[AudioBlock]:
        """Never yields; ends only when cancelled."""
        await asyncio.Event().wait()
        yield  # type: ignore[misc]  # pragma: no cover - unreachable, makes this an async generator


async def with_hub(assistant: Assistant, uri: str, main: Awaitable[T]) -> T:
    """Run ``main`` (the daemon) while accepting satellites at ``uri`` ([hub] token, max_satellites)."""
    config = assistant.config
    hub = Hub(assistant, token=config.hub.token, max_satellites=config.hub.max_satellites,
              limits=Limits(max_event_bytes=config.wyoming.max_event_bytes, max_clients=config.hub.max_satellites + 4))
    if not config.hub.token and not is_loopback(uri):
        _LOG.warning("hub on %s has no [hub] token: anyone on the network can connect a satellite", uri)
    try:
        await hub.start(check_uri(uri, what="[hub] uri"))
    except BaseException:
        if inspect.iscoroutine(main):
            main.close()  # never started: close it so it is not reported as never awaited
        raise
    try:
        return await main
    finally:
        await hub.stop()
