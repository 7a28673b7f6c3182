"""Near matches: the sentence the skills' templates can produce that is closest to a slightly misheard transcript.

A transcript that matches no template exactly ("pause time") is aligned, word
by word, with every sentence a skill's templates can produce, through hassil's
finite-state form of those templates. A template word may be heard as a
similar word (character edit distance at most ``MAX_WORD_DISTANCE`` of the
longer word), a short function word may be missing or extra, and a slot takes
its words from the transcript (numbers for ranges, one of its values for value
lists, anything for wildcards). The closest path is a near match when its cost
stays within ``BUDGET_PER_WORD`` per template word and at least one template
word was heard exactly; the caller then runs the corrected sentence through
the exact matcher, so slot values are always checked the usual way.

A missing content word is never filled in: "what is it" must not become
"what time is it", nor "pause" "pause timer".
"""

from __future__ import annotations

import enum
import functools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from hassil import Intents
from hassil.expression import Expression, Group, ListReference
from hassil.fst import FstArc, intents_to_fst
from hassil.intents import RangeSlotList, SlotList, TextSlotList, WildcardSlotList
from hassil.sample import sample_expression
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from voicebox.understand.slots import parse_number

__all__ = ["BUDGET_PER_WORD", "FUNCTION_WORDS", "MAX_WORD_DISTANCE", "NearMatch", "NearMatcher", "TemplateGraph",
           "transcript_words", "word_distance"]

MAX_WORD_DISTANCE = 0.4  # "time" heard for "timer" (0.2) yes; "in" for "and" (0.67) no
BUDGET_PER_WORD = 0.25  # total cost allowed per word of the matched template sentence
FUNCTION_WORD_COST = 0.5  # a short function word missing from, or extra in, the transcript
CONTENT_WORD_COST = 1.0  # any other extra word in the transcript
WILDCARD_WORD_COST = 0.1  # a word taken into a wildcard slot: unchecked, so never free
MAX_SLOT_WORDS = 4  # longest number or wildcard text a slot takes from the transcript

FUNCTION_WORDS = frozenset({
    "a", "an", "the", "my", "your", "our", "this", "that", "these", "those", "to", "for", "in", "of", "and", "or", "me",
    "on", "at", "is", "are", "be", "it", "i", "you", "some", "please", "um", "uh", "oh", "hey", "ok", "okay", "so", "just",
})

_EPSILON = frozenset({"", "<eps>", "<skip>"})  # "<skip>": hassil's optional filler word, here an extra word
_INF = float("inf")
_LOG = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4096)
def word_distance(heard: str, template: str) -> float:
    """Character edit distance between two words over the longer one's length (0 = same, 1 = nothing shared)."""
    return float(Levenshtein.normalized_distance(heard, template))


def transcript_words(text: str) -> list[str]:
    """Lower-case words of a (normalized) transcript, without edge punctuation."""
    words = (w.strip(".,!?;:\"()") for w in text.lower().split())
    return [w for w in words if w]


def _extra_word_cost(word: str) -> float:
    return FUNCTION_WORD_COST if word in FUNCTION_WORDS else CONTENT_WORD_COST


@dataclass(frozen=True, slots=True)
class NearMatch:
    """The closest template sentence to a transcript: its words, what the differences cost, how many words it has."""

    sentence: str
    cost: float
    template_words: int
    exact_words: int

    @property
    def acceptable(self) -> bool:
        """Close enough: within the budget per template word, and anchored by at least one word heard exactly."""
        return self.exact_words >= 1 and self.cost <= BUDGET_PER_WORD * self.template_words + 1e-9

    @property
    def closeness(self) -> float:
        """Cost over budget: 0 is exact, 1 is just acceptable."""
        return self.cost / (BUDGET_PER_WORD * self.template_words) if self.template_words else _INF


class _Step(enum.Enum):
    FREE = 0  # an optional part left out, or words taken into a wildcard (at their own cost)
    EXTRA = 1  # a transcript word that is in no template
    INSERTED = 2  # a function word of the template that was not heard
    HEARD = 3  # a template word heard as a similar word, or a slot's checked value
    EXACT = 4  # a template word heard as it is


@dataclass(frozen=True, slots=True)
class _Slot:
    """What one slot placeholder accepts: value phrases, number ranges, or (wildcard) any text."""

    phrases: frozenset[str]
    ranges: tuple[tuple[float, float], ...]
    wildcard: bool
    longest: int = 0  # the most words it takes

    @classmethod
    def of(cls, phrases: frozenset[str], ranges: tuple[tuple[float, float], ...], wildcard: bool) -> _Slot:
        longest = max((len(p.split()) for p in phrases), default=0)
        return cls(phrases, ranges, wildcard, max(longest, MAX_SLOT_WORDS if ranges or wildcard else 0))

    def fillings(self, words: Sequence[str], i: int) -> Iterator[tuple[tuple[str, ...], float, _Step]]:
        """The ways the slot can take words from position ``i`` on: the words, their cost, what kind of step."""
        for k in range(1, min(self.longest, len(words) - i) + 1):
            span = tuple(words[i:i + k])
            if self._checks(" ".join(span)):
                yield span, 0.0, _Step.HEARD
            elif self.wildcard and not FUNCTION_WORDS.issuperset(span):
                yield span, WILDCARD_WORD_COST * k, _Step.FREE

    def _checks(self, span: str) -> bool:
        if span in self.phrases:
            return True
        number = _number(span) if self.ranges else None
        return number is not None and any(lo <= number <= hi for lo, hi in self.ranges)


@functools.lru_cache(maxsize=1024)
def _number(span: str) -> float | None:
    return parse_number(span) if re.fullmatch(r"[a-z0-9.' ]+", span) else None


class TemplateGraph:
    """One skill's templates as a graph of template words and slot placeholders, aligned against transcripts."""

    def __init__(self, intents: Intents) -> None:
        lists: dict[str, SlotList] = {**intents.slot_lists, **{n: s for i in intents.intents.values() for d in i.data
                                                               for n, s in d.slot_lists.items()}}
        # hassil's graph drops sentences with wildcards; as empty value lists they become placeholders too
        placeholders: dict[str, SlotList] = {n: TextSlotList(name=n, values=[]) for n, s in lists.items()
                                             if isinstance(s, WildcardSlotList)}
        fst = intents_to_fst(intents, slot_lists=placeholders).remove_spaces()
        self.slots = _slots(intents, lists)
        index = {state: i for i, state in enumerate(_topological(fst.start, fst.arcs))}
        self.start = index[fst.start]
        self.finals = frozenset(index[s] for s in fst.final_states if s in index)
        self.arcs: list[list[tuple[int, str]]] = [[] for _ in index]
        for state, arcs in fst.arcs.items():
            if state in index:
                for arc in arcs:
                    label = arc.in_label.lower().rstrip(",")  # "hour," from the duration rule's optional comma
                    self.arcs[index[state]].append((index[arc.to_state], "<eps>" if label in _EPSILON else label))
        self.vocabulary = sorted({label for arcs in self.arcs for _, label in arcs
                                  if label != "<eps>" and not label.startswith("{")})
        # per node, its arcs by kind: optional parts left out, slots (unknown ones dropped), template words
        self._kinds: list[tuple[list[int], list[tuple[int, _Slot]], list[tuple[int, str, bool]]]] = []
        for node_arcs in self.arcs:
            free: list[int] = []
            slot_arcs: list[tuple[int, _Slot]] = []
            said: list[tuple[int, str, bool]] = []
            for to, text in node_arcs:
                if text == "<eps>":
                    free.append(to)
                elif text.startswith("{") and text.endswith("}"):
                    if (slot := self.slots.get(text[1:-1])) is not None:
                        slot_arcs.append((to, slot))
                else:
                    said.append((to, text, text in FUNCTION_WORDS))
            self._kinds.append((free, slot_arcs, said))

    def align(self, words: Sequence[str], *, acceptable_only: bool = False) -> NearMatch | None:
        """The template sentence closest to ``words`` (lowest cost minus budget), or None when none can be reached.

        With ``acceptable_only`` a way that can no longer end within the budget is dropped as soon as that is
        certain (each transcript word left can earn back at most ``BUDGET_PER_WORD``), and a closest sentence
        that is not :attr:`NearMatch.acceptable` is not returned: what :meth:`NearMatcher.candidates` needs, at
        a fraction of the work.
        """
        n = len(words)
        heard_as = [self._similar(w) for w in words]
        extra = [_extra_word_cost(w) for w in words]
        # per (node, position): (score, cost, template words, exact words, inserted words, back, emitted)
        table: dict[int, list[_Way | None]] = {self.start: [(0.0, 0.0, 0, 0, 0, None, ())] + [None] * n}

        def step(old: _Way, origin: tuple[int, int], node: int, i: int, cost: float, kind: _Step,
                 emitted: tuple[str, ...]) -> None:
            heard = kind is _Step.HEARD or kind is _Step.EXACT
            score = old[0] + cost - (BUDGET_PER_WORD if heard else 0.0)
            inserted = old[4] + (kind is _Step.INSERTED)
            if acceptable_only and score - BUDGET_PER_WORD * (inserted + n - i) > 1e-9:
                return  # cannot end within the budget any more
            exact = old[3] + (kind is _Step.EXACT)
            row = table.get(node)
            if row is None:
                row = table[node] = [None] * (n + 1)
            current = row[i]
            if current is None or score < current[0] - 1e-9 or (score <= current[0] + 1e-9 and exact > current[3]):
                row[i] = (score, old[1] + cost, old[2] + (heard or kind is _Step.INSERTED), exact, inserted, origin,
                          emitted)

        for node, (free, slot_arcs, said) in enumerate(self._kinds):  # in topological order: all ways in are known
            if (row := table.get(node)) is None:
                continue  # not reached (or only by ways that cannot end within the budget)
            for i, way in enumerate(row):
                if way is None:
                    continue
                origin = (node, i)
                if i < n:
                    step(way, origin, node, i + 1, extra[i], _Step.EXTRA, ())
                for to in free:
                    step(way, origin, to, i, 0.0, _Step.FREE, ())
                for to, slot in slot_arcs:
                    for span, cost, kind in slot.fillings(words, i):
                        step(way, origin, to, i + len(span), cost, kind, span)
                similar = heard_as[i] if i < n else {}
                for to, label, function in said:
                    if (d := similar.get(label)) is not None:
                        step(way, origin, to, i + 1, d, _Step.EXACT if d == 0.0 else _Step.HEARD, (label,))
                    if function:
                        step(way, origin, to, i, FUNCTION_WORD_COST, _Step.INSERTED, (label,))
        ends = [w for f in self.finals if f in table and (w := table[f][n]) is not None]
        if not ends:
            return None
        best = min(ends, key=lambda w: (w[0], -w[3]))
        match = NearMatch(" ".join(_sentence(table, best)), round(best[1], 6), best[2], best[3])
        return match if match.acceptable or not acceptable_only else None

    def _similar(self, heard: str) -> dict[str, float]:
        """The graph's template words that ``heard`` may stand for, with their distance."""
        found = process.extract(heard, self.vocabulary, scorer=Levenshtein.normalized_distance,
                                score_cutoff=MAX_WORD_DISTANCE, limit=None)
        return {word: float(d) for word, d, _ in found}


_Way = tuple[float, float, int, int, int, "tuple[int, int] | None", tuple[str, ...]]


def _sentence(table: dict[int, list[_Way | None]], way: _Way) -> list[str]:
    """The template sentence along the way to ``way``."""
    parts: list[tuple[str, ...]] = []
    current: _Way | None = way
    while current is not None:
        parts.append(current[6])
        back = current[5]
        current = table[back[0]][back[1]] if back is not None else None
    return [w for part in reversed(parts) for w in part]


def _topological(start: int, arcs: Mapping[int, Sequence[FstArc]]) -> list[int]:
    """States reachable from ``start``, each after every state with an arc into it (templates have no loops)."""
    reachable, stack = {start}, [start]
    while stack:
        for arc in arcs.get(stack.pop(), []):
            if arc.to_state not in reachable:
                reachable.add(arc.to_state)
                stack.append(arc.to_state)
    incoming = dict.fromkeys(reachable, 0)
    for state in reachable:
        for arc in arcs.get(state, []):
            incoming[arc.to_state] += 1
    order, ready = [], [start]
    while ready:
        state = ready.pop()
        order.append(state)
        for arc in arcs.get(state, []):
            incoming[arc.to_state] -= 1
            if incoming[arc.to_state] == 0:
                ready.append(arc.to_state)
    if len(order) != len(reachable):
        raise ValueError("sentence templates form a loop")
    return order


def _list_references(intents: Intents) -> Iterable[ListReference]:
    expressions: list[Expression] = [r.expression for r in intents.expansion_rules.values()]
    for intent in intents.intents.values():
        for data in intent.data:
            expressions += [s.expression for s in data.sentences]
            expressions += [r.expression for r in data.expansion_rules.values()]
    while expressions:
        expression = expressions.pop()
        if isinstance(expression, ListReference):
            yield expression
        elif isinstance(expression, Group):
            expressions.extend(expression.items)


def _slots(intents: Intents, lists: dict[str, SlotList]) -> dict[str, _Slot]:
    """Per slot name (the graph's placeholder), the union of what every list filling that slot accepts."""
    phrases: dict[str, set[str]] = {}
    ranges: dict[str, list[tuple[float, float]]] = {}
    wild: set[str] = set()
    for ref in _list_references(intents):
        name, slot_list = ref.slot_name, lists.get(ref.list_name)
        if isinstance(slot_list, RangeSlotList):
            ranges.setdefault(name, []).append((slot_list.start, slot_list.stop))
        elif isinstance(slot_list, TextSlotList):
            for value in slot_list.values:
                for text in sample_expression(value.text_in, intents.slot_lists, intents.expansion_rules):
                    phrases.setdefault(name, set()).add(" ".join(transcript_words(text)))
        elif isinstance(slot_list, WildcardSlotList):
            wild.add(name)
    names = set(phrases) | set(ranges) | wild
    return {n: _Slot.of(frozenset(phrases.get(n, ())), tuple(ranges.get(n, ())), n in wild) for n in names}


class NearMatcher:
    """Every skill's template graph, built once at start-up; a skill whose graph cannot be built is left out."""

    def __init__(self, compiled: Sequence[tuple[str, Intents]]) -> None:
        self.graphs: list[tuple[str, TemplateGraph]] = []
        self.errors: dict[str, str] = {}
        self._candidates = functools.lru_cache(maxsize=32)(self._find)
        for name, intents in compiled:
            try:
                self.graphs.append((name, TemplateGraph(intents)))
            except Exception as err:  # a skill's odd templates must not stop the others
                self.errors[name] = f"{type(err).__name__}: {err}"
                _LOG.warning("no near matches for skill %s: %s", name, self.errors[name])

    def candidates(self, text: str) -> list[tuple[str, NearMatch]]:
        """Acceptable near matches of ``text`` (one per skill, closest first), as ``(skill, match)``.

        The last few answers are kept: a command's first transcript is looked at again with its retries'.
        """
        return list(self._candidates(text))

    def _find(self, text: str) -> tuple[tuple[str, NearMatch], ...]:
        words = transcript_words(text)
        if not words:
            return ()
        found = [(name, m) for name, graph in self.graphs if (m := graph.align(words, acceptable_only=True)) is not None]
        return tuple(sorted(found, key=lambda item: (item[1].closeness, -item[1].exact_words)))
