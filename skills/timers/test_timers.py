"""The timers skill through the daemon's own loading, matching, dispatch and scheduler (voicebox.testing), with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from voicebox.testing import ManualClock, SkillHarness

START = 1_000_000.0


@pytest.fixture
def timers() -> Iterator[SkillHarness]:
    with SkillHarness(Path(__file__).parent, settings={"ring_for_s": 30, "repeat_s": 10},
                      clock=ManualClock(START)) as harness:
        yield harness


def test_start_left_pause_resume_add_cancel(timers: SkillHarness) -> None:
    assert timers.say("set a 10 minute pizza timer").speech == "OK, pizza timer for 10 minutes, starting now."
    assert timers.say("set a timer for 90 seconds").speech.startswith("OK, timer for 1 minute and 30 seconds")
    timers.clock.advance(60)
    assert timers.say("how much time is left on the pizza timer").speech == "9 minutes left on the pizza timer."
    assert timers.say("pause the pizza timer").speech == "Paused the pizza timer."
    timers.clock.advance(500)
    assert "9 minutes left on the pizza timer (paused)" in timers.say("how much time is left").speech
    assert timers.say("resume the timer").speech == "Resumed the pizza timer, 9 minutes to go."
    assert timers.say("add 2 minutes to the pizza timer").speech == "The pizza timer now has 11 minutes left."
    assert (timers.say("take 30 seconds off the pizza timer").speech
            == "The pizza timer now has 10 minutes and 30 seconds left.")
    assert len(timers.scheduled()) == 2  # the 90 s one is overdue, but nothing fired it here
    assert timers.say("cancel all timers").speech == "Cancelled all 2 timers."
    assert timers.scheduled() == []


def test_which_timer_follow_up(timers: SkillHarness) -> None:
    timers.say("set a 10 minute pizza timer")
    timers.say("set a 5 minute egg timer")
    assert timers.say("cancel the timer").speech == "Which timer? the pizza timer or the egg timer?"
    assert timers.say("the egg one").speech == "Cancelled the egg timer."
    assert [j.data["label"] for j in timers.scheduled()] == ["pizza"]


def test_for_how_long_follow_up(timers: SkillHarness) -> None:
    assert timers.say("set a tea timer").speech == "For how long?"
    assert timers.say("three and a half minutes").speech == "OK, tea timer for 3 minutes and 30 seconds, starting now."
    assert timers.scheduled()[0].due_s == START + 210


def test_ring_after_restart_says_which_timer_and_rings_until_limit(timers: SkillHarness) -> None:
    timers.say("set a 1 minute pizza timer")
    timers.clock.advance(300)  # voicebox was down while the timer ended
    timers = timers.restart()  # crash: nothing but the database remains
    try:
        rang = timers.run_due() + timers.advance(60)  # the overdue ring at start, then its repeats
        announced = [(r.speech, r.sound) for r in rang]
        first, *repeats = announced
        assert first == ("Your pizza timer is done. It finished 4 minutes ago.", "alarm")
        assert repeats and all(a == ("Your pizza timer is done.", "alarm") for a in repeats)
        assert len(announced) <= 4  # ring_for_s = 30 with repeat_s = 10
        assert timers.store.items("timer:") == {}
    finally:
        timers.close()


def test_words_misheard_before_the_name_are_not_part_of_it(timers: SkillHarness) -> None:
    # tiny.en often writes "set a" as "set it" or "set in" (measured on the voice's own "Set an egg timer ...").
    assert timers.say("set in egg timer for five minutes").speech == "OK, egg timer for 5 minutes, starting now."
    assert timers.say("set it pizza timer").speech == "For how long?"
    assert timers.say("ten minutes").speech == "OK, pizza timer for 10 minutes, starting now."
    assert timers.say("set it timer for 30 seconds").speech.startswith("OK, timer for 30 seconds")
    assert timers.say("pause the it pizza timer").speech == "Paused the pizza timer."
    assert "10 minutes left on the pizza timer" in timers.say("how much time is left on my pizza timer").speech
