"""Timers: several at once, named or not; cancel, pause, resume, add or remove time, time left; they ring.

State lives in ``ctx.store`` (one key per timer) and each running timer has a
ringing job in the scheduler, updated together in one transaction, so timers
survive a restart or a crash; one that ended while voicebox was down rings
when it comes back. Settings (``[skill.timers]``): ``ring_for_s`` (how long
an alarm keeps repeating, default 60; 0 rings once) and ``repeat_s`` (seconds
between repeats, default 15).
"""

from __future__ import annotations

import re
from typing import Any

from voicebox.skill import Context, Duration, Job, Response, Setting, Skill, intent, parse_duration

_WHICH = "Which timer?"


def _label(timer: dict[str, Any]) -> str:
    return str(timer["name"] or Duration(timer["total_s"]).label())


def _left_s(timer: dict[str, Any], now_s: float) -> float:
    return float(timer["left_s"]) if timer["due_s"] is None else max(0.0, timer["due_s"] - now_s)


# Words a recognizer leaves in front of a timer's name: "set it pizza timer", "set in egg timer" (tiny.en's
# "set a"), "start up the new tea timer". None of them is a name, so a name never starts with one.
_NOT_A_NAME = frozenset({"a", "an", "the", "my", "it", "in", "at", "up", "me", "new", "another"})


def _clean_name(name: str | None) -> str:
    """The timer's name without the filler the recognizer put in front of it ("" for none)."""
    words = (name or "").lower().split()
    while words and words[0] in _NOT_A_NAME:
        words.pop(0)
    return " ".join(words)


def _words(text: str) -> set[str]:
    from text_to_num import alpha2digit

    return set(re.findall(r"[a-z0-9']+", alpha2digit(text.lower().replace("-", " "), "en", threshold=0)))


class Timers(Skill):
    """Kitchen timers that ring and survive restarts."""

    examples = ("set a 10 minute pizza timer", "how much time is left", "cancel the pizza timer")
    settings = {
        "ring_for_s": Setting(60.0, "How long an alarm keeps repeating, seconds (0 = ring once).", lo=0, hi=86400),
        "repeat_s": Setting(15.0, "Seconds between repeats of a ringing alarm.", lo=1, hi=3600),
    }

    # --- state -------------------------------------------------------------------------------------------
    def _timers(self, ctx: Context) -> list[dict[str, Any]]:
        return sorted(ctx.store.items("timer:").values(), key=lambda t: t["id"])

    def _save(self, ctx: Context, timer: dict[str, Any]) -> None:
        """Store the timer and (re)arm its ringing job, atomically."""
        settings = ctx.settings
        with ctx.store.transaction():
            if timer.get("job"):
                ctx.cancel(timer["job"])
            timer["job"] = 0
            if timer["due_s"] is not None:
                timer["job"] = ctx.schedule(timer["due_s"] - ctx.now().timestamp(), "ring",
                                            {"timer": timer["id"], "label": _label(timer)},
                                            ring_for_s=settings["ring_for_s"], repeat_s=settings["repeat_s"])
            ctx.store.set(f"timer:{timer['id']}", timer)

    def _remove(self, ctx: Context, timer: dict[str, Any]) -> None:
        with ctx.store.transaction():
            if timer.get("job"):
                ctx.cancel(timer["job"])
            ctx.store.delete(f"timer:{timer['id']}")

    def _find(self, ctx: Context, name: str | None, action: str, *, state: str = "any",
              seconds: float = 0.0) -> dict[str, Any] | Response:
        """The timer meant, or a response: none, not found, or a follow-up question when ambiguous."""
        timers = self._timers(ctx)
        if state == "running":
            timers = [t for t in timers if t["due_s"] is not None]
        elif state == "paused":
            timers = [t for t in timers if t["due_s"] is None]
        if not timers:
            return Response("You don't have any timers." if state == "any" else f"There's no {state} timer.")
        name = _clean_name(name)
        if name:
            wanted = _words(name)
            hits = [t for t in timers if wanted and wanted <= _words(_label(t))]
            if len(hits) == 1:
                return hits[0]
            if not hits:
                return Response(f"I couldn't find a {name} timer.")
            timers = hits
        if len(timers) == 1:
            return timers[0]
        ctx.store.set("pending", {"action": action, "seconds": seconds, "ids": [t["id"] for t in timers]})
        choices = [f"the {_label(t)} timer" for t in timers]
        return Response(f"{_WHICH} {', '.join(choices[:-1])} or {choices[-1]}?", expect_reply=True,
                        reply_handler="which_timer")

    # --- intents -------------------------------------------------------------------------------------------
    @intent("StartTimer")
    def start(self, ctx: Context, duration: Duration | None = None, name: str | None = None) -> Response:
        """Start a timer; without a length, ask for one."""
        name = _clean_name(name)
        if duration is None:
            ctx.store.set("pending", {"action": "start", "name": name})
            return Response("For how long?", expect_reply=True, reply_handler="timer_length")
        if duration.total_s <= 0:
            return Response("A timer needs a length of at least one second.")
        next_id = int(ctx.store.get("next_id", 1))
        ctx.store.set("next_id", next_id + 1)
        timer = {"id": next_id, "name": name, "total_s": duration.total_s,
                 "due_s": ctx.now().timestamp() + duration.total_s, "left_s": duration.total_s, "job": 0}
        self._save(ctx, timer)
        what = f"{timer['name']} timer" if timer["name"] else "timer"
        return Response(f"OK, {what} for {duration.spoken()}, starting now.",
                        data={"timer": timer["id"], "total_seconds": duration.total_s})

    def timer_length(self, ctx: Context, text: str) -> Response:
        """Answer to "For how long?"."""
        pending = ctx.store.get("pending") or {}
        ctx.store.delete("pending")
        duration = parse_duration(text)
        if duration is None:
            return Response("Sorry, I didn't catch how long. Say for example: set a timer for 5 minutes.")
        return self.start(ctx, duration, pending.get("name") or None)

    @intent("CancelTimer")
    def cancel(self, ctx: Context, name: str | None = None) -> Response:
        """Cancel one timer."""
        return self._act(ctx, self._find(ctx, name, "cancel"), "cancel", 0.0)

    @intent("CancelAllTimers")
    def cancel_all(self, ctx: Context) -> Response:
        """Cancel every timer."""
        timers = self._timers(ctx)
        for timer in timers:
            self._remove(ctx, timer)
        if not timers:
            return Response("You don't have any timers.")
        return Response("Cancelled your timer." if len(timers) == 1 else f"Cancelled all {len(timers)} timers.")

    @intent("PauseTimer")
    def pause(self, ctx: Context, name: str | None = None) -> Response:
        """Pause a running timer."""
        return self._act(ctx, self._find(ctx, name, "pause", state="running"), "pause", 0.0)

    @intent("ResumeTimer")
    def resume(self, ctx: Context, name: str | None = None) -> Response:
        """Resume a paused timer."""
        return self._act(ctx, self._find(ctx, name, "resume", state="paused"), "resume", 0.0)

    @intent("AddTime")
    def add_time(self, ctx: Context, duration: Duration, name: str | None = None) -> Response:
        """Add time to a timer."""
        return self._act(ctx, self._find(ctx, name, "add", seconds=duration.total_s), "add", duration.total_s)

    @intent("RemoveTime")
    def remove_time(self, ctx: Context, duration: Duration, name: str | None = None) -> Response:
        """Take time off a timer."""
        return self._act(ctx, self._find(ctx, name, "add", seconds=-duration.total_s), "add", -duration.total_s)

    @intent("TimeLeft")
    def time_left(self, ctx: Context, name: str | None = None) -> Response:
        """Time left on one timer, or on all of them."""
        now_s = ctx.now().timestamp()
        timers = self._timers(ctx)
        if name:
            found = self._find(ctx, name, "left")
            if isinstance(found, Response):
                return found
            timers = [found]
        if not timers:
            return Response("You don't have any timers.")
        parts = []
        for t in timers:
            left = Duration(round(_left_s(t, now_s)))
            paused = " (paused)" if t["due_s"] is None else ""
            parts.append(f"{left.spoken()} left on the {_label(t)} timer{paused}")
        text = "; ".join(parts)
        return Response(text[0].upper() + text[1:] + ".",
                        data={"timers": [{"label": _label(t), "left_s": round(_left_s(t, now_s))} for t in timers]})

    def which_timer(self, ctx: Context, text: str) -> Response:
        """Answer to "Which timer?": finish the action that asked."""
        pending = ctx.store.get("pending") or {}
        ctx.store.delete("pending")
        said = _words(text)
        candidates = [t for t in self._timers(ctx) if t["id"] in pending.get("ids", [])]
        hits = [t for t in candidates if _words(_label(t)) <= said]
        if len(hits) != 1:
            return Response("OK, never mind." if not hits else "Sorry, that still matches more than one timer.")
        return self._act(ctx, hits[0], pending.get("action", ""), float(pending.get("seconds", 0.0)))

    def _act(self, ctx: Context, found: dict[str, Any] | Response, action: str, seconds: float) -> Response:
        if isinstance(found, Response):
            return found
        timer, now_s = found, ctx.now().timestamp()
        label = _label(timer)
        if action == "cancel":
            self._remove(ctx, timer)
            return Response(f"Cancelled the {label} timer.")
        if action == "pause":
            timer["left_s"], timer["due_s"] = _left_s(timer, now_s), None
            self._save(ctx, timer)
            return Response(f"Paused the {label} timer.")
        if action == "resume":
            timer["due_s"] = now_s + float(timer["left_s"])
            self._save(ctx, timer)
            return Response(f"Resumed the {label} timer, {Duration(round(timer['left_s'])).spoken()} to go.")
        if action == "add":
            left = max(1.0, _left_s(timer, now_s) + seconds)
            if timer["due_s"] is None:
                timer["left_s"] = left
            else:
                timer["due_s"] = now_s + left
            self._save(ctx, timer)
            return Response(f"The {label} timer now has {Duration(round(left)).spoken()} left.")
        if action == "left":
            return Response(f"{Duration(round(_left_s(timer, now_s))).spoken()} left on the {label} timer.")
        return Response("OK.")

    # --- scheduled -----------------------------------------------------------------------------------------
    def ring(self, ctx: Context, job: Job) -> Response:
        """The timer ended: alarm and announcement (repeated by the scheduler until stopped)."""
        label = str(job.data.get("label", ""))
        if job.rings <= 1:
            ctx.store.delete(f"timer:{job.data.get('timer')}")
        late_s = ctx.now().timestamp() - job.due_s
        when = f" It finished {Duration(round(late_s)).spoken()} ago." if job.rings <= 1 and late_s >= 60 else ""
        return Response(f"Your {label} timer is done.{when}", data={"timer": job.data.get("timer"), "due_s": job.due_s},
                        sound="alarm")
