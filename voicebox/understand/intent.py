"""⑤ Intent recognition: transcripts matched against the skills' hassil sentence templates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from hassil import Intents, recognize_all, recognize_best
from hassil.recognize import RecognizeResult

from voicebox.core.errors import CODE_INTENT_MATCH, IntentError
from voicebox.understand.near_match import NearMatcher
from voicebox.understand.normalize import normalize_text, variants
from voicebox.understand.slots import COMMON_SENTENCES, parse_number, typed_slots

__all__ = ["FallbackMatcher", "IntentMatch", "IntentRecognizer", "TemplateSkill", "compile_sentences", "normalize_text"]

@dataclass(frozen=True, slots=True)
class IntentMatch:
    """A matched intent: the skill that owns it, slot values as plain JSON (``slots``) and typed (``values``).

    A near match (``heard`` set) was taken for the template sentence ``text``
    although the transcript was ``heard``; it is never ``complete``.
    ``matcher`` says what found it (``template``, ``near``, ``semantic``) with
    what ``confidence`` (0..1); ``confirm`` asks the user first ("Did you mean:
    ``meaning``?", the intent and its slots in the words of a template).
    """

    skill: str
    intent: str
    slots: dict[str, Any]
    text: str
    complete: bool
    values: dict[str, Any] = field(default_factory=dict)
    heard: str = ""
    matcher: str = "template"
    confidence: float = 1.0
    confirm: bool = False
    meaning: str = ""


def compile_sentences(sentences: dict[str, Any]) -> Intents:
    """A skill's sentences with the shared rules (``<duration>``) merged in, compiled by hassil."""
    data = dict(sentences)
    for section in ("lists", "expansion_rules"):
        data[section] = {**COMMON_SENTENCES[section], **(sentences.get(section) or {})}
    intents = Intents.from_dict(data)
    for intent in intents.intents.values():  # hassil parses templates lazily: parse them now, once
        for block in intent.data:
            _ = block.sentences
    return intents


def _slot_value(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


class FallbackMatcher(Protocol):
    """What matches when no template does (the semantic matcher)."""

    def match(self, text: str) -> IntentMatch | None:
        """The match for ``text``, or ``None``."""

    def best_of(self, texts: Sequence[str]) -> tuple[int, IntentMatch] | None:
        """The most confident match among ``texts`` (looks at one command) and its index, or ``None``."""


class TemplateSkill(Protocol):
    """What matching needs of a loaded skill: its name, its hassil sentences, and where to record a parse error."""

    name: str
    sentences: dict[str, Any]
    error: str

    @property
    def ok(self) -> bool:
        """The skill loaded without error."""


class IntentRecognizer:
    """Matches text against every loaded skill's templates (compiled once, at start-up).

    With ``near_match`` it can also take a transcript that matches nothing
    for the closest template sentence (:meth:`recognize_near`).
    """

    def __init__(self, skills: Sequence[TemplateSkill], *, near_match: bool = False) -> None:
        self._compiled: list[tuple[TemplateSkill, Intents]] = []
        self.errors: dict[str, str] = {}
        for skill in skills:
            if not skill.ok:
                continue
            try:
                self._compiled.append((skill, compile_sentences(skill.sentences)))
            except Exception as err:
                self.errors[skill.name] = f"{type(err).__name__}: {err}"
                skill.error = f"sentence templates failed to parse: {err}"
        # Wildcard lists marked ``number: true`` take only what reads as a number ("what's my ip address" is no sum).
        self._numbers = {s.name: {name for name, spec in (s.sentences.get("lists") or {}).items()
                                  if isinstance(spec, dict) and spec.get("wildcard") and spec.get("number")}
                         for s, _ in self._compiled}
        # What matches when no template does (the semantic matcher; see daemon.assistant.load_skill_set).
        self.fallback: FallbackMatcher | None = None
        self._near = NearMatcher([(s.name, i) for s, i in self._compiled]) if near_match else None

    def _best(self, text: str) -> tuple[TemplateSkill, RecognizeResult] | None:
        best: tuple[TemplateSkill, RecognizeResult] | None = None
        for skill, intents in self._compiled:
            try:
                result = self._recognize_skill(skill.name, text, intents)
            except Exception as err:
                raise IntentError(f"matching failed in skill {skill.name}: {err}", code=CODE_INTENT_MATCH) from err
            if result is None:
                continue
            if best is None or _rank(result) > _rank(best[1]):
                best = (skill, result)
        return best

    def _recognize_skill(self, name: str, text: str, intents: Intents) -> RecognizeResult | None:
        numbers = self._numbers.get(name, set())
        best = recognize_best(text, intents, language=intents.language)
        if best is None or (_valid(best, text, numbers) and not any(e.is_wildcard for e in best.entities.values())):
            return best
        valid = [r for r in recognize_all(text, intents, language=intents.language) if _valid(r, text, numbers)]
        return max(valid, key=_rank, default=None)

    def recognize(self, text: str, *, fallback: bool = True) -> IntentMatch | None:
        """The best match for ``text``, or ``None`` when nothing matches.

        Templates first; when none matches, the :attr:`fallback` matcher (unless
        ``fallback`` is false: an answer to a question is no time for guessing).

        The forms of :func:`~voicebox.understand.normalize.variants` are tried
        in order; the first complete match wins, and among matches with
        wildcards the last (most stripped) one, so that "please" is no part of
        a wildcard's value.
        """
        last: IntentMatch | None = None
        for clean in variants(text):
            found = self._best(clean)
            if found is not None:
                last = self._match(clean, *found)
                if last.complete:
                    return last
        if last is None and fallback and self.fallback is not None and normalize_text(text):
            return self.fallback.match(text)
        return last

    def _match(self, clean: str, skill: TemplateSkill, result: RecognizeResult) -> IntentMatch:
        slots, values = typed_slots({name: _slot_value(ent.value) for name, ent in result.entities.items()})
        complete = not any(ent.is_wildcard for ent in result.entities.values())
        return IntentMatch(skill.name, result.intent.name, slots, clean, complete, values)

    def recognize_semantic(self, texts: Sequence[str]) -> tuple[int, IntentMatch] | None:
        """The most confident :attr:`fallback` match among ``texts`` (transcripts of one command) and its index."""
        if self.fallback is None:
            return None
        return self.fallback.best_of([t if normalize_text(t) else "" for t in texts])

    def recognize_near(self, texts: Sequence[str]) -> tuple[int, IntentMatch] | None:
        """The closest near match among ``texts`` (transcripts of one command) and the index of the one it came from.

        Each transcript's closest template sentences (see :mod:`voicebox.understand.near_match`)
        go through :meth:`recognize`, so slots are checked as usual; ``None``
        when near matching is off or nothing is close enough.
        """
        if self._near is None:
            return None
        best: tuple[float, int, IntentMatch] | None = None
        for index, text in enumerate(texts):
            clean = normalize_text(text)
            for _, near in self._near.candidates(clean):
                match = self.recognize(near.sentence)
                if match is None:
                    continue
                if best is None or near.closeness < best[0]:
                    best = (near.closeness, index, replace(match, complete=False, heard=clean, matcher="near"))
                break
        return None if best is None else (best[1], best[2])

    def intent_examples(self, per_intent: int = 2) -> dict[str, list[str]]:
        """A few example sentences of every intent, keyed ``skill.intent`` ("{name}" where a value goes)."""
        from hassil.sample import sample_intents  # lazily: only the language model's intent mapping needs it

        examples: dict[str, list[str]] = {}
        for skill, intents in self._compiled:
            for name, text in sample_intents(intents, max_sentences_per_intent=per_intent, expand_ranges=False,
                                             exclude_sentences_with_wildcards=False, language=intents.language):
                examples.setdefault(f"{skill.name}.{name}", []).append(" ".join(text.split()))
        return examples

    def vocabulary(self, limit: int = 60) -> str:
        """Distinct words of the skills' templates and lists, for prompting the recognizer (at most ``limit``).

        A plain word list: Whisper reads the prompt as the text said just
        before, and example sentences make it repeat their phrasing (or loop),
        while a word list only raises the odds of these words. Words are taken
        from each intent in turn, so every intent is represented before the
        limit cuts the list.
        """
        per_intent: list[list[str]] = []
        for skill, _ in self._compiled:
            lists = skill.sentences.get("lists", {})
            for data in skill.sentences.get("intents", {}).values():
                words: dict[str, None] = {}
                for block in data.get("data", []):
                    for sentence in block.get("sentences", []):
                        for name in re.findall(r"\{([^}:]+)", sentence):
                            for value in (lists.get(name) or {}).get("values", []) if isinstance(lists, dict) else []:
                                text = value.get("in", "") if isinstance(value, dict) else str(value)
                                words.update(dict.fromkeys(_words(text)))
                        words.update(dict.fromkeys(_words(re.sub(r"\{[^}]*\}|<[^>]*>", " ", sentence))))
                per_intent.append(list(words))
        chosen: dict[str, None] = {}
        for round_ in range(max((len(w) for w in per_intent), default=0)):
            for words_ in per_intent:
                if round_ < len(words_) and len(chosen) < limit:
                    chosen.setdefault(words_[round_], None)
        return " ".join(chosen)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']{3,}", text.lower())


def _valid(result: RecognizeResult, text: str, numbers: set[str]) -> bool:
    """Wildcards hold whole words ("playlist" is no "play" list) and number-only ones a number."""
    for name, entity in result.entities.items():
        if not entity.is_wildcard:
            continue
        value = str(_slot_value(entity.value)).strip()
        if name in numbers and parse_number(value) is None:
            return False
        if value and not re.search(rf"(?<![\w']){re.escape(value)}(?![\w'])", text, re.IGNORECASE):
            return False
    return True


def _rank(result: RecognizeResult) -> tuple[int, int, int]:
    """Fewest words taken by wildcards first ("check off {item}" must not swallow "... from my shopping list"
    where "... off {item} from [my] {list_name} list" fits), then fewest wildcards, then most literal text."""
    wild = [e for e in result.entities.values() if e.is_wildcard]
    words = sum(len(str(e.text or e.value).split()) for e in wild)
    return (-words, -len(wild), result.text_chunks_matched)
