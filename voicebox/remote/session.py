"""One satellite's conversation on the hub: turns on its audio, its own VAD, its reply audio and timer events.

The same session serves a satellite that dialled in (``voicebox satellite
--hub``) and one the hub dialled (``[hub] satellites``, e.g. wyoming-satellite
or ``voicebox satellite --uri``): only how events arrive and leave differs.
A ``run-pipeline`` starting at ``asr`` (the wake word was heard on the
satellite) runs one turn; one starting at ``wake`` (a satellite that streams
all the time) listens for the wake word here, on its own detector.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from wyoming.asr import Transcript as TranscriptEvent
from wyoming.audio import AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.ping import Ping, Pong
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted, TimerUpdated
from wyoming.tts import Synthesize

from voicebox.core.audio import SAMPLE_RATE, AudioBlock, Pcm
from voicebox.core.conversation import origin
from voicebox.core.errors import CODE_NO_SPEECH, Stage
from voicebox.core.events import ErrorEvent, NoSpeech, SpeechEnded, SynthesisStarted, Transcript
from voicebox.core.events import Event as VoiceboxEvent
from voicebox.daemon.assistant import Assistant
from voicebox.hear.capture import SpeechDetector
from voicebox.hear.wake import WakeDetector
from voicebox.remote.connection import AudioReceiver, pcm_chunk
from voicebox.skill import Job
from voicebox.turn.pipeline import Pipeline

__all__ = ["RemoteSink", "SatelliteSession"]

_LOG = logging.getLogger(__name__)
_QUEUE_BLOCKS = 64  # 5 s of command audio waiting for the VAD at most
_OUTBOX = 512
_PUT_TIMEOUT_S = 2.0
_REPLY_CHUNK = SAMPLE_RATE // 2  # reply audio goes out in 0.5 s events
# Errors that end a turn before its reply, told to the satellite so that it stops streaming: a wake-word
# failure does not end the turn, and a failure while speaking comes after the command was heard.
_TURN_ENDING = frozenset(Stage) - {Stage.WAKE, Stage.TTS, Stage.AUDIO_OUT}


class RemoteSink:
    """An :class:`~voicebox.audio_io.sinks.AudioSink` that sends the audio to a satellite as Wyoming events."""

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


class SatelliteSession:
    """The hub side of one satellite: ``feed`` it the satellite's events; ``write`` carries the hub's."""

    def __init__(self, assistant: Assistant, key: str, write: Callable[[Event], Awaitable[None]], *,
                 make_vad: Callable[[], SpeechDetector], emit: Callable[[VoiceboxEvent], None]) -> None:
        self.assistant = assistant
        self.key = key  # the conversation's origin: its timers ring here
        self._write = write
        self._make_vad = make_vad
        self._hub_emit = emit
        self.pipeline: Pipeline | None = None
        self._vad: SpeechDetector | None = None
        self._wake: WakeDetector | None = None
        self._queue: asyncio.Queue[AudioBlock | None] = asyncio.Queue(_QUEUE_BLOCKS)
        self._outbox: asyncio.Queue[Event] = asyncio.Queue(_OUTBOX)
        self._writer_task: asyncio.Task[None] | None = None
        self._turn: asyncio.Task[Any] | None = None
        self._audio = AudioReceiver()
        self._streaming = False
        self._listening = False  # the satellite streams all the time and the wake word is heard here
        self._timers: dict[tuple[str, Any], int] = {}

    async def open(self) -> None:
        """Load this satellite's VAD, start its writer, and route its conversation's speech and timers here."""
        self._vad = await asyncio.to_thread(self._make_vad)
        self.pipeline = Pipeline(self.assistant.engines, self.assistant.config, emit=self._emit, realtime=True,
                                 sink=RemoteSink(self.send, self.send_now))
        self._writer_task = asyncio.create_task(self._write_out(), name=f"satellite {self.key} writer")
        self.assistant.speak_routes[self.key] = self.pipeline  # skills speaking for this room, timers ringing
        services = self.assistant.engines.services
        if services is not None:
            services.scheduler.watch(self._timer_changed)

    # ---- outgoing: one writer task keeps the events in order ----------------------------------------------
    async def send(self, event: Event) -> None:
        """Queue an event for the satellite (waits while the queue is full)."""
        await self._outbox.put(event)

    def send_now(self, event: Event) -> None:
        """Queue an event without waiting (dropped, with a warning, if the satellite reads nothing)."""
        try:
            self._outbox.put_nowait(event)
        except asyncio.QueueFull:
            _LOG.warning("satellite %r is not reading; dropped a %s event", self.key, event.type)

    async def _write_out(self) -> None:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            while True:
                await self._write(await self._outbox.get())

    def _emit(self, event: VoiceboxEvent) -> None:
        self._hub_emit(event)
        if isinstance(event, (SpeechEnded, NoSpeech)) and not self._listening:
            self._streaming = False  # the command is captured: audio still on its way is not needed
        if isinstance(event, Transcript):
            self.send_now(TranscriptEvent(text=event.text).event())
        elif isinstance(event, NoSpeech):
            self.send_now(Error(text="no speech after the wake word", code=CODE_NO_SPEECH).event())
        elif isinstance(event, ErrorEvent) and event.stage in _TURN_ENDING:
            self.send_now(Error(text=event.message, code=event.code).event())
        elif isinstance(event, SynthesisStarted):
            self.send_now(Synthesize(text=event.text).event())

    def _timer_changed(self, change: str, job: Job) -> None:
        """Tell the satellite about the timers set in its conversation, so it can show and ring them."""
        if job.origin != self.key or job.ring_until_s <= 0:
            return
        key = (job.skill, job.data.get("timer", job.id))
        timer_id = f"{job.skill}-{key[1]}"
        left_s = max(0, round(job.due_s - time.time()))
        if change == "scheduled":
            known = key in self._timers
            self._timers[key] = job.id
            label = job.data.get("label")
            self.send_now(TimerUpdated(id=timer_id, is_active=True, total_seconds=left_s).event() if known else
                          TimerStarted(id=timer_id, total_seconds=left_s,
                                       name=label if isinstance(label, str) else None).event())
        elif change == "cancelled" and self._timers.get(key) == job.id:
            asyncio.get_running_loop().call_soon(self._cancelled_unless_rearmed, key, job.id, timer_id)
        elif change == "fired" and job.rings == 1:
            self._timers.pop(key, None)
            finished = TimerFinished(id=timer_id).event()
            finished.data["rung_by_hub"] = True  # the alarm went out as audio: a voicebox satellite adds none
            self.send_now(finished)

    def _cancelled_unless_rearmed(self, key: tuple[str, Any], job_id: int, timer_id: str) -> None:
        if self._timers.get(key) == job_id:  # not scheduled again in the same change (more time, resumed)
            del self._timers[key]
            self.send_now(TimerCancelled(id=timer_id).event())

    # ---- incoming -------------------------------------------------------------------------------------
    async def feed(self, event: Event) -> None:
        """One event from the satellite: turns start on ``run-pipeline``; audio goes to the turn in progress."""
        if RunPipeline.is_type(event.type):
            request = RunPipeline.from_event(event)
            self._audio = AudioReceiver()
            self._start_turn(listen=request.start_stage == PipelineStage.WAKE)
        elif event.type == "audio-start":
            self._audio = AudioReceiver()
        elif event.type == "audio-chunk":
            for block in self._audio.feed(event):
                await self._put(block)
        elif event.type == "audio-stop":
            await self._put(None)
        elif Ping.is_type(event.type):
            self.send_now(Pong(text=Ping.from_event(event).text).event())

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
            _LOG.warning("satellite %r: the hub is behind; dropped 80 ms of audio", self.key)

    def _start_turn(self, *, listen: bool) -> None:
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()
        self._listening = listen
        self._open_stream()
        run = self._listen() if listen else self._run_turn(time.perf_counter())
        self._turn = asyncio.create_task(run, name=f"satellite {self.key} turn")

    def _open_stream(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._streaming = True

    async def _blocks(self) -> AsyncIterator[AudioBlock]:
        while (block := await self._queue.get()) is not None:
            yield block

    def _use_engines(self, wake: WakeDetector | None = None) -> Pipeline:
        assert self.pipeline is not None and self._vad is not None
        # Shared engines (re-read each turn: a reload may replace the skills), this satellite's own VAD.
        engines = dataclasses.replace(self.assistant.engines, vad=self._vad)
        self.pipeline.use_engines(engines if wake is None else dataclasses.replace(engines, wake=wake))
        return self.pipeline

    async def _run_turn(self, wake_wall: float) -> None:
        pipeline = self._use_engines()
        with origin(self.key):
            pipeline.stop_speaking()
            await pipeline.converse(self._blocks(), wake_wall, self._ask_again)

    async def _listen(self) -> None:
        """Wake word, command and reply on the satellite's continuous stream, as the local microphone's are."""
        if self._wake is None:
            shared = self.assistant.engines.wake
            fork: Callable[[], WakeDetector] | None = getattr(shared, "stream", None)
            if fork is None:
                raise RuntimeError("this wake-word engine cannot serve a second stream")
            self._wake = await asyncio.to_thread(fork)
        pipeline = self._use_engines(self._wake)
        with origin(self.key):
            await pipeline.run(self._blocks())

    async def _ask_again(self) -> None:
        """A follow-up question: this room answers, no wake word."""
        self._open_stream()
        await self.send(RunPipeline(start_stage=PipelineStage.ASR, end_stage=PipelineStage.TTS).event())

    async def close(self) -> None:
        """Forget this satellite; its skills' later speech goes to the hub's own speaker."""
        services = self.assistant.engines.services
        if services is not None:
            services.scheduler.unwatch(self._timer_changed)
        for task in (self._turn, self._writer_task):
            if task is not None:
                task.cancel()
        if self.pipeline is not None:
            self.pipeline.stop_speaking()
            self.pipeline.close()
            if self.assistant.speak_routes.get(self.key) is self.pipeline:
                del self.assistant.speak_routes[self.key]
