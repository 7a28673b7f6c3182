"""④ Speech recognition: the recognizer Protocol, its result, and pure transcript clean-up."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from .audio import Pcm

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

    def transcribe(self, pcm: Pcm, *, full_window: bool = False) -> Recognition:
        """Recognize ``pcm``; ``full_window`` forces the 30 s encoder window."""
        ...


_WORD = re.compile(r"[\w']+")


def collapse_repeats(text: str) -> tuple[str, bool]:
    """Cut a decoder loop ("cancel timer cancel timer cancel…") down to one copy of the phrase.

    Returns the text and whether a repetition was found. A phrase must repeat
    back to back at least twice (the last copy may be cut short) to count.
    """
    words = text.split()
    n = len(words)
    keys = [w.lower().strip(".,!?;:") for w in words]
    for size in range(1, n):
        phrase = keys[:size]
        i = size
        matched = 0
        while i < n and keys[i] == phrase[(i) % size]:
            i += 1
            matched += 1
        # The last copy may be cut short, but a partial copy only counts for phrases of 3+ words.
        if i == n and (matched >= size or (size >= 3 and matched >= 1)):
            return " ".join(words[:size]).rstrip(",;:"), True
    # A loop that starts after a prefix: "set a timer for five minutes five minutes five minutes"
    for size in range(1, n // 3 + 1):
        for start in range(0, n - 3 * size + 1):
            phrase = keys[start : start + size]
            reps = 1
            i = start + size
            while i + size <= n and keys[i : i + size] == phrase:
                reps += 1
                i += size
            if reps >= 3 and i >= n - size:
                return " ".join(words[: start + size]).rstrip(",;:"), True
    return text, False


def looks_unreliable(rec: Recognition, *, min_logprob: float = -1.0) -> bool:
    """Whether a short-window result should be redone with the full window."""
    if not _WORD.search(rec.text):
        return True
    return rec.avg_logprob < min_logprob
