"""``voicebox bench --compare``: the ratios of two bench runs' figures, key by key, with each run's machine factor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from voicebox.core.errors import CODE_BENCH_COMPARE, MeasureError

__all__ = ["compare_runs", "load_run", "print_comparison"]

_SKIPPED = ("clips", "notes", "quick", "bench_s")  # not figures of the assistant


def load_run(path: Path) -> dict[str, Any]:
    """A ``voicebox bench --json`` result read from ``path``."""
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise MeasureError(f"--compare {path}: not a readable bench result ({err})", code=CODE_BENCH_COMPARE) from err
    if not isinstance(run, dict):
        raise MeasureError(f"--compare {path}: not a bench result (a JSON object of figures)", code=CODE_BENCH_COMPARE)
    return run


def _figure(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def compare_runs(old: dict[str, Any], new: dict[str, Any], *, old_name: str = "old",
                 new_name: str = "new") -> dict[str, Any]:
    """Per key present in both runs: the old and new figures and ``ratio`` (new / old; None where old is 0 or absent).

    ``machine_factor`` is each run's reference time (see :func:`voicebox.measure.bench.machine_factor`): a time
    ratio near the two factors' ratio is the machine, not the code. ``normalised`` divides a key's ratio by
    the machine factors' ratio (what the ratio would be on machines of equal speed), for times only (keys
    with ``_ms`` or ending in ``_s``).
    """
    factor_old, factor_new = _figure(old.get("machine_factor")), _figure(new.get("machine_factor"))
    factor_ratio = factor_new / factor_old if factor_old and factor_new is not None else None
    rows: dict[str, dict[str, float | None]] = {}
    for key, value in old.items():
        if key in _SKIPPED or key not in new:
            continue
        a, b = _figure(value), _figure(new[key])
        if a is None and b is None:
            continue
        ratio = round(b / a, 3) if a and b is not None else None
        timed = "_ms" in key or key.endswith("_s")  # a time: what the machine factor scales
        normalised = round(ratio / factor_ratio, 3) if ratio is not None and factor_ratio and timed else None
        rows[key] = {"old": a, "new": b, "ratio": ratio, "normalised": normalised}
    return {"old": old_name, "new": new_name, "machine_factor": {"old": factor_old, "new": factor_new,
            "ratio": None if factor_ratio is None else round(factor_ratio, 3)}, "keys": rows}


def print_comparison(comparison: dict[str, Any]) -> None:
    """A table: each key's two figures, new / old, and that ratio over the machine factors' ratio."""
    factor = comparison["machine_factor"]
    print(f"voicebox bench --compare: old = {comparison['old']}, new = {comparison['new']}")
    print(f"  machine_factor (ms)    old {_shown(factor['old'])}, new {_shown(factor['new'])}, "
          f"new/old {_shown(factor['ratio'])}")
    print(f"  {'key':<24} {'old':>10} {'new':>10} {'new/old':>9} {'normalised':>11}")
    for key, row in comparison["keys"].items():
        if key == "machine_factor":
            continue
        print(f"  {key:<24} {_shown(row['old']):>10} {_shown(row['new']):>10} {_shown(row['ratio']):>9} "
              f"{_shown(row['normalised']):>11}")


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
