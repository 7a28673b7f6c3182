"""③ Command capture: voice activity per block, endpointing, and speculative early recognition."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from voicebox.core.audio import BLOCK_MS, AudioBlock, Pcm
from voicebox.core.events import EventSink, NoSpeech, SpeechEnded, SpeechStarted
from voicebox.hear.endpoint import Decision, Endpointer

__all__ = ["Capture", "SpeechDetector", "capture_command"]

_HYSTERESIS = 0.15
_KEEP_AFTER_SPEECH_BLOCKS = 2
# Silence before the command is cut to this much: the recognizer's cost grows with the audio's length.
_KEEP_BEFORE_SPEECH_BLOCKS = 8


class SpeechDetector(Protocol):
    """Speech probability of an 80 ms block of 16 kHz int16 audio."""

    def probability(self, block: Pcm) -> float:
        """Probability in [0, 1] that the block holds speech."""
        ...

    def reset(self) -> None:
        """Forget state between commands."""
        ...


@dataclass(frozen=True, slots=True)
class Capture:
    """A captured command: audio, why it ended, and any speculative result still valid for it.

    ``last_speech_wall`` is the wall-clock (``time.perf_counter``) at which the
    last block holding speech arrived; ``ended_wall`` when the command was taken as finished.
    """

    audio: Pcm
    reason: str
    speech_ms: int
    end_stream_ms: int
    last_speech_wall: float
    ended_wall: float
    early: Any = None


async def capture_command(
    blocks: AsyncIterator[AudioBlock],
    vad: SpeechDetector,
    endpointer: Endpointer,
    *,
    threshold: float,
    emit: EventSink,
    run: Callable[[Callable[[], float]], Awaitable[float]],
    speculate: Callable[[Pcm], Awaitable[Any]] | None = None,
    is_complete: Callable[[Any], bool] = lambda _: False,
    wait_for_speculation: bool = False,
) -> Capture:
    """Consume blocks until the endpointer decides; ``run`` executes model calls off the event loop.

    With ``speculate``, a short silence starts recognition of the audio so far;
    if speech resumes the result is dropped, and if ``is_complete(result)`` the
    command ends at once. ``wait_for_speculation`` (file input, faster than real
    time) awaits each speculation before reading on, as if it were instant.
    """
    vad.reset()
    kept: list[Pcm] = []
    last_speech_index = -1
    last_speech_wall = time.perf_counter()
    spec_task: asyncio.Task[Any] | None = None
    spec_blocks = 0
    reason = "eos"
    end_ms = 0
    speech_started = False
    first_block = 0

    def audio_upto(n_blocks: int) -> Pcm:
        return np.concatenate(kept[first_block:n_blocks]) if n_blocks > first_block else np.zeros(0, np.int16)

    try:
        async for block in blocks:
            kept.append(block.samples)
            end_ms = block.end_ms
            prob = await run(lambda b=block.samples: vad.probability(b))  # type: ignore[misc]
            is_speech = prob >= threshold - (_HYSTERESIS if endpointer.started else 0.0)
            if is_speech:
                last_speech_index = len(kept)
                last_speech_wall = time.perf_counter()
            decision = endpointer.feed(is_speech, BLOCK_MS / 1000)
            if endpointer.started and not speech_started:
                speech_started = True
                onset = len(kept) - round(endpointer.speech_s * 1000 / BLOCK_MS)
                first_block = max(0, onset - _KEEP_BEFORE_SPEECH_BLOCKS)
                emit(SpeechStarted(stream_ms=block.start_ms))
            if decision is Decision.SPECULATE and speculate is not None:
                spec_blocks = len(kept)
                spec_task = asyncio.ensure_future(speculate(audio_upto(spec_blocks)))
                if wait_for_speculation:
                    await asyncio.wait([spec_task])
            elif decision is Decision.RESUMED and spec_task is not None:
                spec_task.cancel()
                spec_task = None
            if (spec_task is not None and spec_task.done() and decision is Decision.LISTEN
                    and spec_task.exception() is None and is_complete(spec_task.result())):
                decision = endpointer.intent_complete(True)
            if decision is Decision.NO_SPEECH:
                emit(NoSpeech(stream_ms=end_ms))
                return Capture(np.zeros(0, np.int16), "no_speech", 0, end_ms, last_speech_wall, time.perf_counter())
            if decision in (Decision.END, Decision.CAP):
                reason = "cap" if decision is Decision.CAP else (
                    "intent" if endpointer.trailing_silence_s < endpointer.silence_s - 1e-9 else "silence")
                break
        else:
            if not endpointer.started:
                emit(NoSpeech(stream_ms=end_ms))
                return Capture(np.zeros(0, np.int16), "no_speech", 0, end_ms, last_speech_wall, time.perf_counter())
        ended_wall = time.perf_counter()
        early = None
        if spec_task is not None and last_speech_index <= spec_blocks:
            # No speech since the speculation started: its result is valid for the whole command.
            early = await spec_task
            audio = audio_upto(spec_blocks)
        else:
            audio = audio_upto(min(len(kept), last_speech_index + _KEEP_AFTER_SPEECH_BLOCKS))
        speech_ms = int(endpointer.speech_s * 1000)
        emit(SpeechEnded(stream_ms=end_ms, reason=reason, speech_ms=speech_ms))
        return Capture(audio, reason, speech_ms, end_ms, last_speech_wall, ended_wall, early)
    finally:
        if spec_task is not None and not spec_task.done():
            spec_task.cancel()
