"""When an idle daemon hands memory back: the pure policy, with levels in and decisions out."""

from __future__ import annotations

from voicebox.hear.quiet import QuietTrim
from voicebox.hear.wake import SilenceGate

LOUD, QUIET = -30.0, -70.0


def decisions(levels: list[float], trim: QuietTrim | None = None) -> list[int]:
    """The indices of the blocks on which a trim is due."""
    trim = trim or QuietTrim(SilenceGate(-55.0, hold_blocks=3))
    return [i for i, level in enumerate(levels) if trim.due(level)]


def test_a_quiet_room_from_the_start_needs_no_trim() -> None:
    assert decisions([QUIET] * 20) == []


def test_one_trim_when_the_room_falls_quiet_after_sound() -> None:
    assert decisions([LOUD] * 5 + [QUIET] * 10) == [7]  # the third quiet block completes the stretch


def test_a_short_pause_is_not_quiet_and_each_new_quiet_stretch_trims_once() -> None:
    levels = [LOUD, QUIET, QUIET, LOUD] + [QUIET] * 5 + [LOUD] * 2 + [QUIET] * 4
    assert decisions(levels) == [6, 13]


def test_nothing_to_trim_right_after_a_turn_trimmed() -> None:
    trim = QuietTrim(SilenceGate(-55.0, hold_blocks=3))
    decisions([LOUD] * 4, trim)
    trim.trimmed()
    assert decisions([QUIET] * 6, trim) == []
    assert decisions([LOUD] + [QUIET] * 3, trim) == [3]
