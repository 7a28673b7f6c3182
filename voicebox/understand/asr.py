"""④ Speech recognition: the recognizer Protocol, its result, and pure transcript clean-up."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from voicebox.core.audio import Pcm

__all__ = ["Recognition", "Recognizer", "collapse_repeats", "looks_unreliable"]


@dataclass(frozen=True, slots=True)
class Recognition:
    """A transcript with what produced it: ``window`` is "short" or "full"."""

    text: str
    window: str
    avg_logprob: float
    compute_ms: float
    repeated: bool = False


class Recognizer(Protocol):
    """Transcribes one whole command: 16 kHz mono int16 PCM in, text out."""

    def transcribe(self, pcm: Pcm, *, full_window: bool = False, careful: bool = False) -> Recognition:
        """Recognize ``pcm``; ``full_window`` forces the 30 s encoder window, ``careful`` spends more
        compute (a wider beam) for a better guess."""
        ...


_WORD = re.compile(r"[\w']+")


def collapse_repeats(text: str) -> tuple[str, bool]:
    """Cut a decoder loop ("cancel timer cancel timer cancel…") down to one copy of the phrase.

    Returns the text and whether a repetition was found. A phrase must repeat
    back to back (a single word three times; the last copy may be cut short) to count.
    Applied until nothing changes: a decaying loop can hide a shorter one inside a longer one.
    """
    found = False
    while True:
        text, repeated = _collapse_once(text)
        if not repeated:
            return text, found
        found = True


def _collapse_once(text: str) -> tuple[str, bool]:
    words = text.split()
    n = len(words)
    keys = [w.lower().strip(".,!?;:") for w in words]
    for size in range(1, n):
        phrase = keys[:size]
        i = size
        matched = 0
        while i < n and (keys[i] == phrase[i % size] or (i == n - 1 and keys[i] and phrase[i % size].startswith(keys[i]))):
            i += 1  # the very last word may be cut short too: the token budget can end mid-word
            matched += 1
        # The last copy may be cut short, but a partial copy only counts for phrases of 3+ words.
        if i == n and (matched >= max(size, 2) or (size >= 3 and matched >= 1)):
            return " ".join(words[:size]).rstrip(",;:"), True
    # Elsewhere a loop starts where a phrase follows itself (two copies of 2+ words, three of one word) and
    # may decay ("… five minutes five minutes five min", "cancel timer cancel timer timer"): cut after one copy.
    for start in range(n):
        for size in range(1, (n - start) // 2 + 1):
            copies = 3 if size == 1 else 2
            phrase = keys[start : start + size]
            if start + copies * size <= n and all(
                keys[start + k * size : start + (k + 1) * size] == phrase for k in range(1, copies)
            ):
                return " ".join(words[: start + size]).rstrip(",;:"), True
    return text, False


def looks_unreliable(rec: Recognition, *, min_logprob: float = -1.0) -> bool:
    """Whether a short-window result should be redone with the full window."""
    if not _WORD.search(rec.text):
        return True
    return rec.avg_logprob < min_logprob
