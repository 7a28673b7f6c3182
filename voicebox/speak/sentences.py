"""The one sentence splitter: replies (whole or streamed in) cut into sentences, and into the pieces a voice says.

A sentence ends at one or more of ``.!?…``, any closing quotes or brackets
after them, and then whitespace ("3.5" and "e.g.x" do not end one). Whole
text goes through :func:`split_sentences`, text that arrives in chunks
through :class:`SentenceBuffer`; both cut at the same places.
:func:`speech_pieces` then breaks long sentences so one synthesis call says at
most :data:`MAX_PIECE_WORDS` words.
"""

from __future__ import annotations

import re
import textwrap

__all__ = ["MAX_PIECE_WORDS", "MAX_WORD_CHARS", "OPENINGS", "SentenceBuffer", "speech_pieces", "split_sentences"]

# Words per piece of text given to the voice at once. A Piper voice needs about 33 MB of memory per second of
# speech it makes in one call (en_US-joe-medium), so a long sentence is said in parts: 10 words is about 2 s.
# Pieces voicebox's replies most often open with (the first clause is said on its own): a voice may keep their
# audio ready, so such a reply's first audio needs no synthesis.
OPENINGS = ("Sorry,", "OK,", "OK.")
MAX_PIECE_WORDS = 10
# Longest run of characters without a space said as one word: a longer one (no real word is) is said in parts of
# this length, since a voice's memory grows with the length of what it says at once, words or not.
MAX_WORD_CHARS = 20
_CHARS_PER_WORD = 12  # a piece of long words is split sooner: at most this many characters per word allowed
_LONG_WORD = re.compile(r"\S{" + str(MAX_WORD_CHARS + 1) + ",}")
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+(?=\S)")
# Words a long clause is best broken before (the break sounds like a breath, not a stumble).
_JOINERS = frozenset({"and", "but", "or", "so", "because", "to", "that", "which", "who", "with", "for", "when",
                      "if", "then", "while", "until", "after", "before", "in", "on", "at", "from"})


def _complete(text: str) -> tuple[list[str], str]:
    """The finished sentences at the start of ``text`` (stripped, none empty), and the unfinished rest."""
    done: list[str] = []
    while (m := _SENTENCE_END.search(text)) is not None:
        done.append(text[: m.end()].strip())
        text = text[m.end() :]
    return [s for s in done if s], text


def split_sentences(text: str) -> list[str]:
    """``text``'s sentences in order, each stripped; the last needs no final stop."""
    done, rest = _complete(text)
    return [*done, rest.strip()] if rest.strip() else done


class SentenceBuffer:
    """Collects streamed text and hands out whole sentences; bounded by ``max_chars``."""

    def __init__(self, max_chars: int) -> None:
        self._text = ""
        self._max = max_chars

    def add(self, text: str) -> list[str]:
        """Append a chunk; returns the sentences it completed (or an overlong run without an end)."""
        done, self._text = _complete(self._text + text)
        if len(self._text) > self._max:
            done.append(self._text.strip())
            self._text = ""
        return [s for s in done if s]

    def finish(self) -> str:
        """Whatever is left (the last sentence without a final stop)."""
        rest, self._text = self._text.strip(), ""
        return rest


def _split_long(piece: str, max_words: int) -> list[str]:
    words = piece.split()
    if len(words) <= max_words and (len(piece) <= max_words * _CHARS_PER_WORD or len(words) == 1):
        return [piece]
    middle = len(words) / 2
    joins = [i for i, w in enumerate(words) if i > 0 and w.lower().strip("\"'(") in _JOINERS]
    cut = min(joins, key=lambda i: abs(i - middle)) if joins else len(words) // 2
    return _split_long(" ".join(words[:cut]), max_words) + _split_long(" ".join(words[cut:]), max_words)


def _break_long_words(text: str) -> str:
    """Words over ``MAX_WORD_CHARS`` (text without spaces) in parts of that length, so they can be split like words."""
    return _LONG_WORD.sub(lambda m: " ".join(textwrap.wrap(m.group(0), MAX_WORD_CHARS, break_long_words=True)), text)


def speech_pieces(text: str, max_words: int = MAX_PIECE_WORDS) -> list[str]:
    """``text`` in the pieces a voice should say one at a time, in order.

    Sentences (:func:`split_sentences`) are said one by one. The first clause
    of the first sentence ("Sorry,") is its own piece, so playback starts
    sooner. A sentence longer than ``max_words`` is said a few clauses at a
    time, and a clause still longer is broken before a joining word near its
    middle ("Say ... | to hear ..."), which bounds the memory and time of one
    synthesis call.
    """
    pieces: list[str] = []
    for n, sentence in enumerate(split_sentences(_break_long_words(text))):
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
