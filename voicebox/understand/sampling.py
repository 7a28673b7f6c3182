"""Example sentences drawn at random from hassil templates: what the semantic matcher compares an utterance with.

Full expansion explodes (every duration times every alternative), and the
first sentences of a full expansion all share a prefix, so each template is
sampled at random, with a fixed seed (the same skills give the same sentences,
which keeps the embedding cache valid). Wildcards become example words
(:data:`EXAMPLES`, by slot name), ranges a number in range.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from hassil import Intents
from hassil.expression import Alternative, Expression, ListReference, Permutation, RuleReference, Sequence, TextChunk
from hassil.intents import RangeSlotList, TextSlotList, WildcardSlotList

__all__ = ["EXAMPLES", "MASKS", "describe", "intent_words", "sample_intent_sentences", "slot_names"]

# Words that stand in for a wildcard slot in example sentences. A list item is always "something": the embedding model
# weighs nouns heavily ("put carrots on the list" is nearer to "what's on the list" than to "put milk on the list"),
# so examples say "something" and the semantic matcher also tries the utterance with its likely item replaced by it
# (MASKS: the stand-in, and
# what the utterance must say for that: an item is only guessed at in a sentence that names a list).
MASKS: dict[str, tuple[str, str]] = {"item": ("something", r"\blists?\b")}
EXAMPLES: dict[str, tuple[str, ...]] = {
    "item": ("something",),
    "list_name": ("shopping", "grocery", "to do"),
    "name": ("pizza", "pasta", "tea", "laundry", "kitchen"),
    "a": ("seven", "12", "two hundred", "4.5"),
    "b": ("three", "9", "forty", "8"),
}
_GENERIC = ("something", "this")


_MISSING = "\x00"  # a slot with no value in a description: such a rendering is thrown away


def _render(expr: Expression, intents: Intents, rng: random.Random, depth: int = 0,
            fixed: Mapping[str, Any] | None = None) -> str:
    if depth > 30:
        return ""
    if fixed is not None:
        return _render_fixed(expr, intents, rng, depth, fixed)
    if isinstance(expr, TextChunk):
        return expr.original_text if expr.original_text is not None else expr.text
    if isinstance(expr, Alternative):
        return _render(rng.choice(expr.items), intents, rng, depth + 1) if expr.items else ""
    if isinstance(expr, Permutation):
        items = list(expr.items)
        rng.shuffle(items)
        return " ".join(_render(i, intents, rng, depth + 1) for i in items)
    if isinstance(expr, Sequence):
        return "".join(_render(i, intents, rng, depth + 1) for i in expr.items)
    if isinstance(expr, RuleReference):
        rule = intents.expansion_rules.get(expr.rule_name)
        return _render(rule.expression, intents, rng, depth + 1) if rule is not None else ""
    if isinstance(expr, ListReference):
        slot_list = intents.slot_lists.get(expr.list_name)
        if isinstance(slot_list, TextSlotList) and slot_list.values:
            return _render(rng.choice(slot_list.values).text_in, intents, rng, depth + 1)
        if isinstance(slot_list, RangeSlotList):
            step = max(1, slot_list.step)
            return str(rng.randrange(slot_list.start, slot_list.stop + 1, step))
        if isinstance(slot_list, WildcardSlotList) or slot_list is None:
            return rng.choice(EXAMPLES.get(expr.slot_name, _GENERIC))
    return ""


def _render_fixed(expr: Expression, intents: Intents, rng: random.Random, depth: int, fixed: Mapping[str, Any]) -> str:
    """Like :func:`_render`, but the first choice of every alternative (an optional part only when its slots are in
    ``fixed``), and slots take the values in ``fixed`` (text, or a list value's output)."""
    def again(item: Expression) -> str:
        return _render(item, intents, rng, depth + 1, fixed)
    if isinstance(expr, Alternative):
        for item in expr.items:
            text = again(item)
            if _MISSING not in text:
                return text
        return _MISSING
    if isinstance(expr, Permutation | Sequence):
        joiner = " " if isinstance(expr, Permutation) else ""
        return joiner.join(again(i) for i in expr.items)
    if isinstance(expr, RuleReference):
        if expr.rule_name in fixed:
            return str(fixed[expr.rule_name])
        if expr.rule_name == "duration":  # the shared rule stands for a slot
            return _MISSING
        rule = intents.expansion_rules.get(expr.rule_name)
        return again(rule.expression) if rule is not None else ""
    if isinstance(expr, ListReference):
        if expr.slot_name not in fixed:
            return _MISSING
        value = fixed[expr.slot_name]
        slot_list = intents.slot_lists.get(expr.list_name)
        if isinstance(slot_list, TextSlotList):
            said = [v.text_in for v in slot_list.values if v.value_out == value]
            return again(said[0]) if said else _MISSING
        return str(value)
    return _render(expr, intents, rng, depth + 1)


def describe(intents: Intents, intent: str, slots: Mapping[str, Any], heard: str = "") -> str:
    """A sentence of ``intent``'s templates that says exactly ``slots`` (values as text), or ``""``.

    Of the templates that can, the one sharing most words with what was
    ``heard`` (then the shortest): the question then sounds like the user.
    """
    rng = random.Random(0)
    data = intents.intents.get(intent)
    heard_words = set(heard.lower().split())
    best: tuple[float, int, str] | None = None
    for block in data.data if data is not None else []:
        if any(slots.get(k, v) != v for k, v in (block.slots or {}).items()):
            continue  # a block whose fixed slots say something else ("multiply" when the sum was meant)
        for sentence in block.sentences:
            text = " ".join(_render(sentence.expression, intents, rng, fixed=slots).split())
            said_all = all(v.lower() in text.lower() for k, v in slots.items()
                           if isinstance(v, str) and any(c.isalnum() for c in v) and k not in (block.slots or {}))
            if text and _MISSING not in text and said_all:
                words = set(text.lower().split())
                key = (-len(words & heard_words) / max(1, len(words | heard_words)), len(text), text)
                best = key if best is None or key < best else best
    return best[2] if best is not None else ""


def sample_intent_sentences(intents: Intents, per_template: int = 12, seed: int = 7) -> dict[str, list[str]]:
    """Up to ``per_template`` distinct example sentences of each template, per intent name (lower case)."""
    rng = random.Random(seed)
    found: dict[str, list[str]] = {}
    for name, intent in intents.intents.items():
        seen: dict[str, None] = {}
        for block in intent.data:
            for sentence in block.sentences:
                mine: dict[str, None] = {}
                for _ in range(per_template * 4):
                    text = " ".join(_render(sentence.expression, intents, rng).lower().split())
                    if text:
                        mine.setdefault(text, None)
                    if len(mine) >= per_template:
                        break
                seen.update(mine)
        found[name] = list(seen)
    return found


def intent_words(intents: Intents) -> dict[str, set[str]]:
    """The words each intent's templates spell out (their rules included, slot values and ``<duration>`` not)."""
    def walk(expr: Expression, words: set[str], depth: int) -> None:
        if isinstance(expr, TextChunk):
            words.update(re.findall(r"[a-z][a-z']*", (expr.original_text or expr.text).lower()))
        elif isinstance(expr, Alternative | Permutation | Sequence) and depth < 30:
            for item in expr.items:
                walk(item, words, depth + 1)
        elif isinstance(expr, RuleReference) and expr.rule_name != "duration" and depth < 30:
            rule = intents.expansion_rules.get(expr.rule_name)
            if rule is not None:
                walk(rule.expression, words, depth + 1)

    found: dict[str, set[str]] = {}
    for name, intent in intents.intents.items():
        found[name] = set()
        for block in intent.data:
            for sentence in block.sentences:
                walk(sentence.expression, found[name], 0)
    return found


def slot_names(sentences: Mapping[str, Any], intent: str) -> tuple[set[str], set[str]]:
    """The slots an intent's templates use, and those every template needs (``<duration>`` counts as ``duration``)."""
    data = (sentences.get("intents") or {}).get(intent) or {}
    used: set[str] = set()
    required: set[str] | None = None
    for block in data.get("data", []):
        fixed = set((block.get("slots") or {}).keys())
        for text in block.get("sentences", []):
            names = _names(text, sentences) | fixed
            needed = _names(_drop_optional(text), sentences) | fixed
            used |= names
            required = needed if required is None else required & needed
    return used, required or set()


def _names(text: str, sentences: Mapping[str, Any], depth: int = 0) -> set[str]:
    names = {m.split(":")[-1] for m in re.findall(r"\{([^}]+)\}", text)}
    for rule in re.findall(r"<([^>]+)>", text):
        if rule == "duration":
            names.add("duration")
        elif depth < 5 and rule in (sentences.get("expansion_rules") or {}):
            names |= _names(str(sentences["expansion_rules"][rule]), sentences, depth + 1)
    return names


def _drop_optional(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\[[^\[\]]*\]", "", text)
    return text
