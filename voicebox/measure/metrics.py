"""Accuracy arithmetic: normalised word error rate, wake detections, false wakes per hour, DET points."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import Levenshtein

__all__ = [
    "DetPoint",
    "WerCount",
    "count_false_wakes",
    "detections",
    "det_curve",
    "false_wakes_per_hour",
    "miss_rate",
    "normalize_words",
    "operating_point",
    "word_errors",
    "word_error_rate",
]

Scores = npt.NDArray[np.floating]

_NUMBER = re.compile(r"(\d+(?:[.,]\d+)*)(st|nd|rd|th)?")
_NOT_WORD = re.compile(r"[^a-z0-9' ]+")
# Spellings of one word that transcribers write either way.
_VARIANTS = {"never mind": "nevermind", "all right": "alright", "okay": "ok", "o'clock": "oclock"}
_VARIANT = re.compile(r"\b(" + "|".join(re.escape(k) for k in _VARIANTS) + r")\b")


@lru_cache(maxsize=1)
def _rbnf() -> object:
    from unicode_rbnf import RbnfEngine

    return RbnfEngine.for_language("en")


def _spell(match: re.Match[str]) -> str:
    digits, suffix = match.group(1), match.group(2)
    engine = _rbnf()
    if "." in digits and suffix is None:
        whole, _, frac = digits.replace(",", "").partition(".")
        spoken = engine.format_number(int(whole or "0")).text  # type: ignore[attr-defined]
        return f" {spoken} point {' '.join(engine.format_number(int(d)).text for d in frac)} "  # type: ignore[attr-defined]
    number = int(digits.replace(",", "").replace(".", ""))
    if suffix:
        result = engine.format_number(number, ruleset_names=["spellout-ordinal"])  # type: ignore[attr-defined]
        return f" {result.text} "
    return f" {engine.format_number(number).text} "  # type: ignore[attr-defined]


def normalize_words(text: str) -> list[str]:
    """Words for scoring: lower case, no punctuation, numbers spelled out ("5" and "five" count the same).

    Hyphenated numbers become separate words ("twenty-five" = "25" = "twenty five"),
    "%" reads "percent", a clock time "5:30" (or "5.30 p.m.") reads "five thirty", and a few
    words written either as one or two ("never mind", "nevermind") are merged.
    """
    text = text.lower().replace("%", " percent ").replace("&", " and ")
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)  # "p.m." = "pm"
    text = re.sub(r"\b(\d{1,2})\.(\d\d)\s*([ap]m)\b", r"\1:\2 \3", text)  # "2.05pm" = "2:05 pm"
    text = re.sub(r"(\d+):(\d\d)", lambda m: f"{m.group(1)} {m.group(2).lstrip('0') or ''}", text)
    text = _NUMBER.sub(_spell, text)
    text = text.replace("-", " ").replace("\u2019", "'")
    text = _NOT_WORD.sub(" ", text)
    text = _VARIANT.sub(lambda m: _VARIANTS[m.group(1)], " ".join(text.split()))
    return [w.strip("'") for w in text.split() if w.strip("'")]


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions + deletions + insertions turning ``reference`` into ``hypothesis`` (Levenshtein on words)."""
    return int(Levenshtein.distance(list(reference), list(hypothesis)))


@dataclass(frozen=True, slots=True)
class WerCount:
    """Word errors of one utterance after normalisation."""

    errors: int
    reference_words: int


def word_error_rate(pairs: Iterable[tuple[str, str]]) -> tuple[float, list[WerCount]]:
    """Corpus WER (total errors / total reference words) over ``(reference, hypothesis)`` pairs, and each count."""
    counts = []
    for reference, hypothesis in pairs:
        ref, hyp = normalize_words(reference), normalize_words(hypothesis)
        counts.append(WerCount(word_errors(ref, hyp), len(ref)))
    words = sum(c.reference_words for c in counts)
    return (sum(c.errors for c in counts) / words if words else 0.0), counts


def detections(scores: Scores, threshold: float, *, refractory_blocks: int = 25, patience: int = 1) -> list[int]:
    """Block indices where a wake fires, with :class:`voicebox.hear.wake.WakeDecider`'s rules for one model.

    A block fires when it and the ``patience - 1`` blocks before it score at
    or above ``threshold``; the ``refractory_blocks`` blocks after a firing
    are ignored.
    """
    over = np.asarray(scores) >= threshold
    if patience > 1:
        run = np.convolve(over.astype(np.int32), np.ones(patience, np.int32))[: len(over)]
        over = run >= patience
    fired: list[int] = []
    last = -refractory_blocks - 1
    for i in np.flatnonzero(over):
        if i > last + refractory_blocks:
            fired.append(int(i))
            last = int(i)
    return fired


def count_false_wakes(scores: Scores, threshold: float, *, refractory_blocks: int = 25, patience: int = 1) -> int:
    """How often a wake fires on a stream that contains no wake word."""
    return len(detections(scores, threshold, refractory_blocks=refractory_blocks, patience=patience))


def false_wakes_per_hour(false_wakes: int, audio_s: float) -> float:
    """False wakes scaled to one hour of audio."""
    if audio_s <= 0:
        raise ValueError("false wakes per hour needs audio longer than 0 s")
    return false_wakes * 3600.0 / audio_s


def miss_rate(clip_scores: Sequence[Scores], threshold: float, *, patience: int = 1) -> float:
    """Share of positive clips (each its own score array) in which no wake fires."""
    if not clip_scores:
        return 0.0
    missed = sum(1 for s in clip_scores if not detections(s, threshold, refractory_blocks=0, patience=patience))
    return missed / len(clip_scores)


@dataclass(frozen=True, slots=True)
class DetPoint:
    """One point of a detection-error trade-off curve."""

    threshold: float
    miss_rate: float
    false_wakes_per_hour: float


def det_curve(positive_clips: Sequence[Scores], negative_stream: Scores, thresholds: Iterable[float], *,
              block_s: float = 0.08, refractory_blocks: int = 25, patience: int = 1) -> list[DetPoint]:
    """Miss rate on the positive clips and false wakes per hour on the negative stream at each threshold."""
    hours_s = len(negative_stream) * block_s
    points = []
    for t in thresholds:
        fa = count_false_wakes(negative_stream, t, refractory_blocks=refractory_blocks, patience=patience)
        points.append(DetPoint(float(t), miss_rate(positive_clips, t, patience=patience),
                               false_wakes_per_hour(fa, hours_s)))
    return points


def operating_point(points: Sequence[DetPoint], max_false_wakes_per_hour: float) -> DetPoint | None:
    """The lowest-miss point whose false-wake rate is within the budget (ties: the higher threshold)."""
    ok = [p for p in points if p.false_wakes_per_hour <= max_false_wakes_per_hour]
    if not ok:
        return None
    return min(ok, key=lambda p: (p.miss_rate, -p.threshold))
