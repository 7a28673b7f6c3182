"""⑦ Speech synthesis: the synthesizer Protocol and sentence-by-sentence streaming (text cut in :mod:`.sentences`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from voicebox.core.audio import SAMPLE_RATE, Pcm, resample

__all__ = ["Synthesizer", "speak_blocks"]


class Synthesizer(Protocol):
    """Turns text into speech, one chunk of int16 mono PCM per sentence at ``sample_rate``."""

    sample_rate: int

    def synthesize(self, text: str) -> Iterator[Pcm]:
        """Yield audio sentence by sentence, so playback can start after the first."""
        ...


def speak_blocks(synth: Synthesizer, text: str) -> Iterator[Pcm]:
    """Synthesize ``text`` and yield internal-format (16 kHz) audio, one chunk per sentence."""
    for chunk in synth.synthesize(text):
        yield resample(chunk, synth.sample_rate, SAMPLE_RATE)
