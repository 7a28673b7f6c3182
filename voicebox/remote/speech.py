"""Speech over Wyoming: transcripts (optionally streamed) and synthesized audio as event sequences."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import numpy as np
from wyoming.asr import Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event

from voicebox.core.audio import Pcm
from voicebox.speak.tts import Synthesizer
from voicebox.understand.asr import Recognition, Recognizer

__all__ = ["synthesize_events", "transcribe", "transcript_events"]

_CHUNK_S = 0.1  # audio per audio-chunk event


async def transcribe(asr: Recognizer, pool: concurrent.futures.Executor, pcm: Pcm) -> Recognition:
    """Recognize one command on the shared recognizer's worker."""
    return await asyncio.get_running_loop().run_in_executor(pool, lambda: asr.transcribe(pcm))


def transcript_events(text: str, *, streaming: bool, language: str) -> list[Event]:
    """The final ``transcript``; when streaming, ``transcript-start`` and ``-chunk``s before it, ``-stop`` after it.

    This is the order of the Wyoming spec (the final transcript, then the end
    of the stream). Chunks are the transcript's words in order (each with its
    leading space), so a client joining them gets exactly the final text.
    """
    if not streaming:
        return [Transcript(text=text, language=language).event()]
    return [TranscriptStart(language=language).event(),
            *[TranscriptChunk(text=piece).event() for piece in re.findall(r"\s*\S+", text)],
            Transcript(text=text, language=language).event(), TranscriptStop().event()]


async def synthesize_events(tts: Synthesizer, pool: concurrent.futures.Executor, text: str) -> AsyncIterator[Event]:
    """``audio-start``, ``audio-chunk``s at the voice's own rate, ``audio-stop`` for ``text``.

    Each sentence is synthesized on the shared synthesizer's worker and sent as
    soon as it is ready, so the first audio follows the first sentence.
    """
    loop = asyncio.get_running_loop()
    rate = tts.sample_rate
    step = max(1, int(rate * _CHUNK_S))
    position_ms = 0
    yield AudioStart(rate=rate, width=2, channels=1, timestamp=0).event()
    sentences = iter(tts.synthesize(text))
    while (pcm := await loop.run_in_executor(pool, next, sentences, None)) is not None:
        data = np.ascontiguousarray(pcm, "<i2")
        for start in range(0, len(data), step):
            piece = data[start : start + step]
            yield AudioChunk(rate=rate, width=2, channels=1, audio=piece.tobytes(), timestamp=position_ms).event()
            position_ms += len(piece) * 1000 // rate
    yield AudioStop(timestamp=position_ms).event()


async def send_all(events: AsyncIterator[Event], write: Callable[[Event], Awaitable[None]]) -> float | None:
    """Write every event; returns the ``loop.time()`` at which the first audio chunk was written."""
    first: float | None = None
    async for event in events:
        await write(event)
        if first is None and AudioChunk.is_type(event.type):
            first = asyncio.get_running_loop().time()
    return first
