"""``voicebox eval --intents``: intent accuracy, false intents and confusions on a TSV of typed sentences.

The TSV has one sentence a line: ``sentence<TAB>skill.intent<TAB>slots-json``.
An empty intent means the sentence must not match anything; the slots are a
subset of what the match must carry (numbers compare as numbers, text without
case). Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from voicebox.core.errors import CODE_EVAL_MANIFEST, MeasureError
from voicebox.understand.intent import IntentMatch
from voicebox.understand.slots import parse_number

__all__ = ["IntentCase", "print_intent_table", "read_intent_cases", "score_intents", "slots_agree"]

NO_INTENT = "(none)"
ASKED = "(asked)"


@dataclass(frozen=True, slots=True)
class IntentCase:
    """One TSV line: the sentence, the expected ``skill.intent`` (``""``: no intent) and expected slots."""

    sentence: str
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    line: int = 0


class Recognizer(Protocol):
    """What scoring needs: text in, a match (or ``None``) out."""

    def recognize(self, text: str) -> IntentMatch | None:
        """The best match for ``text``."""


def read_intent_cases(path: Path) -> list[IntentCase]:
    """The cases of an intents TSV; a malformed line is an error naming the line and what is wrong."""
    if not path.is_file():
        raise MeasureError(f"{path}: no such file; pass --intents PATH.tsv (sentence<TAB>skill.intent<TAB>slots-json)",
                           code=CODE_EVAL_MANIFEST)
    cases: list[IntentCase] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) > 3 or not parts[0].strip():
            raise MeasureError(f"{path}:{number}: expected sentence<TAB>skill.intent<TAB>slots-json "
                               f"(got {len(parts)} column(s))", code=CODE_EVAL_MANIFEST)
        intent = parts[1].strip() if len(parts) > 1 else ""
        if intent and intent.count(".") != 1:
            raise MeasureError(f"{path}:{number}: intent {intent!r} is not skill.intent (empty = must not match)",
                               code=CODE_EVAL_MANIFEST)
        slots_text = parts[2].strip() if len(parts) > 2 else ""
        try:
            slots = json.loads(slots_text) if slots_text else {}
        except json.JSONDecodeError as err:
            raise MeasureError(f"{path}:{number}: slots are not JSON ({err.msg}); write {{}} for none",
                               code=CODE_EVAL_MANIFEST) from err
        if not isinstance(slots, dict):
            raise MeasureError(f"{path}:{number}: slots must be a JSON object", code=CODE_EVAL_MANIFEST)
        cases.append(IntentCase(parts[0].strip(), intent, slots, number))
    if not cases:
        raise MeasureError(f"{path}: no sentences in it", code=CODE_EVAL_MANIFEST)
    return cases


def slots_agree(expected: Any, got: Any) -> bool:
    """``expected`` is contained in ``got``: objects key by key, numbers numerically, text without case."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(k in got and slots_agree(v, got[k]) for k, v in expected.items())
    if isinstance(expected, bool) or isinstance(got, bool):
        return bool(expected is got or expected == got)
    if isinstance(expected, int | float):
        number = got if isinstance(got, int | float) else parse_number(str(got))
        return number is not None and abs(float(number) - float(expected)) < 1e-9
    if isinstance(expected, str) and isinstance(got, str):
        return " ".join(expected.lower().split()) == " ".join(got.lower().split())
    same: bool = expected == got
    return same


def score_intents(cases: list[IntentCase], recognizer: Recognizer) -> dict[str, Any]:
    """Accuracy (right intent and slots), false-intent rate on the out-of-scope lines, and the confusions.

    A match that asks first ("Did you mean ...?", ``confirm``) is counted as
    asked: neither understood nor a false intent.
    """
    rows: list[dict[str, Any]] = []
    times_ms: list[float] = []
    for case in cases:
        started = time.perf_counter()
        match = recognizer.recognize(case.sentence)
        times_ms.append((time.perf_counter() - started) * 1000)
        got = f"{match.skill}.{match.intent}" if match is not None else ""
        asked = match is not None and match.confirm
        rows.append({"line": case.line, "sentence": case.sentence, "expected": case.intent, "got": got,
                     "asked": asked, "slots": match.slots if match is not None else {},
                     "matcher": match.matcher if match is not None else "",
                     "confidence": round(match.confidence, 3) if match is not None else 0.0,
                     "intent_ok": got == case.intent and not asked,
                     "ok": got == case.intent and not asked and (
                         not case.intent or slots_agree(case.slots, match.slots if match else {}))})
    inside = [r for r in rows if r["expected"]]
    outside = [r for r in rows if not r["expected"]]
    confusion: Counter[tuple[str, str]] = Counter(
        (r["expected"] or NO_INTENT, (ASKED + " " if r["asked"] else "") + (r["got"] or NO_INTENT)) for r in rows)
    per_intent: dict[str, dict[str, int]] = {}
    for r in inside:
        entry = per_intent.setdefault(r["expected"], {"n": 0, "ok": 0})
        entry["n"] += 1
        entry["ok"] += r["ok"]

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        "n_sentences": len(rows), "n_in_scope": len(inside), "n_out_of_scope": len(outside),
        "accuracy": share(sum(r["ok"] for r in inside), len(inside)),
        "intent_accuracy": share(sum(r["intent_ok"] for r in inside), len(inside)),
        "asked_rate": share(sum(r["asked"] for r in inside), len(inside)),
        "wrong_intent_rate": share(sum(bool(r["got"]) and r["got"] != r["expected"] and not r["asked"]
                                       for r in inside), len(inside)),
        "false_intent_rate": share(sum(bool(r["got"]) and not r["asked"] for r in outside), len(outside)),
        "n_false_intents": sum(bool(r["got"]) and not r["asked"] for r in outside),
        "asked_out_of_scope_rate": share(sum(r["asked"] for r in outside), len(outside)),
        "intent_ms_median": round(statistics.median(times_ms), 2) if times_ms else None,
        "per_intent": per_intent,
        "confusion": [{"expected": e, "got": g, "n": n} for (e, g), n in sorted(confusion.items())],
        "rows": rows,
    }


def print_intent_table(summary: dict[str, Any], *, failures: int = 40) -> None:
    """The figures, each intent's score, the confusions off the diagonal, and the first failures."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.1f} %"

    print(f"sentences          {summary['n_sentences']} ({summary['n_in_scope']} in scope, "
          f"{summary['n_out_of_scope']} out of scope)")
    print(f"accuracy           {pct(summary['accuracy'])} (right intent and slots)")
    print(f"intent accuracy    {pct(summary['intent_accuracy'])} (right intent)")
    print(f"asked first        {pct(summary['asked_rate'])} of in scope, "
          f"{pct(summary['asked_out_of_scope_rate'])} of out of scope")
    print(f"wrong intent       {pct(summary['wrong_intent_rate'])} of in scope")
    print(f"false intents      {pct(summary['false_intent_rate'])} of out of scope ({summary['n_false_intents']})")
    print(f"intent_ms median   {summary['intent_ms_median']}")
    print("\nper intent         understood")
    for name, entry in sorted(summary["per_intent"].items()):
        print(f"  {name:<28} {entry['ok']:>3}/{entry['n']:<3}")
    print("\nconfusions (expected -> got, off the diagonal)")
    for row in summary["confusion"]:
        if row["expected"] != row["got"]:
            print(f"  {row['n']:>3}  {row['expected']:<28} -> {row['got']}")
    bad = [r for r in summary["rows"] if not r["ok"]]
    if bad:
        print(f"\nfirst {min(failures, len(bad))} of {len(bad)} not understood")
        for r in bad[:failures]:
            print(f"  {r['line']:>4}  {r['sentence']!r}: expected {r['expected'] or NO_INTENT}, got "
                  f"{(ASKED + ' ') if r['asked'] else ''}{r['got'] or NO_INTENT} {r['slots'] or ''}")
