"""When an idle daemon hands freed memory back: pure, fed each block's level."""

from __future__ import annotations

from dataclasses import dataclass

from voicebox.hear.wake import SilenceGate

__all__ = ["QuietTrim"]


@dataclass(slots=True)
class QuietTrim:
    """When an idle daemon should hand free memory back: once each time the room falls quiet after sound.

    Listening to sound runs the wake-word networks, whose freed buffers stay
    in the heap until a trim (up to ~20 MB between turns). A turn trims at its
    end; this covers the hours without turns. Pure and clock-free: feed it
    each block's level, it says when to trim.
    """

    gate: SilenceGate  # what counts as quiet, and for how long
    _dirty: bool = False

    def due(self, level_dbfs: float) -> bool:
        """Record one block's level; True on the block that completes a quiet stretch after sound."""
        if not self.gate.gated(level_dbfs):
            self._dirty = self._dirty or level_dbfs >= self.gate.floor_dbfs
            return False
        due, self._dirty = self._dirty, False
        return due

    def trimmed(self) -> None:
        """Memory was just handed back (a turn ended): nothing to do until there is sound again."""
        self._dirty = False
