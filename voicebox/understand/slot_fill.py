"""Slots without a template: durations, numbers, timer names, list items and list names read from free text.

Used when the semantic matcher has picked an intent whose template did not
match: each slot the intent's templates use is looked for by what kind of
slot it is (``<duration>``, a number range, a list of values, a number-only
wildcard) or, for the built-in wildcards, by name (``name``, ``item``,
``list_name``, ``a``/``b``/``operator``). A slot that every template of the
intent needs and that cannot be found makes the match fail: a wrong or
empty slot is worse than "I didn't understand".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from voicebox.understand.slots import Duration, parse_duration, parse_number

__all__ = ["NUMBER_WORDS", "fill_slots", "number_runs"]

def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


NUMBER_WORDS = _word_set(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million point")
_DIGITS = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_QUARTERS = ((re.compile(r"\bthree quarters of an hour\b"), "45 minutes"),
             (re.compile(r"\b(?:a |one )?quarter (?:of an )?hour\b"), "15 minutes"),
             (re.compile(r"\bhalf (?:of )?an hour\b"), "30 minutes"))
_NOT_A_NAME = _word_set(
    "a an the my that this new all every each both any running active paused current timer timers countdown minute "
    "minutes second seconds hour hours half quarter more another extra one it them me up for in on of to with by and "
    "is are what how long much time left remaining kitchen's") | NUMBER_WORDS
_OPERATORS = (("-", r"\b(?:minus|subtract|subtracted|take away|less|difference|take)\b"),
              ("*", r"\b(?:times|multiplied|multiply|x|product)\b"),
              ("/", r"\b(?:divided|divide|over|split|quotient|into)\b"),
              ("+", r"\b(?:plus|add|added|sum|and|together)\b"))
_LIST_VERBS = (r"(?:add|put|stick|write(?: down)?|note(?: down)?|jot(?: down)?|include|place|remove|delete|take|"
               r"erase|drop|cross|scratch|tick|check|mark|strike|pull|buy|get)")


def number_runs(text: str) -> list[tuple[int, float]]:
    """The numbers said in ``text`` (digits or words), each with the index of the word it starts at."""
    words = text.lower().replace("-", " ").split()
    runs: list[tuple[int, float]] = []
    start: int | None = None
    for index in range(len(words) + 1):
        word = words[index] if index < len(words) else ""
        joins = word == "and" and start is not None and words[index - 1] in ("hundred", "thousand") \
            and index + 1 < len(words) and words[index + 1] in NUMBER_WORDS
        is_number = word in NUMBER_WORDS or bool(_DIGITS.match(word)) or joins \
            or (word in ("a", "an") and index + 1 < len(words) and words[index + 1] in ("hundred", "thousand"))
        if is_number and start is not None and _DIGITS.match(word) and _DIGITS.match(words[index - 1]):
            is_number = False  # "15 27": two numbers
        if is_number and start is None:
            start = index
        elif not is_number and start is not None:
            value = parse_number(" ".join(words[start:index]))
            if value is not None:
                runs.append((start, value))
            start = index if (word in NUMBER_WORDS or _DIGITS.match(word)) else None
    return runs


def _duration(text: str) -> Duration | None:
    text = re.sub(r"\b(?:more|extra|additional|further|whole|full)\s+(?=(?:hour|minute|second)s?\b)", "", text)
    for pattern, words in _QUARTERS:
        text = pattern.sub(words, text)
    return parse_duration(text)


def _name(text: str) -> str | None:
    for pattern in (r"\b(?:called|named|labell?ed)\s+(?:the\s+)?([a-z]+)",
                    r"\b([a-z]+)\s+(?:timer|countdown)\b",
                    r"\b(?:timer|countdown)\s+(?:for|in|on)\s+(?:the\s+|my\s+)?([a-z]+)",
                    r"\b(?:for|in|on)\s+(?:the|my)\s+([a-z]+)\b"):
        for found in re.finditer(pattern, text):
            word = found.group(1)
            if word not in _NOT_A_NAME and not word.isdigit():
                return word
    return None


def _list_name(text: str) -> str | None:
    found = re.search(r"\b(?:the|my|our)\s+([a-z]+(?: [a-z]+)?)\s+list\b", text) or re.match(r"^([a-z]+)\s+list\b", text)
    if found is None:
        return "grocery" if re.search(r"\bgroceries\b", text) else None
    name = re.sub(r"^(?:whole|entire|own)\s*", "", found.group(1)).strip()
    name = re.sub(r"\s*(?:whole|entire)$", "", name).strip()
    return name or None


def _item(text: str) -> str | None:
    articles = r"(?:(?:some|more|the|a|an|any)\s+)?"
    patterns = (
        rf"\b(?:need|needs|out of|bought|got|have)\s+{articles}(.+?)\s+(?:put|add|take|remove|cross|delete)\s+(?:it|them)\b",
        rf"\b(?:no need for|don't need|do not need)\s+{articles}(.+?)(?:\s+(?:on|in)\s+.*|\s+anymore.*|\s+any more.*)?$",
        rf"\b(?:need|needs|want)\s+{articles}(.+?)(?:\s+(?:on|in|to)\s+.*)?$",
        rf"\bto (?:buy|get|pick up)\s+{articles}(.+?)(?:\s+(?:on|to|in)\s+(?:the|my|our)\b.*)?$",
        rf"\b{_LIST_VERBS}\s+(?:off\s+|down\s+|up\s+)?{articles}(.+?)\s+(?:to|on|onto|in|into|from|off|of|as)\s+"
        r"(?:the|my|our|what)\b.*$",
        rf"\b{_LIST_VERBS}\s+(?:off\s+|down\s+)?{articles}(.+?)(?:\s+(?:too|as well|please))?$",
        r"^[a-z]+\s+list\s+(?:add\s+)?(.+)$",
    )
    for pattern in patterns:
        found = re.search(pattern, text)
        if found is not None:
            item = re.sub(r"^(?:a reminder to (?:buy|get)|to (?:buy|get))\s+", "", found.group(1).strip())
            item = re.sub(r"\s+(?:from|on|off|to)\s+(?:the|my|our)\s+.*$", "", item)
            if item and item not in ("it", "them", "that", "this", "everything", "list", "the list"):
                return item
    return None


def _arithmetic(text: str, used: set[str]) -> dict[str, str] | None:
    numbers = number_runs(text)
    if "operator" not in used:  # Percent, SquareRoot: numbers in the order said
        return {name: _plain(value) for name, (_, value) in zip(("a", "b"), numbers, strict=False) if name in used}
    if len(numbers) != 2:
        return None
    words = text.split()
    between = " ".join(words[numbers[0][0] + 1:numbers[1][0]])
    before = " ".join(words[:numbers[0][0]])
    operator = next((op for op, pattern in _OPERATORS if re.search(pattern, between)), None) \
        or next((op for op, pattern in _OPERATORS if re.search(pattern, before)), None)
    if operator is None:
        return None
    a, b = numbers[0][1], numbers[1][1]
    if operator == "-" and re.search(r"\b(?:subtract|take)\b", before) and re.search(r"\b(?:from|away from)\b", between):
        a, b = b, a  # "subtract 8 from 20", "take 9 away from 30"
    return {"a": _plain(a), "operator": operator, "b": _plain(b)}


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def fill_slots(text: str, used: set[str], required: set[str], lists: Mapping[str, Any],
               fixed: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(plain JSON slots, typed values) found in ``text`` for the slots ``used``; ``None`` if a ``required`` one is missing.

    ``lists`` are the skill's hassil list definitions (range, values,
    wildcard); ``fixed`` slot values come with the intent's data block.
    """
    text = " ".join(text.lower().split())
    plain: dict[str, Any] = dict(fixed or {})
    typed: dict[str, Any] = dict(fixed or {})
    if {"a", "b"} & used:
        found = _arithmetic(text, used)
        if found:
            plain.update(found)
            typed.update(found)
    for slot in sorted(used - set(plain)):
        found_spec = lists.get(slot)
        spec: dict[str, Any] = found_spec if isinstance(found_spec, dict) else {}
        value: Any = None
        if slot == "duration":
            duration = _duration(text)
            if duration is not None:
                plain[slot], typed[slot] = duration.to_json(), duration
            continue
        if "range" in spec:
            low, high = spec["range"].get("from", 0), spec["range"].get("to", 100)
            half = 50 if re.search(r"\bhalf\b", text) and low <= 50 <= high else None
            value = next((int(v) if float(v).is_integer() else v for _, v in number_runs(text) if low <= v <= high), half)
        elif "values" in spec:
            value = _list_value(text, spec["values"])
        elif slot == "name":
            value = _name(text)
        elif slot == "item":
            value = _item(text)
        elif slot == "list_name":
            value = _list_name(text)
        if value is not None:
            plain[slot] = typed[slot] = value
    return (plain, typed) if required <= set(plain) else None


def _list_value(text: str, values: list[Any]) -> Any:
    best: tuple[int, Any] | None = None
    for entry in values:
        said = entry.get("in", "") if isinstance(entry, dict) else str(entry)
        out = entry.get("out", said) if isinstance(entry, dict) else entry
        for form in re.sub(r"[()\[\]]", "", said).split("|"):
            form = form.strip().lower()
            if form and re.search(rf"\b{re.escape(form)}\b", text) and (best is None or len(form) > best[0]):
                best = (len(form), out)
    return None if best is None else best[1]
