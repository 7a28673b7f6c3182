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

__all__ = ["EXAMPLES", "sample_intent_sentences", "slot_names"]

# Words that stand in for a wildcard slot in example sentences.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "item": ("milk", "eggs", "bread", "paper towels", "coffee"),
    "list_name": ("shopping", "grocery", "to do"),
    "name": ("pizza", "pasta", "tea", "laundry", "kitchen"),
    "a": ("seven", "12", "two hundred", "4.5"),
    "b": ("three", "9", "forty", "8"),
}
_GENERIC = ("something", "this")


def _render(expr: Expression, intents: Intents, rng: random.Random, depth: int = 0) -> str:
    if depth > 30:
        return ""
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
