"""⑥ Follow-up questions: the one place that decides whether a sentence answers a skill's question or is a new command.

After a skill asks something (``Response(expect_reply=True, reply_handler=...)``),
the next sentence that matches no intent is the answer and goes to the asking
skill's reply handler; one that matches an intent is a new command. Every entry
point (the pipeline, ``voicebox intent``, the Wyoming server) keeps one
:class:`FollowUp` per conversation and answers through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voicebox.act.dispatch import NOT_UNDERSTOOD, Dispatcher, DispatchResult
from voicebox.act.llm import SKILL_NAME as LLM_SKILL
from voicebox.act.llm import LlmFallback
from voicebox.skill import Response
from voicebox.understand.intent import IntentMatch, IntentRecognizer

__all__ = ["Answer", "FollowUp", "TextSession"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What a sentence led to: ``kind`` is "intent" (a command), "reply" (an answer to a question) or "none"."""

    kind: str
    skill: str
    intent: str
    result: DispatchResult
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class FollowUp:
    """One conversation's pending question, if any: (skill, reply handler)."""

    awaiting: tuple[str, str] | None = None

    async def answer(self, dispatcher: Dispatcher, match: IntentMatch | None, text: str) -> Answer:
        """Dispatch ``match`` (or route ``text`` to the asking skill); remembers a new question."""
        asked, self.awaiting = self.awaiting, None
        if asked is not None and match is None:  # an answer that is no command of its own goes to the asker
            skill, handler = asked
            answer = Answer("reply", skill, handler, await dispatcher.handle_reply(skill, handler, text))
        elif match is None:
            return Answer("none", "", "", DispatchResult(Response(NOT_UNDERSTOOD), "not_understood", 0.0))
        else:
            answer = Answer("intent", match.skill, match.intent, await dispatcher.handle(match), dict(match.slots))
        response = answer.result.response
        if response.expect_reply and response.reply_handler:
            self.awaiting = (answer.skill, response.reply_handler)
        return answer

    def unanswered(self, asked: tuple[str, str] | None) -> None:
        """The turn after question ``asked`` heard nothing: the question lapses (unless a new one was asked)."""
        if self.awaiting is asked:
            self.awaiting = None


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
        """``{"skill", "intent", "slots", "speech"}`` for one sentence (see :class:`FollowUp`)."""
        match = self._recognizer.recognize(text)
        llm = self._llm
        if match is None and llm is not None and self._follow_up.awaiting is None:
            if llm.config.intents:
                match = await llm.map_intent(text, self._recognizer, lambda event: None)
            if match is None and llm.config.answer:
                speech = await llm.answer(text, lambda event: None)
                self._remember(speech)
                return {"skill": LLM_SKILL, "intent": "answer", "slots": {}, "speech": speech}
        answer = await self._follow_up.answer(self._dispatcher, match, text)
        if answer.kind == "none":
            return {"skill": None, "intent": None, "slots": {}, "speech": NOT_UNDERSTOOD}
        speech = answer.result.response.speech
        self._remember(speech)
        return {"skill": answer.skill, "intent": answer.intent, "slots": answer.slots, "speech": speech}

    def _remember(self, speech: str) -> None:
        if speech and self._host is not None:
            self._host.last_reply = speech
