"""② Wake word: the detector Protocol and the pure decision of when a score counts as a wake."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .audio import BLOCK_MS, Pcm

__all__ = ["WakeDecider", "WakeDetector", "WakeHit"]


class WakeDetector(Protocol):
    """Scores 80 ms blocks (1280 int16 samples at 16 kHz) for each loaded wake-word model."""

    def process(self, block: Pcm) -> dict[str, float]:
        """Scores in [0, 1] per model name for this block."""
        ...

    def reset(self) -> None:
        """Forget audio context (after a turn, so the wake word does not fire twice)."""
        ...


@dataclass(frozen=True, slots=True)
class WakeHit:
    """A wake word that counts: which model and its score."""

    model: str
    score: float


@dataclass(slots=True)
class WakeDecider:
    """Turns per-block scores into wake decisions: per-model thresholds plus a refractory period.

    Pure and clock-free: it counts blocks, never reads a clock.
    """

    threshold: float = 0.5
    thresholds: dict[str, float] = field(default_factory=dict)
    refractory_ms: int = 2000
    _quiet_ms: int = 0

    def feed(self, scores: dict[str, float], block_ms: int = BLOCK_MS) -> WakeHit | None:
        """The best model over its threshold for this block, unless still refractory."""
        if self._quiet_ms > 0:
            self._quiet_ms -= block_ms
            return None
        best: WakeHit | None = None
        for model, score in scores.items():
            if score >= self.thresholds.get(model, self.threshold) and (best is None or score > best.score):
                best = WakeHit(model, float(score))
        if best is not None:
            self._quiet_ms = self.refractory_ms
        return best

    def hold_off(self, ms: int) -> None:
        """Ignore detections for the next ``ms`` of audio (e.g. while voicebox itself speaks)."""
        self._quiet_ms = max(self._quiet_ms, ms)
