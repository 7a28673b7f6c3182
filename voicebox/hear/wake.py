"""② Wake word: the detector Protocol, input gain control, and the pure decision of when a score counts as a wake."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from voicebox.core.audio import BLOCK_MS, Pcm

if TYPE_CHECKING:
    from voicebox.core.config_sections import WakeConfig

__all__ = ["GainControl", "SilenceGate", "WakeDecider", "WakeDetector", "WakeHit", "block_dbfs"]


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
    """Turns per-block scores into wake decisions: per-model thresholds, patience and a refractory period.

    A model fires when its score has been at or above its threshold for
    ``patience`` consecutive blocks; afterwards every model is quiet for
    ``refractory_ms``. Pure and clock-free: it counts blocks, never reads a clock.
    """

    threshold: float = 0.5
    thresholds: dict[str, float] = field(default_factory=dict)
    refractory_ms: int = 2000
    patience: int = 1
    _quiet_ms: int = 0
    _streaks: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_config(cls, wake: WakeConfig) -> WakeDecider:
        """A decider with the ``[wake]`` section's thresholds, patience and refractory period."""
        return cls(wake.threshold, dict(wake.thresholds), int(round(wake.refractory_s * 1000)), wake.patience)

    def feed(self, scores: dict[str, float], block_ms: int = BLOCK_MS) -> WakeHit | None:
        """The best model over its threshold for this block, unless still refractory."""
        best: WakeHit | None = None
        for model, score in scores.items():
            over = score >= self.thresholds.get(model, self.threshold)
            streak = self._streaks.get(model, 0) + 1 if over else 0
            self._streaks[model] = streak
            if streak >= self.patience and (best is None or score > best.score):
                best = WakeHit(model, float(score))
        if self._quiet_ms > 0:
            self._quiet_ms -= block_ms
            return None
        if best is not None:
            self._quiet_ms = self.refractory_ms
        return best

    def hold_off(self, ms: int) -> None:
        """Ignore detections for the next ``ms`` of audio (e.g. while voicebox itself speaks)."""
        self._quiet_ms = max(self._quiet_ms, ms)


def block_dbfs(block: Pcm) -> float:
    """A block's RMS level in dB below full scale (silence reads -90.3)."""
    rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64)))) if len(block) else 0.0
    return 20.0 * math.log10(max(rms, 1.0) / 32768.0)


@dataclass(slots=True)
class SilenceGate:
    """Says when a block needs no wake-word network: everything the model would look at is quieter than a floor.

    A wake-word score depends on the last ``hold_blocks`` blocks of audio (the
    model's receptive field). Once that many blocks in a row have stayed below
    ``floor_dbfs``, the block is *gated*: the detector may skip its network and
    report 0. The first block at or above the floor opens the gate at once.
    Pure and clock-free: it counts blocks.
    """

    floor_dbfs: float = -55.0
    hold_blocks: int = 27
    _quiet: int = 0

    def gated(self, level_dbfs: float) -> bool:
        """Record this block's level; True when this block and the ``hold_blocks - 1`` before it were all quiet."""
        return self.gated_quiet(level_dbfs < self.floor_dbfs)

    def gated_quiet(self, quiet: bool) -> bool:
        """As :meth:`gated`, told whether this block is quiet (below the floor, or sound without speech)."""
        self._quiet = self._quiet + 1 if quiet else 0
        return self._quiet >= self.hold_blocks

    def reset(self) -> None:
        """Forget the history (the gate is open until enough quiet blocks arrive)."""
        self._quiet = 0


@dataclass(slots=True)
class GainControl:
    """Automatic gain for quiet speakers: lifts the input so that recent peaks reach ``target_dbfs``.

    The level is the loudest block RMS over the last ``window_blocks`` blocks
    (a peak hold: it drops at once when someone speaks up, and rises only as
    loud blocks leave the window). The gain never attenuates and never
    exceeds ``max_gain_db``, so silence is lifted at most that much. Pure and
    clock-free: it counts blocks.
    """

    target_dbfs: float = -20.0
    max_gain_db: float = 18.0
    window_blocks: int = 25
    _levels: deque[float] = field(default_factory=deque)

    def gain_db(self, block: Pcm) -> float:
        """Record this block's level and return the gain to apply to it, in dB."""
        self._levels.append(block_dbfs(block))
        while len(self._levels) > self.window_blocks:
            self._levels.popleft()
        return min(self.max_gain_db, max(0.0, self.target_dbfs - max(self._levels)))

    def apply(self, block: Pcm) -> Pcm:
        """The block with the current gain applied (clipped to int16)."""
        gain = self.gain_db(block)
        if gain <= 0.0:
            return block
        scaled = block.astype(np.float32) * np.float32(10.0 ** (gain / 20.0))
        lifted: Pcm = np.clip(scaled, -32768, 32767).astype(np.int16)
        return lifted

    def reset(self) -> None:
        """Forget the level history."""
        self._levels.clear()
