"""The alarms skill through the daemon's own loading, matching, dispatch and scheduler (voicebox.testing), with a fake clock.

Times are in America/New_York (the skill's ``time_zone`` setting), whose
2026 daylight-saving changes are on Sunday March 8 (2:00 -> 3:00) and
Sunday November 1 (2:00 -> 1:00).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from voicebox.testing import ManualClock, Reply, SkillHarness

FOLDER = Path(__file__).parent
NY = ZoneInfo("America/New_York")
UTC = dt.UTC
SETTINGS = {"time_zone": "America/New_York", "ring_for_s": 60, "repeat_s": 20}


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=NY)


def harness(start: dt.datetime, **settings: Any) -> SkillHarness:
    return SkillHarness(FOLDER, settings={**SETTINGS, **settings}, clock=ManualClock(start))


@pytest.fixture
def alarms() -> Iterator[SkillHarness]:
    with harness(ny(2026, 3, 6, 22, 0)) as h:  # a Friday, 10 PM
        yield h


def first_rings(replies: list[Reply]) -> list[tuple[dt.datetime, str]]:
    """(when, speech) of each alarm's first ring, in UTC (a ring's repeats left out)."""
    return [(dt.datetime.fromtimestamp(r.job.due_s, UTC), r.speech) for r in replies
            if r.job is not None and r.job.rings == 1]


def test_rings_at_the_minute_it_was_set_for_with_its_own_sound(alarms: SkillHarness) -> None:
    reply = alarms.say("wake me up at 6:30")
    assert (reply.intent, reply.speech) == ("SetAlarm", "OK, alarm set for 6:30 AM tomorrow.")
    assert reply.data["due_s"] == ny(2026, 3, 7, 6, 30).timestamp()
    alarms.clock.set(ny(2026, 3, 7, 6, 29, 59))
    assert alarms.run_due() == []  # a second early: nothing
    rang = alarms.advance(1)
    assert [(r.speech, r.sound) for r in rang] == [("It's 6:30 AM. This is your 6:30 AM alarm.", "alarm_clock")]
    repeats = alarms.advance(120)
    assert len(repeats) == 3 and all(r.speech.endswith("This is your 6:30 AM alarm.") for r in repeats)  # 60 s / 20 s
    assert alarms.scheduled() == [] and alarms.say("what alarms do i have").speech == "You don't have any alarms."


@pytest.mark.parametrize(("sentence", "when", "speech"), [
    ("set an alarm for 7 am tomorrow", ny(2026, 3, 7, 7, 0), "OK, alarm set for 7 AM tomorrow."),
    ("set an alarm for half past six", ny(2026, 3, 7, 6, 30), "OK, alarm set for 6:30 AM tomorrow."),
    ("set an alarm for quarter to seven pm", ny(2026, 3, 7, 18, 45), "OK, alarm set for 6:45 PM tomorrow."),
    ("set an alarm for 10:45", ny(2026, 3, 6, 22, 45), "OK, alarm set for 10:45 PM today."),  # the soonest 10:45
    ("set an alarm for noon", ny(2026, 3, 7, 12, 0), "OK, alarm set for noon tomorrow."),
    ("set an alarm for midnight", ny(2026, 3, 7, 0, 0), "OK, alarm set for midnight tomorrow."),
    ("set an alarm for 11 tonight", ny(2026, 3, 6, 23, 0), "OK, alarm set for 11 PM today."),
    ("alarm for Monday at 8", ny(2026, 3, 9, 8, 0), "OK, alarm set for 8 AM on Monday."),
    ("set an alarm for March 5th at 8 a.m.", ny(2027, 3, 5, 8, 0), "OK, alarm set for 8 AM on Friday, March 5th, 2027."),
    ("set an alarm for the twentieth of march at 19:15", ny(2026, 3, 20, 19, 15),
     "OK, alarm set for 7:15 PM on Friday, March 20th."),
    ("wake me up tomorrow morning at seven", ny(2026, 3, 7, 7, 0), "OK, alarm set for 7 AM tomorrow."),
    ("set a medicine alarm at 9 pm", ny(2026, 3, 7, 21, 0), "OK, medicine alarm set for 9 PM tomorrow."),
    ("set an alarm every weekday at 7", ny(2026, 3, 9, 7, 0),
     "OK, alarm set for 7 AM every weekday, starting on Monday."),
])
def test_the_time_said_is_the_time_set(alarms: SkillHarness, sentence: str, when: dt.datetime, speech: str) -> None:
    reply = alarms.say(sentence)
    assert (reply.speech, reply.data["due_s"]) == (speech, when.timestamp())
    assert [j.due_s for j in alarms.scheduled()] == [when.timestamp()]


def test_impossible_times_say_what_is_wrong(alarms: SkillHarness) -> None:
    assert alarms.say("set an alarm for February 30th at 7").speech == "There's no February 30th."
    assert alarms.say("set an alarm for 9 pm today").speech == "It's already past 9 PM today."
    assert alarms.say("do i have any alarms on the thirty first of april").speech == "There's no April 31st."
    assert alarms.say("cancel my alarm for february 30th").speech == "You don't have any alarms."
    assert alarms.scheduled() == []


def test_a_repeating_alarm_rings_on_each_matching_day_and_nowhere_else(alarms: SkillHarness) -> None:
    alarms.say("set an alarm for every weekday at 7")
    rang = alarms.advance(ny(2026, 3, 11, 12, 0).timestamp() - alarms.clock.t)  # to Wednesday noon
    assert first_rings(rang) == [(ny(2026, 3, d, 7, 0).astimezone(UTC), "It's 7 AM. This is your 7 AM alarm.")
                                 for d in (9, 10, 11)]  # Monday to Wednesday; not on the weekend
    assert alarms.say("when is my next alarm").speech == "Your next alarm is tomorrow at 7 AM, in 19 hours."


def test_spring_forward_keeps_the_wall_clock_time(alarms: SkillHarness) -> None:
    alarms.say("set an alarm for 7 am every day")
    alarms.say("set an alarm for 2:30 am sunday")  # a time the change skips: it rings as the clock jumps past it
    rang = alarms.advance(3 * 86400)
    assert first_rings(rang) == [
        (dt.datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "It's 7 AM. This is your 7 AM alarm."),  # EST, UTC-5
        (dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC), "It's 3:30 AM. This is your 2:30 AM alarm."),
        (dt.datetime(2026, 3, 8, 11, 0, tzinfo=UTC), "It's 7 AM. This is your 7 AM alarm."),  # EDT, UTC-4
        (dt.datetime(2026, 3, 9, 11, 0, tzinfo=UTC), "It's 7 AM. This is your 7 AM alarm."),
    ]


def test_fall_back_keeps_the_wall_clock_time_and_rings_a_repeated_hour_once() -> None:
    with harness(ny(2026, 10, 30, 22, 0)) as alarms:  # Friday before the change
        alarms.say("set an alarm for 7 am every day")
        alarms.say("set an alarm for 1:30 am every day")
        rang = alarms.advance(3 * 86400)
        assert first_rings(rang) == [
            (dt.datetime(2026, 10, 31, 5, 30, tzinfo=UTC), "It's 1:30 AM. This is your 1:30 AM alarm."),
            (dt.datetime(2026, 10, 31, 11, 0, tzinfo=UTC), "It's 7 AM. This is your 7 AM alarm."),  # EDT
            (dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "It's 1:30 AM. This is your 1:30 AM alarm."),  # once
            (dt.datetime(2026, 11, 1, 12, 0, tzinfo=UTC), "It's 7 AM. This is your 7 AM alarm."),  # EST
            (dt.datetime(2026, 11, 2, 6, 30, tzinfo=UTC), "It's 1:30 AM. This is your 1:30 AM alarm."),
            (dt.datetime(2026, 11, 2, 12, 0, tzinfo=UTC), "It's 7 AM. This is your 7 AM alarm."),
        ]


def test_snooze_rings_again_after_the_snooze_time() -> None:
    with harness(ny(2026, 3, 6, 6, 59), snooze_minutes=5) as alarms:
        assert alarms.say("snooze").speech == "No alarm is ringing."
        alarms.say("set a wake up alarm for 7 am")
        assert first_rings(alarms.advance(60))[0][1] == "It's 7 AM. This is your wake up alarm."
        assert alarms.say("snooze").speech == "OK, snoozing for 5 minutes."
        assert alarms.advance(299) == []  # the ringing stopped, and 5 minutes are not up yet
        again = alarms.advance(1)
        assert [r.speech for r in again] == ["It's 7:05 AM. This is your wake up alarm again."]
        assert alarms.say("snooze for 2 minutes").speech == "OK, snoozing for 2 minutes."
        assert alarms.say("what alarms do i have").speech == ("You have one alarm: the wake up alarm snoozed until "
                                                             "7:07 AM.")
        assert first_rings(alarms.advance(120))[0] == (ny(2026, 3, 6, 7, 7).astimezone(UTC),
                                                      "It's 7:07 AM. This is your wake up alarm again.")


def test_stop_ends_this_ring_and_keeps_the_next(alarms: SkillHarness) -> None:
    alarms.say("set an alarm for 7 am every day")
    alarms.clock.set(ny(2026, 3, 7, 7, 0))
    assert [r.speech for r in alarms.run_due()] == ["It's 7 AM. This is your 7 AM alarm."]
    assert alarms.say("dismiss the alarm").speech == "OK, alarm off."
    assert alarms.advance(3600) == []  # no repeats
    assert alarms.say("dismiss the alarm").speech == "No alarm is ringing."
    alarms.clock.set(ny(2026, 3, 8, 7, 0))
    alarms.run_due()
    alarms.context.stop()  # what the control skill's "stop" does: silence every ringing alarm
    assert alarms.advance(3600) == []
    assert alarms.say("when is my next alarm").speech == "Your next alarm is tomorrow at 7 AM, in 23 hours."


def test_missed_while_down_is_announced_once_at_start(alarms: SkillHarness) -> None:
    alarms.say("wake me up at 6:30")
    alarms.say("set an alarm for 7 am every day")
    alarms.clock.set(ny(2026, 3, 7, 9, 15))  # voicebox was down from before 6:30 until now
    again = alarms.restart()
    try:
        announced = again.run_due()
        assert [(r.speech, r.sound) for r in announced] == [
            ("While I was off, your 6:30 AM alarm was due at 6:30 AM.", "alarm_clock"),
            ("While I was off, your 7 AM alarm was due at 7 AM.", "alarm_clock")]
        assert again.advance(600) == []  # their ringing time is long over: said once, not rung on
        assert again.say("what alarms do i have").speech == "You have one alarm: 7 AM every day."
        assert again.say("when is my next alarm").speech.startswith("Your next alarm is tomorrow at 7 AM")
    finally:
        again.close()


def test_an_alarm_missed_by_less_than_its_ringing_time_still_rings() -> None:
    alarms = harness(ny(2026, 3, 6, 22, 0), ring_for_s=300)
    alarms.say("wake me up at 6:30")
    alarms.clock.set(ny(2026, 3, 7, 6, 32))  # a restart two minutes late, within its 5 minutes of ringing
    again = alarms.restart()
    try:
        rang = again.run_due() + again.advance(30)
        assert rang[0].speech == "While I was off, your 6:30 AM alarm was due at 6:30 AM."
        assert len(rang) > 1 and all(r.speech == "It's 6:32 AM. This is your 6:30 AM alarm." for r in rang[1:])
    finally:
        again.close()


def test_alarms_survive_a_restart(alarms: SkillHarness) -> None:
    alarms.say("set a medicine alarm at 9 pm every day")
    alarms.say("set an alarm for Monday at 8")
    again = alarms.restart()
    try:
        assert again.say("what alarms do i have").speech == ("You have 2 alarms: the medicine alarm at 9 PM every day "
                                                             "and 8 AM on Monday.")
        rang = again.advance(86400)
        assert first_rings(rang) == [(ny(2026, 3, 7, 21, 0).astimezone(UTC),
                                      "It's 9 PM. This is your medicine alarm.")]
    finally:
        again.close()


def test_cancel_one_by_name_time_or_follow_up_then_all(alarms: SkillHarness) -> None:
    alarms.say("set a medicine alarm at 9 pm")
    alarms.say("wake me up at 6:30")
    alarms.say("set an alarm for 7 am every weekday")
    assert alarms.say("cancel the alarm").speech == ("Which alarm? the one at 6:30 AM tomorrow, the medicine alarm "
                                                     "or the one at 7 AM every weekday?")
    assert alarms.say("the six thirty one").speech == "Cancelled your alarm for 6:30 AM tomorrow."
    assert alarms.say("cancel the 8 am alarm").speech == "I couldn't find an alarm at 8 AM."
    assert alarms.say("cancel the medicine alarm").speech == "Cancelled the medicine alarm at 9 PM tomorrow."
    assert alarms.say("what alarms do i have").speech == "You have one alarm: 7 AM every weekday."
    alarms.say("set an alarm for noon tomorrow")
    assert alarms.say("cancel all alarms").speech == "Cancelled all 2 alarms."
    assert alarms.scheduled() == [] and alarms.say("cancel my alarm").speech == "You don't have any alarms."


def test_skip_leaves_out_the_next_ring_only(alarms: SkillHarness) -> None:
    alarms.say("set an alarm for 7 am every weekday")
    assert alarms.say("skip my next alarm").speech == "OK, your 7 AM alarm won't ring on Monday. It rings again on Tuesday."
    assert alarms.say("cancel my alarm for tomorrow").speech == "I couldn't find an alarm tomorrow."
    assert alarms.say("skip the alarm on Tuesday").speech == ("OK, your 7 AM alarm won't ring on Tuesday. "
                                                             "It rings again on Wednesday.")
    rang = alarms.advance(7 * 86400)
    assert [when.astimezone(NY).day for when, _ in first_rings(rang)] == [11, 12, 13]  # Wed, Thu, Fri


def test_list_and_next(alarms: SkillHarness) -> None:
    assert alarms.say("when is my next alarm").speech == "You don't have any alarms."
    alarms.say("set a medicine alarm at 9 pm")
    alarms.say("wake me up at 6:30")
    assert alarms.say("what alarms do i have").speech == ("You have 2 alarms: 6:30 AM tomorrow and the medicine "
                                                         "alarm at 9 PM tomorrow.")
    assert alarms.say("do i have any alarms on monday").speech == "You don't have any alarms on Monday."
    assert alarms.say("when is my next alarm").speech == "Your next alarm is tomorrow at 6:30 AM, in 8 hours and 30 minutes."
    assert alarms.say("when is my medicine alarm").speech == "Your medicine alarm is tomorrow at 9 PM, in 23 hours."


def test_a_wrong_setting_stops_the_skill_with_what_is_expected() -> None:
    with pytest.raises(ValueError, match=r"time_zone = 'Mars/Olympus' is not a known time zone"):
        harness(ny(2026, 3, 6, 22, 0), time_zone="Mars/Olympus")
    with pytest.raises(ValueError, match=r"snooze_minutes = 'nine': expected a number"):
        harness(ny(2026, 3, 6, 22, 0), snooze_minutes="nine")


def test_for_what_time_follow_up(alarms: SkillHarness) -> None:
    assert alarms.say("set an alarm").speech == "For what time?"
    assert alarms.say("seven thirty").speech == "OK, alarm set for 7:30 AM tomorrow."
    assert alarms.say("set a medicine alarm").expect_reply
    reply = alarms.say("6:45 pm on monday")
    assert (reply.follow_up, reply.speech) == (True, "OK, medicine alarm set for 6:45 PM on Monday.")
    assert reply.data["due_s"] == ny(2026, 3, 9, 18, 45).timestamp()
    assert alarms.say("set a daily alarm").speech == "For what time?"
    assert alarms.say("hmm").speech.startswith("Sorry, I didn't catch the time.")
    assert len(alarms.scheduled()) == 2
