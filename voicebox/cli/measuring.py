"""``voicebox bench``, ``eval`` and ``soak``: the measuring tools' flags and how their results are printed."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from pathlib import Path

from voicebox.cli.command import Command
from voicebox.cli.output import print_json
from voicebox.core.config import Config
from voicebox.core.errors import (
    CODE_BENCH_COMPARE,
    CODE_EVAL_ARGS,
    CODE_EVAL_MANIFEST,
    CODE_EVAL_PLOT,
    CODE_SOAK_ARGS,
    MeasureError,
)

__all__ = ["BENCH", "EVAL", "SOAK"]


def _bench_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="a smoke run on 3 commands")
    p.add_argument("--compare", nargs="+", type=Path, metavar="FILE.json",
                   help="ratios (new/old) of the figures of an earlier `bench --json` and this run, or of two such files")
    p.add_argument("--peers", action="store_true",
                   help="instead: voicebox serve side by side with wyoming-faster-whisper and wyoming-piper over Wyoming "
                        "(installs them from PyPI, once, into --peers-dir)")
    p.add_argument("--peers-dir", type=Path, metavar="DIR",
                   help="where the peers are installed (default: voicebox's cache folder, peers/)")


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    """Run the benchmark and print its table (or JSON); with ``--compare`` the ratios against an earlier run."""
    from voicebox.measure.bench import print_table, run_bench
    from voicebox.measure.compare import compare_runs, load_run, print_comparison

    if args.peers:
        return _bench_peers(args, config)
    compare: list[Path] = args.compare or []
    if len(compare) > 2:
        raise MeasureError(f"--compare takes one or two files, not {len(compare)}", code=CODE_BENCH_COMPARE)
    old = load_run(compare[0]) if compare else None  # read before a 3-minute run, so a bad file fails at once
    if len(compare) == 2:
        result, new_name = load_run(compare[1]), str(compare[1])
    else:
        result, new_name = run_bench(config, quick=args.quick), "this run"
    if old is None:
        if args.json:
            print_json(result)
        else:
            print_table(result)
        return 0
    comparison = compare_runs(old, result, old_name=str(compare[0]), new_name=new_name)
    if args.json:
        print_json(comparison if len(compare) == 2 else {**comparison, "run": result})
    else:
        if len(compare) == 1:
            print_table(result)
            print()
        print_comparison(comparison)
    return 0


def _bench_peers(args: argparse.Namespace, config: Config) -> int:
    """``bench --peers``: the Wyoming side-by-side against Home Assistant's services."""
    import platformdirs

    from voicebox.daemon.assistant import model_store
    from voicebox.measure.peers import print_peers, run_peers

    if args.compare:
        raise MeasureError("--compare goes with a bench run or two bench files, not --peers", code=CODE_BENCH_COMPARE)
    folder = args.peers_dir or Path(platformdirs.user_cache_dir("voicebox")) / "peers"
    result = run_peers(config, model_store(config), peers_dir=folder, quick=args.quick)
    if args.json:
        print_json(result)
    else:
        print_peers(result)
    return 0


def _eval_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--manifest", type=Path, metavar="PATH",
                        help="manifest.tsv (columns path, kind, transcript; paths relative to its folder)")
    source.add_argument("--intents", type=Path, metavar="FILE.tsv",
                        help="score intent matching on typed sentences: sentence<TAB>skill.intent<TAB>slots-json "
                             "(empty intent = must not match)")
    p.add_argument("--report", type=Path, metavar="DIR", help="write report.md, summary.json and plots here")
    p.add_argument("--compare", action="store_true",
                   help="also measure each wake-word improvement against the bare model (slower)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes for wake-word scoring")
    p.add_argument("--wake-model", action="append", default=[], metavar="NAME=WORD",
                   help="also evaluate personal wake word NAME on the wake clips whose transcript is WORD (repeatable)")


def cmd_eval(args: argparse.Namespace, config: Config) -> int:
    """Run the evaluation, print a table (or JSON), optionally write the report."""
    if args.intents is not None:
        return _eval_intents(args, config)
    from voicebox.measure.eval import run_eval
    from voicebox.measure.eval_report import print_table, write_report

    if args.report is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError as err:
            raise MeasureError("--report draws plots with matplotlib, which is not installed; run: "
                               "pip install 'voicebox[eval]'", code=CODE_EVAL_PLOT) from err
    personal: dict[str, str] = {}
    for spec in args.wake_model:
        name, sep, word = spec.partition("=")
        if not sep or not name.strip() or not word.strip():
            raise MeasureError(f"--wake-model {spec!r}: write NAME=WORD, e.g. --wake-model my_alexa=alexa",
                               code=CODE_EVAL_MANIFEST)
        personal[name.strip()] = word.strip()
    summary, wake, rows = run_eval(args.manifest, config, compare=args.compare, workers=args.workers, personal=personal)
    if args.report is not None:
        write_report(args.report, summary, wake, rows)
    if args.json:
        print_json(summary)
    else:
        print_table(summary)
        if args.report is not None:
            print(f"\nreport written to {args.report / 'report.md'}")
    return 0


def _eval_intents(args: argparse.Namespace, config: Config) -> int:
    """``eval --intents``: the sentences through the product's recognizer; figures, confusions, failures."""
    from voicebox.daemon.assistant import load_skill_set
    from voicebox.measure.eval_intents import print_intent_table, read_intent_cases, score_intents

    if args.report is not None or args.compare:
        raise MeasureError("--report and --compare go with --manifest, not --intents", code=CODE_EVAL_ARGS)
    cases = read_intent_cases(args.intents)
    _, recognizer = load_skill_set(config)
    summary = score_intents(cases, recognizer)
    if args.json:
        print_json({"intents": str(args.intents), **summary})
    else:
        print_intent_table(summary)
    return 0


def _soak_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    p.add_argument("--minutes", type=float, default=60.0, help="minutes of audio to stream (default 60; CI uses 5)")
    p.add_argument("--every-s", type=float, default=45.0, help="seconds of audio between wake word + command cues")
    p.add_argument("--seed", type=int, default=1, help="order of the background clips")
    p.add_argument("--audio", metavar="DIR", help="the recordings folder (default: ../shared/audio)")


def cmd_soak(args: argparse.Namespace, config: Config) -> int:
    """Stream the planned audio through ``voicebox run`` faster than real time and report; 0 when it passed."""
    from voicebox.measure.soak import run_soak

    if not 0.5 <= args.minutes <= 24 * 60:
        raise MeasureError(f"--minutes {args.minutes} is out of range; allowed: 0.5 to 1440", code=CODE_SOAK_ARGS)
    report = run_soak(config, args)
    if args.json:
        print_json({**asdict(report), "passed": report.passed})
    else:
        for key, value in asdict(report).items():
            print(f"  {key:<24} {value}")
        print(f"  {'passed':<24} {report.passed}")
    return 0 if report.passed else 1


BENCH = Command("bench", "measure latency, accuracy and cost (about 3 minutes)", cmd_bench, _bench_arguments)
EVAL = Command("eval", "measure wake-word, recognition and intent accuracy on recordings", cmd_eval, _eval_arguments)
SOAK = Command("soak", "long-running check: an hour of real audio through the daemon", cmd_soak, _soak_arguments)
