"""The timers skill through the public pipeline pieces (recognizer, dispatcher, scheduler) with a fake clock."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from voicebox.act.context import LocalHost, SkillServices
from voicebox.act.dispatch import Dispatcher, TextSession
from voicebox.act.loader import load_skills
from voicebox.act.scheduler import Scheduler
from voicebox.core.storage import Storage
from voicebox.core.config import config_from_dict
from voicebox.understand.intent import IntentRecognizer


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def make(tmp_path: Path, clock: Clock) -> tuple[TextSession, SkillServices, Dispatcher]:
    config = config_from_dict({"skills": {"user_dir": str(tmp_path / "none")},
                               "skill": {"timers": {"ring_for_s": 30, "repeat_s": 10}}})
    storage = Storage(tmp_path / "v.db")
    services = SkillServices(storage, Scheduler(storage, clock=clock), LocalHost())
    skills = [s for s in load_skills(config, lambda n: services.context(n, config)) if s.name == "timers"]
    dispatcher = Dispatcher(skills)
    return TextSession(IntentRecognizer(skills), dispatcher, services.host), services, dispatcher


def say(session: TextSession, text: str) -> str:
    return str(asyncio.run(session.answer(text))["speech"])


def test_start_left_pause_resume_add_cancel(tmp_path: Path) -> None:
    clock = Clock()
    session, services, _ = make(tmp_path, clock)
    assert say(session, "set a 10 minute pizza timer") == "OK, pizza timer for 10 minutes, starting now."
    assert say(session, "set a timer for 90 seconds").startswith("OK, timer for 1 minute and 30 seconds")
    clock.t += 60
    assert say(session, "how much time is left on the pizza timer") == "9 minutes left on the pizza timer."
    assert say(session, "pause the pizza timer") == "Paused the pizza timer."
    clock.t += 500
    assert "9 minutes left on the pizza timer (paused)" in say(session, "how much time is left")
    assert say(session, "resume the timer") == "Resumed the pizza timer, 9 minutes to go."
    assert say(session, "add 2 minutes to the pizza timer") == "The pizza timer now has 11 minutes left."
    assert say(session, "take 30 seconds off the pizza timer") == "The pizza timer now has 10 minutes and 30 seconds left."
    assert len(services.scheduler.jobs("timers")) == 2  # the 90 s one is overdue, but nothing fired it here
    assert say(session, "cancel all timers") == "Cancelled all 2 timers."
    assert services.scheduler.jobs() == []


def test_which_timer_follow_up(tmp_path: Path) -> None:
    session, services, _ = make(tmp_path, Clock())
    say(session, "set a 10 minute pizza timer")
    say(session, "set a 5 minute egg timer")
    assert say(session, "cancel the timer") == "Which timer? the pizza timer or the egg timer?"
    assert say(session, "the egg one") == "Cancelled the egg timer."
    assert [j.data["label"] for j in services.scheduler.jobs()] == ["pizza"]


def test_for_how_long_follow_up(tmp_path: Path) -> None:
    session, services, _ = make(tmp_path, Clock())
    assert say(session, "set a tea timer") == "For how long?"
    assert say(session, "three and a half minutes") == "OK, tea timer for 3 minutes and 30 seconds, starting now."
    assert services.scheduler.jobs()[0].due_s == Clock().t + 210


def test_ring_after_restart_says_which_timer_and_rings_until_limit(tmp_path: Path) -> None:
    clock = Clock()
    session, services, _ = make(tmp_path, clock)
    say(session, "set a 1 minute pizza timer")
    services.storage.close()  # crash: nothing but the database remains

    clock.t += 300  # voicebox was down while the timer ended
    _, services, dispatcher = make(tmp_path, clock)
    announced: list[tuple[str, str]] = []
    scheduler = services.scheduler
    while due := scheduler.due(clock.t):  # what the daemon's scheduler loop does, stepped by hand
        for job in due:
            ringing = dataclasses.replace(job, rings=job.rings + 1)
            result = asyncio.run(dispatcher.run_job(ringing))
            announced.append((result.response.speech, result.response.sound))
            scheduler.fired(ringing, clock.t)
        clock.t = scheduler.next_due_s() or clock.t
    first, *repeats = announced
    assert first == ("Your pizza timer is done. It finished 4 minutes ago.", "alarm")
    assert repeats and all(a == ("Your pizza timer is done.", "alarm") for a in repeats)
    assert len(announced) <= 4  # ring_for_s = 30 with repeat_s = 10
    assert services.storage.namespace("timers").items("timer:") == {}


def test_words_misheard_before_the_name_are_not_part_of_it(tmp_path: Path) -> None:
    session, _, _ = make(tmp_path, Clock())
    # tiny.en often writes "set a" as "set it" or "set in" (measured on the voice's own "Set an egg timer ...").
    assert say(session, "set in egg timer for five minutes") == "OK, egg timer for 5 minutes, starting now."
    assert say(session, "set it pizza timer") == "For how long?"
    assert say(session, "ten minutes") == "OK, pizza timer for 10 minutes, starting now."
    assert say(session, "set it timer for 30 seconds").startswith("OK, timer for 30 seconds")
    assert say(session, "pause the it pizza timer") == "Paused the pizza timer."
    assert "10 minutes left on the pizza timer" in say(session, "how much time is left on my pizza timer")
