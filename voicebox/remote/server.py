"""``voicebox serve``: speech-to-text, text-to-speech, wake word, intents and skills over the Wyoming protocol."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.intent import Recognize
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncServer
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStopped
from wyoming.wake import Detect, Detection, NotDetected

from voicebox.audio_io.sinks import NullSink
from voicebox.core.audio import SAMPLE_RATE, Pcm
from voicebox.core.config import Config
from voicebox.core.errors import CODE_OUT_OF_ORDER, CODE_TEXT_TOO_LONG, RemoteError
from voicebox.core.events import EventSink
from voicebox.core.workers import Worker
from voicebox.hear.wake import WakeDecider, WakeDetector
from voicebox.remote.answers import Answering
from voicebox.remote.connection import AudioReceiver, GuardedHandler, Limits, start_server
from voicebox.remote.info import build_info
from voicebox.remote.speech import send_all, synthesize_events, transcribe, transcript_events
from voicebox.speak.sentences import SentenceBuffer
from voicebox.turn.pipeline import Engines

if TYPE_CHECKING:
    from voicebox.daemon.assistant import Assistant

__all__ = ["ServiceHandler", "Services", "WyomingService", "assistant_services", "make_services", "with_server"]

_LOG = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class Services:
    """What every connection shares: the engines, the info, the wake-word models and the conversations."""

    config: Config
    engines: Engines
    info: Info
    make_wake: Callable[[], WakeDetector]  # a detector for one more stream over the loaded models
    emit: EventSink
    limits: Limits
    answers: Answering
    active: set[GuardedHandler] = field(default_factory=set)
    # Every connection's wake-word scoring runs on this one worker: the models are shared, and one thread keeps
    # the memory that scoring touches (allocator arenas, buffers) to one thread's worth however many stream.
    wake_pool: Worker = field(default_factory=lambda: Worker("wyoming-wake"))


class ServiceHandler(GuardedHandler):
    """One client connection; each Wyoming request type maps to one method (unknown types are ignored).

    Audio is for speech recognition after ``transcribe``, for the wake word
    after ``detect``, and for both when the client sent neither (each service
    treats its request event as optional): the wake word with every loaded
    model, then a transcript at ``audio-stop`` if no wake word was heard.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, services: Services) -> None:
        super().__init__(reader, writer, limits=services.limits, active=services.active)
        self.s = services
        self._mode = "auto"  # what incoming audio is for: "asr", "wake" or "auto" (both)
        self._audio = AudioReceiver()
        self._kept: list[Pcm] = []
        self._kept_samples = 0
        self._wake: WakeDetector | None = None
        # One decider for the connection's life: its refractory period outlasts a new `detect` (a satellite keeps
        # one wake connection and sends `detect` again after each command).
        self._decider = WakeDecider.from_config(services.config.wake)
        self._wake_names: set[str] | None = None
        self._detected = False
        self._text: SentenceBuffer | None = None
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

    # ---- audio: speech to text and the wake word ------------------------------------------------------
    async def _transcribe(self, event: Event) -> None:
        Transcribe.from_event(event)
        self._mode = "asr"

    async def _restart_audio(self) -> None:
        """A new stream: nothing kept, no detection yet, the detector's context forgotten (not its refractory period)."""
        self._audio = AudioReceiver()
        self._kept, self._kept_samples, self._detected = [], 0, False
        if self._wake is not None:
            await self._on_wake_worker(self._wake.reset)

    async def _audio_start(self, event: Event) -> None:
        await self._restart_audio()

    async def _audio_chunk(self, event: Event) -> None:
        blocks = self._audio.feed(event)
        if self._mode != "asr":
            for block in blocks:
                await self._score(block.samples, block.start_ms)
            if self._mode == "wake":
                return
        room = int(self.s.config.wyoming.max_audio_s * SAMPLE_RATE) - self._kept_samples
        for block in blocks:
            if room <= 0:
                break  # longer than max_audio_s: the rest is dropped, memory stays bounded
            self._kept.append(block.samples[:room])
            self._kept_samples += len(self._kept[-1])
            room -= len(self._kept[-1])

    async def _audio_stop(self, event: Event) -> None:
        mode, self._mode = self._mode, "auto"
        if mode != "asr" and not self._detected:
            await self.write_event(NotDetected().event())
        if mode == "wake" or (mode == "auto" and self._detected):
            self._kept, self._kept_samples = [], 0
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

    async def _on_wake_worker(self, call: Callable[[], T]) -> T:
        return await self.s.wake_pool.run(call)

    async def _detect(self, event: Event) -> None:
        names = Detect.from_event(event).names
        self._mode = "wake"
        self._wake_names = set(names) if names else None
        await self._restart_audio()

    async def _score(self, samples: Pcm, start_ms: int) -> None:
        if self._wake is None:
            self._wake = await self._on_wake_worker(self.s.make_wake)
        wake = self._wake
        scores = await self._on_wake_worker(lambda: wake.process(samples))
        if self._wake_names is not None:
            scores = {k: v for k, v in scores.items() if k in self._wake_names}
        hit = self._decider.feed(scores)
        if hit is not None and not self._detected:
            self._detected = True
            await self.write_event(Detection(name=hit.model, timestamp=start_ms).event())

    # ---- text to speech -------------------------------------------------------------------------------
    async def _speak(self, text: str, *, always: bool = False) -> None:
        """Synthesize ``text``; blank text gives an empty audio stream when ``always`` (every request is answered)."""
        if len(text) > self.s.config.wyoming.max_text_chars:
            raise RemoteError(f"text of {len(text)} characters is over the {self.s.config.wyoming.max_text_chars} "
                              "allowed ([wyoming] max_text_chars)", code=CODE_TEXT_TOO_LONG)
        engines = self.s.engines
        if text.strip():
            await send_all(synthesize_events(engines.tts, engines.tts_pool, text), self.write_event)
        elif always:
            await self.write_event(AudioStart(rate=engines.tts.sample_rate, width=2, channels=1, timestamp=0).event())
            await self.write_event(AudioStop(timestamp=0).event())

    async def _synthesize(self, event: Event) -> None:
        request = Synthesize.from_event(event)
        if self._text is not None:
            return  # a streaming client also sends the whole text for older servers: already being spoken
        if not isinstance(request.text, str):
            raise TypeError("'text' must be a string")
        await self._speak(request.text, always=True)

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
        request = Recognize.from_event(event)
        await self.write_event(self.s.answers.recognize(self._check_text(request.text), request.context))

    async def _handle(self, event: Event) -> None:
        request = Transcript.from_event(event)
        text = self._check_text(request.text)
        await self.write_event(await self.s.answers.handle(text, request.context, self.peer_host))


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
        self.services.wake_pool.close()


def make_services(config: Config, engines: Engines, store: Any, emit: EventSink, *,
                  rings_locally: Callable[[], bool] = lambda: False) -> Services:
    """Services over loaded engines; each wake-word stream shares the loaded models (or loads its own from ``store``)."""
    from voicebox.daemon.assistant import load_wake

    info = build_info(config, wake_models=engines.wake_models, skills=engines.dispatcher.skill_names)
    w = config.wyoming
    fork: Callable[[], WakeDetector] | None = getattr(engines.wake, "stream", None)
    make_wake = fork if fork is not None else (lambda: load_wake(config, store))
    limits = Limits(max_event_bytes=w.max_event_bytes, max_clients=w.max_clients, max_per_client=w.max_per_client,
                    idle_timeout_s=w.idle_timeout_s, event_timeout_s=w.event_timeout_s)
    return Services(config, engines, info, make_wake, emit, limits, Answering(engines, emit, rings_locally=rings_locally))


def assistant_services(assistant: Assistant) -> Services:
    """Services of a running :class:`Assistant`: its skills, persistent state, scheduler and wake-word models."""
    from voicebox.daemon.assistant import model_store

    return make_services(assistant.config, assistant.engines, model_store(assistant.config), assistant.emit,
                         rings_locally=lambda: not isinstance(assistant.pipeline.sink, NullSink))


async def with_server(assistant: Assistant, uri: str, main: Awaitable[T]) -> T:
    """Run ``main`` (the daemon) while serving Wyoming at ``uri`` over the assistant's engines, skills and timers."""
    service = WyomingService(assistant_services(assistant))
    try:
        await service.start(uri)
        announcer = await _announce(assistant.config, uri) if assistant.config.wyoming.zeroconf else None
    except BaseException:
        if inspect.iscoroutine(main):
            main.close()  # never started: close it so it is not reported as never awaited
        await service.stop()
        raise
    _LOG.info("voicebox Wyoming server listening on %s", uri)
    try:
        return await main
    finally:
        if announcer is not None:
            await announcer.close()
        await service.stop()


async def _announce(config: Config, uri: str) -> Any:
    from voicebox.remote.zeroconf import announce

    return await announce(uri, config.wyoming.zeroconf_name)
