"""Alarms at a clock time: once (today, tomorrow, a weekday, a date) or repeating; list, cancel, skip, snooze, stop.

Each alarm is a record in ``ctx.store`` (``alarm:ID``) with one scheduled
ring job for its next ring, written together in one transaction, so alarms
survive a restart or a crash; one that came due while voicebox was down is
announced when it starts (and rings on if it is still within ``ring_for_s``).
When a repeating alarm rings, its next ring is scheduled as a job of its
own, so stopping (or snoozing) this ring never loses the next one. Snoozed
rings are scheduled jobs only. Ring times are wall-clock times in the
alarm's zone (see clock.py), right across daylight-saving changes.

Settings (``[skill.alarms]``): ``ring_for_s`` (how long a ring repeats,
default 300; 0 rings once), ``repeat_s`` (seconds between repeats, 20),
``snooze_minutes`` (9) and ``time_zone`` (an IANA name; empty = the system's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from voicebox.skill import Context, Duration, Job, Response, Skill, intent

from .clock import (
    REPEATS,
    at,
    hour_on,
    local,
    next_ring,
    said_date,
    spoken_clock,
    spoken_day,
    spoken_repeat,
    time_in,
    time_of_day,
    zone,
)
from .phrases import clean_name, day_gone, join, label, marks, number, words

SOUND = "alarm_clock"  # the alarm clock's own ring, unlike the timers' "alarm"


def _identifies(said: Mapping[str, Any]) -> bool:
    """Whether the slots say which alarm (by name, time, days or date)."""
    return any(said.get(k) for k in ("name", "hour", "hhmm", "named_time", "repeat", "day", "weekday", "month"))


class Alarms(Skill):
    """Wall-clock alarms that ring with their own sound, repeat, snooze, and survive restarts."""

    examples = ("wake me up at 6:30", "set an alarm for 7 am every weekday", "when is my next alarm", "snooze")

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        settings = context.settings
        self.tz = zone(str(settings.get("time_zone", "") or ""))
        self.ring_for_s = number(settings, "ring_for_s", 300, 0)
        self.repeat_s = number(settings, "repeat_s", 20, 1)
        self.snooze_s = 60 * number(settings, "snooze_minutes", 9, 1 / 60)

    # --- state ---------------------------------------------------------------------------------------------
    def _today(self, ctx: Context) -> dt.date:
        return local(ctx.now().timestamp(), self.tz).date()

    def _entries(self, ctx: Context) -> list[dict[str, Any]]:
        """Every alarm, soonest first: the stored ones and the snoozed rings (``ref`` says which is which)."""
        entries = [{**a, "ref": f"alarm:{a['id']}"} for a in ctx.store.items("alarm:").values()]
        for job in ctx.scheduled():
            if job.handler == "ring" and job.data.get("snooze") and job.rings == 0:
                entries.append({**job.data, "id": job.data.get("alarm", 0), "repeat": "", "due_s": job.due_s,
                                "job": job.id, "ref": f"snooze:{job.id}"})
        return sorted(entries, key=lambda a: (a["due_s"], a["id"]))

    def _arm(self, ctx: Context, alarm: dict[str, Any]) -> None:
        """Store the alarm and (re)schedule its next ring, atomically."""
        alarm.pop("ref", None)
        with ctx.store.transaction():
            if alarm.get("job"):
                ctx.cancel(alarm["job"])
            data = {"alarm": alarm["id"], "name": alarm["name"], "hour": alarm["hour"], "minute": alarm["minute"]}
            alarm["job"] = ctx.schedule(local(alarm["due_s"], self.tz), "ring", data, ring_for_s=self.ring_for_s,
                                        repeat_s=self.repeat_s)
            ctx.store.set(f"alarm:{alarm['id']}", alarm)

    def _remove(self, ctx: Context, alarm: Mapping[str, Any]) -> None:
        with ctx.store.transaction():
            if alarm.get("job"):
                ctx.cancel(alarm["job"])
            if str(alarm.get("ref", "")).startswith("alarm:"):
                ctx.store.delete(alarm["ref"])

    def _ringing(self, ctx: Context) -> list[Job]:
        return [j for j in ctx.scheduled() if j.handler == "ring" and j.rings > 0]

    def _when(self, ctx: Context, alarm: Mapping[str, Any], *, day: bool = True) -> str:
        """"6:30 AM tomorrow", "6:30 AM every weekday" (just "6:30 AM" without ``day``)."""
        clock = spoken_clock(alarm["hour"], alarm["minute"])
        if alarm["repeat"]:
            return f"{clock} {spoken_repeat(alarm['repeat'])}"
        return f"{clock} {spoken_day(local(alarm['due_s'], self.tz).date(), self._today(ctx))}" if day else clock

    def _describe(self, ctx: Context, alarm: Mapping[str, Any], *, day: bool = True) -> str:
        """"6:30 AM tomorrow", "the medicine alarm at 9 PM today", "the 6:30 AM alarm, snoozed until 6:39 AM"."""
        if str(alarm.get("ref", "")).startswith("snooze:"):
            due = local(alarm["due_s"], self.tz)
            return f"the {label(alarm)} snoozed until {spoken_clock(due.hour, due.minute)}"
        when = self._when(ctx, alarm, day=day)
        return f"the {alarm['name']} alarm at {when}" if alarm.get("name") else when

    def _which(self, ctx: Context, alarm: Mapping[str, Any]) -> str:
        """How "Which alarm?" names a choice: "the medicine alarm", "the one at 6:30 AM tomorrow"."""
        if alarm.get("name") or str(alarm.get("ref", "")).startswith("snooze:"):
            return self._describe(ctx, alarm).split(" at ")[0]
        return f"the one at {self._when(ctx, alarm)}"

    def _ring_on(self, alarm: Mapping[str, Any], day: dt.date) -> float | None:
        """When the alarm rings on local date ``day`` (its next ring or a later repeat), or None."""
        due = local(alarm["due_s"], self.tz).date()
        if due == day:
            return float(alarm["due_s"])
        if alarm["repeat"] and day > due and day.weekday() in REPEATS[alarm["repeat"]]:
            return at(day, alarm["hour"], alarm["minute"], self.tz)
        return None

    # --- setting -------------------------------------------------------------------------------------------
    @intent("SetAlarm")
    def set_alarm(self, ctx: Context, **said: Any) -> Response:
        """Set an alarm at a time: the next such time, or on the day said, or repeating."""
        tod = time_of_day(said)
        if tod is None:
            if said.get("hour") is None and said.get("hhmm") is None:  # "set an alarm": ask
                ctx.store.set("pending", {"action": "set", "said": {k: v for k, v in said.items() if v is not None}})
                return Response("For what time?", expect_reply=True, reply_handler="alarm_time")
            return Response("Sorry, I didn't catch the time. Say for example: set an alarm for 7 AM tomorrow.")
        now_s, today = ctx.now().timestamp(), self._today(ctx)
        repeat = str(said.get("repeat") or "")
        try:
            day = said_date(said, today)
        except ValueError as err:
            return Response(str(err))
        if repeat:
            hour = tod.likely_hour()
            due = next_ring(REPEATS[repeat], hour, tod.minute, self.tz, now_s)
        elif day is not None:
            hour, day = hour_on(tod, day, today, now_s, self.tz, tonight=said.get("day") == "tonight")
            due = at(day, hour, tod.minute, self.tz)
            if due <= now_s:
                return Response(f"It's already past {spoken_clock(hour, tod.minute)} {spoken_day(day, today)}.")
        else:
            days = (today, today + dt.timedelta(days=1))
            due, hour = min((t, h) for d in days for h in tod.candidates() if (t := at(d, h, tod.minute, self.tz)) > now_s)
        name = clean_name(said.get("name"))
        alarm: dict[str, Any] = {"id": 0, "name": name, "hour": hour, "minute": tod.minute, "repeat": repeat,
                                 "due_s": due, "job": 0}
        for old in self._entries(ctx):
            if old["ref"].startswith("alarm:") and all(old[k] == alarm[k] for k in ("name", "hour", "minute", "repeat")) \
                    and (repeat or old["due_s"] == due):
                same = self._describe(ctx, old) if name else f"an alarm for {self._when(ctx, old)}"
                return Response(f"You already have {same}.")
        with ctx.store.transaction():
            alarm["id"] = int(ctx.store.get("next_id", 1))
            ctx.store.set("next_id", alarm["id"] + 1)
            self._arm(ctx, alarm)
        what = f"{name} alarm" if name else "alarm"
        first = spoken_day(local(due, self.tz).date(), today)
        speech = f"OK, {what} set for {self._when(ctx, alarm)}" + (f", starting {first}." if repeat else ".")
        return Response(speech, data={"alarm": alarm["id"], "due_s": due, "time": f"{hour:02d}:{tod.minute:02d}",
                                      "date": local(due, self.tz).date().isoformat(), "repeat": repeat, "name": name})

    def alarm_time(self, ctx: Context, text: str) -> Response:
        """Answer to "For what time?"."""
        pending = ctx.store.get("pending") or {}
        ctx.store.delete("pending")
        said = time_in(text)
        if time_of_day(said) is None:
            return Response("Sorry, I didn't catch the time. Say for example: set an alarm for 7 AM tomorrow.")
        return self.set_alarm(ctx, **{**pending.get("said", {}), **said})

    # --- asking --------------------------------------------------------------------------------------------
    @intent("ListAlarms")
    def list_alarms(self, ctx: Context, **said: Any) -> Response:
        """Every alarm (or those ringing on the day said)."""
        entries, today = self._entries(ctx), self._today(ctx)
        try:
            day = said_date(said, today)
        except ValueError as err:
            return Response(str(err))
        if day is not None:
            entries = [a for a in entries if self._ring_on(a, day) is not None]
        on = f" {spoken_day(day, today)}" if day is not None else ""
        data = {"alarms": [{"alarm": a["id"], "name": a.get("name", ""), "time": f"{a['hour']:02d}:{a['minute']:02d}",
                            "repeat": a["repeat"], "due_s": a["due_s"]} for a in entries]}
        if not entries:
            return Response(f"You don't have any alarms{on}.", data=data)
        count = "one alarm" if len(entries) == 1 else f"{len(entries)} alarms"
        listed = join([self._describe(ctx, a, day=day is None) for a in entries])
        return Response(f"You have {count}{on}: {listed}.", data=data)

    @intent("NextAlarm")
    def next_alarm(self, ctx: Context, **said: Any) -> Response:
        """When the next alarm (of that name, or on that day) rings."""
        entries, today, now_s = self._entries(ctx), self._today(ctx), ctx.now().timestamp()
        name = clean_name(said.get("name"))
        try:
            day = said_date(said, today)
        except ValueError as err:
            return Response(str(err))
        if name:
            entries = [a for a in entries if words(name) <= words(str(a.get("name", "")))]
        rings = [(t, a) for a in entries if (t := a["due_s"] if day is None else self._ring_on(a, day)) is not None]
        if not rings:
            what = f"a {name} alarm" if name else "any alarms"
            return Response(f"You don't have {what}{' ' + spoken_day(day, today) if day is not None else ''}.")
        due_s, alarm = min(rings, key=lambda r: r[0])
        due = local(due_s, self.tz)
        which = f"the {alarm['name']} alarm, " if alarm.get("name") and not name else ""
        subject = f"Your {name} alarm is" if name else "Your next alarm is"
        wait = Duration(max(60.0, round((due_s - now_s) / 60) * 60))
        soon = f", in {wait.spoken()}" if due_s - now_s < 86400 else ""
        return Response(f"{subject} {which}{spoken_day(due.date(), today)} at {spoken_clock(due.hour, due.minute)}"
                        f"{soon}.", data={"alarm": alarm["id"], "due_s": due_s})

    # --- cancelling ----------------------------------------------------------------------------------------
    def _find(self, ctx: Context, said: Mapping[str, Any], action: str) -> dict[str, Any] | Response:
        """The alarm meant, or a response: none, not found, or "Which alarm?" when several fit."""
        hits = self._entries(ctx)
        if not hits:
            return Response("You don't have any alarms.")
        name, tod, repeat = clean_name(said.get("name")), time_of_day(said), str(said.get("repeat") or "")
        try:
            day = said_date(said, self._today(ctx))
        except ValueError as err:
            return Response(str(err))
        if name:
            hits = [a for a in hits if words(name) <= words(str(a.get("name", "")))]
        if tod is not None:
            hits = [a for a in hits if tod.matches(a["hour"], a["minute"])]
        if repeat:
            hits = [a for a in hits if a["repeat"] == repeat]
        if day is not None:
            hits = [a for a in hits if self._ring_on(a, day) is not None]
        if not hits:
            parts = [f"a {name} alarm" if name else "an alarm"]
            if tod is not None:
                parts.append(f"at {spoken_clock(tod.likely_hour(), tod.minute)}")
            if repeat:
                parts.append(spoken_repeat(repeat))
            if day is not None:
                parts.append(spoken_day(day, self._today(ctx)))
            return Response(f"I couldn't find {' '.join(parts)}.")
        if len(hits) == 1:
            return hits[0]
        ctx.store.set("pending", {"action": action, "refs": [a["ref"] for a in hits],
                                  "day": day.isoformat() if day is not None else ""})
        choices = [self._which(ctx, a) for a in hits]
        return Response(f"Which alarm? {', '.join(choices[:-1])} or {choices[-1]}?", expect_reply=True,
                        reply_handler="which_alarm")

    def which_alarm(self, ctx: Context, text: str) -> Response:
        """Answer to "Which alarm?": the one whose name, time or days the answer names best."""
        pending = ctx.store.get("pending") or {}
        ctx.store.delete("pending")
        said = words(text)
        scored = []
        for alarm in (a for a in self._entries(ctx) if a["ref"] in pending.get("refs", [])):
            scored.append((len(said & marks(alarm)), alarm))
        best = max((s for s, _ in scored), default=0)
        hits = [a for s, a in scored if s == best and best > 0]
        if len(hits) != 1:
            return Response("OK, never mind." if not hits else "Sorry, that still matches more than one alarm.")
        day = pending.get("day") or ""
        return self._act(ctx, hits[0], pending.get("action", ""), dt.date.fromisoformat(day) if day else None)

    def _act(self, ctx: Context, alarm: dict[str, Any], action: str, day: dt.date | None) -> Response:
        if alarm["repeat"] and (action == "skip" or day is not None):
            return self._skip(ctx, alarm, day)
        self._remove(ctx, alarm)
        return Response(f"Cancelled {self._describe(ctx, alarm)}." if alarm.get("name")
                        else f"Cancelled your alarm for {self._when(ctx, alarm)}.")

    def _skip(self, ctx: Context, alarm: dict[str, Any], day: dt.date | None) -> Response:
        """A repeating alarm's next ring only (on ``day``, when said) is left out."""
        today = self._today(ctx)
        due = local(alarm["due_s"], self.tz).date()
        if day is not None and day != due:
            return Response(f"Your {label(alarm)} rings next {spoken_day(due, today)}; I can only skip its next ring.")
        alarm["due_s"] = next_ring(REPEATS[alarm["repeat"]], alarm["hour"], alarm["minute"], self.tz, alarm["due_s"])
        self._arm(ctx, alarm)
        after = local(alarm["due_s"], self.tz).date()
        return Response(f"OK, your {label(alarm)} won't ring {spoken_day(due, today)}. "
                        f"It rings again {spoken_day(after, today)}.", data={"alarm": alarm["id"],
                                                                          "due_s": alarm["due_s"]})

    @intent("CancelAlarm")
    def cancel_alarm(self, ctx: Context, **said: Any) -> Response:
        """Cancel one alarm (a repeating one on a day said: that ring only); while ringing, stop it."""
        if not _identifies(said) and self._ringing(ctx):
            return self.stop_alarm(ctx)
        found = self._find(ctx, said, "cancel")
        if isinstance(found, Response):
            return found
        return self._act(ctx, found, "cancel", said_date(said, self._today(ctx)))

    @intent("SkipAlarm")
    def skip_alarm(self, ctx: Context, **said: Any) -> Response:
        """Leave out the next ring of an alarm (a one-time alarm is cancelled); without details, the soonest."""
        entries = self._entries(ctx)
        found = entries[0] if entries and not _identifies(said) else self._find(ctx, said, "skip")
        if isinstance(found, Response):
            return found
        return self._act(ctx, found, "skip", said_date(said, self._today(ctx)))

    @intent("CancelAllAlarms")
    def cancel_all(self, ctx: Context) -> Response:
        """Cancel every alarm, snoozed and ringing ones included."""
        entries = self._entries(ctx)
        ringing = self._ringing(ctx)
        with ctx.store.transaction():
            for alarm in entries:
                self._remove(ctx, alarm)
            for job in ringing:
                ctx.cancel(job.id)
        if not entries:
            return Response("You don't have any alarms." if not ringing else "OK, alarm off.")
        return Response("Cancelled your alarm." if len(entries) == 1 else f"Cancelled all {len(entries)} alarms.")

    # --- ringing -------------------------------------------------------------------------------------------
    @intent("StopAlarm")
    def stop_alarm(self, ctx: Context) -> Response:
        """Stop the ringing alarm (a repeating one rings again at its next time)."""
        ringing = self._ringing(ctx)
        for job in ringing:
            ctx.cancel(job.id)
        return Response("OK, alarm off." if ringing else "No alarm is ringing.")

    @intent("SnoozeAlarm")
    def snooze(self, ctx: Context, duration: Duration | None = None, snooze_minutes: int | None = None) -> Response:
        """Silence the ringing alarm (or the one that just rang) and ring it again in ``snooze_minutes``."""
        length = duration.total_s if duration is not None else 60.0 * snooze_minutes if snooze_minutes else self.snooze_s
        if length <= 0:
            return Response("Snooze for how long? Say for example: snooze for 5 minutes.")
        ringing, now_s = self._ringing(ctx), ctx.now().timestamp()
        last = ctx.store.get("last_ring") or {}
        if ringing:
            source: dict[str, Any] = dict(ringing[0].data)
        elif last and now_s - float(last.get("at_s", 0)) <= self.ring_for_s + 120:
            source = dict(last)
        else:
            return Response("No alarm is ringing.")
        data = {k: source.get(k) for k in ("alarm", "name", "hour", "minute")} | {"snooze": True}
        with ctx.store.transaction():
            for job in ringing:
                ctx.cancel(job.id)
            ctx.store.delete("last_ring")
            ctx.schedule(length, "ring", data, ring_for_s=self.ring_for_s, repeat_s=self.repeat_s)
        return Response(f"OK, snoozing for {Duration(length).spoken()}.", data={"due_s": now_s + length})

    def ring(self, ctx: Context, job: Job) -> Response:
        """The alarm's time came: its sound and which alarm it is (repeated by the scheduler until stopped)."""
        data, now_s = job.data, ctx.now().timestamp()
        called, now = label(data), local(now_s, self.tz)
        late_s = now_s - job.due_s
        missed = job.rings <= 1 and late_s >= 60
        if job.rings <= 1:
            self._rang(ctx, job, now_s)
        if missed:
            due = local(job.due_s, self.tz)
            speech = (f"While I was off, your {called} was due at {spoken_clock(due.hour, due.minute)}"
                      f"{day_gone(due.date(), now.date())}.")
            if late_s > self.ring_for_s:  # its ringing time is long over: say so once, don't ring on
                ctx.cancel(job.id)
        else:
            again = " again" if data.get("snooze") else ""
            speech = f"It's {spoken_clock(now.hour, now.minute)}. This is your {called}{again}."
        return Response(speech, data={"alarm": data.get("alarm"), "due_s": job.due_s, "label": called,
                                      "missed": missed}, sound=SOUND)

    def _rang(self, ctx: Context, job: Job, now_s: float) -> None:
        """First ring: schedule a repeating alarm's next ring, retire a one-time alarm, remember it for snooze."""
        data = job.data
        with ctx.store.transaction():
            alarm = ctx.store.get(f"alarm:{data.get('alarm')}")
            if not data.get("snooze") and alarm and alarm.get("job") == job.id:
                if alarm["repeat"]:
                    alarm["job"] = 0  # this job rings on; the next ring is a job of its own
                    alarm["due_s"] = next_ring(REPEATS[alarm["repeat"]], alarm["hour"], alarm["minute"], self.tz,
                                               max(now_s, job.due_s))
                    self._arm(ctx, alarm)
                else:
                    ctx.store.delete(f"alarm:{alarm['id']}")
            ctx.store.set("last_ring", {k: data.get(k) for k in ("alarm", "name", "hour", "minute")} | {"at_s": now_s})


__all__ = ["Alarms"]
