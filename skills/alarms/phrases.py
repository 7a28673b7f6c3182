"""What alarms are called and how they are said: names as heard, words to match on, labels, lists, settings."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from .clock import spoken_clock, spoken_repeat

# Words a recognizer or a speaker puts before an alarm's name ("set a new medicine alarm"): never part of it.
_NOT_A_NAME = frozenset({"a", "an", "the", "my", "new", "another", "me", "up", "it", "in", "that", "this"})


def number(settings: Mapping[str, Any], key: str, default: float, lowest: float) -> float:
    """Setting ``key`` (a number of at least ``lowest``); a wrong one stops the skill with what is expected."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < lowest:
        raise ValueError(f"[skill.alarms] {key} = {value!r}: expected a number of at least {lowest:g}")
    return float(value)


def clean_name(name: Any) -> str:
    """The alarm's name as said, without the filler in front of it ("" for none)."""
    parts = str(name or "").lower().split()
    while parts and parts[0] in _NOT_A_NAME:
        parts.pop(0)
    if parts and parts[-1] in ("alarm", "alarms"):
        parts.pop()
    return " ".join(parts)


def words(text: str) -> set[str]:
    """The words of ``text`` to compare names by, numbers as digits."""
    from text_to_num import alpha2digit

    return set(re.findall(r"[a-z0-9']+", alpha2digit(text.lower().replace("-", " "), "en", threshold=0)))


def label(alarm: Mapping[str, Any]) -> str:
    """"medicine alarm" or "6:30 AM alarm": how the alarm is named when it rings or is asked about."""
    return f"{alarm['name']} alarm" if alarm.get("name") else f"{spoken_clock(alarm['hour'], alarm['minute'])} alarm"


def day_gone(day: dt.date, today: dt.date) -> str:
    """" yesterday", " on Monday", " on March 5th" for a past day; "" for today."""
    ago = (today - day).days
    if ago <= 0:
        return ""
    if ago == 1:
        return " yesterday"
    return f" on {day:%A}" if ago < 7 else f" on {day:%B} {day.day}"


def join(parts: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def marks(alarm: Mapping[str, Any]) -> set[str]:
    """The words an answer to "Which alarm?" may pick it by: its name, hour, minutes, am/pm and days."""
    hour = alarm["hour"] % 12 or 12
    found = words(str(alarm.get("name", ""))) | {str(hour), "am" if alarm["hour"] < 12 else "pm"}
    if alarm["minute"]:
        found |= {str(alarm["minute"]), f"{hour}:{alarm['minute']:02d}"}
    if alarm["repeat"]:
        found |= words(spoken_repeat(alarm["repeat"])) - {"every", "day"}
    return found
