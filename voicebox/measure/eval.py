"""``voicebox eval``: wake-word, speech-recognition and intent accuracy on a manifest of real recordings."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES
from voicebox.core.config import Config
from voicebox.core.errors import CODE_EVAL_MANIFEST, MeasureError
from voicebox.daemon.assistant import load_asr, load_skill_set, model_store
from voicebox.measure.eval_data import Clip, clip_stream, load_pcm, mix_at_snr, read_manifest, wake_model_for
from voicebox.measure.eval_wake import FrontEnd, ModelFiles, ScoreJob, WakeResult, WakeRule, evaluate_rule, score_streams
from voicebox.measure.metrics import word_error_rate
from voicebox.measure.progress import Progress
from voicebox.understand.retries import understand

__all__ = ["comparison_rules", "default_rule", "intent_scores", "run_eval"]

SNRS_DB = (10, 0)


def default_rule(config: Config) -> WakeRule:
    """The configured wake-word setting."""
    w = config.wake
    return WakeRule("default", FrontEnd(w.gain_control, w.noise_suppression, w.max_gain_db, w.silence_dbfs), w.vad_threshold,
                    w.patience, dict(w.thresholds), w.threshold, w.refractory_s)


def comparison_rules(config: Config) -> list[WakeRule]:
    """The bare model, each improvement alone, and the configured setting."""
    bare = FrontEnd()
    w = config.wake
    rules = [
        WakeRule("bare (0.5, no extras)", bare, refractory_s=w.refractory_s),
        WakeRule("per-model thresholds", bare, thresholds=dict(w.thresholds), threshold=w.threshold,
                 refractory_s=w.refractory_s),
        WakeRule("patience 2", bare, patience=2, refractory_s=w.refractory_s),
        WakeRule("patience 3", bare, patience=3, refractory_s=w.refractory_s),
        WakeRule("VAD gate 0.5", bare, vad_threshold=0.5, refractory_s=w.refractory_s),
        WakeRule("VAD gate 0.2", bare, vad_threshold=0.2, refractory_s=w.refractory_s),
        WakeRule("automatic gain", FrontEnd(gain=True, max_gain_db=w.max_gain_db), refractory_s=w.refractory_s),
    ]
    if _has_speex():
        rules.append(WakeRule("noise suppression", FrontEnd(noise_suppression=True), refractory_s=w.refractory_s))
    rules.append(default_rule(config))
    return rules


def _has_speex() -> bool:
    try:
        import speexdsp_ns  # noqa: F401
    except ImportError:
        return False
    return True


def _personal_positives(clips: list[Clip], config: Config, personal: dict[str, str],
                        log: Any) -> list[tuple[Clip, str]]:
    """Each personal model's positives: wake clips whose transcript is its word, less those it was enrolled from."""
    if not personal:
        return []
    from voicebox.daemon.personal_wake import clip_digest, is_personal, load_personal

    store = model_store(config)
    out: list[tuple[Clip, str]] = []
    for name, word in personal.items():
        if not is_personal(store.catalogue, name):
            raise MeasureError(f"--wake-model {name}={word}: {name!r} is not a personal wake word in {store.root}; "
                               f"make it with: voicebox wake enroll {name} CLIP.wav ...", code=CODE_EVAL_MANIFEST)
        enrolled = set(load_personal(store, name).meta.get("clips", ()))
        mine = [c for c in clips if c.kind == "wake" and c.transcript.lower().strip() == word.lower().strip()]
        kept = [c for c, pcm in zip(mine, load_pcm(mine), strict=True) if clip_digest(pcm) not in enrolled]
        log(f"wake word: {name} ({word!r}): {len(kept)} positive clips ({len(mine) - len(kept)} it was enrolled from "
            "left out)")
        out += [(c, name) for c in kept]
    return out


def _wake_results(clips: list[Clip], config: Config, rules: list[WakeRule], workers: int,
                  log: Any, personal: dict[str, str] | None = None) -> dict[str, list[WakeResult]]:
    built_in = [(c, wake_model_for(c.transcript)) for c in clips if c.kind == "wake"]
    mine = _personal_positives(clips, config, personal or {}, log)
    positives: list[tuple[Clip, str]] = [(c, m) for c, m in built_in if m is not None] + mine
    negatives = [c for c in clips if c.kind == "negative"]
    models = sorted({m for _, m in positives})
    if not models or not negatives:
        log(f"wake word: skipped ({len(positives)} positive clips, {len(negatives)} negative clips)")
        return {}
    store = model_store(config)
    pretrained = [m for m in models if m not in (personal or {})]
    store.require(["wake_features", "silero_vad", *models])
    from voicebox.daemon.assistant import _onnx_file

    files = ModelFiles({m: _onnx_file(store, m) for m in pretrained}, store.file("wake_features", "melspectrogram.onnx"),
                       store.file("wake_features", "embedding_model.onnx"), store.file("silero_vad", "silero_vad.onnx"),
                       {m: store.dir(m) for m in personal or {}})
    log(f"wake word: reading {len(positives)} positive and {len(negatives)} negative clips")
    pos = clip_stream(load_pcm([c for c, _ in positives]))
    neg_pcm = load_pcm(negatives)
    half = len(neg_pcm) // 2
    neg_parts = {"negative-a": clip_stream(neg_pcm[:half], gap_s=0), "negative-b": clip_stream(neg_pcm[half:], gap_s=0)}
    noise = np.concatenate(neg_pcm)
    conditions = {"clean": pos, **{f"{snr} dB": mix_at_snr(pos, noise, snr) for snr in SNRS_DB}}
    front_ends = sorted({r.front_end for r in rules}, key=lambda f: f.name)
    jobs = [ScoreJob(name, fe, s.pcm, files, with_vad=True)
            for fe in front_ends for name, s in {**conditions, **neg_parts}.items()]
    blocks = sum(len(j.pcm) for j in jobs) // BLOCK_SAMPLES
    log(f"wake word: scoring {blocks} blocks ({blocks * 0.08 / 60:.0f} min of audio through {len(front_ends)} "
        f"front end(s)) in {workers} process(es)")
    with Progress(blocks, "voicebox eval", "wake-word scoring", unit="blocks") as bar:
        scored = score_streams(jobs, workers, bar.update)
    results: dict[str, list[WakeResult]] = {}
    for rule in rules:
        fe = rule.front_end.name
        neg_scores, neg_speech = zip(*(scored[(n, fe)] for n in neg_parts), strict=True)
        for model in models:
            spans = [span for span, (_, m) in zip(pos.spans, positives, strict=True) if m == model]
            pos_pairs = {c: (scored[(c, fe)][0][model], scored[(c, fe)][1]) for c in conditions}
            neg_pair = (np.concatenate([s[model] for s in neg_scores]), np.concatenate(neg_speech))
            results.setdefault(rule.name, []).append(evaluate_rule(rule, model, pos_pairs, spans, neg_pair))
    return results


def _asr_and_intents(clips: list[Clip], config: Config, log: Any) -> dict[str, Any]:
    spoken = [c for c in clips if c.kind in ("command", "speech") and c.transcript]
    if not spoken:
        return {"rows": [], "wer": {}, **intent_scores([])}
    store = model_store(config)
    store.require([config.asr.model])
    _, intents = load_skill_set(config)
    prompt = intents.vocabulary() if config.asr.vocabulary_prompt else ""
    log(f"speech recognition: {len(spoken)} clips with {config.asr.model}")
    asr = load_asr(config, store, prompt)
    rows = []
    with Progress(len(spoken), "voicebox eval", "speech recognition", unit="clips") as bar:
        for clip, pcm in zip(spoken, load_pcm(spoken), strict=True):
            rows.append(_understood_row(asr, intents, clip, pcm))
            bar.update()
    return _scored(rows)


def _understood_row(asr: Any, intents: Any, clip: Clip, pcm: Any) -> dict[str, Any]:
    # The product's own path: a transcript that matches nothing is looked at again (understand.RETRIES),
    # and may at last be taken for the nearest template sentence.
    understood = understand(asr, intents, pcm)
    got = understood.match
    row: dict[str, Any] = {"path": str(clip.path.name), "kind": clip.kind, "reference": clip.transcript,
                           "text": understood.recognition.text}
    if clip.kind == "command":
        expected = intents.recognize(clip.transcript)
        row["intent"] = f"{got.skill}.{got.intent} {got.slots}" if got else None
        row["near_match"] = got is not None and bool(got.heard)
        if expected is not None:
            row["expected_intent"] = f"{expected.skill}.{expected.intent} {expected.slots}"
            row["intent_ok"] = got is not None and (got.skill, got.intent, got.slots) == (
                expected.skill, expected.intent, expected.slots)
    return row


def _scored(rows: list[dict[str, Any]]) -> dict[str, Any]:
    wer: dict[str, float] = {}
    for kind in ("command", "speech"):
        pairs = [(r["reference"], r["text"]) for r in rows if r["kind"] == kind]
        if pairs:
            wer[kind] = word_error_rate(pairs)[0]
    wer["all"] = word_error_rate((r["reference"], r["text"]) for r in rows)[0]
    for r, count in zip(rows, word_error_rate((r["reference"], r["text"]) for r in rows)[1], strict=True):
        r["word_errors"], r["reference_words"] = count.errors, count.reference_words
    return {"rows": rows, "wer": wer, **intent_scores(rows)}


def intent_scores(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Intent accuracy over the commands that have a built-in intent, and how many of the others got one anyway.

    A command row has ``intent`` (what was matched, or None) and, when its
    reference text has a built-in intent, ``intent_ok``.
    """
    judged = [r for r in rows if "intent_ok" in r]
    others = [r for r in rows if r.get("kind") == "command" and "intent_ok" not in r]
    return {"intent_accuracy": sum(r["intent_ok"] for r in judged) / len(judged) if judged else None,
            "n_intent": len(judged), "n_false_intents": sum(r.get("intent") is not None for r in others),
            "n_no_intent": len(others), "n_near_matches": sum(bool(r.get("near_match")) for r in rows)}


def run_eval(manifest: Path, config: Config, *, compare: bool = False, workers: int = 2,
             log: Any = None,
             personal: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, list[WakeResult]], list[dict[str, Any]]]:
    """Everything ``voicebox eval`` measures: the JSON summary, the wake results per rule, the ASR rows.

    ``personal`` maps personal wake words to the transcript of their positive clips (``--wake-model NAME=WORD``).
    """
    log = log or (lambda msg: print(f"voicebox eval: {msg}", file=sys.stderr, flush=True))
    started = time.perf_counter()
    clips = read_manifest(manifest)
    rules = comparison_rules(config) if compare else [default_rule(config)]
    wake = _wake_results(clips, config, rules, max(1, workers), log, personal)
    spoken = _asr_and_intents(clips, config, log)
    default = {r.model: r for r in wake.get("default", [])}
    summary: dict[str, Any] = {
        "manifest": str(manifest),
        "wake": {m: {"threshold": r.threshold, "miss_rate": r.miss_rate, "false_wakes_per_hour": r.false_wakes_per_hour,
                     "false_wakes": r.false_wakes, "n_positives": r.n_positives,
                     **{f"miss_rate_{k.replace(' ', '').lower()}": v for k, v in r.miss_rate_snr.items()},
                     "miss_rate_at_0.2_per_hour": r.miss_at_budget, "threshold_at_0.2_per_hour": r.threshold_at_budget}
                 for m, r in default.items()},
        "wer": spoken["wer"],
        "intent_accuracy": spoken["intent_accuracy"],
        "n_clips": len(clips),
        **{f"n_{kind}": sum(c.kind == kind for c in clips) for kind in ("wake", "command", "speech", "negative")},
        **{k: spoken[k] for k in ("n_intent", "n_false_intents", "n_no_intent", "n_near_matches")},
        "negative_s": round(next(iter(default.values())).negative_s, 1) if default else 0.0,
        "wake_config": asdict(default_rule(config)),
    }
    if compare:
        summary["comparison"] = {rule: {r.model: {"threshold": r.threshold, "miss_rate": r.miss_rate,
                                                  "false_wakes_per_hour": r.false_wakes_per_hour,
                                                  **{f"miss_rate_{k.replace(' ', '').lower()}": v
                                                     for k, v in r.miss_rate_snr.items()},
                                                  "miss_rate_at_0.2_per_hour": r.miss_at_budget}
                                        for r in results}
                                 for rule, results in wake.items()}
    summary["elapsed_s"] = round(time.perf_counter() - started, 1)
    return summary, wake, spoken["rows"]
