"""⑤ Intent recognition: transcripts matched against the skills' hassil sentence templates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hassil import Intents, recognize_best
from hassil.recognize import RecognizeResult

from .errors import IntentError
from .skill_loader import LoadedSkill

__all__ = ["IntentMatch", "IntentRecognizer", "normalize_text"]

_WAKE_PREFIX = re.compile(r"^\s*(?:hey[\s,]+)?(?:jarvis|alexa|mycroft|marvin)\b[\s,.!]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class IntentMatch:
    """A matched intent: the skill that owns it and its slot values as plain JSON values."""

    skill: str
    intent: str
    slots: dict[str, Any]
    text: str
    complete: bool


def normalize_text(text: str) -> str:
    """Drop a leading wake phrase and surrounding noise from a transcript."""
    text = _WAKE_PREFIX.sub("", text)
    return text.strip().strip(".!?,;: ")


def _slot_value(value: Any) -> Any:
    if hasattr(value, "value"):
        value = value.value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class IntentRecognizer:
    """Matches text against every loaded skill's templates (compiled once, at start-up)."""

    def __init__(self, skills: Sequence[LoadedSkill]) -> None:
        self._compiled: list[tuple[LoadedSkill, Intents]] = []
        self.errors: dict[str, str] = {}
        for skill in skills:
            if not skill.ok:
                continue
            try:
                self._compiled.append((skill, Intents.from_dict(skill.sentences)))
            except Exception as err:
                self.errors[skill.name] = f"{type(err).__name__}: {err}"
                skill.error = f"sentence templates failed to parse: {err}"

    def _best(self, text: str) -> tuple[LoadedSkill, RecognizeResult] | None:
        best: tuple[LoadedSkill, RecognizeResult] | None = None
        for skill, intents in self._compiled:
            try:
                result = recognize_best(text, intents, language=intents.language)
            except Exception as err:
                raise IntentError(f"matching failed in skill {skill.name}: {err}", code="intent_match") from err
            if result is None:
                continue
            if best is None or _rank(result) > _rank(best[1]):
                best = (skill, result)
        return best

    def recognize(self, text: str) -> IntentMatch | None:
        """The best match for ``text``, or ``None`` when nothing matches."""
        clean = normalize_text(text)
        if not clean:
            return None
        found = self._best(clean)
        if found is None:
            return None
        skill, result = found
        slots = {name: _slot_value(ent.value) for name, ent in result.entities.items()}
        complete = not any(ent.is_wildcard for ent in result.entities.values())
        return IntentMatch(skill.name, result.intent.name, slots, clean, complete)

    def vocabulary(self, limit: int = 60) -> str:
        """Distinct literal words from all templates, for prompting the recognizer."""
        words: dict[str, None] = {}
        for skill, _ in self._compiled:
            for data in skill.sentences.get("intents", {}).values():
                for block in data.get("data", []):
                    for sentence in block.get("sentences", []):
                        for word in re.findall(r"[a-z']{3,}", re.sub(r"\{[^}]*\}|<[^>]*>", " ", sentence.lower())):
                            words.setdefault(word, None)
        return " ".join(list(words)[:limit])


def _rank(result: RecognizeResult) -> tuple[int, int]:
    wildcards = sum(1 for e in result.entities.values() if e.is_wildcard)
    return (-wildcards, result.text_chunks_matched)
