"""One turn ①→⑧ (wake, capture, recognize, understand, dispatch, speak): the only place that knows the order."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from voicebox.act.confirm import DROPPED, answer_of, question
from voicebox.act.context import SkillServices
from voicebox.act.dispatch import NOT_UNDERSTOOD, Dispatcher, DispatchResult
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
from voicebox.hear.capture import Capture, SpeechDetector, capture_command
from voicebox.hear.endpoint import Endpointer
from voicebox.hear.quiet import QuietTrim
from voicebox.hear.wake import SilenceGate, WakeDecider, WakeDetector, WakeHit, block_dbfs
from voicebox.skill import Response
from voicebox.speak.tts import Synthesizer, speak_blocks
from voicebox.turn.boundary import GuardedVad, engine_call
from voicebox.understand.asr import Recognizer
from voicebox.understand.intent import IntentMatch, IntentRecognizer
from voicebox.understand.retries import Understanding, understand

__all__ = ["Engines", "Pipeline", "Understanding"]

_LOG = logging.getLogger(__name__)
T = TypeVar("T")
# A wake-word engine failing this many blocks in a row (4 s of audio) is broken for good: the run ends.
_WAKE_GIVE_UP_BLOCKS = 50
_CONFIRMING = ("", "confirm")  # awaiting_reply while a "Did you mean ...?" waits for its yes or no


@dataclass(slots=True)
class Engines:
    """The loaded engines, one per stage."""

    wake: WakeDetector
    vad: SpeechDetector
    asr: Recognizer
    intents: IntentRecognizer
    dispatcher: Dispatcher
    tts: Synthesizer
    wake_models: tuple[str, ...] = ()
    services: SkillServices | None = None  # the skills' database, scheduler and host
    # One worker per shared, non-thread-safe model, used by every pipeline (e.g. one per satellite).
    asr_pool: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="asr"))
    tts_pool: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="tts"))

    def close(self) -> None:
        """Release the shared workers and the skill handlers' threads."""
        self.asr_pool.shutdown(wait=False, cancel_futures=True)
        self.tts_pool.shutdown(wait=False, cancel_futures=True)
        self.dispatcher.close()


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
        # (skill, reply handler) after a skill asked a follow-up question: the next turn needs no wake word.
        self.awaiting_reply: tuple[str, str] | None = None
        self._confirming: IntentMatch | None = None  # asked "Did you mean ...?" about it
        self._pools = {"stream": concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="stream"),
                       "asr": engines.asr_pool, "tts": engines.tts_pool}
        self._speak_lock = asyncio.Lock()
        self._speaking: asyncio.Task[None] | None = None
        self._decider = WakeDecider.from_config(config.wake)
        # Debug recordings ([debug] record_dir): called with each captured command; None = never recorded.
        self.recorder: Callable[[Pcm], object] | None = None
        self._wake_failures = 0  # blocks in a row the wake-word engine failed on
        self._wake_failure = ""  # the last of those failures

    async def _call(self, pool: str, func: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pools[pool], func)

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
                if idle.due(block_dbfs(block.samples)):
                    await self._call("stream", release_free_memory)
                continue
            # A wake word heard during a command (after a false wake, or the user starting over) restarts the turn.
            while woken is not None:
                hit, at = woken
                self.emit(WakeDetected(model=hit.model, score=round(hit.score, 4), stream_ms=at.end_ms))
                self.stop_speaking()  # barge-in: a new wake word interrupts the reply
                woken = await self.turn(blocks, time.perf_counter())
                while woken is None and self.awaiting_reply is not None:  # a follow-up question: no wake word
                    asked = self.awaiting_reply
                    await self.finish()
                    woken = await self.turn(blocks, time.perf_counter())
                    if self.awaiting_reply is asked:  # nobody answered
                        self.awaiting_reply = self._confirming = None
            await self._wake_call(self.engines.wake.reset)
            # A turn's buffers vary in size with the command: hand what is free back, or the heap creeps up.
            await self._call("asr", release_free_memory)
            idle.trimmed()
            # The detector starts afresh after a turn, so the refractory period has done its job.
            self._decider = WakeDecider.from_config(self.config.wake)
        await self.finish()

    async def turn(self, blocks: AsyncIterator[AudioBlock], wake_wall: float) -> tuple[WakeHit, AudioBlock] | None:
        """Capture one command from ``blocks``, answer it, and start speaking the reply.

        Returns the wake word if it was heard again during the command: that
        capture is dropped and the caller starts a new turn.
        """
        clock = _TurnClock(wake_wall)
        if self.config.audio.earcon:
            await self.sink.write(_earcon())
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
        self._speaking = asyncio.create_task(self._reply(result.response.speech, clock, understanding), name="reply")
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
        asked, self.awaiting_reply = self.awaiting_reply, None
        pending, self._confirming = self._confirming, None
        if pending is not None and (said := answer_of(understanding.recognition.text)) is not None:
            if said:
                return await self._dispatch(pending)
            response = Response(DROPPED)
            self.emit(SkillResponded(skill="", intent="", speech=response.speech))
            return DispatchResult(response, "dropped", 0.0)
        if asked is not None and pending is None and match is None:  # an answer that is no command of its own goes to the asker
            skill, handler = asked
            result = await self.engines.dispatcher.handle_reply(skill, handler, understanding.recognition.text)
            self.emit(SkillResponded(skill=skill, intent=handler, speech=result.response.speech,
                                     data=result.response.data, compute_ms=round(result.compute_ms, 1)))
            self._expect_reply(skill, result.response)
            return result
        if match is None:
            self.emit(IntentNotMatched(text=understanding.recognition.text))
            response = Response(NOT_UNDERSTOOD)
            self.emit(SkillResponded(skill="", intent="", speech=response.speech))
            return DispatchResult(response, "not_understood", 0.0)
        if match.confirm:  # a middling semantic match: ask, and listen for the answer without the wake word
            self._confirming, self.awaiting_reply = match, _CONFIRMING
            response = Response(question(match))
            self.emit(IntentConfirm(skill=match.skill, intent=match.intent, slots=match.slots, text=match.text,
                                    confidence=match.confidence, speech=response.speech))
            self.emit(SkillResponded(skill="", intent="", speech=response.speech))
            return DispatchResult(response, "confirm", 0.0)
        return await self._dispatch(match)

    async def _dispatch(self, match: IntentMatch) -> DispatchResult:
        self.emit(IntentMatched(skill=match.skill, intent=match.intent, slots=match.slots, text=match.text,
                                matcher=match.matcher, confidence=match.confidence))
        result = await self.engines.dispatcher.handle(match)
        self.emit(SkillResponded(skill=match.skill, intent=match.intent, speech=result.response.speech,
                                 data=result.response.data, compute_ms=round(result.compute_ms, 1)))
        self._expect_reply(match.skill, result.response)
        return result

    def _expect_reply(self, skill: str, response: Response) -> None:
        if response.expect_reply and response.reply_handler:
            self.awaiting_reply = (skill, response.reply_handler)

    async def announce(self, text: str, *, sound: str = "") -> None:
        """Speak a scheduled announcement after the current reply, after an alarm sound if ``sound`` is "alarm".

        It can be cut short like a reply (barge-in, "stop").
        """
        if self._speaking is not None and not self._speaking.done():
            await asyncio.wait([self._speaking])
        self._speaking = task = asyncio.create_task(self._announcement(text, sound), name="announcement")
        await asyncio.wait([task])

    async def _announcement(self, text: str, sound: str) -> None:
        if sound == "alarm":
            async with self._speak_lock:
                tone = np.clip(_alarm().astype(np.float32) * self.volume, -32768, 32767).astype(np.int16)
                await self.sink.write(tone)
        await self.say(text)

    async def _reply(self, text: str, clock: _TurnClock, understanding: Understanding | None) -> None:
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

    async def say(self, text: str) -> float | None:
        """Synthesize and play ``text`` sentence by sentence; returns the wall time of the first audio."""
        if not text.strip():
            return None
        async with self._speak_lock:
            self.last_reply = text
            self.emit(SynthesisStarted(text=text))
            start = time.perf_counter()
            first: float | None = None
            total = 0
            chunks = iter(speak_blocks(self.engines.tts, text))

            def next_chunk() -> Pcm | None:
                return engine_call(Stage.TTS, lambda: next(chunks, None))

            try:
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
            asyncio.get_running_loop().run_in_executor(self._pools["tts"], release_free_memory)
            return first

    def stop_speaking(self) -> None:
        """Cut the current reply short (barge-in, "stop")."""
        if self._speaking is not None and not self._speaking.done():
            self._speaking.cancel()
            self.sink.stop()

    async def finish(self) -> None:
        """Let the current reply play to its end."""
        if self._speaking is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._speaking

    def close(self) -> None:
        """Release this pipeline's own worker (shared engines are closed by their owner)."""
        self._pools["stream"].shutdown(wait=False, cancel_futures=True)


def _alarm() -> Pcm:
    """Three rising double beeps (about 1.5 s)."""
    t = np.arange(int(SAMPLE_RATE * 0.12)) / SAMPLE_RATE
    gap = np.zeros(int(SAMPLE_RATE * 0.08))
    parts: list[np.ndarray] = []
    for freq in (880, 988, 1175):
        beep = 0.35 * np.sin(2 * np.pi * freq * t) * np.hanning(len(t))
        parts += [beep, gap, beep, gap, gap]
    return (np.concatenate(parts) * 32767).astype(np.int16)


def _earcon() -> Pcm:
    t = np.arange(int(SAMPLE_RATE * 0.12)) / SAMPLE_RATE
    tone = 0.25 * np.sin(2 * np.pi * 880 * t) * np.hanning(len(t))
    return (tone * 32767).astype(np.int16)


