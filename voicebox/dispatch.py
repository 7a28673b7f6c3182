"""⑥ Skill dispatch: run the matched handler with a timeout, turn failures into a spoken apology."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .intent import IntentMatch
from .skill import Response
from .skill_loader import LoadedSkill

__all__ = ["DispatchResult", "Dispatcher", "SimpleContext", "NOT_UNDERSTOOD"]

_LOG = logging.getLogger(__name__)

NOT_UNDERSTOOD = "Sorry, I didn't understand that. Say \"what can you do\" to hear some things I can help with."


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """The response to speak and how it came about (``status``: ok, error, timeout, no_handler)."""

    response: Response
    status: str
    compute_ms: float


class SimpleContext:
    """The context handed to a skill: its settings, the clock, and a way to speak."""

    def __init__(self, skill_name: str, settings: Mapping[str, Any],
                 speak: Callable[[str], Awaitable[None]] | None = None) -> None:
        self._name = skill_name
        self._settings = dict(settings)
        self._speak = speak

    @property
    def skill_name(self) -> str:
        """The skill's name."""
        return self._name

    @property
    def settings(self) -> Mapping[str, Any]:
        """The skill's ``[skill.NAME]`` config table."""
        return self._settings

    def now(self) -> dt.datetime:
        """Local time, timezone-aware."""
        return dt.datetime.now().astimezone()

    async def speak(self, text: str) -> None:
        """Say ``text`` through voicebox's output (a no-op when there is none)."""
        if self._speak is not None:
            await self._speak(text)


class Dispatcher:
    """Routes an :class:`IntentMatch` to its skill's handler, isolated by a timeout."""

    def __init__(self, skills: Sequence[LoadedSkill], *, timeout_s: float = 5.0) -> None:
        self._skills = {s.name: s for s in skills if s.ok}
        self._timeout_s = timeout_s
        # Several workers: a handler that hangs is abandoned, and must not block the next one.
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="skill")

    async def handle(self, match: IntentMatch) -> DispatchResult:
        """Run the handler; errors and timeouts become a short apology, never an exception."""
        start = time.perf_counter()
        skill = self._skills.get(match.skill)
        method_name = skill.handlers.get(match.intent) if skill else None
        if skill is None or skill.instance is None or method_name is None:
            _LOG.error("no handler for intent %s of skill %s", match.intent, match.skill)
            return DispatchResult(Response(NOT_UNDERSTOOD), "no_handler", _ms(start))
        method = getattr(skill.instance, method_name)
        kwargs = _accepted_slots(method, match.slots)
        try:
            if inspect.iscoroutinefunction(method):
                result = await asyncio.wait_for(method(skill.instance.ctx, **kwargs), self._timeout_s)
            else:
                loop = asyncio.get_running_loop()
                future = loop.run_in_executor(self._pool, lambda: method(skill.instance.ctx, **kwargs))
                result = await asyncio.wait_for(future, self._timeout_s)
        except TimeoutError:
            _LOG.error("skill %s: handler %s ran over %.1f s and was abandoned", skill.name, method_name,
                       self._timeout_s)
            return DispatchResult(Response(f"Sorry, the {_spoken(skill.name)} skill took too long."), "timeout",
                                  _ms(start))
        except Exception:
            _LOG.exception("skill %s: handler %s raised", skill.name, method_name)
            return DispatchResult(Response(f"Sorry, something went wrong in the {_spoken(skill.name)} skill."),
                                  "error", _ms(start))
        response = result if isinstance(result, Response) else Response(str(result))
        return DispatchResult(response, "ok", _ms(start))

    def close(self) -> None:
        """Stop accepting work; abandoned handlers are not waited for."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _accepted_slots(method: Callable[..., Any], slots: dict[str, Any]) -> dict[str, Any]:
    params = inspect.signature(method).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return dict(slots)
    names = {p.name for p in params}
    return {k: v for k, v in slots.items() if k in names}


def _spoken(name: str) -> str:
    return name.replace("_", " ")


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000
