"""The public skill API: a Skill class with handlers decorated by ``@intent``, returning a Response.

A skill is a folder (``__init__.py`` + ``sentences/<lang>.yaml`` in hassil's
format). Handlers receive the context and the matched slots as keyword
arguments, and return a :class:`Response` (or a plain string to speak).
Built-in skills use exactly this module and nothing private.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

__all__ = ["Context", "Response", "Skill", "intent"]

F = TypeVar("F", bound=Callable[..., Any])

_HANDLER_ATTR = "__voicebox_intent__"


@dataclass(frozen=True, slots=True)
class Response:
    """What a handler answers: text to speak and optional structured data.

    ``expect_reply`` keeps the microphone open for an answer without the wake
    word; the answer is routed to the handler named by ``reply_intent`` (a
    method name of the same skill taking ``ctx`` and ``text``).
    """

    speech: str
    data: dict[str, Any] = field(default_factory=dict)
    expect_reply: bool = False
    reply_handler: str = ""


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


def intent(name: str) -> Callable[[F], F]:
    """Mark a method as the handler of intent ``name`` (as named in the sentences file)."""

    def mark(func: F) -> F:
        setattr(func, _HANDLER_ATTR, name)
        return func

    return mark


class Skill:
    """Base class of all skills. Subclass it, decorate handlers with :func:`intent`.

    ``examples`` lists a few sentences for "what can you do".
    """

    name: str = ""
    examples: tuple[str, ...] = ()

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
