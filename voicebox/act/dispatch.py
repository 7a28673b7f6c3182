"""⑥ Skill dispatch: run the matched handler with a timeout, turn failures into a spoken apology."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from voicebox.act.loader import LoadedSkill
from voicebox.act.workers import Failure, SkillWorkers
from voicebox.skill import Job, Response
from voicebox.understand.intent import IntentMatch

__all__ = ["DispatchResult", "Dispatcher", "NOT_UNDERSTOOD"]

_LOG = logging.getLogger(__name__)

NOT_UNDERSTOOD = "Sorry, I didn't understand that. Say \"what can you do\" to hear some things I can help with."


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """The response to speak and how it came about (``status``: ok, error, timeout, quarantined, no_handler)."""

    response: Response
    status: str
    compute_ms: float
    sentences: AsyncGenerator[str, None] | None = None  # an answer still being written (the language model's), to speak


class Dispatcher:
    """Routes an :class:`IntentMatch` to its skill's handler, run on the skill's worker and isolated by a timeout.

    A handler that runs over the timeout gets its skill quarantined: a loud
    error, and no more work is routed to that skill (status ``quarantined``)
    until it is loaded again (SIGHUP or a restart). ``workers`` is shared by
    the daemon across reloads; without it the dispatcher owns its own.
    """

    def __init__(self, skills: Sequence[LoadedSkill], *, timeout_s: float = 5.0,
                 workers: SkillWorkers | None = None) -> None:
        self._skills = {s.name: s for s in skills if s.ok}
        self._timeout_s = timeout_s
        self._own_workers = workers is None
        self._workers = workers if workers is not None else SkillWorkers()
        self._workers.renew(list(self._skills))

    async def handle(self, match: IntentMatch) -> DispatchResult:
        """Run the handler; errors and timeouts become a short apology, never an exception."""
        skill = self._skills.get(match.skill)
        method_name = skill.handlers.get(match.intent) if skill else None
        if skill is None or skill.instance is None or method_name is None:
            _LOG.error("no handler for intent %s of skill %s", match.intent, match.skill)
            return DispatchResult(Response(NOT_UNDERSTOOD), "no_handler", 0.0)
        method = getattr(skill.instance, method_name)
        return await self._invoke(skill, method_name, (), _accepted_slots(method, match.values or match.slots))

    async def handle_reply(self, skill_name: str, handler: str, text: str) -> DispatchResult:
        """Route the answer to a follow-up question to the asking skill's ``handler(ctx, text)``."""
        skill = self._skills.get(skill_name)
        if skill is None or skill.instance is None or not callable(getattr(skill.instance, handler, None)):
            _LOG.error("skill %s has no reply handler %r", skill_name, handler)
            return DispatchResult(Response(NOT_UNDERSTOOD), "no_handler", 0.0)
        return await self._invoke(skill, handler, (text,), {})

    async def run_job(self, job: Job) -> DispatchResult | None:
        """Run a scheduled callback ``handler(ctx, job)``; None when its skill or method is gone."""
        skill = self._skills.get(job.skill)
        if skill is None or skill.instance is None or not callable(getattr(skill.instance, job.handler, None)):
            _LOG.error("scheduled job %d: skill %s has no handler %r; dropped", job.id, job.skill, job.handler)
            return None
        return await self._invoke(skill, job.handler, (job,), {})

    def skill(self, name: str) -> LoadedSkill | None:
        """A loaded skill by name."""
        return self._skills.get(name)

    def quarantined(self, name: str) -> bool:
        """Skill ``name`` ran over its time and gets no more work."""
        return name in self._skills and self._workers.get(name).quarantined

    async def _invoke(self, skill: LoadedSkill, method_name: str, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> DispatchResult:
        start = time.perf_counter()
        spoken = _spoken(skill.name)
        worker = self._workers.get(skill.name)
        if worker.quarantined:
            _LOG.error("skill %s is quarantined (it ran over its time before); %s not run", skill.name, method_name)
            return DispatchResult(Response(f"Sorry, the {spoken} skill is switched off: it stopped answering."),
                                  "quarantined", 0.0)
        method = getattr(skill.instance, method_name)
        ctx = getattr(skill.instance, "ctx", None)
        try:
            result = await asyncio.wait_for(worker.submit(method, ctx, *args, **kwargs), self._timeout_s)
        except TimeoutError:
            worker.quarantine()
            _LOG.error("skill %s: handler %s ran over %.1f s and was abandoned; the %s skill is quarantined: "
                       "nothing more is routed to it until it is reloaded (SIGHUP) or voicebox restarts",
                       skill.name, method_name, self._timeout_s, skill.name)
            return DispatchResult(Response(f"Sorry, the {spoken} skill took too long."), "timeout", _ms(start))
        if isinstance(result, Failure):
            err = result.error
            _LOG.error("skill %s: handler %s raised %s", skill.name, method_name, type(err).__name__,
                       exc_info=(type(err), err, err.__traceback__))
            return DispatchResult(Response(f"Sorry, something went wrong in the {spoken} skill."), "error",
                                  _ms(start))
        if result is None:
            result = Response("")
        response = result if isinstance(result, Response) else Response(str(result))
        return DispatchResult(response, "ok", _ms(start))

    @property
    def skill_names(self) -> list[str]:
        """Names of the skills that loaded and can answer."""
        return sorted(self._skills)

    def close(self) -> None:
        """Stop the workers this dispatcher owns (shared ones are closed by their owner)."""
        if self._own_workers:
            self._workers.close()


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
