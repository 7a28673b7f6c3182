"""Wall-clock arithmetic for alarms: the time zone, what was said as a time of day, the next ring, and speech.

Every ring time is computed from the local date and time of day in the
alarm's zone (``zoneinfo``), never by adding 24 hours, so an alarm set for
7:00 rings at 7:00 on both sides of a daylight-saving change. A time that a
spring-forward change skips (2:30 when clocks jump from 2:00 to 3:00) rings
at the moment the clock jumps over it (3:30 new time, as PEP 495's fold=0
reads it); a time that a fall-back change repeats rings once, the first time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# A repetition (the "repeat" slot's values) -> the weekdays it rings on (0 = Monday).
REPEATS: dict[str, tuple[int, ...]] = {
    "daily": (0, 1, 2, 3, 4, 5, 6), "weekdays": (0, 1, 2, 3, 4), "weekends": (5, 6),
    **{f"{day}s": (i,) for i, day in enumerate(WEEKDAYS)},
}

_SEARCH_DAYS = 8  # a weekly alarm's next ring is at most a week (and a skipped day) away


def zone(name: str) -> dt.tzinfo:
    """The zone named in the settings (an IANA name like "Europe/Berlin"), else the system's."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"[skill.alarms] time_zone = {name!r} is not a known time zone: use an IANA name "
                             "such as 'Europe/Berlin' or 'America/New_York', or leave it empty for the system's "
                             "zone") from err
    try:
        import tzlocal

        found: dt.tzinfo = tzlocal.get_localzone()
        return found
    except Exception:  # no zone configuration at all: the offset in force now is the best there is
        offset = dt.datetime.now().astimezone().tzinfo
        return offset if offset is not None else dt.UTC


def at(day: dt.date, hour: int, minute: int, tz: dt.tzinfo) -> float:
    """Epoch seconds of ``hour:minute`` on local date ``day`` in ``tz`` (see the module docstring for DST)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz).timestamp()


def local(epoch_s: float, tz: dt.tzinfo) -> dt.datetime:
    """Epoch seconds as an aware local time in ``tz``."""
    return dt.datetime.fromtimestamp(epoch_s, tz)


def next_ring(days: tuple[int, ...], hour: int, minute: int, tz: dt.tzinfo, after_s: float) -> float:
    """The first ring of a repeating alarm strictly after ``after_s`` (epoch seconds)."""
    start = local(after_s, tz).date()
    for offset in range(_SEARCH_DAYS + 1):
        day = start + dt.timedelta(days=offset)
        if day.weekday() in days and (due := at(day, hour, minute, tz)) > after_s:
            return due
    raise ValueError(f"no ring within {_SEARCH_DAYS} days on weekdays {days}")


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """A time of day as said: ``hour`` 0-23; ``ambiguous`` when no am/pm was said for 1-12 (then ``hour`` < 12)."""

    hour: int
    minute: int
    ambiguous: bool

    def candidates(self) -> tuple[int, ...]:
        """The 24-hour hours it may mean."""
        return (self.hour, self.hour + 12) if self.ambiguous else (self.hour,)

    def likely_hour(self) -> int:
        """The hour meant when nothing else decides: 5-11 is morning, 12 is noon, 1-4 is afternoon."""
        if not self.ambiguous:
            return self.hour
        return self.hour if 5 <= self.hour <= 11 else self.hour + 12

    def matches(self, hour: int, minute: int) -> bool:
        """Whether an alarm at ``hour:minute`` is at this time of day."""
        return minute == self.minute and hour in self.candidates()


def time_of_day(said: Mapping[str, Any]) -> TimeOfDay | None:
    """The time of day in the slots (hour, minute, minutes_to, period, named_time, hhmm), or None when none was said."""
    named = said.get("named_time")
    if named == "noon":
        return TimeOfDay(12, 0, False)
    if named == "midnight":
        return TimeOfDay(0, 0, False)
    if said.get("hhmm") is not None:  # "742": the recognizer's "7:42"
        hour, minute = divmod(int(said["hhmm"]), 100)
        if minute > 59:
            return None
    elif said.get("hour") is None:
        return None
    else:
        hour, minute = int(said["hour"]), int(said.get("minute") or 0)
    twelve_hour = 1 <= hour <= 12  # "7", "quarter to 7": am or pm; "19:00", "0:30" say which
    if said.get("minutes_to"):
        hour, minute = (hour - 1) % 24, 60 - int(said["minutes_to"])
    period = said.get("period")
    if twelve_hour or (period and hour < 12):
        if period == "am":
            return TimeOfDay(hour % 12, minute, False)
        if period == "pm":
            return TimeOfDay(hour % 12 + 12, minute, False)
        return TimeOfDay(hour % 12, minute, True)
    return TimeOfDay(hour, minute, False)


def hour_on(tod: TimeOfDay, day: dt.date, today: dt.date, now_s: float, tz: dt.tzinfo, *,
            tonight: bool) -> tuple[int, dt.date]:
    """The 24-hour hour (and the day, which "tonight at 1" moves on) that a time said for a given day means."""
    if not tod.ambiguous:
        return tod.hour, day
    if tonight:  # 5-11 tonight is evening; 12 and 1-4 tonight are after midnight
        return (tod.hour + 12, day) if tod.hour >= 5 else (tod.hour, day + dt.timedelta(days=1))
    if day == today:  # the soonest of the two still ahead today
        ahead = [h for h in tod.candidates() if at(day, h, tod.minute, tz) > now_s]
        return (ahead[0] if ahead else tod.likely_hour()), day
    return tod.likely_hour(), day


def said_date(said: Mapping[str, Any], today: dt.date) -> dt.date | None:
    """The day in the slots (day, weekday, month + dom) on or after ``today``; None when no day was said.

    Raises ValueError naming the problem for a date that does not exist.
    """
    day = said.get("day")
    if day in ("today", "tonight"):
        return today
    if day == "tomorrow":
        return today + dt.timedelta(days=1)
    if day == "day after tomorrow":
        return today + dt.timedelta(days=2)
    weekday = said.get("weekday")
    if weekday in WEEKDAYS:
        return today + dt.timedelta(days=(WEEKDAYS.index(weekday) - today.weekday()) % 7)
    if said.get("month") and said.get("dom"):
        month, dom = int(said["month"]), int(said["dom"])
        for year in (today.year, today.year + 1):
            try:
                date = dt.date(year, month, dom)
            except ValueError:
                continue
            if date >= today:
                return date
        raise ValueError(f"There's no {dt.date(2000, month, 1):%B} {ordinal(dom)}.")
    return None


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 11th, 22nd."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def spoken_clock(hour: int, minute: int) -> str:
    """"6:30 AM", "7 PM", "noon", "midnight" (as piper reads them well)."""
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "noon"
    suffix = "AM" if hour < 12 else "PM"
    shown = hour % 12 or 12
    return f"{shown} {suffix}" if minute == 0 else f"{shown}:{minute:02d} {suffix}"


def spoken_day(day: dt.date, today: dt.date) -> str:
    """"today", "tomorrow", "on Monday" (within a week), else "on Monday, March 5th" (with the year if not this one)."""
    ahead = (day - today).days
    if ahead == 0:
        return "today"
    if ahead == 1:
        return "tomorrow"
    if 1 < ahead < 7:
        return f"on {day:%A}"
    year = f", {day.year}" if day.year != today.year else ""
    return f"on {day:%A}, {day:%B} {ordinal(day.day)}{year}"


def spoken_repeat(repeat: str) -> str:
    """"every day", "every weekday", "every weekend day", "every Monday"."""
    if repeat == "daily":
        return "every day"
    if repeat == "weekdays":
        return "every weekday"
    if repeat == "weekends":
        return "every weekend day"
    return f"every {repeat[:-1].title()}"


_SAID_TIME = re.compile(r"\b(\d{1,2})(?:\s*[:.]?\s*(?:oh\s+)?(\d{1,2}))?\s*(?:o'?\s?clock)?\s*"
                        r"(a\.?\s?m\b|p\.?\s?m\b|in the morning|in the afternoon|in the evening|at night|tonight)?")


def time_in(text: str) -> dict[str, Any]:
    """The time and day in a short free answer ("seven thirty", "6:45 pm tomorrow", "noon on Monday") as slots."""
    from text_to_num import alpha2digit

    clean = alpha2digit(text.lower().replace("-", " "), "en", threshold=0)
    said: dict[str, Any] = {}
    if "noon" in clean or "midday" in clean:
        said["named_time"] = "noon"
    elif "midnight" in clean:
        said["named_time"] = "midnight"
    elif (found := _SAID_TIME.search(clean)) is not None:
        said["hour"] = int(found[1])
        if found[2]:
            said["minute"] = int(found[2])
        if found[3]:
            said["period"] = "am" if found[3].startswith(("a", "in the morning")) else "pm"
    for day in ("day after tomorrow", "tomorrow", "tonight", "today"):
        if day in clean:
            said["day"] = day
            break
    for weekday in WEEKDAYS:
        if weekday in clean:
            said["weekday"] = weekday
    if said.get("day") == "tonight" and said.get("period") == "pm":
        del said["period"]
    return said
