"""⑥ The language model's part of a turn: answer what no skill matched, short, streamed sentence by sentence.

It only ever sees commands no skill took, it cannot act (so a sentence in
which it claims to have done something is dropped), and its answer is cut at
``[llm] max_words``. The model writes on its own thread while the voice says
the first sentences; stopping the consumer (barge-in, "stop") stops the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Protocol

from voicebox.core.config_sections import LlmConfig
from voicebox.core.errors import CODE_LLM_ENGINE, CODE_LLM_TIMEOUT, LlmError, VoiceboxError
from voicebox.core.events import EventSink, LlmAnswer, LlmStarted
from voicebox.understand.intent import IntentMatch, IntentRecognizer
from voicebox.understand.language import LanguageModel, Prompt, intent_prompt, parse_intent

__all__ = ["NO_ANSWER", "LlmFallback", "SentenceSplitter", "claims_action"]

NO_ANSWER = "Sorry, I don't know that one."
SKILL_NAME = "llm"  # what ``skill`` says for an answer of the model (``voicebox intent --json``)
# "I've set a timer", "Okay, I turned on the lights", "Done!": the model has no hands, no skill did it.
_CLAIM = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|sure|alright|all right|done|there you go)\b[\s,.!]*)*"
    r"(?:i(?:'ve| have| just)?\s+(?:\w+\s+)?(?:set|turned|started|stopped|added|created|scheduled|sent|called|"
    r"played|opened|booked|ordered|switched|changed|saved|removed|deleted|cancelled|canceled|reminded|put)\b"
    r"|(?:it'?s|it is|that'?s|that is)\s+(?:done|set)\b|done\b)",
    re.IGNORECASE)


class SentenceSplitter(Protocol):
    """Cuts streamed text into sentences (the speaking layer's ``SentenceBuffer``, handed in by whoever builds this)."""

    def add(self, text: str) -> list[str]:
        """Append a chunk; returns the sentences it completed."""
        ...

    def finish(self) -> str:
        """Whatever is left at the end."""
        ...


def claims_action(sentence: str) -> bool:
    """Whether ``sentence`` says the assistant did something ("I've set a timer for you")."""
    return _CLAIM.search(sentence) is not None


@dataclass(slots=True)
class _Run:
    """One generation's figures, for the ``llm_answer`` event."""

    start: float = field(default_factory=time.perf_counter)
    first: float | None = None
    last: float | None = None
    tokens: int = 0
    text: list[str] = field(default_factory=list)

    def token(self, piece: str) -> None:
        now = time.perf_counter()
        self.first = now if self.first is None else self.first
        self.last = now
        self.tokens += 1
        self.text.append(piece)

    def event(self, model: str, task: str, stopped: bool) -> LlmAnswer:
        first_ms = None if self.first is None else round((self.first - self.start) * 1000, 1)
        rate = None
        if self.first is not None and self.last is not None and self.tokens > 1 and self.last > self.first:
            rate = round((self.tokens - 1) / (self.last - self.first), 1)
        return LlmAnswer(model=model, task=task, text="".join(self.text).strip(), first_token_ms=first_ms,
                         tokens=self.tokens, tokens_per_s=rate,
                         compute_ms=round((time.perf_counter() - self.start) * 1000, 1), stopped=stopped)


class LlmFallback:
    """Answers (and, with ``[llm] intents``, routes) what no skill matched, with one language model.

    One generation at a time: the model's own threads are the CPU it may use.
    """

    def __init__(self, model: LanguageModel, config: LlmConfig, splitter: Callable[[], SentenceSplitter]) -> None:
        self.model = model
        self.config = config
        self._splitter = splitter
        self._busy = asyncio.Lock()
        self._examples: dict[str, list[str]] | None = None

    def question(self, text: str) -> Prompt:
        """The request for an answer to ``text`` (room for ``max_words`` words, and a little more to end well)."""
        return Prompt(system=self.config.system_prompt, user=text, max_tokens=self.config.max_words * 2 + 16)

    async def sentences(self, text: str, emit: EventSink) -> AsyncGenerator[str, None]:
        """The spoken answer to ``text``, sentence by sentence, as the model writes it.

        Raises :class:`LlmError` when the model fails or says nothing in
        ``[llm] timeout_s``; stops the model when the caller stops reading.
        """
        words = 0
        said = False
        buffer = self._splitter()
        async with self._busy:
            emit(LlmStarted(model=self.model.name, task="answer"))
            run = _Run()
            stopped = True
            try:
                async with aclosing(self._pieces(self.question(text), run)) as pieces:
                    async for piece in pieces:
                        for sentence in buffer.add(piece):
                            out = self._fit(sentence, words)
                            if out is None:
                                return
                            if out:
                                words += len(out.split())
                                said = True
                                yield out
                last = self._fit(buffer.finish(), words)
                if last:
                    said = True
                    yield last
                if not said:
                    yield NO_ANSWER
                stopped = False
            finally:
                emit(run.event(self.model.name, "answer", stopped))

    def _fit(self, sentence: str, words: int) -> str | None:
        """``sentence`` as it may be said after ``words`` words: "" to skip it (empty, or a claim to have done
        something), ``None`` when the answer is over (``max_words`` reached: a first sentence is cut, a later one
        left out)."""
        sentence = sentence.strip()
        if not sentence or claims_action(sentence) or not re.search(r"\w", sentence):
            return ""
        room = self.config.max_words - words
        parts = sentence.split()
        if len(parts) <= room:
            return sentence
        if words > 0:
            return None
        return " ".join(parts[:room]).rstrip(",;:") + "."

    async def answer(self, text: str, emit: EventSink) -> str:
        """The whole answer to ``text`` (``voicebox intent``)."""
        return " ".join([s async for s in self.sentences(text, emit)])

    async def map_intent(self, text: str, recognizer: IntentRecognizer, emit: EventSink) -> IntentMatch | None:
        """The skill intent the model takes ``text`` for, checked by the templates (unsure), or ``None``."""
        if self._examples is None:
            self._examples = recognizer.intent_examples(per_intent=1)  # the prompt's length is the cost
        prompt = intent_prompt(text, self._examples)
        async with self._busy:
            emit(LlmStarted(model=self.model.name, task="intent"))
            run = _Run()
            try:
                async with aclosing(self._pieces(prompt, run)) as pieces:
                    async for _ in pieces:
                        pass
            except LlmError:
                emit(run.event(self.model.name, "intent", True))
                raise
        emit(run.event(self.model.name, "intent", False))
        return parse_intent("".join(run.text), text, recognizer)

    async def _pieces(self, prompt: Prompt, run: _Run) -> AsyncGenerator[str, None]:
        """The model's text pieces, from its own thread; stopped when the caller stops or the timeout passes."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        stop = threading.Event()

        def put(item: str | BaseException | None) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody reads any more
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def produce() -> None:
            pieces: Iterator[str] = iter(())
            try:
                pieces = self.model.stream(prompt, stop)
                for piece in pieces:
                    put(piece)
                    if stop.is_set():
                        break
                put(None)
            except VoiceboxError as err:
                put(err)
            except Exception as err:  # an engine's own failure: named, and the turn goes on
                put(LlmError(f"the language model {self.model.name} failed: {type(err).__name__}: {err}",
                             code=CODE_LLM_ENGINE))
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()

        thread = threading.Thread(target=produce, name="llm", daemon=True)
        thread.start()
        deadline = loop.time() + self.config.timeout_s
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    if run.tokens == 0:
                        raise LlmError(f"the language model {self.model.name} gave no answer in "
                                       f"{self.config.timeout_s:g} s ([llm] timeout_s)", code=CODE_LLM_TIMEOUT) from None
                    return  # what it wrote in time is the answer
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                run.token(item)
                yield item
        finally:
            stop.set()
