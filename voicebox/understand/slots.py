"""Typed slot values for skills: durations, spoken numbers, and the shared sentence rules that produce them.

Every skill's sentences may use the expansion rule ``<duration>`` (hours,
minutes and seconds in any combination, in digits or words, with "and a
half", "half an hour", "an hour and a half"...). Its parts arrive at the
handler as one :class:`Duration` named ``duration``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["COMMON_SENTENCES", "Duration", "parse_duration", "parse_number", "spoken_number", "typed_slots"]

_DURATION_PARTS = {"duration_hours": 3600.0, "duration_hours_frac": 3600.0, "duration_minutes": 60.0,
                   "duration_minutes_frac": 60.0, "duration_seconds": 1.0}

# Merged into every skill's sentences (a skill's own lists and rules of the same name win).
COMMON_SENTENCES: dict[str, Any] = {
    "lists": {
        "duration_count": {"range": {"from": 0, "to": 300}},
        "duration_a": {"values": [{"in": "(a|an|one)", "out": 1}]},
        "duration_half": {"values": [{"in": "and a half", "out": 0.5}]},
        "duration_half_a": {"values": [{"in": "half (a|an)", "out": 0.5}]},
        "duration_quarter": {"values": [{"in": "[a] quarter of an", "out": 0.25}]},
    },
    "expansion_rules": {
        "duration": "(<duration_h>[[,] [and] <duration_m>][[,] [and] <duration_s>]|<duration_m>[[,] [and] <duration_s>]"
                    "|<duration_s>)",
        "duration_h": "({duration_count:duration_hours} hour[s] [{duration_half:duration_hours_frac}]"
                      "|{duration_count:duration_hours} {duration_half:duration_hours_frac} hours"
                      "|{duration_a:duration_hours} hour [{duration_half:duration_hours_frac}]"
                      "|{duration_half_a:duration_hours_frac} hour|{duration_quarter:duration_hours_frac} hour)",
        "duration_m": "({duration_count:duration_minutes} minute[s] [{duration_half:duration_minutes_frac}]"
                      "|{duration_count:duration_minutes} {duration_half:duration_minutes_frac} minutes"
                      "|{duration_a:duration_minutes} minute [{duration_half:duration_minutes_frac}]"
                      "|{duration_half_a:duration_minutes_frac} minute)",
        "duration_s": "({duration_count:duration_seconds} second[s]|{duration_a:duration_seconds} second)",
    },
}


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


@dataclass(frozen=True, slots=True)
class Duration:
    """A length of time as said by the user; ``total_s`` is the one truth, the parts are derived."""

    total_s: float

    @property
    def hours(self) -> int:
        """Whole hours."""
        return int(self.total_s // 3600)

    @property
    def minutes(self) -> int:
        """Whole minutes after the hours."""
        return int(self.total_s % 3600 // 60)

    @property
    def seconds(self) -> int:
        """Whole seconds after the minutes (rounded)."""
        return round(self.total_s % 60)

    def to_json(self) -> dict[str, int | float]:
        """Plain JSON: the parts and ``total_seconds``."""
        total: int | float = int(self.total_s) if float(self.total_s).is_integer() else self.total_s
        return {"hours": self.hours, "minutes": self.minutes, "seconds": self.seconds, "total_seconds": total}

    def spoken(self) -> str:
        """"1 hour and 15 minutes", "90 seconds" reads better as "1 minute and 30 seconds"."""
        whole = round(self.total_s)
        parts = [(whole // 3600, "hour"), (whole % 3600 // 60, "minute"), (whole % 60, "second")]
        words = [_plural(n, unit) for n, unit in parts if n]
        if not words:
            return "0 seconds"
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    def label(self) -> str:
        """Adjective form for naming a timer: "10 minute", "1 hour 30 minute"."""
        whole = round(self.total_s)
        parts = [(whole // 3600, "hour"), (whole % 3600 // 60, "minute"), (whole % 60, "second")]
        return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 second"


def typed_slots(entities: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Matched entity values -> (plain JSON slots, typed values for the handler).

    The parts of ``<duration>`` are combined into one ``duration``; whole
    floats become ints; wildcard text is stripped of edge punctuation.
    """
    plain: dict[str, Any] = {}
    typed: dict[str, Any] = {}
    seconds = 0.0
    has_duration = False
    for name, value in entities.items():
        if name in _DURATION_PARTS:
            seconds += float(value) * _DURATION_PARTS[name]
            has_duration = True
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            value = value.strip().strip(".,!?;:").strip()
        plain[name] = typed[name] = value
    if has_duration:
        typed["duration"] = Duration(seconds)
        plain["duration"] = typed["duration"].to_json()
    return plain, typed


_MINUS = re.compile(r"^(minus|negative)\s+")
_HALF = re.compile(r"\s+and\s+a\s+half$")


def parse_number(text: str) -> float | None:
    """A number said in words or digits ("twelve thousand and four", "2.5", "minus 3", "1,000"), or None."""
    from text_to_num import alpha2digit

    clean = text.strip().lower().strip(".,!?").replace("-", " ") if not text.strip().startswith("-") else text.strip()
    sign = 1.0
    if (m := _MINUS.match(clean)) is not None:
        sign, clean = -1.0, clean[m.end():]
    half = 0.0
    if (m := _HALF.search(clean)) is not None:
        half, clean = 0.5, clean[: m.start()]
    clean = re.sub(r"^an?\s+(hundred|thousand|million)", r"one \1", clean)
    clean = re.sub(r"(?<=\d),(?=\d{3}\b)", "", clean)
    digits = alpha2digit(clean, "en", threshold=0) if re.search(r"[a-z]", clean) else clean
    digits = re.sub(r"(?<=\d) (?=\d{3}\b)", "", digits.strip())
    try:
        value = float(digits)
    except ValueError:
        return None
    return sign * (value + half) if math.isfinite(value) else None


_UNIT_S = {"hour": 3600.0, "minute": 60.0, "second": 1.0}
_PART = re.compile(r"(half an?|an?|[\d.]+)\s*(?:(and a half)\s+)?(hour|minute|second)s?(\s+and a half)?")


def parse_duration(text: str) -> Duration | None:
    """A duration in free text ("ten minutes", "an hour and a half", "2 minutes 30 seconds"), or None."""
    from text_to_num import alpha2digit

    clean = alpha2digit(text.lower().replace("-", " "), "en", threshold=0)
    total, found = 0.0, False
    for count, half_before, unit, half_after in _PART.findall(clean):
        amount = 0.5 if count.startswith("half") else 1.0 if count in ("a", "an") else float(count)
        amount += 0.5 if (half_before or half_after) else 0.0
        total += amount * _UNIT_S[unit]
        found = True
    return Duration(total) if found and total > 0 else None


def spoken_number(value: float, *, digits: int = 2) -> str:
    """A result rounded sensibly for speech: whole numbers plain, others to ``digits`` places (more when tiny)."""
    if not math.isfinite(value):
        return "infinity"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if value != 0 and abs(value) < 10 ** -digits:
        return f"{value:.2g}"
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
