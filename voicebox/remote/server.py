"""``voicebox serve``: speech-to-text, text-to-speech, wake word, intents and skills over the Wyoming protocol."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.intent import Entity, Intent, NotRecognized, Recognize
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncServer
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStopped
from wyoming.wake import Detect, Detection, NotDetected

from voicebox.act.dispatch import NOT_UNDERSTOOD
from voicebox.audio_io.sinks import NullSink
from voicebox.core.audio import SAMPLE_RATE, Pcm
from voicebox.core.config import Config
from voicebox.core.conversation import origin
from voicebox.core.errors import CODE_OUT_OF_ORDER, CODE_TEXT_TOO_LONG, RemoteError
from voicebox.core.events import EventSink
from voicebox.hear.wake import WakeDecider, WakeDetector
from voicebox.remote.connection import AudioReceiver, GuardedHandler, Limits, start_server
from voicebox.remote.info import build_info
from voicebox.remote.speech import send_all, synthesize_events, transcribe, transcript_events
from voicebox.speak.sentences import SentenceBuffer
from voicebox.turn.pipeline import Engines, Pipeline, Understanding
from voicebox.understand.asr import Recognition

__all__ = ["ServiceHandler", "Services", "WyomingService"]

_LOG = logging.getLogger(__name__)


@dataclass(slots=True)
class Services:
    """What every connection shares: the engines, the info, and a way to build a per-stream wake detector."""

    config: Config
    engines: Engines
    info: Info
    make_wake: Callable[[], WakeDetector]
    emit: EventSink
    limits: Limits
    active: set[GuardedHandler] = field(default_factory=set)


class ServiceHandler(GuardedHandler):
    """One client connection; each Wyoming request type maps to one method (unknown types are ignored)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, services: Services) -> None:
        super().__init__(reader, writer, limits=services.limits, active=services.active)
        self.s = services
        self._mode = "asr"  # what incoming audio is for: "asr" or "wake"
        self._audio = AudioReceiver()
        self._kept: list[Pcm] = []
        self._kept_samples = 0
        self._wake: WakeDetector | None = None
        self._decider: WakeDecider | None = None
        self._wake_names: set[str] | None = None
        self._detected = False
        self._text: SentenceBuffer | None = None
        self._pipeline: Pipeline | None = None
        self._routes: dict[str, Callable[[Event], Awaitable[None]]] = {
            "describe": self._describe, "ping": self._ping, "transcribe": self._transcribe,
            "detect": self._detect, "audio-start": self._audio_start, "audio-chunk": self._audio_chunk,
            "audio-stop": self._audio_stop, "synthesize": self._synthesize, "synthesize-start": self._synth_start,
            "synthesize-chunk": self._synth_chunk, "synthesize-stop": self._synth_stop,
            "recognize": self._recognize, "transcript": self._handle,
        }

    async def handle_event(self, event: Event) -> bool:
        """Route one event to its method."""
        route = self._routes.get(event.type)
        if route is None:
            _LOG.debug("wyoming client %s: ignoring event %r", self.peer, event.type)
        else:
            await route(event)
        return True

    async def _describe(self, event: Event) -> None:
        assert Describe.is_type(event.type)
        await self.write_event(self.s.info.event())

    async def _ping(self, event: Event) -> None:
        await self.write_event(Pong(text=Ping.from_event(event).text).event())

    # ---- speech to text -------------------------------------------------------------------------------
    async def _transcribe(self, event: Event) -> None:
        Transcribe.from_event(event)
        self._mode = "asr"

    async def _audio_start(self, event: Event) -> None:
        self._audio = AudioReceiver()
        self._kept, self._kept_samples, self._detected = [], 0, False
        if self._wake is not None:
            await asyncio.to_thread(self._wake.reset)

    async def _audio_chunk(self, event: Event) -> None:
        blocks = self._audio.feed(event)
        if self._mode == "wake":
            for block in blocks:
                await self._score(block.samples, block.start_ms)
            return
        room = int(self.s.config.wyoming.max_audio_s * SAMPLE_RATE) - self._kept_samples
        for block in blocks:
            if room <= 0:
                break  # longer than max_audio_s: the rest is dropped, memory stays bounded
            self._kept.append(block.samples[:room])
            self._kept_samples += len(self._kept[-1])
            room -= len(self._kept[-1])

    async def _audio_stop(self, event: Event) -> None:
        if self._mode == "wake":
            self._mode = "asr"
            if not self._detected:
                await self.write_event(NotDetected().event())
            return
        rest = self._audio.flush()
        pcm = np.concatenate([*self._kept, rest]) if self._kept or len(rest) else np.zeros(0, np.int16)
        self._kept, self._kept_samples = [], 0
        language = self.s.config.skills.language
        text = ""
        if len(pcm) >= SAMPLE_RATE // 10:
            rec = await transcribe(self.s.engines.asr, self.s.engines.asr_pool, pcm)
            text = rec.text
        streaming = self.s.config.wyoming.transcript_streaming
        for out in transcript_events(text, streaming=streaming, language=language):
            await self.write_event(out)

    # ---- wake word ------------------------------------------------------------------------------------
    async def _detect(self, event: Event) -> None:
        names = Detect.from_event(event).names
        self._mode = "wake"
        self._wake_names = set(names) if names else None
        if self._wake is None:
            self._wake = await asyncio.to_thread(self.s.make_wake)
        self._decider = WakeDecider.from_config(self.s.config.wake)

    async def _score(self, samples: Pcm, start_ms: int) -> None:
        assert self._wake is not None and self._decider is not None
        scores = await asyncio.to_thread(self._wake.process, samples)
        if self._wake_names is not None:
            scores = {k: v for k, v in scores.items() if k in self._wake_names}
        hit = self._decider.feed(scores)
        if hit is not None:
            self._detected = True
            await self.write_event(Detection(name=hit.model, timestamp=start_ms).event())

    # ---- text to speech -------------------------------------------------------------------------------
    async def _speak(self, text: str) -> None:
        if len(text) > self.s.config.wyoming.max_text_chars:
            raise RemoteError(f"text of {len(text)} characters is over the {self.s.config.wyoming.max_text_chars} "
                              "allowed ([wyoming] max_text_chars)", code=CODE_TEXT_TOO_LONG)
        if not text.strip():
            return
        engines = self.s.engines
        await send_all(synthesize_events(engines.tts, engines.tts_pool, text), self.write_event)

    async def _synthesize(self, event: Event) -> None:
        request = Synthesize.from_event(event)
        if self._text is not None:
            return  # a streaming client also sends the whole text for older servers: already being spoken
        await self._speak(request.text)

    async def _synth_start(self, event: Event) -> None:
        SynthesizeStart.from_event(event)
        self._text = SentenceBuffer(self.s.config.wyoming.max_text_chars)

    async def _synth_chunk(self, event: Event) -> None:
        chunk = SynthesizeChunk.from_event(event)
        if self._text is None:
            raise RemoteError("synthesize-chunk without synthesize-start", code=CODE_OUT_OF_ORDER)
        for sentence in self._text.add(str(chunk.text)):
            await self._speak(sentence)

    async def _synth_stop(self, event: Event) -> None:
        if self._text is not None:
            await self._speak(self._text.finish())
        self._text = None
        await self.write_event(SynthesizeStopped().event())

    # ---- intents and skills ---------------------------------------------------------------------------
    def _check_text(self, text: Any) -> str:
        if not isinstance(text, str):
            raise TypeError("'text' must be a string")
        if len(text) > self.s.config.wyoming.max_text_chars:
            raise RemoteError(f"text of {len(text)} characters is too long", code=CODE_TEXT_TOO_LONG)
        return text

    async def _recognize(self, event: Event) -> None:
        text = self._check_text(Recognize.from_event(event).text)
        match = self.s.engines.intents.recognize(text)
        if match is None:
            await self.write_event(NotRecognized(text=NOT_UNDERSTOOD).event())
            return
        entities = [Entity(name=k, value=v) for k, v in match.slots.items()]
        await self.write_event(Intent(name=match.intent, entities=entities, context={"skill": match.skill}).event())

    async def _handle(self, event: Event) -> None:
        text = self._check_text(Transcript.from_event(event).text)
        if self._pipeline is None:
            self._pipeline = Pipeline(self.s.engines, self.s.config, sink=NullSink(), emit=self.s.emit)
        match = self.s.engines.intents.recognize(text)
        understanding = Understanding(Recognition(text, "text", 0.0, 0.0), match, 0.0, 0.0)
        with origin(f"wyoming:{self.peer}"):
            result = await self._pipeline.respond(understanding)
        reply = result.response.speech
        ok = match is not None and result.status == "ok"
        await self.write_event(Handled(text=reply).event() if ok else NotHandled(text=reply).event())

    async def disconnect(self) -> None:
        """Release this connection's own worker."""
        if self._pipeline is not None:
            self._pipeline.close()


class WyomingService:
    """The server: engines shared by every connection, one :class:`ServiceHandler` each."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._server: AsyncServer | None = None

    async def start(self, uri: str) -> None:
        """Listen at ``uri`` (tcp:// or unix://)."""
        self._server = await start_server(uri, lambda r, w: ServiceHandler(r, w, self.services))

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            await self._server.stop()


def make_services(config: Config, engines: Engines, store: Any, emit: EventSink) -> Services:
    """Services over loaded engines; wake detectors are built per connection from ``store``."""
    from voicebox.daemon.assistant import load_wake

    info = build_info(config, wake_models=engines.wake_models, skills=engines.dispatcher.skill_names)
    w = config.wyoming
    return Services(config, engines, info, lambda: load_wake(config, store), emit,
                    Limits(max_event_bytes=w.max_event_bytes, max_clients=w.max_clients))


async def serve(config: Config, uri: str, emit: EventSink, *, ready: Callable[[], None] | None = None) -> None:
    """Load the engines, listen at ``uri`` until cancelled (or SIGTERM/Ctrl-C)."""
    from voicebox.daemon.assistant import build_engines, model_store

    store = model_store(config)
    started = time.perf_counter()
    engines = await asyncio.to_thread(build_engines, config, store)
    service = WyomingService(make_services(config, engines, store, emit))
    try:
        await service.start(uri)
        announcer = await _announce(config, uri) if config.wyoming.zeroconf else None
        _LOG.info("voicebox Wyoming server listening on %s (models loaded in %.1f s)", uri,
                  time.perf_counter() - started)
        if ready is not None:
            ready()
        try:
            await asyncio.Event().wait()
        finally:
            if announcer is not None:
                await announcer.close()
    finally:
        await service.stop()
        engines.close()


async def _announce(config: Config, uri: str) -> Any:
    from voicebox.remote.zeroconf import announce

    return await announce(uri, config.wyoming.zeroconf_name)
