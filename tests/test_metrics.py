"""Accuracy arithmetic with small known inputs: WER normalisation, wake counting, false wakes per hour, sweeps."""

from __future__ import annotations

import numpy as np
import pytest

from voicebox.hear.wake import GainControl, WakeDecider
from voicebox.measure.metrics import (
    DetPoint,
    count_false_wakes,
    det_curve,
    detections,
    false_wakes_per_hour,
    miss_rate,
    normalize_words,
    operating_point,
    word_error_rate,
    word_errors,
)


@pytest.mark.parametrize(("text", "words"), [
    ("Set a timer for 5 minutes.", ["set", "a", "timer", "for", "five", "minutes"]),
    ("set a timer for five minutes", ["set", "a", "timer", "for", "five", "minutes"]),
    ("Set bed light brightness to 50%!", ["set", "bed", "light", "brightness", "to", "fifty", "percent"]),
    ("3 hours and 10 minutes", ["three", "hours", "and", "ten", "minutes"]),
    ("twenty-five", ["twenty", "five"]),
    ("25", ["twenty", "five"]),
    ("What's the date?", ["what's", "the", "date"]),
    ("the 3rd of May", ["the", "third", "of", "may"]),
    ("wake me at 7:30", ["wake", "me", "at", "seven", "thirty"]),
    ("It's 2:05 PM.", ["it's", "two", "five", "pm"]),
    ("it's 2.05 p.m.", ["it's", "two", "five", "pm"]),
    ("It's 2.05pm.", ["it's", "two", "five", "pm"]),
    ("pi is 3.14", ["pi", "is", "three", "point", "one", "four"]),
    ("Never mind.", ["nevermind"]),
    ("nevermind", ["nevermind"]),
    ("  ", []),
])
def test_normalize_words(text: str, words: list[str]) -> None:
    assert normalize_words(text) == words


def test_word_errors_counts_substitutions_insertions_deletions() -> None:
    assert word_errors(["a", "b", "c"], ["a", "b", "c"]) == 0
    assert word_errors(["a", "b", "c"], ["a", "x", "c"]) == 1
    assert word_errors(["a", "b", "c"], ["a", "c"]) == 1
    assert word_errors(["a", "b"], ["a", "b", "c", "d"]) == 2
    assert word_errors([], ["a"]) == 1
    assert word_errors(["a", "b"], []) == 2


def test_word_error_rate_is_total_errors_over_total_reference_words() -> None:
    rate, counts = word_error_rate([
        ("Set a timer for 5 minutes", "set a timer for five minutes."),  # 0 errors after normalisation, 6 words
        ("cancel timer", "cancel the timer"),  # 1 insertion, 2 words
        ("what time is it", "what time"),  # 2 deletions, 4 words
    ])
    assert [(c.errors, c.reference_words) for c in counts] == [(0, 6), (1, 2), (2, 4)]
    assert rate == pytest.approx(3 / 12)


def test_false_wakes_per_hour_scales_to_one_hour() -> None:
    assert false_wakes_per_hour(1, 1800.0) == pytest.approx(2.0)
    assert false_wakes_per_hour(3, 66 * 60.0) == pytest.approx(3 * 60 / 66)
    assert false_wakes_per_hour(0, 10.0) == 0.0
    with pytest.raises(ValueError):
        false_wakes_per_hour(1, 0.0)


def test_detections_respect_refractory_and_patience() -> None:
    scores = np.array([0, 0.9, 0.9, 0.9, 0, 0, 0.6, 0, 0.7, 0.8, 0, 0, 0, 0.95], np.float32)
    assert detections(scores, 0.5, refractory_blocks=0) == [1, 2, 3, 6, 8, 9, 13]
    assert detections(scores, 0.5, refractory_blocks=3) == [1, 6, 13]
    assert detections(scores, 0.5, refractory_blocks=5) == [1, 8]
    assert detections(scores, 0.5, refractory_blocks=0, patience=2) == [2, 3, 9]
    assert detections(scores, 0.5, refractory_blocks=3, patience=3) == [3]
    assert detections(scores, 0.99) == []


@pytest.mark.parametrize("patience", [1, 2, 3])
@pytest.mark.parametrize("refractory_blocks", [0, 4, 25])
def test_detections_agree_with_the_wake_decider(patience: int, refractory_blocks: int) -> None:
    scores = np.random.default_rng(patience * 100 + refractory_blocks).random(3000).astype(np.float32) ** 2
    decider = WakeDecider(0.6, refractory_ms=refractory_blocks * 80, patience=patience)
    fired = [i for i, s in enumerate(scores) if decider.feed({"m": float(s)}) is not None]
    assert fired == detections(scores, 0.6, refractory_blocks=refractory_blocks, patience=patience)
    assert len(fired) > 5


def test_decider_uses_per_model_thresholds() -> None:
    decider = WakeDecider(0.5, {"alexa": 0.8}, refractory_ms=0)
    assert decider.feed({"alexa": 0.7, "hey_jarvis": 0.4}) is None
    hit = decider.feed({"alexa": 0.7, "hey_jarvis": 0.55})
    assert hit is not None and hit.model == "hey_jarvis"


def test_miss_rate_and_threshold_sweep() -> None:
    clips = [np.array([0.1, 0.9, 0.2]), np.array([0.3, 0.6]), np.array([0.2, 0.1])]
    negative = np.zeros(45_000, np.float32)  # one hour of 80 ms blocks
    negative[[100, 5000, 5001]] = [0.55, 0.95, 0.7]
    assert miss_rate(clips, 0.5) == pytest.approx(1 / 3)
    assert miss_rate(clips, 0.7) == pytest.approx(2 / 3)
    assert count_false_wakes(negative, 0.5, refractory_blocks=25) == 2
    points = det_curve(clips, negative, [0.5, 0.7, 0.96], refractory_blocks=25)
    assert [(p.threshold, round(p.miss_rate, 3), round(p.false_wakes_per_hour, 3)) for p in points] == [
        (0.5, 0.333, 2.0), (0.7, 0.667, 1.0), (0.96, 1.0, 0.0)]
    assert operating_point(points, 1.0) == points[1]
    assert operating_point(points, 0.5) == points[2]
    assert operating_point([DetPoint(0.5, 0.1, 3.0)], 0.2) is None


def test_gain_control_lifts_quiet_input_within_its_limit() -> None:
    t = np.arange(1280) / 16000
    quiet = (300 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)  # about -43 dBFS RMS
    loud = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)  # about -15 dBFS RMS
    agc = GainControl(target_dbfs=-20.0, max_gain_db=18.0, window_blocks=3)
    assert agc.gain_db(quiet) == pytest.approx(18.0)
    assert agc.gain_db(loud) == 0.0
    for _ in range(3):
        agc.gain_db(quiet)
    assert agc.gain_db(quiet) == pytest.approx(18.0)
    lifted = GainControl(target_dbfs=-20.0, max_gain_db=18.0).apply(quiet)
    assert np.max(np.abs(lifted)) == pytest.approx(300 * 10 ** (18 / 20), rel=0.01)
