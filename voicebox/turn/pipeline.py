"""One turn ①→⑧ (wake, capture, recognize, understand, dispatch, speak): the only place that knows the order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from voicebox.act.dispatch import DispatchResult
from voicebox.act.followup import FollowUp
from voicebox.audio_io.sinks import AudioSink
from voicebox.core.audio import SAMPLE_RATE, AudioBlock, Pcm
from voicebox.core.config import Config
from voicebox.core.errors import CODE_WAKE_ENGINE, Stage, StageError, VoiceboxError, WakeError
from voicebox.core.events import (
    AudioPlayed,
    ErrorEvent,
    EventSink,
    IntentConfirm,
    IntentMatched,
    IntentNotMatched,
    SkillResponded,
    SynthesisFinished,
    SynthesisStarted,
    Transcript,
    TurnFinished,
    WakeDetected,
)
from voicebox.core.memory import peak_rss_mb, release_free_memory
from voicebox.core.workers import Worker
from voicebox.hear.capture import Capture, capture_command
from voicebox.hear.endpoint import Endpointer
from voicebox.hear.quiet import QuietTrim
from voicebox.hear.wake import SilenceGate, WakeDecider, WakeHit, block_dbfs
from voicebox.skill import Response
from voicebox.speak.sounds import earcon
from voicebox.speak.sounds import sound as named_sound
from voicebox.speak.tts import speak_blocks
from voicebox.turn.answer import llm_answer, llm_match, spoken_parts
from voicebox.turn.barge import BareStop
from voicebox.turn.boundary import GuardedVad, engine_call
from voicebox.turn.engines import Engines
from voicebox.understand.intent import IntentMatch
from voicebox.understand.retries import Understanding, understand

__all__ = ["Engines", "Pipeline", "Understanding"]

_LOG = logging.getLogger(__name__)
T = TypeVar("T")
# A wake-word engine failing this many blocks in a row (4 s of audio) is broken for good: the run ends.
_WAKE_GIVE_UP_BLOCKS = 50


@dataclass(slots=True)
class _TurnClock:
    wake_wall: float
    capture: Capture | None = None
    marks: dict[str, float] = field(default_factory=dict)


class Pipeline:
    """Runs turns over one audio stream; model calls go to one worker thread per engine.

    The wake detector and VAD hold per-stream state, so each pipeline needs its
    own; recognizer, synthesizer and skills may be shared (their workers live in
    :class:`Engines`).
    """

    def __init__(self, engines: Engines, config: Config, *, sink: AudioSink, emit: EventSink,
                 realtime: bool = True) -> None:
        self.engines = engines
        self.config = config
        self.sink = sink
        self.emit = emit
        self.realtime = realtime
        self.volume = config.audio.volume
        self.last_reply = ""
        self.follow_up = FollowUp()  # this stream's pending follow-up question
        self._workers = {"stream": Worker("stream"), "asr": engines.asr_pool, "tts": engines.tts_pool}
        self._speak_lock = asyncio.Lock()
        self._speaking: asyncio.Task[None] | None = None
        self._decider = WakeDecider.from_config(config.wake)
        # Debug recordings ([debug] record_dir): called with each captured command; None = never recorded.
        self.recorder: Callable[[Pcm], object] | None = None
        self._wake_failures = 0  # blocks in a row the wake-word engine failed on
        self._wake_failure = ""  # the last of those failures
        self.bare_stop = config.audio.bare_stop  # a bare "stop" over voicebox's own audio (see turn/barge.py)
        self._stop: BareStop | None = None

    def reconfigure(self, config: Config) -> None:
        """Take a reloaded config: listening, wake and reply settings and the volume apply from the next turn."""
        self.config = config
        self.volume = config.audio.volume

    async def _call(self, worker: str, func: Callable[[], T]) -> T:
        return await self._workers[worker].run(func)

    async def _stream_call(self, func: Callable[[], float]) -> float:
        return await self._call("stream", func)

    def _report(self, err: VoiceboxError, where: Stage) -> None:
        """The one place a stage's error becomes an ``error`` event (``where``: the stage running, if unnamed)."""
        stage = err.stage if isinstance(err, StageError) else where
        self.emit(ErrorEvent(code=err.code, message=err.message, stage=stage))

    async def _wake_call(self, func: Callable[[], T]) -> T | None:
        """Run a wake-engine call; a failure is reported (the first of a run of them) and gives ``None``."""
        try:
            result = await self._call("stream", lambda: engine_call(Stage.WAKE, func))
        except VoiceboxError as err:
            self._wake_failures += 1
            if self._wake_failures == 1:
                self._report(err, Stage.WAKE)
            self._wake_failure = err.message
            return None
        self._wake_failures = 0
        return result

    async def _wake_hit(self, block: AudioBlock) -> tuple[WakeHit, AudioBlock] | None:
        samples = block.samples
        scores = await self._wake_call(lambda: self.engines.wake.process(samples))
        if scores is None:
            return None
        hit = self._decider.feed(scores)
        return None if hit is None else (hit, block)

    async def _watched(self, blocks: AsyncIterator[AudioBlock],
                       woken: list[tuple[WakeHit, AudioBlock]]) -> AsyncIterator[AudioBlock]:
        """A turn's audio, still listened to for the wake word: hearing it again ends the turn's audio."""
        async for block in blocks:
            hit = await self._wake_hit(block)
            if hit is not None:
                woken.append(hit)
                return
            yield block

    async def run(self, blocks: AsyncIterator[AudioBlock]) -> None:
        """Listen for wake words and run a turn after each, until the stream ends."""
        idle = QuietTrim(SilenceGate(self.config.wake.silence_dbfs))
        async for block in blocks:
            woken = await self._wake_hit(block)
            if self._wake_failures >= _WAKE_GIVE_UP_BLOCKS:
                raise WakeError(f"the wake-word engine failed on {self._wake_failures} blocks in a row, giving up "
                                f"(last: {self._wake_failure})", code=CODE_WAKE_ENGINE)
            if woken is None:
                if self.bare_stop:
                    await self._stop_heard(block)
                if idle.due(block_dbfs(block.samples)):
                    await self._call("stream", release_free_memory)
                continue
            # A wake word heard during a command (after a false wake, or the user starting over) restarts the turn.
            while woken is not None:
                hit, at = woken
                self.emit(WakeDetected(model=hit.model, score=round(hit.score, 4), stream_ms=at.end_ms))
                self.stop_speaking()  # barge-in: a new wake word interrupts the reply
                woken = await self.converse(blocks, time.perf_counter())
            await self._wake_call(self.engines.wake.reset)
            # A turn's buffers vary in size with the command: hand what is free back, or the heap creeps up.
            await self._call("asr", release_free_memory)
            idle.trimmed()
            # The detector starts afresh after a turn, so the refractory period has done its job.
            self._decider = WakeDecider.from_config(self.config.wake)
        await self.finish()

    async def _stop_heard(self, block: AudioBlock) -> None:
        stop = self._stop = self._stop or BareStop(GuardedVad(self.engines.vad), self.understand, self._stream_call,
                                                   self._stopped, self._report, threshold=self.config.listen.vad_threshold)
        await stop.heard(block, self._speaking is not None and not self._speaking.done())

    async def _stopped(self, understanding: Understanding, audio_ms: int) -> None:
        """A bare "stop" over voicebox's audio: the sound is cut now, then it is answered as after the wake word."""
        self.stop_speaking()
        rec, match = understanding.recognition, understanding.match
        self.emit(Transcript(text=rec.text, audio_ms=audio_ms, compute_ms=round(rec.compute_ms, 1), window=rec.window))
        try:
            if match is not None and (match.skill, match.intent) == ("control", "Stop"):
                await self.respond(understanding)  # the control skill's stop: ringing alarms and timers too
            elif self.engines.services is not None:
                self.engines.services.scheduler.silence()
        except VoiceboxError as err:
            self._report(err, Stage.SKILL)

    async def turn(self, blocks: AsyncIterator[AudioBlock], wake_wall: float) -> tuple[WakeHit, AudioBlock] | None:
        """Capture one command from ``blocks``, answer it, and start speaking the reply.

        Returns the wake word if it was heard again during the command: that
        capture is dropped and the caller starts a new turn.
        """
        clock = _TurnClock(wake_wall)
        if self.config.audio.earcon:
            await self.sink.write(earcon())
        listen = self.config.listen
        endpointer = Endpointer(silence_s=listen.silence_s, quick_silence_s=listen.quick_silence_s,
                                no_speech_timeout_s=listen.no_speech_timeout_s, max_command_s=listen.max_command_s)
        speculate = self.understand if listen.quick_silence_s > 0 else None
        woken: list[tuple[WakeHit, AudioBlock]] = []
        stage = Stage.VAD  # the stage running, for an error that names none
        vad = GuardedVad(self.engines.vad)
        try:
            capture = await capture_command(
                self._watched(blocks, woken), vad, endpointer, threshold=listen.vad_threshold, emit=self.emit,
                run=self._stream_call, speculate=speculate, wait_for_speculation=not self.realtime,
                is_complete=lambda u: u.match is not None and u.match.complete,
            )
            if woken:
                return woken[0]
            clock.capture = capture
            if capture.reason == "no_speech":
                return None
            if self.recorder is not None:
                self.recorder(capture.audio)
            stage = Stage.ASR
            understanding: Understanding = capture.early or await self.understand(capture.audio)
            rec = understanding.recognition
            self.emit(Transcript(text=rec.text, audio_ms=len(capture.audio) * 1000 // SAMPLE_RATE,
                                 compute_ms=round(rec.compute_ms, 1), window=rec.window,
                                 speculative=capture.early is not None))
            clock.marks["understood"] = time.perf_counter()
            stage = Stage.SKILL
            result = await self.respond(understanding)
            clock.marks["responded"] = time.perf_counter()
        except VoiceboxError as err:
            self._report(err, stage)
            result = DispatchResult(Response("Sorry, something went wrong."), "error", 0.0)
            understanding = None  # type: ignore[assignment]
        speech = result.sentences if result.sentences is not None else result.response.speech
        self._speaking = asyncio.create_task(self._reply(speech, clock, understanding), name="reply")
        if not self.realtime:
            await self._speaking
        return None

    async def understand(self, audio: Pcm) -> Understanding:
        """Recognize ``audio`` and match the transcript to an intent (used speculatively too).

        The careful retries when nothing matched run, speculatively, while the
        endpointer still waits for the longer silence, so they rarely cost time.
        """
        guess = self.awaiting_reply is None  # an answer to a skill's question is no time for semantic guessing
        return await self._call("asr", lambda: engine_call(
            Stage.ASR, lambda: understand(self.engines.asr, self.engines.intents, audio, fallback=guess)))

    async def respond(self, understanding: Understanding) -> DispatchResult:
        """Dispatch the matched intent (or answer that nothing matched); a follow-up answer goes to the asking skill."""
        match = understanding.match
        text = understanding.recognition.text
        pending = self.follow_up.awaiting is not None
        llm, told = self.engines.llm, False
        if match is None and llm is not None and not pending:  # what no skill matched
            match = await llm_match(llm, text, self.engines.intents, self.emit, self._report)
            if match is None:
                self.emit(IntentNotMatched(text=text))
                told = True
                answered = llm_answer(llm, text, self.emit, self._report)
                if answered is not None:
                    return answered

        def matched(m: IntentMatch) -> None:  # reported before its skill runs
            self.emit(IntentMatched(skill=m.skill, intent=m.intent, slots=m.slots, text=m.text, matcher=m.matcher,
                                    confidence=m.confidence))

        answer = await self.follow_up.answer(self.engines.dispatcher, match, text, before=matched)
        response = answer.result.response
        if answer.kind == "none" and not told:
            self.emit(IntentNotMatched(text=text))
        elif answer.kind == "confirm" and answer.match is not None:  # asked; the answer needs no wake word
            m = answer.match
            self.emit(IntentConfirm(skill=m.skill, intent=m.intent, slots=m.slots, text=m.text,
                                    confidence=m.confidence, speech=response.speech))
        acted = answer.kind in ("intent", "reply")
        self.emit(SkillResponded(skill=answer.skill if acted else "", intent=answer.intent if acted else "",
                                 speech=response.speech, data=response.data,
                                 compute_ms=round(answer.result.compute_ms, 1)))
        return answer.result

    @property
    def awaiting_reply(self) -> tuple[str, str] | None:
        """(skill, reply handler) after a skill asked a follow-up question: the next turn needs no wake word."""
        return self.follow_up.awaiting

    def use_engines(self, engines: Engines) -> None:
        """Serve the next turns with ``engines`` (e.g. shared ones with this stream's own VAD)."""
        self.engines = engines
        self._stop = None  # listens with this engines' VAD
        self._workers["asr"], self._workers["tts"] = engines.asr_pool, engines.tts_pool

    async def converse(self, blocks: AsyncIterator[AudioBlock], wake_wall: float,
                       ask_again: Callable[[], Awaitable[None]] | None = None) -> tuple[WakeHit, AudioBlock] | None:
        """One turn, then one more for each follow-up question a skill asks (no wake word needed).

        ``ask_again`` runs before each follow-up turn (a satellite is told to stream again).
        Returns the wake word if it was heard during a turn, as :meth:`turn` does.
        """
        woken = await self.turn(blocks, wake_wall)
        while woken is None and self.follow_up.awaiting is not None:
            asked = self.follow_up.awaiting
            await self.finish()
            if ask_again is not None:
                await ask_again()
            woken = await self.turn(blocks, time.perf_counter())
            self.follow_up.unanswered(asked)
        return woken

    async def announce(self, text: str, *, sound: str = "") -> None:
        """Speak a scheduled announcement after the current reply, after the sound ``sound`` names (if any).

        It can be cut short like a reply (barge-in, "stop").
        """
        if self._speaking is not None and not self._speaking.done():
            await asyncio.wait([self._speaking])
        self._speaking = task = asyncio.create_task(self._announcement(text, sound), name="announcement")
        await asyncio.wait([task])

    async def _announcement(self, text: str, sound: str) -> None:
        if (tone := named_sound(sound)) is not None:
            async with self._speak_lock:
                await self.sink.write(np.clip(tone.astype(np.float32) * self.volume, -32768, 32767).astype(np.int16))
        await self.say(text)

    async def _reply(self, text: str | AsyncGenerator[str, None], clock: _TurnClock,
                     understanding: Understanding | None) -> None:
        first = await self.say(text)
        cap = clock.capture
        timings: dict[str, float] = {}
        if cap is not None:
            timings["endpoint_ms"] = (cap.ended_wall - cap.last_speech_wall) * 1000
            if understanding is not None:
                timings["asr_ms"] = understanding.asr_ms
                timings["intent_ms"] = understanding.intent_ms
            if first is not None:
                timings["e2e_ms"] = (first - cap.last_speech_wall) * 1000
            if "responded" in clock.marks and "understood" in clock.marks:
                timings["skill_ms"] = (clock.marks["responded"] - clock.marks["understood"]) * 1000
        self.emit(TurnFinished(timings_ms={k: round(v, 1) for k, v in timings.items()}, peak_rss_mb=peak_rss_mb()))

    async def say(self, text: str | AsyncGenerator[str, None]) -> float | None:
        """Synthesize and play ``text`` (or sentences as they stream in) sentence by sentence; returns the wall time
        of the first audio."""
        if isinstance(text, str) and not text.strip():
            return None
        async with self._speak_lock, aclosing(spoken_parts(text)) as parts:
            start = time.perf_counter()
            first: float | None = None
            total = 0
            said: list[str] = []
            try:
                async for part in parts:
                    said.append(part)
                    self.last_reply = " ".join(said)
                    if len(said) == 1:
                        self.emit(SynthesisStarted(text=text if isinstance(text, str) else part))
                    chunks = iter(speak_blocks(self.engines.tts, part))

                    def next_chunk(chunks: Iterator[Pcm] = chunks) -> Pcm | None:
                        return engine_call(Stage.TTS, lambda: next(chunks, None))

                    while (chunk := await self._call("tts", next_chunk)) is not None:
                        if self.volume != 1.0:
                            chunk = np.clip(chunk.astype(np.float32) * self.volume, -32768, 32767).astype(np.int16)
                        await self.sink.write(chunk)
                        total += len(chunk)
                        if first is None:
                            first = time.perf_counter()
                            self.emit(AudioPlayed(first_audio_ms=round((first - start) * 1000, 1)))
                await self.sink.drain()
            except VoiceboxError as err:
                self._report(err, Stage.TTS)
            self.emit(SynthesisFinished(audio_ms=total * 1000 // SAMPLE_RATE,
                                        compute_ms=round((time.perf_counter() - start) * 1000, 1)))
            # After the reply (or an alarm), never before it: queued on the voice's worker, ahead of its next
            # sentence, but not waited for, so the turn counts as finished as soon as its audio has played.
            self._workers["tts"].submit(release_free_memory)
            return first

    def stop_speaking(self) -> None:
        """Cut the current reply short (barge-in, "stop")."""
        if self._speaking is not None and not self._speaking.done():
            self._speaking.cancel()
            self.sink.stop()

    async def finish(self) -> None:
        """Let the current reply play to its end (and a bare "stop" being checked be checked)."""
        if self._stop is not None:
            await self._stop.close()
        if self._speaking is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._speaking

    def close(self) -> None:
        """Release this pipeline's own worker (shared engines are closed by their owner)."""
        self._workers["stream"].close()

