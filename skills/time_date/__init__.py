"""Time and date: "what time is it", "what's the date", "what day is it"."""

from __future__ import annotations

import datetime as dt

from voicebox.skill import Context, Response, Skill, intent


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


class TimeDate(Skill):
    """Tells the current time, date and day of the week."""

    examples = ("what time is it", "what's the date today", "what day is it")

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
