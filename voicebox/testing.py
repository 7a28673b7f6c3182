"""Test helper for skill authors: load a skill folder, say sentences to it, check what it answers.

:class:`SkillHarness` loads one skill the way the daemon does (the same
loader, sentence matching, dispatcher and follow-up routing), with a
throwaway state folder (its own SQLite database), the settings you give it,
and a hand-driven clock (:class:`ManualClock`) for ``ctx.now()`` and
scheduled callbacks. A handler that raises, times out or is missing fails
the test with :class:`SkillFailed` (pass ``strict=False`` to get the
apology as a reply instead). Example, ``test_greeter.py`` beside the
skill's ``__init__.py``::

    from pathlib import Path

    from voicebox.testing import SkillHarness

    FOLDER = Path(__file__).parent


    def test_hello() -> None:
        with SkillHarness(FOLDER, settings={"greeting": "Hi there."}) as skill:
            reply = skill.say("greeter hello")
            assert (reply.intent, reply.speech) == ("GreeterHello", "Hi there.")


    def test_tea_timer_asks_then_rings() -> None:
        with SkillHarness(FOLDER.parent / "timers") as timers:
            assert timers.say("set a tea timer").expect_reply  # "For how long?"
            assert timers.say("three minutes").follow_up      # the answer went to the asking skill
            rang = timers.advance(180)                        # time passes; due callbacks run
            assert rang[0].speech.startswith("Your tea timer is done")

Synchronous methods run their own event loop; inside ``async`` tests use
the ``*_async`` variants.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from voicebox.act.context import LocalHost, SkillContext, SkillServices
from voicebox.act.dispatch import Dispatcher, DispatchResult
from voicebox.act.followup import FollowUp
from voicebox.act.loader import LoadedSkill, load_folder
from voicebox.act.scheduler import Scheduler
from voicebox.core.config import Config, config_from_dict
from voicebox.core.errors import SkillError
from voicebox.core.storage import SkillStore, Storage
from voicebox.skill import Job, Response, Skill
from voicebox.understand.intent import IntentMatch, IntentRecognizer

__all__ = ["ManualClock", "Reply", "SkillFailed", "SkillHarness"]

_MAX_FIRINGS = 10_000  # advance(): more callbacks than this in one call is a skill rescheduling itself forever


class SkillFailed(SkillError):
    """The skill under test broke: its templates do not parse, or a handler raised, timed out or is missing."""

    code = "skill_failed"


class ManualClock:
    """A clock that moves only when told (epoch seconds); what ``ctx.now()`` and the scheduler read."""

    def __init__(self, start: float | dt.datetime | None = None) -> None:
        self.t = time.time() if start is None else _seconds(start)

    def __call__(self) -> float:
        """The current time, epoch seconds."""
        return self.t

    def now(self) -> dt.datetime:
        """The current time as a local, timezone-aware datetime (what ``ctx.now()`` returns)."""
        return dt.datetime.fromtimestamp(self.t).astimezone()

    def set(self, when: float | dt.datetime) -> None:
        """Jump to ``when`` (epoch seconds or a datetime; naive ones are local time)."""
        self.t = _seconds(when)

    def advance(self, seconds: float) -> float:
        """Move on ``seconds``; returns the new time."""
        self.t += float(seconds)
        return self.t


def _seconds(when: float | dt.datetime) -> float:
    return when.timestamp() if isinstance(when, dt.datetime) else float(when)


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer of the skill: to a sentence (:meth:`SkillHarness.say`) or from a scheduled callback.

    ``kind`` is ``"intent"`` (the sentence matched an intent), ``"reply"`` (it
    answered a follow-up question and went to the asking skill's reply
    handler), ``"job"`` (a scheduled callback ran) or ``"none"`` (nothing
    matched: ``speech`` is voicebox's "didn't understand"). ``intent`` is the
    intent name, or the reply handler's or callback's method name.
    ``status`` is the dispatcher's: ok, error, timeout, quarantined, no_handler, or
    not_understood.
    """

    text: str
    response: Response
    kind: str
    skill: str = ""
    intent: str = ""
    slots: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    match: IntentMatch | None = None
    job: Job | None = None

    @property
    def speech(self) -> str:
        """What voicebox would say."""
        return self.response.speech

    @property
    def expect_reply(self) -> bool:
        """The skill asked a question: the next :meth:`SkillHarness.say` may be its answer."""
        return self.response.expect_reply and bool(self.response.reply_handler)

    @property
    def follow_up(self) -> bool:
        """This sentence was taken as the answer to the skill's question."""
        return self.kind == "reply"

    @property
    def data(self) -> dict[str, Any]:
        """The response's structured data."""
        return self.response.data

    @property
    def sound(self) -> str:
        """The sound played before the speech (``"alarm"``, ``"alarm_clock"`` or ``""``)."""
        return self.response.sound


class _Failures(logging.Handler):
    """Collects the exceptions the dispatcher logs, to chain them onto :class:`SkillFailed`."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's exception, if any."""
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


class SkillHarness:
    """One skill loaded from ``folder`` as the daemon loads it, with its own database, settings and clock.

    ``settings`` is the skill's ``[skill.NAME]`` table; ``name`` defaults to
    the folder's name (as the daemon names it). Without ``state_dir`` the
    database lives in a temporary folder removed by :meth:`close`; pass one
    (and a shared ``clock``) to keep data across harnesses, or see
    :meth:`restart`. ``timeout_s`` is the handler time limit. Use it as a
    context manager or call :meth:`close`.
    """

    def __init__(self, folder: str | Path, *, settings: Mapping[str, Any] | None = None, name: str = "",
                 language: str = "en", clock: ManualClock | None = None, state_dir: str | Path | None = None,
                 timeout_s: float = 5.0, strict: bool = True) -> None:
        self.folder = Path(folder).resolve()
        self.name = name or self.folder.name
        self.clock = clock if clock is not None else ManualClock()
        self.strict = strict
        self._settings = dict(settings or {})
        self._language = language
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"voicebox-test-{self.name}-", ignore_cleanup_errors=True)
            state_dir = self._tmp.name
        self.state_dir = Path(state_dir)
        self.config: Config = config_from_dict({
            "skills": {"language": language, "timeout_s": timeout_s, "user_dir": str(self.state_dir / "skills")},
            "paths": {"state_dir": str(self.state_dir)},
            "skill": {self.name: dict(self._settings)},
        }, source="<SkillHarness>")
        storage = Storage.for_config(self.config)
        self.host = LocalHost()
        self.services = SkillServices(storage, Scheduler(storage, clock=self.clock), self.host)
        try:
            self.loaded: LoadedSkill = load_folder(self.folder, self.services.context, config=self.config,
                                                   name=self.name)
            self.services.examples = {self.name: self.loaded.examples}
            self.recognizer = IntentRecognizer([self.loaded])
            if self.name in self.recognizer.errors:
                raise SkillFailed(f"skill {self.name}: sentence templates failed to parse: "
                                  f"{self.recognizer.errors[self.name]}")
        except BaseException:
            self.close()
            raise
        self.dispatcher = Dispatcher([self.loaded], timeout_s=self.config.skills.timeout_s,
                                     workers=self.services.workers)
        self._follow_up = FollowUp()  # the daemon's rule for questions and their answers

    # --- what a test looks at ------------------------------------------------------------------------
    @property
    def skill(self) -> Skill:
        """The skill instance."""
        assert self.loaded.instance is not None
        return self.loaded.instance

    @property
    def context(self) -> SkillContext:
        """The context the skill was given (``skill.ctx``)."""
        ctx = self.skill.ctx
        assert isinstance(ctx, SkillContext)
        return ctx

    @property
    def store(self) -> SkillStore:
        """The skill's persistent data (``ctx.store``), to seed or inspect."""
        return self.context.store

    @property
    def settings(self) -> Mapping[str, Any]:
        """The settings the skill sees (``ctx.settings``)."""
        return self.context.settings

    @property
    def spoken(self) -> list[str]:
        """What the skill said through ``ctx.speak`` (not its replies), oldest first."""
        return self.host.said

    @property
    def awaiting_reply(self) -> str | None:
        """The reply handler waiting for an answer after the skill asked a question, else None."""
        return self._follow_up.awaiting[1] if self._follow_up.awaiting is not None else None

    def scheduled(self) -> list[Job]:
        """The skill's pending scheduled callbacks, soonest first."""
        return self.services.scheduler.jobs(self.name)

    def match(self, text: str) -> IntentMatch | None:
        """What ``text`` matches (recognition only: no handler runs), or None."""
        return self.recognizer.recognize(text)

    def problems(self) -> list[str]:
        """What ``voicebox skills check`` reports for this skill alone (e.g. handlers without sentences)."""
        from voicebox.cli.skills import check_skills

        return check_skills([self.loaded])

    # --- conversation --------------------------------------------------------------------------------
    def say(self, text: str) -> Reply:
        """Say ``text`` and return the skill's reply; see :meth:`say_async`."""
        return asyncio.run(self.say_async(text))

    async def say_async(self, text: str) -> Reply:
        """Say ``text`` as a (transcribed) command and return the reply.

        After the skill asked a question (``expect_reply``), a sentence that
        matches none of its intents is the answer and goes to the reply
        handler; one that matches is a new command (as in the daemon).
        """
        match = self.recognizer.recognize(text, fallback=self._follow_up.awaiting is None)
        with self._watch() as failures:
            answer = await self._follow_up.answer(self.dispatcher, match, text)
        result = answer.result
        if answer.kind == "intent" and match is not None:
            reply = Reply(text, result.response, "intent", match.skill, match.intent, dict(match.slots),
                          dict(match.values), result.status, match)
        elif answer.kind == "reply":
            reply = Reply(text, result.response, "reply", answer.skill, answer.intent, status=result.status)
        else:
            reply = Reply(text, result.response, "none", status=result.status)
        self._check(result, f"{reply.intent} for {text!r}", failures)
        self._spoke(reply)
        return reply

    # --- scheduled callbacks -------------------------------------------------------------------------
    def run_due(self) -> list[Reply]:
        """Run the callbacks due now; see :meth:`run_due_async`."""
        return asyncio.run(self.run_due_async())

    async def run_due_async(self) -> list[Reply]:
        """Run every callback due at the clock's time once, as the daemon's scheduler does; their replies.

        A ringing callback is re-armed for its next ring. The daemon runs the
        overdue ones at start: after :meth:`restart`, call this.
        """
        replies: list[Reply] = []
        failures: list[SkillFailed] = []

        async def fire(job: Job) -> None:
            with self._watch() as errors:
                result = await self.dispatcher.run_job(job)
            if result is None:
                failures.append(SkillFailed(f"skill {self.name}: scheduled job {job.id} names no method "
                                            f"{job.handler!r}"))
                return
            try:
                self._check(result, f"callback {job.handler}", errors)
            except SkillFailed as err:
                failures.append(err)
            reply = Reply("", result.response, "job", job.skill, job.handler, status=result.status, job=job)
            self._spoke(reply)
            replies.append(reply)

        await self.services.scheduler.fire_due(fire)
        if failures and self.strict:
            raise failures[0]
        return replies

    def advance(self, seconds: float) -> list[Reply]:
        """Let ``seconds`` pass; see :meth:`advance_async`."""
        return asyncio.run(self.advance_async(seconds))

    async def advance_async(self, seconds: float) -> list[Reply]:
        """Move the clock on by ``seconds``, running each callback at its due time (rings repeat); their replies."""
        until = self.clock.t + float(seconds)
        scheduler = self.services.scheduler
        replies: list[Reply] = []
        for _ in range(_MAX_FIRINGS):
            soonest = scheduler.next_due_s()
            if soonest is None or soonest > until:
                break
            self.clock.t = max(self.clock.t, soonest)
            replies += await self.run_due_async()
        else:
            raise SkillFailed(f"skill {self.name}: over {_MAX_FIRINGS} callbacks within {seconds} s")
        self.clock.t = until
        return replies

    # --- lifetime ------------------------------------------------------------------------------------
    def restart(self) -> SkillHarness:
        """Close this harness and load the skill again over the same database and clock (a restart or crash).

        Callbacks that came due meanwhile have not run yet: :meth:`run_due` runs them.
        """
        tmp, self._tmp = self._tmp, None  # the new harness owns the temporary folder now
        self.close()
        again = SkillHarness(self.folder, settings=self._settings, name=self.name, language=self._language,
                             clock=self.clock, state_dir=self.state_dir, timeout_s=self.config.skills.timeout_s,
                             strict=self.strict)
        again._tmp = tmp
        return again

    def close(self) -> None:
        """Close the database and remove the temporary state folder (if the harness made it)."""
        self.services.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SkillHarness:
        """The harness itself."""
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        """Close it."""
        self.close()

    # --- internals -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _watch(self) -> Iterator[_Failures]:
        handler = _Failures()
        log = logging.getLogger("voicebox.act.dispatch")
        log.addHandler(handler)
        try:
            yield handler
        finally:
            log.removeHandler(handler)

    def _check(self, result: DispatchResult, what: str, failures: _Failures) -> None:
        if not self.strict or result.status in ("ok", "not_understood"):
            return
        cause = failures.errors[0] if failures.errors else None
        raise SkillFailed(f"skill {self.name}: {what}: {result.status} ({result.response.speech!r})") from cause

    def _spoke(self, reply: Reply) -> None:
        if reply.speech:
            self.host.last_reply = reply.speech
