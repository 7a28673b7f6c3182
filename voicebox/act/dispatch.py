"""⑥ Skill dispatch: run the matched handler with a timeout, turn failures into a spoken apology."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from voicebox.act.confirm import DROPPED, answer_of, question
from voicebox.act.loader import LoadedSkill
from voicebox.skill import Job, Response
from voicebox.understand.intent import IntentMatch, IntentRecognizer

__all__ = ["DispatchResult", "Dispatcher", "TextSession", "NOT_UNDERSTOOD"]

_LOG = logging.getLogger(__name__)

NOT_UNDERSTOOD = "Sorry, I didn't understand that. Say \"what can you do\" to hear some things I can help with."


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """The response to speak and how it came about (``status``: ok, error, timeout, no_handler)."""

    response: Response
    status: str
    compute_ms: float


class Dispatcher:
    """Routes an :class:`IntentMatch` to its skill's handler, isolated by a timeout."""

    def __init__(self, skills: Sequence[LoadedSkill], *, timeout_s: float = 5.0) -> None:
        self._skills = {s.name: s for s in skills if s.ok}
        self._timeout_s = timeout_s

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

    async def _invoke(self, skill: LoadedSkill, method_name: str, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> DispatchResult:
        start = time.perf_counter()
        instance = skill.instance
        method = getattr(instance, method_name)
        ctx = getattr(instance, "ctx", None)
        try:
            if inspect.iscoroutinefunction(method):
                result = await asyncio.wait_for(method(ctx, *args, **kwargs), self._timeout_s)
            else:
                run = contextvars.copy_context().run  # the handler sees which conversation it serves
                future = _in_daemon_thread(lambda: run(method, ctx, *args, **kwargs), f"skill-{skill.name}")
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
        if result is None:
            result = Response("")
        response = result if isinstance(result, Response) else Response(str(result))
        return DispatchResult(response, "ok", _ms(start))

    @property
    def skill_names(self) -> list[str]:
        """Names of the skills that loaded and can answer."""
        return sorted(self._skills)

    def close(self) -> None:
        """Nothing to release: abandoned handlers run on in daemon threads and are not waited for."""


def _in_daemon_thread(func: Callable[[], Any], name: str) -> asyncio.Future[Any]:
    """Run a sync handler in its own daemon thread: one that hangs is abandoned and cannot block exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def work() -> None:
        try:
            result, error = func(), None
        except BaseException as err:  # handed to the awaiting coroutine, which logs it
            result, error = None, err
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name=name, daemon=True).start()
    return future


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


class TextSession:
    """Typed conversation without audio (``voicebox intent``): match, dispatch, follow-ups, "repeat that"."""

    def __init__(self, recognizer: IntentRecognizer, dispatcher: Dispatcher, host: Any = None) -> None:
        self._recognizer = recognizer
        self._dispatcher = dispatcher
        self._host = host
        self._awaiting: tuple[str, str] | None = None
        self._confirming: IntentMatch | None = None

    async def answer(self, text: str) -> dict[str, Any]:
        """``{"skill", "intent", "slots", "speech", "matcher", "confidence"}`` for one sentence.

        After a follow-up question, a sentence that matches no intent is the
        answer and goes to the asking skill; one that matches is a new command.
        A match that needs confirming is asked about ("Did you mean ...?",
        ``"confirm": true``); a yes to that runs it, a no drops it.
        """
        pending, self._confirming = self._confirming, None
        if pending is not None and (said := answer_of(text)) is not None:
            if not said:
                return {"skill": None, "intent": None, "slots": {}, "speech": DROPPED, "matcher": None,
                        "confidence": None}
            return await self._run(pending)
        match = self._recognizer.recognize(text, fallback=self._awaiting is None)
        asked, self._awaiting = self._awaiting, None
        if asked is not None and match is None:  # an answer that is no command of its own goes to the asker
            skill, handler = asked
            result = await self._dispatcher.handle_reply(skill, handler, text)
            return self._after({"skill": skill, "intent": handler, "slots": {}, "speech": result.response.speech,
                                "matcher": None, "confidence": None}, result)
        if match is None:
            return {"skill": None, "intent": None, "slots": {}, "speech": NOT_UNDERSTOOD, "matcher": None,
                    "confidence": None}
        if match.confirm:
            self._confirming = match
            return {"skill": match.skill, "intent": match.intent, "slots": match.slots, "speech": question(match),
                    "matcher": match.matcher, "confidence": match.confidence, "confirm": True}
        return await self._run(match)

    async def _run(self, match: IntentMatch) -> dict[str, Any]:
        result = await self._dispatcher.handle(match)
        return self._after({"skill": match.skill, "intent": match.intent, "slots": match.slots,
                            "speech": result.response.speech, "matcher": match.matcher,
                            "confidence": match.confidence}, result)

    def _after(self, out: dict[str, Any], result: DispatchResult) -> dict[str, Any]:
        response = result.response
        if response.expect_reply and response.reply_handler:
            self._awaiting = (str(out["skill"]), response.reply_handler)
        if response.speech and self._host is not None:
            self._host.last_reply = response.speech
        return out
