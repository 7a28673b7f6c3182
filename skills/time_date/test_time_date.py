"""The time_date skill: the time anywhere (checked against zoneinfo), dates of weekdays and holidays, days until."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from voicebox.testing import ManualClock, SkillHarness

FOLDER = Path(__file__).parent
THURSDAY = dt.datetime(2026, 12, 3, 12, 0)  # local noon on Thursday, December 3rd, 2026
# The handlers' time limit here: the first place question waits for the GeoNames indexes (about 1 s on an idle
# machine), which a busy test machine makes slower, never wrong.
_BUSY_S = 60.0


@pytest.fixture
def skill() -> Iterator[SkillHarness]:
    with SkillHarness(FOLDER, timeout_s=_BUSY_S) as harness:
        yield harness


@pytest.fixture
def on_thursday() -> Iterator[SkillHarness]:
    with SkillHarness(FOLDER, clock=ManualClock(THURSDAY), timeout_s=_BUSY_S) as harness:
        yield harness


def _spoken_time(t: dt.datetime) -> str:
    hour = t.hour % 12 or 12
    return f"{hour}{'' if t.minute == 0 else f':{t.minute:02d}'} {'AM' if t.hour < 12 else 'PM'}"


@pytest.mark.parametrize(("city", "zone"), [("Tokyo", "Asia/Tokyo"), ("New York", "America/New_York"),
                                            ("London", "Europe/London")])
def test_time_in_a_city_is_that_zones_current_hour(skill: SkillHarness, city: str, zone: str) -> None:
    reply = skill.say(f"What time is it in {city}?")
    there = dt.datetime.fromtimestamp(skill.clock.t, ZoneInfo(zone))
    assert (reply.intent, reply.data["zone"]) == ("TimeIn", zone)
    assert (reply.data["hour"], reply.data["minute"]) == (there.hour, there.minute)
    assert reply.speech.startswith(f"In {city}, it's {_spoken_time(there)}")


@pytest.mark.parametrize(("when", "tokyo", "new_york", "london"), [
    (dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC), 21, 8, 13),   # summer: New York and London on daylight time
    (dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC), 21, 7, 12),  # winter: standard time
])
def test_daylight_saving_is_applied(when: dt.datetime, tokyo: int, new_york: int, london: int) -> None:
    with SkillHarness(FOLDER, clock=ManualClock(when), timeout_s=_BUSY_S) as skill:
        hours = [skill.say(f"what time is it in {c}").data["hour"] for c in ("Tokyo", "New York", "London")]
    assert hours == [tokyo, new_york, london]


@pytest.mark.parametrize(("place", "zone"), [
    ("pacific time", "US/Pacific"), ("Japan", "Japan"), ("Paris Texas", "America/Chicago"), ("Chicago",
     "America/Chicago"), ("Mumbai", "Asia/Kolkata"), ("California", "America/Los_Angeles"), ("PST",
     "America/Los_Angeles"), ("Germany", "Europe/Berlin"), ("São Paulo", "America/Sao_Paulo"),
])
def test_zones_countries_states_and_cities(skill: SkillHarness, place: str, zone: str) -> None:
    reply = skill.say(f"what time is it in {place}")
    assert reply.data["zone"] == zone
    there = dt.datetime.fromtimestamp(skill.clock.t, ZoneInfo(zone))
    assert reply.data["hour"] == there.hour


def test_utc_offsets_and_countries_with_several_zones(on_thursday: SkillHarness) -> None:
    utc = dt.datetime.fromtimestamp(on_thursday.clock.t, dt.UTC)
    reply = on_thursday.say("what time is it in GMT plus 2")
    assert reply.data["hour"] == (utc + dt.timedelta(hours=2)).hour
    assert on_thursday.say("what time is it in UTC minus five thirty").data["zone"] == "UTC-05:30"
    reply = on_thursday.say("what's the local time in the United States")
    assert reply.speech.startswith("The United States has several time zones. In Washington, it's")
    assert reply.data["zone"] == "America/New_York"


def test_here_is_local_and_unknown_places_say_so(skill: SkillHarness) -> None:
    assert skill.say("what time is it here").intent == "GetTime"
    assert skill.say("what time is it in Narnia").speech == "Sorry, I don't know the time zone of Narnia."


def test_date_in_a_place_across_midnight() -> None:
    late = dt.datetime(2026, 12, 3, 20, 0, tzinfo=dt.UTC)  # already Friday in Tokyo
    with SkillHarness(FOLDER, clock=ManualClock(late), timeout_s=_BUSY_S) as skill:
        assert skill.say("what's the date in Tokyo").data["date"] == "2026-12-04"
        assert skill.say("what day is it in Honolulu").data["date"] == "2026-12-03"


def test_weekday_of_holidays_and_dates(on_thursday: SkillHarness) -> None:
    christmas = on_thursday.say("what day of the week is Christmas")
    assert (christmas.data["date"], christmas.speech) == ("2026-12-25", "Christmas Day 2026 is a Friday.")
    march = on_thursday.say("what day is the fifteenth of March")  # the next one: 2027
    assert (march.data["date"], march.data["weekday"]) == ("2027-03-15", "Monday")
    assert on_thursday.say("what day of the week was July 4th 1976").speech == "July 4th, 1976 was a Sunday."
    assert on_thursday.say("what day is halloween next year").data["date"] == "2027-10-31"
    assert on_thursday.say("what day is February 30th").speech == "February has no 30th."


def test_relative_dates(on_thursday: SkillHarness) -> None:
    assert on_thursday.say("what's the date next Friday").speech == "Next Friday is December 4th."
    assert on_thursday.say("what was the date last thursday").data["date"] == "2026-11-26"
    assert on_thursday.say("what's the date in three weeks").speech == "In 3 weeks it will be Thursday, December 24th."
    assert on_thursday.say("what will the date be in a month").data["date"] == "2027-01-03"
    assert on_thursday.say("what was the date 10 days ago").data["date"] == "2026-11-23"
    assert on_thursday.say("what day is friday next week").data["date"] == "2026-12-11"
    # Thanksgiving 2026 (November 26th) has passed: the next one
    assert on_thursday.say("when is Thanksgiving").data["date"] == "2027-11-25"


def test_days_until_and_since(on_thursday: SkillHarness) -> None:
    today = THURSDAY.date()
    new_year = on_thursday.say("how many days until New Year's")
    assert new_year.data["days"] == (dt.date(2027, 1, 1) - today).days == 29
    assert new_year.speech == "There are 29 days until New Year's Day."
    assert on_thursday.say("how many days since new year's day").data["days"] == (today - dt.date(2026, 1, 1)).days
    assert on_thursday.say("how many weeks until christmas").speech == "There are 3 weeks and 1 day until Christmas Day."
    assert on_thursday.say("how many days ago was the fourth of july").data["days"] == 152
    assert on_thursday.say("how many days until february 29th").data["date"] == "2028-02-29"
    assert on_thursday.say("how many days until december 3rd").speech == "December 3rd is today."
    assert on_thursday.say("how many days until december 4th").speech == "December 4th is tomorrow."
    assert on_thursday.say("how many days since yesterday").speech == "One day."
    # Holidays are known by name: an appointment is no date this skill can know (nor claims to).
    assert on_thursday.say("how long until my dentist appointment").speech.startswith("Sorry, I didn't understand")


def test_holidays_follow_the_country_setting() -> None:
    with SkillHarness(FOLDER, settings={"country": "GB"}, clock=ManualClock(THURSDAY), timeout_s=_BUSY_S) as skill:
        assert skill.say("when is boxing day").data["date"] == "2026-12-26"
    with SkillHarness(FOLDER, settings={"country": "XX"}, clock=ManualClock(THURSDAY), timeout_s=_BUSY_S) as skill:
        assert "set [skill.time_date] country" in skill.say("when is christmas").speech


def test_the_city_index_is_cached_small_and_rebuilt_when_damaged(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from skills.time_date import places

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = places._city_rows()  # from GeoNames' own file, written to the cache
    [cache] = (tmp_path / "voicebox" / "places").glob("cities-*.tsv")
    assert cache.stat().st_size < 3_000_000 and len(first) > 20_000
    tokyo = [r for r in first if r[0] == "Tokyo"]
    assert tokyo and tokyo[0][1:3] == ("JP", "40") and tokyo[0][4] == "Asia/Tokyo"
    assert places._city_rows() == first  # from the cache: the same rows
    cache.write_text(cache.read_text(encoding="utf-8").replace("Asia/Tokyo", "Asia/Seoul"), encoding="utf-8")
    assert [r[4] for r in places._city_rows() if r[0] == "Tokyo"][0] == "Asia/Seoul"  # read from it, not GeoNames
    cache.write_text("Tokyo\tJP\n", encoding="utf-8")  # cut short
    assert places._city_rows() == first
    assert cache.read_text(encoding="utf-8").count("\n") == len(first)  # written anew
