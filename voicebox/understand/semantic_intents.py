"""The semantic fallback as an intent matcher: nearest intent, a check that every word is accounted for, then slots.

A guess from :class:`~voicebox.understand.semantic.SemanticMatcher` becomes an
:class:`~voicebox.understand.intent.IntentMatch` (``matcher="semantic"``) when

* every slot the intent needs is found (:func:`~voicebox.understand.slot_fill.fill_slots`), and
* its confidence reaches :data:`~voicebox.understand.semantic.CONFIRM`; below
  :data:`~voicebox.understand.semantic.ACCEPT`, or too close to the next
  intent, it asks first (``confirm``). Content words the skill's sentences do
  not know (other than inside a found slot) lower the confidence: "turn on the
  tv" is not "turn it up".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voicebox.understand.intent import IntentMatch, TemplateSkill, compile_sentences
from voicebox.understand.normalize import expand_contractions
from voicebox.understand.out_of_scope import OUT_OF_SCOPE
from voicebox.understand.sampling import EXAMPLES, MASKS, describe, slot_names
from voicebox.understand.semantic import (
    ACCEPT,
    CONFIRM,
    MIN_MARGIN,
    SPECULATE,
    SemanticGuess,
    SemanticMatcher,
    SentenceEmbedder,
    confidence_of,
    utterance_form,
)
from voicebox.understand.slot_fill import NUMBER_WORDS, fill_slots
from voicebox.understand.slots import COMMON_SENTENCES, Duration, parse_duration

__all__ = ["SemanticIntents"]

# Example durations for sampling (the shared <duration> rule expands to millions of sentences).
_EXAMPLE_DURATION = "(five minutes|ten minutes|an hour|thirty seconds|two minutes|half an hour|ninety seconds|3 minutes)"
# Words that carry no request of their own: they never make an utterance "unknown".
_FUNCTION_WORDS = frozenset("""
a an the this that these those it its it's i i'm me my mine we us our you your yours he she they them their
is are was were be been being am do does did doing have has had having will would can could shall should may might
must to of in on at by for with from up down out off over under again about into onto than then so and or but if
not no yes yeah ok okay please thanks thank just now right also too very really some any all more most much many
what what's whats which who whom whose when where why how there here there's let let's go going get got gonna
one ones thing things something anything everything bit little lot kind sort like want need know tell say
""".split())  # noqa: SIM905 - a word list reads better as text
_WORD = re.compile(r"[a-z][a-z']*")
# Words that make what follows a thing ("the tv", "my calendar"): an unknown thing points to what no skill here does.
_DETERMINERS = frozenset("the a an my your this that these those some his her our their".split())  # noqa: SIM905 - a word list reads better as text


def unknown_things(text: str, unknown: Sequence[str]) -> int:
    """How many of the ``unknown`` words of ``text`` come within two words after a determiner."""
    words = _WORD.findall(text.lower())
    return sum(any(w == word and _DETERMINERS & set(words[max(0, i - 2):i]) for i, w in enumerate(words))
               for word in unknown)


def _skill_words(sentences: dict[str, Any]) -> set[str]:
    """Every word in a skill's templates, lists and rules, and the shared duration words."""
    words: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            words.update(_WORD.findall(value.lower()))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(sentences.get("intents"))
    walk(sentences.get("lists"))
    walk(sentences.get("expansion_rules"))
    walk(COMMON_SENTENCES)
    for examples in EXAMPLES.values():
        walk(list(examples))
    return {w for w in words if len(w) > 1} | {expand_contractions(w) for w in words} | NUMBER_WORDS


class SemanticIntents:
    """Semantic matching over ``skills``; :meth:`match` gives an intent match or ``None``."""

    def __init__(self, skills: Sequence[TemplateSkill], embedder: SentenceEmbedder, *,
                 cache_dir: Path | None = None) -> None:
        self._skills = {s.name: s for s in skills if s.ok}
        compiled = []
        for skill in self._skills.values():
            rules = {**(skill.sentences.get("expansion_rules") or {}), "duration": _EXAMPLE_DURATION}
            compiled.append((skill.name, compile_sentences({**skill.sentences, "expansion_rules": rules})))
        self._compiled = dict(compiled)
        self.matcher = SemanticMatcher(compiled, embedder, cache_dir=cache_dir, outside=OUT_OF_SCOPE)
        self._words = {name: _skill_words(s.sentences) for name, s in self._skills.items()}
        self._slots = {(name, intent): slot_names(s.sentences, intent)
                       for name, s in self._skills.items() for intent in (s.sentences.get("intents") or {})}
        self._timed = {name for (name, _), (used, _) in self._slots.items() if "duration" in used}

    def unknown_words(self, skill: str, text: str, slots: dict[str, Any]) -> list[str]:
        """Content words of ``text`` that neither ``skill``'s sentences nor the found slot values explain."""
        inside = set(_WORD.findall(" ".join(str(v) for v in slots.values() if isinstance(v, str)).lower()))
        known = self._words.get(skill, set())
        return [w for w in _WORD.findall(text.lower())
                if w not in known and w not in _FUNCTION_WORDS and w not in inside and len(w) > 1
                and expand_contractions(w).split()[0] not in _FUNCTION_WORDS]

    def match(self, text: str) -> IntentMatch | None:
        """The semantic match for ``text``: acted on, asked about (``confirm``), or ``None``."""
        found = self.best_of([text])
        return None if found is None else found[1]

    def best_of(self, texts: Sequence[str]) -> tuple[int, IntentMatch] | None:
        """The most confident match among ``texts`` (transcripts of one command, embedded in one batch) and its index.

        Besides each utterance itself, its forms with a likely list item
        replaced by the examples' own item (:data:`~voicebox.understand.sampling.MASKS`)
        are compared; such a form only counts for the intents that found that item.
        """
        forms = [utterance_form(t) if t.strip() else "" for t in texts]
        queries: list[tuple[str, str, set[tuple[str, str]] | None]] = []  # (form, what is embedded, for which intents)
        for form in dict.fromkeys(f for f in forms if f):  # the same transcript twice is looked at once
            queries.append((form, form, None))
            queries += [(form, masked, intents) for masked, intents in self._masked(form).items()]
        best: tuple[str, IntentMatch] | None = None
        for (form, _, intents), guess in zip(queries, self.matcher.guesses([q[1] for q in queries]), strict=True):
            if guess is None or (intents is not None and (guess.skill, guess.intent) not in intents):
                continue
            match = self.accept(guess, form)
            if match is not None and (best is None or match.confidence > best[1].confidence):
                best = (form, match)
        return None if best is None else (forms.index(best[0]), best[1])

    def _masked(self, form: str) -> dict[str, set[tuple[str, str]]]:
        """Forms of ``form`` with a found mask slot's value replaced, each with the intents that found it."""
        out: dict[str, set[tuple[str, str]]] = {}
        for (skill, intent), (used, required) in self._slots.items():
            if not set(MASKS) & used:
                continue
            filled = fill_slots(form, used, required, self._skills[skill].sentences.get("lists") or {})
            if filled is None:
                continue
            text = form
            for slot, (stand_in, context) in MASKS.items():
                value = filled[0].get(slot)
                if isinstance(value, str) and value and value != stand_in and re.search(context, form):
                    text = re.sub(rf"\b{re.escape(value)}\b", stand_in, text, count=1)
            if text != form:
                out.setdefault(text, set()).add((skill, intent))
        return out

    def accept(self, guess: SemanticGuess, form: str) -> IntentMatch | None:
        """The guess as a match for the utterance ``form`` if its slots are found and its confidence suffices."""
        skill = self._skills[guess.skill]
        used, required = self._slots[(guess.skill, guess.intent)]
        filled = fill_slots(form, used, required, skill.sentences.get("lists") or {})
        if filled is None:
            return None
        plain, typed = filled
        unknown = self.unknown_words(guess.skill, form, plain)
        confidence = confidence_of(guess.score, guess.margin, len(unknown), unknown_things(form, unknown))
        if confidence < CONFIRM:
            return None
        # One word ("pause", "resume") says too little to act on without asking: pause what?
        # A length said to an intent of a skill that takes lengths elsewhere, which this one would ignore ("kick off a
        # 12 minute timer" taken for "resume the timer"): a sibling was likely meant.
        ignored = guess.skill in self._timed and "duration" not in used and parse_duration(form) is not None
        confirm = confidence < ACCEPT or (guess.margin < MIN_MARGIN and not guess.decided) or len(form.split()) < 2 \
            or ignored
        wildcards = any(isinstance((skill.sentences.get("lists") or {}).get(n), dict)
                        and (skill.sentences["lists"][n].get("wildcard")) for n in plain)
        # Complete (the endpointer may end the command on it) only when sure and plainly finished: "what time" or
        # "set a timer for" may be the start of a longer command that is still being said.
        words = form.split()
        finished = confidence >= SPECULATE and len(words) >= 3 and words[-1] not in _FUNCTION_WORDS
        meaning = ""
        if confirm:
            said = {k: v.spoken() if isinstance(v, Duration) else v for k, v in typed.items()}
            meaning = describe(self._compiled[guess.skill], guess.intent, said, form) or guess.example
        return IntentMatch(guess.skill, guess.intent, plain, form, not confirm and not wildcards and finished, typed,
                           matcher="semantic", confidence=round(confidence, 3), confirm=confirm, meaning=meaning)
