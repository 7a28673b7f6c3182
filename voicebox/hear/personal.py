"""② A personal wake word: enrolled recordings' feature sequences matched against the stream by time warping.

Pure numbers in, decisions out: speech probabilities or feature rows come
from the engines (Silero VAD, openWakeWord's speech embeddings), nothing here
reads audio or a clock. The distance is dynamic time warping (dtaidistance's C
implementation) over unit-length embeddings; a model's score is
``1 - distance / (2 * threshold)``, so the calibrated distance reads 0.5, the
default ``[wake] threshold``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_WORD_S", "MIN_WORD_S", "Enrolment", "PersonalMatcher", "calibrate", "distances", "dtw_distance",
    "score_of", "speech_span", "template_rows",
]

Frames = npt.NDArray[np.float32]
VAD_STEP_S = 0.04  # Silero's step over 16 kHz audio (640 samples)
BLOCK_S = 0.08
MIN_WORD_S = 0.3
MAX_WORD_S = 2.0
MIN_CLIPS, MAX_CLIPS = 3, 5
_LEAD_S, _TAIL_S = 0.24, 0.16  # template rows: from this far into the word to this far after it
_NEGATIVE_MARGIN = 1.1  # the threshold, relative to the closest built-in negative (real speech varies more)
_MAX_THRESHOLD = 0.225  # never looser than this: beyond it, similar-sounding words match
_MAX_LENGTH_RATIO = 2.0


def speech_span(probabilities: Sequence[float], threshold: float = 0.5, gap_s: float = 0.3) -> tuple[float, float] | None:
    """The longest stretch of speech (start and end in seconds) in per-40 ms speech probabilities.

    Stretches closer than ``gap_s`` are one (the pause inside "hey ... jarvis").
    """
    runs: list[list[float]] = []
    for i, p in enumerate(probabilities):
        if p < threshold:
            continue
        t = i * VAD_STEP_S
        if runs and t - runs[-1][1] <= gap_s:
            runs[-1][1] = t + VAD_STEP_S
        else:
            runs.append([t, t + VAD_STEP_S])
    if not runs:
        return None
    start, end = max(runs, key=lambda r: r[1] - r[0])
    return start, end


def template_rows(span: tuple[float, float], n_blocks: int) -> tuple[int, int]:
    """Which feature rows (first, end) stand for a word spoken at ``span`` seconds into a recording."""
    first = int(round((span[0] + _LEAD_S) / BLOCK_S))
    end = int(round((span[1] + _TAIL_S) / BLOCK_S))
    return max(0, min(first, n_blocks - 1)), max(1, min(end, n_blocks))


def _unit(frames: Frames) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(frames, axis=1, keepdims=True)
    return np.asarray(frames / np.maximum(norms, 1e-6), np.float64)


def dtw_distance(a: Frames, b: Frames) -> float:
    """Time-warped distance between two feature sequences: mean squared step along the best path, in [0, 4]."""
    from dtaidistance import dtw_ndim

    d = float(dtw_ndim.distance_fast(_unit(a), _unit(b)))
    return d * d / (len(a) + len(b))


def score_of(distance: float, threshold: float) -> float:
    """A wake score in [0, 1]: 0.5 at the calibrated distance, higher when closer."""
    return float(min(1.0, max(0.0, 1.0 - distance / (2.0 * threshold))))


class PersonalMatcher:
    """Streaming match: each new feature row, the closest template's distance to the rows just before it."""

    def __init__(self, templates: Sequence[Frames]) -> None:
        self._templates = [_unit(t) for t in templates]
        self._rows: deque[npt.NDArray[np.float64]] = deque(maxlen=max(len(t) for t in templates))

    def feed(self, row: Frames) -> float:
        """Add one block's feature row; the smallest template distance (``inf`` until enough rows arrived)."""
        from dtaidistance import dtw_ndim

        self._rows.append(_unit(row.reshape(1, -1))[0])
        best = np.inf
        for t in self._templates:
            if len(self._rows) < len(t):
                continue
            window = np.stack(list(self._rows)[-len(t):])
            d = float(dtw_ndim.distance_fast(window, t))
            best = min(best, d * d / (2 * len(t)))
        return float(best)

    def reset(self) -> None:
        """Forget the rows seen so far."""
        self._rows.clear()


def distances(frames: Frames, templates: Sequence[Frames]) -> npt.NDArray[np.float32]:
    """:meth:`PersonalMatcher.feed` over every row of a recording's features."""
    matcher = PersonalMatcher(templates)
    return np.array([matcher.feed(row) for row in frames], np.float32)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A checked enrolment: the templates, the calibrated threshold distance and what it was based on."""

    templates: tuple[Frames, ...]
    threshold: float
    closest_negative: float
    worst_own: float  # the largest distance from one recording to the nearest other


class EnrolmentRejected(ValueError):
    """The recordings do not make a usable wake word; the message says why and what to do."""


def calibrate(templates: Sequence[Frames], negative_frames: Sequence[Frames]) -> Enrolment:
    """Check an enrolment and set its threshold against negative audio (speech and noise without the word).

    Each recording must be closer to another one than the negatives come to
    any: otherwise the word cannot be told from ordinary speech, or one take
    differs from the others (a different word, a cough, a clipped take).
    """
    if not MIN_CLIPS <= len(templates) <= MAX_CLIPS:
        raise EnrolmentRejected(f"enrolment needs {MIN_CLIPS} to {MAX_CLIPS} recordings of the word, got {len(templates)}")
    lengths = [len(t) for t in templates]
    if max(lengths) > _MAX_LENGTH_RATIO * min(lengths):
        raise EnrolmentRejected(
            f"the recordings' words differ too much in length ({', '.join(f'{n * BLOCK_S:.2f}' for n in lengths)} s "
            "of features): say the same word the same way each time")
    own = np.array([[dtw_distance(a, b) if i != j else np.inf for j, b in enumerate(templates)]
                    for i, a in enumerate(templates)])
    nearest_own = own.min(axis=1)
    closest_negative = min(float(np.min(distances(f, templates))) for f in negative_frames)
    threshold = min(_MAX_THRESHOLD, _NEGATIVE_MARGIN * closest_negative)
    odd = [i + 1 for i, d in enumerate(nearest_own) if d >= threshold]
    if odd:
        which = ", ".join(f"#{i}" for i in odd)
        raise EnrolmentRejected(
            f"recording(s) {which} do not match the others more closely than ordinary speech does "
            f"(distance {', '.join(f'{nearest_own[i - 1]:.3f}' for i in odd)} against a limit of {threshold:.3f}): "
            "record them again in a quiet room, saying only the wake word, the same way each time")
    return Enrolment(tuple(templates), float(threshold), closest_negative, float(nearest_own.max()))
