"""Personal wake word over random enrolment draws: miss rate on the other speakers' clips, false wakes per hour.

    python tools/measure_personal_wake.py alexa --draws 10 --seed 2 [--audio ../shared/audio]

Each draw enrols 3 random wake clips of WORD (checked and calibrated exactly as ``voicebox wake enroll`` does,
against the built-in negatives), then scores every other clip of WORD (a miss: no block within the threshold)
and all negative clips streamed back to back (a false wake: a block within it, 2 s refractory). Features are
computed once per clip in batch (``WakeFeatures``), the matching is the daemon's (``PersonalMatcher``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from voicebox.core.audio import read_wav
from voicebox.core.config import load_config
from voicebox.daemon.assistant import model_store
from voicebox.daemon.personal_wake import Enroller
from voicebox.engines.wake_features import WakeFeatures
from voicebox.hear.personal import EnrolmentRejected, calibrate, distances
from voicebox.measure.eval_data import load_pcm, read_manifest

_REFRACTORY_BLOCKS = 25


def _false_wakes(d: np.ndarray, threshold: float) -> int:
    n, last = 0, -(_REFRACTORY_BLOCKS + 1)
    for k in np.flatnonzero(d <= threshold):
        if k - last > _REFRACTORY_BLOCKS:
            n, last = n + 1, k
    return n


def main() -> None:
    """Run the draws and print one line each, then the summary."""
    p = argparse.ArgumentParser()
    p.add_argument("word")
    p.add_argument("--draws", type=int, default=10)
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--audio", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "audio")
    args = p.parse_args()
    config = load_config(None)
    store = model_store(config)
    enroller = Enroller(config, store, log=lambda msg: None)
    features = WakeFeatures(store.file("wake_features", "melspectrogram.onnx"),
                            store.file("wake_features", "embedding_model.onnx"))
    clips = read_manifest(args.audio / "manifest.tsv")
    positives = [c for c in clips if c.kind == "wake" and c.transcript == args.word]
    pad = np.zeros(6400, np.int16)
    pos_frames, words = [], []
    for clip in positives:
        pcm = read_wav(clip.path)
        pos_frames.append(features.embed(np.concatenate([pad, pcm, pad])))
        try:
            words.append(enroller.trim(pcm, clip.path.name).frames)
        except EnrolmentRejected:
            words.append(None)
    negative = features.embed(np.concatenate(load_pcm([c for c in clips if c.kind == "negative"])))
    hours = len(negative) * 0.08 / 3600
    builtin = enroller.negatives()
    print(f"{len(positives)} {args.word!r} clips, {hours * 60:.1f} min of negatives")
    rng = np.random.default_rng(args.seed)
    usable = [i for i, w in enumerate(words) if w is not None]
    results: list[tuple[float, float]] = []
    rejected = 0
    for draw in range(args.draws):
        pick = [int(i) for i in rng.choice(usable, 3, replace=False)]
        try:
            enrolment = calibrate([words[i] for i in pick], builtin)  # type: ignore[misc]
        except EnrolmentRejected as err:
            rejected += 1
            print(f"draw {draw} {pick}: rejected: {err}")
            continue
        held = [i for i in range(len(positives)) if i not in pick]
        missed = np.mean([np.min(distances(pos_frames[i], enrolment.templates)) > enrolment.threshold for i in held])
        per_hour = _false_wakes(distances(negative, enrolment.templates), enrolment.threshold) / hours
        results.append((float(missed), per_hour))
        print(f"draw {draw} {pick}: threshold {enrolment.threshold:.4f}: miss {missed:.1%}, {per_hour:.2f} false wakes/h")
    if results:
        misses = [m for m, _ in results]
        print(f"accepted {len(results)}, rejected {rejected}; miss median {np.median(misses):.1%}, worst {max(misses):.1%};"
              f" false wakes/h worst {max(f for _, f in results):.2f}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"{time.perf_counter() - started:.0f} s")
