"""Wake-word evaluation: score whole streams once per front end, then sweep thresholds and decision rules."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voicebox.core.audio import BLOCK_MS, BLOCK_SAMPLES, BlockFramer, Pcm
from voicebox.measure.metrics import DetPoint, count_false_wakes, det_curve, false_wakes_per_hour, miss_rate, operating_point

__all__ = ["FrontEnd", "ModelFiles", "ScoreJob", "WakeResult", "WakeRule", "evaluate_rule", "score_streams"]

Scores = npt.NDArray[np.float32]
SWEEP = tuple(round(t, 3) for t in np.concatenate([np.arange(0.01, 0.1, 0.01), np.arange(0.1, 0.9, 0.025),
                                                     np.arange(0.9, 1.0, 0.01)]))
FA_BUDGET_PER_HOUR = 0.2


@dataclass(frozen=True, slots=True)
class FrontEnd:
    """What happens to the audio before openWakeWord sees it."""

    gain: bool = False
    noise_suppression: bool = False
    max_gain_db: float = 18.0
    silence_dbfs: float | None = None  # skip the networks on long silence (the detector's silence gate)

    @property
    def name(self) -> str:
        """Short label, e.g. ``gain+ns``."""
        parts = [p for p, on in (("gain", self.gain), ("ns", self.noise_suppression),
                                 (f"gate{self.silence_dbfs:g}", self.silence_dbfs is not None)) if on]
        return "+".join(parts) or "bare"


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """Paths the openWakeWord adapter needs."""

    models: dict[str, Path]
    melspec: Path
    embedding: Path
    vad: Path
    personal: dict[str, Path] = field(default_factory=dict)  # personal wake word -> its folder in the store


@dataclass(frozen=True, slots=True)
class ScoreJob:
    """One stream through one front end; ``with_vad`` also records Silero speech probabilities."""

    stream: str
    front_end: FrontEnd
    pcm: Pcm
    files: ModelFiles
    with_vad: bool = False


def _run_job(job: ScoreJob) -> tuple[str, str, dict[str, Scores], Scores | None]:
    from openwakeword.vad import VAD

    from voicebox.engines.openwakeword import OpenWakeWordDetector
    from voicebox.hear.wake import GainControl
    from voicebox.models.personal import read_personal

    personal = {name: read_personal(folder) for name, folder in job.files.personal.items()}
    fe = job.front_end
    np.random.seed(0)  # openWakeWord starts its feature history from random audio: same start, same scores
    detector = OpenWakeWordDetector(job.files.models, job.files.melspec, job.files.embedding,
                                    noise_suppression=fe.noise_suppression, silence_dbfs=fe.silence_dbfs,
                                    gain=GainControl(max_gain_db=fe.max_gain_db) if fe.gain else None,
                                    personal={n: (m.templates, m.threshold) for n, m in personal.items()})
    vad = VAD(model_path=str(job.files.vad), n_threads=1) if job.with_vad else None
    blocks = BlockFramer().feed(job.pcm)  # whole blocks only: a tail short of one is not scored
    n = len(blocks)
    scores = {name: np.zeros(n, np.float32) for name in [*job.files.models, *job.files.personal]}
    speech = np.zeros(n, np.float32) if vad is not None else None
    for i, block in enumerate(b.samples for b in blocks):
        for name, value in detector.process(block).items():
            scores[name][i] = value
        if vad is not None and speech is not None:
            vad(block)
            speech[i] = vad.prediction_buffer[-1]
    return job.stream, fe.name, scores, speech


def score_streams(jobs: Sequence[ScoreJob], workers: int, done: Callable[[float], None] = lambda blocks: None,
                  ) -> dict[tuple[str, str], tuple[dict[str, Scores], Scores | None]]:
    """Run every job (largest first) in ``workers`` processes; results keyed by (stream, front end).

    ``done(blocks)`` is called as each job finishes, with the 80 ms blocks it scored (for progress).
    """
    ordered = sorted(jobs, key=lambda j: -len(j.pcm))
    results = []
    if workers <= 1:
        for job in ordered:
            results.append(_run_job(job))
            done(len(job.pcm) // BLOCK_SAMPLES)
    else:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            for job, result in zip(ordered, pool.map(_run_job, ordered), strict=True):
                results.append(result)
                done(len(job.pcm) // BLOCK_SAMPLES)
    return {(stream, fe): (scores, speech) for stream, fe, scores, speech in results}


def vad_gate(scores: Scores, speech: Scores, threshold: float) -> Scores:
    """openWakeWord's VAD gating: a score counts only if speech was heard 0.32-0.48 s before the block."""
    if threshold <= 0:
        return scores
    padded = np.concatenate([np.zeros(6, np.float32), speech])
    # Blocks i-6, i-5, i-4 of the stream, as openWakeWord reads its VAD buffer[-7:-4].
    recent = np.max(np.stack([padded[k : k + len(speech)] for k in range(3)]), axis=0)
    return np.where(recent >= threshold, scores, 0.0).astype(np.float32)


@dataclass(frozen=True, slots=True)
class WakeRule:
    """A complete wake setting to evaluate: front end, VAD gate, patience, threshold, refractory period."""

    name: str
    front_end: FrontEnd
    vad_threshold: float = 0.0
    patience: int = 1
    thresholds: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.5
    refractory_s: float = 2.0

    def threshold_for(self, model: str) -> float:
        """This rule's threshold for ``model``."""
        return self.thresholds.get(model, self.threshold)


@dataclass(frozen=True, slots=True)
class WakeResult:
    """One model under one rule: the operating point, noisy miss rates, and the DET curves."""

    model: str
    rule: str
    threshold: float
    miss_rate: float
    false_wakes_per_hour: float
    false_wakes: int
    n_positives: int
    negative_s: float
    miss_rate_snr: dict[str, float]
    miss_at_budget: float | None
    threshold_at_budget: float | None
    det: dict[str, list[DetPoint]]


def _clips(scores: Scores, spans: Sequence[tuple[int, int]]) -> list[Scores]:
    return [scores[a:b] for a, b in spans]


def evaluate_rule(rule: WakeRule, model: str, positives: dict[str, tuple[Scores, Scores | None]],
                  spans: Sequence[tuple[int, int]], negatives: tuple[Scores, Scores | None]) -> WakeResult:
    """Miss rates per condition (``clean``, ``10 dB``...) and false wakes per hour for ``model`` under ``rule``.

    ``positives`` maps a condition to (scores of the positive stream, its
    speech probabilities); ``spans`` are this model's clips in that stream.
    """
    refractory = int(round(rule.refractory_s * 1000 / BLOCK_MS))

    def gated(pair: tuple[Scores, Scores | None]) -> Scores:
        scores, speech = pair
        if rule.vad_threshold > 0:
            if speech is None:
                raise ValueError("VAD gating needs speech probabilities for this stream")
            return vad_gate(scores, speech, rule.vad_threshold)
        return scores

    negative = gated(negatives)
    negative_s = len(negative) * BLOCK_MS / 1000
    threshold = rule.threshold_for(model)
    false_wakes = count_false_wakes(negative, threshold, refractory_blocks=refractory, patience=rule.patience)
    det: dict[str, list[DetPoint]] = {}
    misses: dict[str, float] = {}
    for condition, pair in positives.items():
        clips = _clips(gated(pair), spans)
        misses[condition] = miss_rate(clips, threshold, patience=rule.patience)
        det[condition] = det_curve(clips, negative, SWEEP, refractory_blocks=refractory, patience=rule.patience)
    best = operating_point(det["clean"], FA_BUDGET_PER_HOUR)
    return WakeResult(model, rule.name, threshold, misses["clean"], false_wakes_per_hour(false_wakes, negative_s),
                      false_wakes, len(spans), negative_s, {k: v for k, v in misses.items() if k != "clean"},
                      best.miss_rate if best else None, best.threshold if best else None, det)
