"""The control skill's volume: mute and unmute (for a while too, across a restart), volume out of ten."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from voicebox.testing import SkillHarness

FOLDER = Path(__file__).parent


@pytest.fixture
def control() -> Iterator[SkillHarness]:
    with SkillHarness(FOLDER) as harness:
        yield harness


def test_mute_and_unmute_restore_the_volume(control: SkillHarness) -> None:
    control.say("set the volume to 70 percent")
    assert control.say("mute").speech == "Muted."
    assert control.context.volume == 0.0
    control.say("turn the sound off")  # muting twice keeps the volume from before the first
    assert control.say("unmute").speech == "Unmuted. Volume 70 percent."
    assert control.context.volume == 0.7
    assert control.say("unmute").speech == "I'm not muted. Volume 70 percent."


def test_mute_for_a_while_unmutes_itself(control: SkillHarness) -> None:
    control.say("set the volume to 60 percent")
    assert control.say("mute for 15 minutes").speech == "Muted for 15 minutes."
    assert control.advance(899) == []
    assert control.context.volume == 0.0
    back = control.advance(1)
    assert [r.speech for r in back] == ["The sound is back on."]
    assert control.context.volume == 0.6


def test_unmuting_early_cancels_the_timed_unmute(control: SkillHarness) -> None:
    control.say("mute for ten minutes")
    control.say("unmute")
    assert control.scheduled() == []
    control.say("mute")
    assert control.advance(3600) == [] and control.context.volume == 0.0


def test_a_timed_mute_survives_a_restart(control: SkillHarness) -> None:
    control.say("set the volume to 50 percent")
    control.say("be quiet for half an hour")
    control.clock.advance(3600)  # voicebox was down when the half hour ended
    again = control.restart()
    try:
        assert [r.speech for r in again.run_due()] == ["The sound is back on."]
        assert again.context.volume == 0.5
    finally:
        again.close()


def test_volume_out_of_ten_and_softer(control: SkillHarness) -> None:
    assert control.say("set the volume to 7 out of 10").speech == "Volume 7 out of 10."
    assert control.context.volume == 1.4  # 10 out of 10 is the loudest (200 percent), 5 is normal
    assert control.say("volume five out of ten").data["volume"] == 1.0
    assert control.say("speak softer").data["volume"] == 0.8
    assert control.say("speak louder").data["volume"] == 1.0
