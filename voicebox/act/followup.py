"""⑥ Follow-up questions: the one place that decides whether a sentence answers a skill's question or is a new command.

After a skill asks something (``Response(expect_reply=True, reply_handler=...)``),
the next sentence that matches no intent is the answer and goes to the asking
skill's reply handler; one that matches an intent is a new command. Every entry
point (the pipeline, ``voicebox intent``, the Wyoming server) keeps one
:class:`FollowUp` per conversation and answers through it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicebox.act.confirm import DROPPED, answer_of, question
from voicebox.act.dispatch import NOT_UNDERSTOOD, Dispatcher, DispatchResult
from voicebox.act.llm import SKILL_NAME as LLM_SKILL
from voicebox.act.llm import LlmFallback
from voicebox.skill import Response
from voicebox.understand.intent import IntentMatch, IntentRecognizer

__all__ = ["Answer", "FollowUp", "TextSession"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What a sentence led to.

    ``kind``: "intent" (a command), "reply" (an answer to a skill's question),
    "confirm" (a "Did you mean ...?" asked about ``match``), "dropped" (a no to
    that question) or "none" (nothing understood).
    """

    kind: str
    skill: str
    intent: str
    result: DispatchResult
    slots: dict[str, Any] = field(default_factory=dict)
    match: IntentMatch | None = None


@dataclass(slots=True)
class FollowUp:
    """One conversation's pending question, if any: a skill's (skill, reply handler), or a "Did you mean ...?"."""

    awaiting: tuple[str, str] | None = None
    confirming: IntentMatch | None = None  # the match a "Did you mean ...?" asked about

    async def answer(self, dispatcher: Dispatcher, match: IntentMatch | None, text: str, *,
                     before: Callable[[IntentMatch], None] | None = None) -> Answer:
        """Dispatch ``match`` (or route ``text`` to the asking skill, or settle a "Did you mean"); remembers a new
        question. ``before`` is called with a match just before its skill runs (to report it first)."""
        asked, self.awaiting = self.awaiting, None
        pending, self.confirming = self.confirming, None
        if pending is not None and (said := answer_of(text)) is not None:
            if not said:
                return Answer("dropped", "", "", DispatchResult(Response(DROPPED), "dropped", 0.0))
            match = dataclasses.replace(pending, confirm=False)  # yes: what was asked about is run
        elif asked is not None and pending is None and match is None:  # no command of its own: to the asker
            skill, handler = asked
            answer = Answer("reply", skill, handler, await dispatcher.handle_reply(skill, handler, text))
            self._remember(answer)
            return answer
        if match is None:
            return Answer("none", "", "", DispatchResult(Response(NOT_UNDERSTOOD), "not_understood", 0.0))
        if match.confirm:  # a middling semantic match: ask, and take the next sentence as the answer
            self.confirming = match
            self.awaiting = (match.skill, f"confirm {match.intent}")  # a new tuple: see unanswered()
            return Answer("confirm", match.skill, match.intent,
                          DispatchResult(Response(question(match)), "confirm", 0.0), dict(match.slots), match)
        if before is not None:
            before(match)
        answer = Answer("intent", match.skill, match.intent, await dispatcher.handle(match), dict(match.slots), match)
        self._remember(answer)
        return answer

    def _remember(self, answer: Answer) -> None:
        response = answer.result.response
        if response.expect_reply and response.reply_handler:
            self.awaiting = (answer.skill, response.reply_handler)

    def unanswered(self, asked: tuple[str, str] | None) -> None:
        """The turn after question ``asked`` heard nothing: the question lapses (unless a new one was asked)."""
        if self.awaiting is asked:
            self.awaiting = None
            self.confirming = None


class TextSession:
    """Typed conversation without audio (``voicebox intent``): match, dispatch, follow-ups, "repeat that", and the
    language model (``[llm]``) for what no sentence matched."""

    def __init__(self, recognizer: IntentRecognizer, dispatcher: Dispatcher, host: Any = None,
                 llm: LlmFallback | None = None) -> None:
        self._recognizer = recognizer
        self._dispatcher = dispatcher
        self._host = host
        self._llm = llm  # answers (or routes) what no sentence matched; None = not configured
        self._follow_up = FollowUp()

    async def answer(self, text: str) -> dict[str, Any]:
        """``{"skill", "intent", "slots", "speech", "matcher", "confidence"}`` for one sentence (see
        :class:`FollowUp`); a "Did you mean ...?" adds ``"confirm": true``."""
        pending = self._follow_up.awaiting is not None
        match = self._recognizer.recognize(text, fallback=not pending)
        llm = self._llm
        if match is None and llm is not None and not pending:
            if llm.config.intents:
                match = await llm.map_intent(text, self._recognizer, lambda event: None)
            if match is None and llm.config.answer:
                speech = await llm.answer(text, lambda event: None)
                self._remember(speech)
                return {"skill": LLM_SKILL, "intent": "answer", "slots": {}, "speech": speech, "matcher": "llm",
                        "confidence": None}
        answer = await self._follow_up.answer(self._dispatcher, match, text)
        speech = answer.result.response.speech
        if answer.kind in ("none", "dropped"):
            return {"skill": None, "intent": None, "slots": {}, "speech": speech, "matcher": None, "confidence": None}
        out = {"skill": answer.skill, "intent": answer.intent, "slots": answer.slots, "speech": speech,
               "matcher": answer.match.matcher if answer.match else None,
               "confidence": answer.match.confidence if answer.match else None}
        if answer.kind == "confirm":
            return {**out, "confirm": True}
        self._remember(speech)
        return out

    def _remember(self, speech: str) -> None:
        if speech and self._host is not None:
            self._host.last_reply = speech
