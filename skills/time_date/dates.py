"""Spoken dates -> calendar dates: "the fifteenth of March", "next Friday", "in three weeks", "Christmas".

The slots come from the ``<when>`` rule of the sentences (day, month, year,
weekday, relative, week_ref, day_word, count, unit, ago, holiday,
year_ref). Holidays are looked up by name in the ``holidays`` package for
the configured country (all its categories: public ones and customs like
Halloween or Mother's Day).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Resolved", "UnknownDate", "resolve", "spoken_day"]


class UnknownDate(ValueError):
    """The words name no date voicebox knows; the message says so in a sentence to speak."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """A date and how to say what it is: "Christmas Day", "March 15th", "next Friday"."""

    day: dt.date
    name: str
    holiday: bool = False


def ordinal(n: int) -> str:
    """15 -> "15th"."""
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def spoken_day(day: dt.date, today: dt.date) -> str:
    """"Friday, March 15th", with the year when it is not this year's."""
    text = f"{day:%A}, {day:%B} {ordinal(day.day)}"
    return text if day.year == today.year else f"{text}, {day.year}"


def _shift(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _span(today: dt.date, count: int, unit: str, sign: int) -> dt.date:
    if unit == "days":
        return today + dt.timedelta(days=sign * count)
    if unit == "weeks":
        return today + dt.timedelta(weeks=sign * count)
    return _shift(today, sign * count * (12 if unit == "years" else 1))


def _weekday(today: dt.date, weekday: int, relative: str, week_ref: str) -> dt.date:
    if week_ref:  # "Friday next week": that weekday in the calendar week (Monday first) before/after this one
        monday = today - dt.timedelta(days=today.weekday())
        weeks = {"next week": 1, "this week": 0, "last week": -1}[week_ref]
        return monday + dt.timedelta(weeks=weeks, days=weekday)
    ahead = (weekday - today.weekday()) % 7
    if relative == "last":
        return today - dt.timedelta(days=(today.weekday() - weekday) % 7 or 7)
    if relative == "next":  # the first one after today
        return today + dt.timedelta(days=ahead or 7)
    return today + dt.timedelta(days=ahead)  # "this Friday", "Friday": today or the coming one


def _calendar_day(today: dt.date, day: int, month: int, year: int | None, past: bool) -> dt.date:
    def make(y: int) -> dt.date:
        try:
            return dt.date(y, month, day)
        except ValueError as err:
            raise UnknownDate(f"{calendar.month_name[month]} has no {ordinal(day)}.") from err

    if year is not None:
        return make(year)
    if day == 29 and month == 2:  # the nearest leap day in the asked direction
        y = today.year
        while not calendar.isleap(y) or (make(y) < today if not past else make(y) > today):
            y += -1 if past else 1
        return make(y)
    this = make(today.year)
    if past and this > today:
        return make(today.year - 1)
    if not past and this < today:
        return make(today.year + 1)
    return this


def _words(name: str) -> frozenset[str]:
    """Holiday name -> its content words: "New Year's Day" -> {new, year}; "St. Patrick's" -> {saint, patrick}."""
    text = re.sub(r"\(.*?\)|'s\b|'", "", name.casefold().replace("\u2019", "'"))
    words = re.findall(r"[a-z]+", text)
    alias = {"st": "saint", "xmas": "christmas", "years": "year", "day": ""}
    return frozenset(w for w in (alias.get(w, w) for w in words) if w and w not in ("the", "of", "s"))


@functools.cache
def _holiday_table(country: str, year: int) -> tuple[tuple[dt.date, str], ...]:
    import holidays

    try:
        cls = holidays.country_holidays(country)
        table = holidays.country_holidays(country, years=year, categories=cls.supported_categories)
    except NotImplementedError as err:
        raise UnknownDate(f"I don't know the holidays of {country!r}; set [skill.time_date] country to a "
                          "two-letter country code such as US or GB.") from err
    rows: list[tuple[dt.date, str]] = []
    for day, names in sorted(table.items()):
        for name in str(names).split("; "):
            if "observed" not in name.casefold():
                rows.append((day, name))
    return tuple(rows)


def find_holiday(text: str, country: str, year: int) -> tuple[dt.date, str] | None:
    """The holiday whose name best fits ``text`` in ``year`` ("christmas" -> Christmas Day), or None.

    Every word said must be in the name; the name with the fewest other words wins.
    """
    wanted = _words(re.sub(r"^(?:the|my|our)\s+", "", text.strip()))
    if not wanted:
        return None
    best: tuple[int, dt.date, str] | None = None
    for day, name in _holiday_table(country, year):
        words = _words(name)
        if wanted <= words and (best is None or len(words - wanted) < best[0]):
            best = (len(words - wanted), day, name)
    return None if best is None else (best[1], best[2])


def resolve(slots: dict[str, Any], today: dt.date, *, country: str = "US", past: bool = False) -> Resolved:
    """The date the ``<when>`` slots name; a date without a year is the next one (``past``: the last one).

    Raises :class:`UnknownDate` with a sentence to speak when the words name no date.
    """
    year = slots.get("year")
    year_ref = slots.get("year_ref")
    if slots.get("holiday"):
        text = str(slots["holiday"])
        if year is None and year_ref is None:
            for y in ([today.year, today.year - 1] if past else [today.year, today.year + 1]):
                found = find_holiday(text, country, y)
                if found is not None and (found[0] <= today if past else found[0] >= today):
                    return Resolved(found[0], found[1], holiday=True)
            raise UnknownDate(f"I don't know when {text} is.")
        y = int(year) if year is not None else today.year + int(year_ref or 0)
        found = find_holiday(text, country, y)
        if found is None:
            raise UnknownDate(f"I don't know when {text} is in {y}.")
        return Resolved(found[0], found[1], holiday=True)
    if "month" in slots and "day" in slots:
        y_given = int(year) if year is not None else (today.year + int(year_ref) if year_ref is not None else None)
        day = _calendar_day(today, int(slots["day"]), int(slots["month"]), y_given, past)
        return Resolved(day, f"{calendar.month_name[day.month]} {ordinal(day.day)}")
    if "weekday" in slots:
        relative, week_ref = str(slots.get("relative", "")), str(slots.get("week_ref", ""))
        day = _weekday(today, int(slots["weekday"]), relative, week_ref)
        name = " ".join(w for w in (relative if relative != "this" else "", day.strftime("%A"), week_ref) if w)
        return Resolved(day, name)
    if "day_word" in slots:
        offset = int(slots["day_word"])
        names = {0: "today", 1: "tomorrow", -1: "yesterday", 2: "the day after tomorrow", -2: "the day before yesterday"}
        return Resolved(today + dt.timedelta(days=offset), names[offset])
    if "unit" in slots:
        count, unit = int(slots.get("count", 1)), str(slots["unit"])
        sign = int(slots.get("ago", 1))
        said = f"{count} {unit if count != 1 else unit[:-1]}"
        return Resolved(_span(today, count, unit, sign), f"{said} ago" if sign < 0 else f"in {said}")
    raise UnknownDate("I didn't catch which date you mean.")
