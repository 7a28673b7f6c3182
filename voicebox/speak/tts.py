"""⑦ Speech synthesis: the synthesizer Protocol and sentence-by-sentence streaming into 80 ms blocks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

from voicebox.core.audio import SAMPLE_RATE, Pcm, resample

__all__ = ["MAX_PIECE_WORDS", "Synthesizer", "speak_blocks", "speech_pieces"]

# Words per piece of text given to the voice at once. A Piper voice needs about 33 MB of memory per second of
# speech it makes in one call (en_US-joe-medium), so a long sentence is said in parts: 10 words is about 2 s.
MAX_PIECE_WORDS = 10
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=\S)")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+(?=\S)")
# Words a long clause is best broken before (the break sounds like a breath, not a stumble).
_JOINERS = frozenset({"and", "but", "or", "so", "because", "to", "that", "which", "who", "with", "for", "when",
                      "if", "then", "while", "until", "after", "before", "in", "on", "at", "from"})


class Synthesizer(Protocol):
    """Turns text into speech, one chunk of int16 mono PCM per sentence at ``sample_rate``."""

    sample_rate: int

    def synthesize(self, text: str) -> Iterator[Pcm]:
        """Yield audio sentence by sentence, so playback can start after the first."""
        ...


def _split_long(piece: str, max_words: int) -> list[str]:
    words = piece.split()
    if len(words) <= max_words:
        return [piece]
    middle = len(words) / 2
    joins = [i for i, w in enumerate(words) if i > 0 and w.lower().strip("\"'(") in _JOINERS]
    cut = min(joins, key=lambda i: abs(i - middle)) if joins else len(words) // 2
    return _split_long(" ".join(words[:cut]), max_words) + _split_long(" ".join(words[cut:]), max_words)


def speech_pieces(text: str, max_words: int = MAX_PIECE_WORDS) -> list[str]:
    """``text`` in the pieces a voice should say one at a time, in order.

    Sentences are said one by one. The first clause of the first sentence
    ("Sorry,") is its own piece, so playback starts sooner. A sentence longer
    than ``max_words`` is said a few clauses at a time, and a clause still
    longer is broken before a joining word near its middle ("Say ... | to hear
    ..."), which bounds the memory and time of one synthesis call.
    """
    pieces: list[str] = []
    for n, sentence in enumerate(s for s in _SENTENCE_END.split(text.strip()) if s.strip()):
        clauses = _CLAUSE_END.split(sentence)
        if n == 0 and len(clauses) > 1:
            pieces.append(clauses.pop(0))
        group: list[str] = []
        for clause in clauses:
            if group and len(" ".join([*group, clause]).split()) > max_words:
                pieces.extend(_split_long(" ".join(group), max_words))
                group = []
            group.append(clause)
        pieces.extend(_split_long(" ".join(group), max_words))
    return pieces


def speak_blocks(synth: Synthesizer, text: str) -> Iterator[Pcm]:
    """Synthesize ``text`` and yield internal-format (16 kHz) audio, one chunk per sentence."""
    for chunk in synth.synthesize(text):
        yield resample(chunk, synth.sample_rate, SAMPLE_RATE)
