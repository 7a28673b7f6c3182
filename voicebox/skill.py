"""The public skill API: a Skill class with handlers decorated by ``@intent``, returning a Response.

A skill is a folder (``__init__.py`` + ``sentences/<lang>.yaml`` in hassil's
format). Handlers receive the context and the matched slots as keyword
arguments (a ``<duration>`` arrives as a :class:`Duration`), and return a
:class:`Response` (or a plain string to speak). Through the context a skill
speaks, schedules callbacks (methods taking ``ctx`` and a :class:`Job`),
reads its ``[skill.NAME]`` settings (declared in ``Skill.settings``) and
keeps data in ``ctx.store``.
Built-in skills use exactly this module and nothing private.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from voicebox.core.skill_settings import SkillSetting
from voicebox.core.storage import SkillStore
from voicebox.understand.slots import Duration, parse_duration, parse_number, spoken_number

__all__ = ["Context", "Duration", "Job", "Response", "Setting", "Skill", "SkillStore", "intent", "parse_duration",
           "parse_number", "spoken_number"]

F = TypeVar("F", bound=Callable[..., Any])

_HANDLER_ATTR = "__voicebox_intent__"

Setting = SkillSetting
"""A setting a skill declares in ``Skill.settings``: ``Setting(default, doc, lo=, hi=, choices=)``."""


@dataclass(frozen=True, slots=True)
class Response:
    """What a handler answers: text to speak and optional structured data.

    ``expect_reply`` keeps the microphone open for an answer without the wake
    word; the answer is routed to the handler named by ``reply_handler`` (a
    method name of the same skill taking ``ctx`` and ``text``). ``sound``
    plays a sound before the speech: ``"alarm"`` (the timers' beeps),
    ``"alarm_clock"`` (an alarm clock's ring) or ``""`` (none).
    """

    speech: str
    data: dict[str, Any] = field(default_factory=dict)
    expect_reply: bool = False
    reply_handler: str = ""
    sound: str = ""


@dataclass(frozen=True, slots=True)
class Job:
    """A scheduled callback as its handler sees it; times are epoch seconds.

    ``rings`` counts the announcements, this one included (a ringing job repeats every
    ``repeat_s`` until ``ring_until_s``, a ``stop``, or a cancel).
    """

    id: int
    skill: str
    handler: str
    due_s: float
    data: dict[str, Any]
    ring_until_s: float = 0.0
    repeat_s: float = 0.0
    rings: int = 0
    origin: str = ""


class Context(Protocol):
    """What a handler can reach: its settings, the clock, and the voice."""

    @property
    def skill_name(self) -> str:
        """The skill's name (its folder name)."""
        ...

    @property
    def settings(self) -> Mapping[str, Any]:
        """This skill's ``[skill.NAME]`` table from the config file (empty if none)."""
        ...

    def now(self) -> _dt.datetime:
        """Local time now, timezone-aware."""
        ...

    def speak(self, text: str) -> Awaitable[None]:
        """Say something now (outside of the reply), e.g. an announcement."""
        ...

    @property
    def store(self) -> SkillStore:
        """This skill's persistent key-value data (JSON values; ``with ctx.store.transaction():``)."""
        ...

    def schedule(self, at: _dt.datetime | float, handler: str, data: dict[str, Any] | None = None, *,
                 ring_for_s: float = 0.0, repeat_s: float = 0.0) -> int:
        """Call method ``handler(ctx, job)`` at ``at`` (a datetime, or seconds from now); returns the job id.

        The method's response is spoken. With ``ring_for_s`` > 0 it repeats
        every ``repeat_s`` until stopped or ``ring_for_s`` after ``at``.
        Jobs survive restarts; ones missed while voicebox was down run at start.
        """
        ...

    def cancel(self, job_id: int) -> bool:
        """Cancel one of this skill's scheduled jobs; True if it was pending."""
        ...

    def scheduled(self) -> list[Job]:
        """This skill's pending jobs, soonest first."""
        ...

    def stop(self) -> None:
        """Stop what voicebox is saying and silence every ringing alarm."""
        ...

    @property
    def volume(self) -> float:
        """Output volume of voicebox's own audio (1.0 = normal, 0.0-2.0)."""
        ...

    def set_volume(self, volume: float) -> float:
        """Set the output volume (clamped to 0.0-2.0); returns the value applied."""
        ...

    @property
    def last_reply(self) -> str:
        """What voicebox said last ("" before the first reply)."""
        ...

    def examples(self) -> dict[str, tuple[str, ...]]:
        """Example sentences of every loaded skill, by skill name."""
        ...


def intent(name: str) -> Callable[[F], F]:
    """Mark a method as the handler of intent ``name`` (as named in the sentences file)."""

    def mark(func: F) -> F:
        setattr(func, _HANDLER_ATTR, name)
        return func

    return mark


class Skill:
    """Base class of all skills. Subclass it, decorate handlers with :func:`intent`.

    ``examples`` lists a few sentences for "what can you do". ``settings``
    declares the skill's ``[skill.NAME]`` keys, e.g. ``{"ring_for_s":
    Setting(60.0, "how long an alarm rings, seconds", lo=0, hi=3600)}``:
    voicebox checks them with the rest of the config at start-up (a wrong
    type, a value out of range or an unknown key is a config error) and
    ``ctx.settings`` holds every declared key, defaults filled in.
    """

    name: str = ""
    examples: tuple[str, ...] = ()
    settings: ClassVar[Mapping[str, Setting]] = {}

    def __init__(self, context: Context) -> None:
        self.ctx = context

    @classmethod
    def handlers(cls) -> dict[str, str]:
        """Intent name -> method name, collected from ``@intent`` decorations."""
        found: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                name = getattr(value, _HANDLER_ATTR, None)
                if isinstance(name, str):
                    found[name] = attr
        return found
