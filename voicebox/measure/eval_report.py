"""The evaluation's outputs: a printed table, a Markdown report, DET-curve plots and the JSON summary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voicebox.core.errors import CODE_EVAL_REPORT, MeasureError
from voicebox.measure.eval_wake import FA_BUDGET_PER_HOUR, WakeResult

__all__ = ["print_table", "write_report"]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _table_rows(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    for model, w in summary["wake"].items():
        noisy = ", ".join(f"{_pct(w[k])} at {k.removeprefix('miss_rate_')}" for k in w
                          if k.startswith("miss_rate_") and k.endswith("db"))
        rows.append((f"wake {model} (threshold {w['threshold']:.2f})",
                     f"miss {_pct(w['miss_rate'])} of {w['n_positives']}, {w['false_wakes_per_hour']:.2f} false/h",
                     f"noisy: {noisy}; best miss at <= {FA_BUDGET_PER_HOUR}/h: {_pct(w['miss_rate_at_0.2_per_hour'])}"))
    for kind, value in summary["wer"].items():
        n = summary.get(f"n_{kind}", summary["n_command"] + summary["n_speech"])
        rows.append((f"word error rate ({kind})", _pct(value), f"{n} clips"))
    near = f"; {summary['n_near_matches']} by near match" if summary.get("n_near_matches") else ""
    rows.append(("intent accuracy", _pct(summary["intent_accuracy"]),
                 f"{summary['n_intent']} commands with a built-in intent{near}"))
    if "n_false_intents" in summary:
        rows.append(("false intents", str(summary["n_false_intents"]),
                     f"of {summary['n_no_intent']} commands without a built-in intent"))
    return rows


def print_table(summary: dict[str, Any]) -> None:
    """A short table on stdout."""
    rows = _table_rows(summary)
    width = max(len(r[0]) for r in rows)
    for name, value, detail in rows:
        print(f"  {name:<{width}}  {value:<36} {detail}")
    print(f"  ({summary['n_negative']} negative clips, {summary['negative_s'] / 3600:.2f} h streamed back to back; "
          f"{summary['elapsed_s']:.0f} s)")


def _plot_det(path: Path, curves: Sequence[tuple[str, WakeResult, str]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for label, result, condition in curves:
        points = sorted(result.det[condition], key=lambda p: p.false_wakes_per_hour)
        xs = [max(p.false_wakes_per_hour, 0.01) for p in points]
        line = ax.plot(xs, [100 * p.miss_rate for p in points], marker=".", markersize=3, label=label)[0]
        op = min(points, key=lambda p: abs(p.threshold - result.threshold))
        ax.plot([max(op.false_wakes_per_hour, 0.01)], [100 * op.miss_rate], "o", color=line.get_color(),
                markerfacecolor="none", markersize=9)
    ax.axvline(FA_BUDGET_PER_HOUR, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("false wakes per hour (0 drawn at 0.01)")
    ax.set_ylabel("miss rate, %")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _wake_section(summary: dict[str, Any], wake: dict[str, list[WakeResult]]) -> list[str]:
    lines = ["## Wake word", "",
             f"Negatives: {summary['n_negative']} clips streamed back to back ({summary['negative_s'] / 3600:.2f} h). "
             "Positives: each clip after 0.5 s of faint noise; noisy conditions add negative audio at the given SNR "
             "(whole-clip power). Circles on the plots mark the configured threshold.", "",
             "| model | positives | threshold | miss (clean) | false wakes/h | false wakes | miss 10 dB | miss 0 dB "
             f"| best miss at <= {FA_BUDGET_PER_HOUR}/h (threshold) |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in wake.get("default", []):
        lines.append(f"| {r.model} | {r.n_positives} | {r.threshold:.2f} | {_pct(r.miss_rate)} | "
                     f"{r.false_wakes_per_hour:.2f} | {r.false_wakes} | {_pct(r.miss_rate_snr.get('10 dB'))} | "
                     f"{_pct(r.miss_rate_snr.get('0 dB'))} | {_pct(r.miss_at_budget)} ({r.threshold_at_budget}) |")
    lines += [""]
    for r in wake.get("default", []):
        lines += [f"![DET {r.model}](det_{r.model}.png)", ""]
        lines += [f"DET points, {r.model} (clean):", "", "| threshold | miss | false wakes/h |", "|---:|---:|---:|"]
        for p in r.det["clean"]:
            if round(p.threshold * 100) % 10 == 0 or abs(p.threshold - r.threshold) < 1e-9:
                lines.append(f"| {p.threshold:.2f} | {_pct(p.miss_rate)} | {p.false_wakes_per_hour:.2f} |")
        lines.append("")
    if len(wake) > 1:
        lines += ["## Wake-word improvements, each against the bare model (one run)", "",
                  "| setting | model | threshold | miss (clean) | false wakes/h | miss 10 dB | miss 0 dB | "
                  f"best miss at <= {FA_BUDGET_PER_HOUR}/h |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for rule, results in wake.items():
            for r in results:
                lines.append(f"| {rule} | {r.model} | {r.threshold:.2f} | {_pct(r.miss_rate)} | "
                             f"{r.false_wakes_per_hour:.2f} | {_pct(r.miss_rate_snr.get('10 dB'))} | "
                             f"{_pct(r.miss_rate_snr.get('0 dB'))} | {_pct(r.miss_at_budget)} |")
        lines += ["", *[f"![compare {m}](compare_{m}.png)" for m in sorted({r.model for rs in wake.values() for r in rs})],
                  ""]
    return lines


def write_report(folder: Path, summary: dict[str, Any], wake: dict[str, list[WakeResult]],
                 rows: list[dict[str, Any]]) -> None:
    """report.md, summary.json, det_<model>.png (and compare_<model>.png with several rules) in ``folder``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MeasureError(f"cannot create report folder {folder}: {err.strerror or err}", code=CODE_EVAL_REPORT) from err
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for r in wake.get("default", []):
        _plot_det(folder / f"det_{r.model}.png", [(c, r, c) for c in r.det], f"{r.model}: miss rate vs false wakes")
    if len(wake) > 1:
        models = sorted({r.model for rs in wake.values() for r in rs})
        for m in models:
            curves = [(rule, r, "clean") for rule, rs in wake.items() for r in rs if r.model == m]
            _plot_det(folder / f"compare_{m}.png", curves, f"{m}: wake-word settings (clean)")
    lines = ["# voicebox accuracy report", "", f"Manifest: `{summary['manifest']}`; {summary['n_clips']} clips; "
             f"took {summary['elapsed_s']:.0f} s.", "", "| measure | value | detail |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in _table_rows(summary)]
    lines += ["", *_wake_section(summary, wake), "## Speech recognition and intents", "",
              "| clip | kind | reference | recognized | word errors | expected intent | recognized intent |",
              "|---|---|---|---|---:|---|---|"]
    for row in rows:
        mark = " (near)" if row.get("near_match") else ""
        mark += (" ✗" if row.get("intent") else "") if "intent_ok" not in row else (" ✓" if row["intent_ok"] else " ✗")
        lines.append(f"| {row['path']} | {row['kind']} | {row['reference']} | {row['text']} | {row['word_errors']}/"
                     f"{row['reference_words']} | {row.get('expected_intent', '')} | {row.get('intent', '') or ''}{mark} |")
    (folder / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
