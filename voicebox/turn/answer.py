"""The language model's turn inside the pipeline: route or answer what no skill matched, as a stream to speak."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing

from voicebox.act.dispatch import DispatchResult
from voicebox.act.llm import SKILL_NAME, LlmFallback
from voicebox.core.errors import LlmError, Stage, VoiceboxError
from voicebox.core.events import EventSink, SkillResponded
from voicebox.skill import Response
from voicebox.understand.intent import IntentMatch, IntentRecognizer

__all__ = ["COULD_NOT_ANSWER", "llm_answer", "llm_match", "spoken_parts"]

COULD_NOT_ANSWER = "Sorry, I couldn't answer that."


async def llm_match(llm: LlmFallback, text: str, recognizer: IntentRecognizer, emit: EventSink,
                    report: Callable[[VoiceboxError, Stage], None]) -> IntentMatch | None:
    """With ``[llm] intents``: the intent the model maps ``text`` to (an unsure match), else ``None``."""
    if not llm.config.intents:
        return None
    try:
        return await llm.map_intent(text, recognizer, emit)
    except LlmError as err:
        report(err, Stage.LLM)
        return None


def llm_answer(llm: LlmFallback, text: str, emit: EventSink,
               report: Callable[[VoiceboxError, Stage], None]) -> DispatchResult | None:
    """The model's answer to ``text`` as a result whose sentences stream in; ``None`` when it may not answer."""
    if not llm.config.answer:
        return None

    async def sentences() -> AsyncGenerator[str, None]:
        said: list[str] = []
        try:
            async with aclosing(llm.sentences(text, emit)) as stream:
                async for sentence in stream:
                    said.append(sentence)
                    yield sentence
        except LlmError as err:
            report(err, Stage.LLM)
            if not said:
                said.append(COULD_NOT_ANSWER)
                yield COULD_NOT_ANSWER
        emit(SkillResponded(skill=SKILL_NAME, intent="answer", speech=" ".join(said)))

    return DispatchResult(Response(""), "llm", 0.0, sentences())


async def spoken_parts(text: str | AsyncGenerator[str, None]) -> AsyncGenerator[str, None]:
    """What to say, one part at a time: a whole reply at once, or each sentence of a stream as it comes."""
    if isinstance(text, str):
        yield text
        return
    async with aclosing(text) as parts:  # stopping the reply stops whatever writes the sentences
        async for part in parts:
            yield part
