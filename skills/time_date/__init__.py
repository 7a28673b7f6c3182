"""Time and date: "what time is it (in Tokyo)", "what's the date", "what day is Christmas", "how many days until...".

Setting (``[skill.time_date]``): ``country`` (default "US"), a two-letter
code: whose holidays "Christmas" or "Thanksgiving" name, and whether
"Georgia" is the US state or the country.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from voicebox.skill import Context, Response, Setting, Skill, intent

from .dates import UnknownDate, ordinal, resolve, spoken_day
from .places import find_place, warm


def spoken_time(now: dt.datetime) -> str:
    """12-hour clock as piper reads it naturally: "3:05 PM", "3 PM"."""
    hour = now.hour % 12 or 12
    suffix = "AM" if now.hour < 12 else "PM"
    if now.minute == 0:
        return f"{hour} {suffix}"
    return f"{hour}:{now.minute:02d} {suffix}"


def spoken_date(day: dt.date) -> str:
    """"Friday, November 27th" style."""
    n = day.day
    suffix = "th" if 11 <= n <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{day:%A}, {day:%B} {n}{suffix}, {day.year}"


def _plural(n: int, unit: str) -> str:
    return f"{n:,} {unit}" if n != 1 else f"1 {unit[:-1]}"


def _span_said(days: int, unit: str) -> str:
    """A count of days in the unit asked for: "23 days", "3 weeks and 2 days", "about 4 months"."""
    if unit == "weeks" and days >= 7:
        weeks, rest = divmod(days, 7)
        return _plural(weeks, "weeks") + (f" and {_plural(rest, 'days')}" if rest else "")
    if unit == "months" and days >= 28:
        return f"about {_plural(round(days / 30.44), 'months')}"
    return _plural(days, "days")


class TimeDate(Skill):
    """Tells the current time, date and day of the week."""

    examples = ("what time is it", "what time is it in Tokyo", "what's the date today", "what day is it",
                "what day of the week is Christmas", "how many days until New Year's")
    settings = {"country": Setting("US", "Whose public holidays \"when is Thanksgiving\" means (an ISO country code).")}

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        threading.Thread(target=warm, name="time_date-places", daemon=True).start()

    def _country(self, ctx: Context) -> str:
        return str(ctx.settings["country"]).upper()

    def _place(self, ctx: Context, place: str) -> tuple[dt.datetime, str, str] | Response:
        """(the time there, how to say where, a note), or the reply for a place voicebox doesn't know."""
        now = ctx.now()
        found = find_place(place, now, home_country=self._country(ctx))
        if found is None:
            return Response(f"Sorry, I don't know the time zone of {place}.", data={"place": place})
        return now.astimezone(found.zone), found.name, found.note

    @intent("TimeIn")
    def time_in(self, ctx: Context, place: str) -> Response:
        """The time in a city, country, US state or time zone (today's weekday if it differs from here)."""
        if place.strip().lower() in ("here", "this place", "my place"):
            return self.get_time(ctx)
        found = self._place(ctx, place)
        if isinstance(found, Response):
            return found
        there, name, note = found
        local = ctx.now().date()
        day = "" if there.date() == local else (" tomorrow" if there.date() > local else " yesterday")
        day = f"{day}, {there:%A}" if day else ""
        speech = f"{note + ' ' if note else ''}In {name}, it's {spoken_time(there)}{day}."
        return Response(speech, data={"place": name, "zone": str(there.tzinfo), "hour": there.hour,
                                      "minute": there.minute, "date": there.date().isoformat()})

    @intent("DateIn")
    def date_in(self, ctx: Context, place: str) -> Response:
        """The date in a city, country or zone."""
        found = self._place(ctx, place)
        if isinstance(found, Response):
            return found
        there, name, note = found
        speech = f"{note + ' ' if note else ''}In {name}, it's {spoken_date(there.date())}."
        return Response(speech, data={"place": name, "zone": str(there.tzinfo), "date": there.date().isoformat()})

    def _resolve(self, ctx: Context, slots: dict[str, Any], *, past: bool = False) -> tuple[dt.date, str, bool] | Response:
        today = ctx.now().date()
        try:
            found = resolve(slots, today, country=self._country(ctx), past=past)
        except UnknownDate as err:
            return Response(str(err))
        return found.day, found.name, found.holiday

    @intent("WeekdayOf")
    def weekday_of(self, ctx: Context, **slots: Any) -> Response:
        """The day of the week of a date or holiday."""
        found = self._resolve(ctx, slots)
        if isinstance(found, Response):
            return found
        day, name, holiday = found
        today = ctx.now().date()
        verb = "is" if day >= today else "was"
        data = {"date": day.isoformat(), "weekday": day.strftime("%A")}
        if "weekday" in slots or "day_word" in slots or "unit" in slots:  # a day named relative to today
            return Response(f"{name[0].upper()}{name[1:]} {verb} {spoken_day(day, today)}.", data=data)
        what = f"{name} {day.year}" if holiday else f"{day:%B} {ordinal(day.day)}, {day.year}"
        return Response(f"{what} {verb} a {day:%A}.", data=data)

    @intent("DateOf")
    def date_of(self, ctx: Context, **slots: Any) -> Response:
        """The date of a weekday, holiday, or a span from now ("next Friday", "in three weeks", "Easter")."""
        found = self._resolve(ctx, slots)
        if isinstance(found, Response):
            return found
        day, name, _ = found
        today = ctx.now().date()
        said = spoken_day(day, today)
        if "weekday" in slots:  # "Next Friday is December 4th."
            said = said.split(", ", 1)[1]
        if name.startswith("in "):
            speech = f"{name[0].upper()}{name[1:]} it will be {said}."
        elif day == today:
            speech = f"{name[0].upper()}{name[1:]} is today, {said}." if name != "today" else f"Today is {said}."
        else:
            verb = "is" if day > today else "was"
            speech = f"{name[0].upper()}{name[1:]} {verb} {said}."
        return Response(speech, data={"date": day.isoformat()})

    def _between(self, ctx: Context, slots: dict[str, Any], *, since: bool) -> Response:
        found = self._resolve(ctx, slots, past=since)
        if isinstance(found, Response):
            return found
        day, name, _ = found
        today = ctx.now().date()
        days = (today - day).days if since else (day - today).days
        unit = str(slots.get("span_unit", "days"))
        data = {"date": day.isoformat(), "days": days}
        if days == 0:
            return Response(f"{name[0].upper()}{name[1:]} is today.", data=data)
        if days == 1 and unit == "days" and name in ("yesterday", "tomorrow"):  # not "Yesterday was yesterday."
            return Response("One day.", data=data)
        if days == 1 and unit == "days":
            return Response(f"{name[0].upper()}{name[1:]} {'was yesterday' if since else 'is tomorrow'}.", data=data)
        if days < 0:
            when = f"{_span_said(-days, unit)} {'from now' if since else 'ago'}"
            return Response(f"{name[0].upper()}{name[1:]} {'is' if since else 'was'} {when}.", data=data)
        if since:
            return Response(f"It's been {_span_said(days, unit)} since {name}.", data=data)
        return Response(f"There {'is' if days == 1 else 'are'} {_span_said(days, unit)} until {name}.", data=data)

    @intent("DaysUntil")
    def days_until(self, ctx: Context, **slots: Any) -> Response:
        """Days (or weeks, months) from today until a date or holiday."""
        return self._between(ctx, slots, since=False)

    @intent("DaysSince")
    def days_since(self, ctx: Context, **slots: Any) -> Response:
        """Days (or weeks, months) since a date or holiday."""
        return self._between(ctx, slots, since=True)

    @intent("GetTime")
    def get_time(self, ctx: Context) -> Response:
        """The current time."""
        now = ctx.now()
        return Response(f"It's {spoken_time(now)}.", data={"hour": now.hour, "minute": now.minute})

    @intent("GetDate")
    def get_date(self, ctx: Context) -> Response:
        """Today's date."""
        today = ctx.now().date()
        return Response(f"Today is {spoken_date(today)}.", data={"date": today.isoformat()})

    @intent("GetWeekday")
    def get_weekday(self, ctx: Context) -> Response:
        """The day of the week."""
        today = ctx.now().date()
        return Response(f"It's {today:%A}.", data={"weekday": today.strftime("%A")})
