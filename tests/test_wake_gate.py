"""The wake detector's silence gate: pure counting, and real scores unchanged by skipping the networks."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES, resample
from voicebox.core.config import Config
from voicebox.daemon.assistant import load_wake
from voicebox.hear.wake import SilenceGate, block_dbfs


def test_block_level() -> None:
    assert block_dbfs(np.zeros(BLOCK_SAMPLES, np.int16)) < -90
    full = np.full(BLOCK_SAMPLES, 32767, np.int16)
    assert abs(block_dbfs(full)) < 0.01
    assert abs(block_dbfs((full // 10).astype(np.int16)) + 20.0) < 0.01


def test_gate_closes_after_hold_and_opens_on_the_first_loud_block() -> None:
    gate = SilenceGate(floor_dbfs=-55.0, hold_blocks=3)
    assert [gate.gated(-70.0) for _ in range(4)] == [False, False, True, True]
    assert gate.gated(-40.0) is False  # sound: run the networks at once
    assert [gate.gated(-70.0) for _ in range(3)] == [False, False, True]  # the hold starts over
    assert gate.gated(-55.0) is False  # at the floor counts as sound
    gate.reset()
    assert gate.gated(-70.0) is False


def _stream(engines: Any, rms: float = 10.0) -> np.ndarray:
    """4 s of room noise (-70 dBFS: quiet), "Hey Jarvis.", 4 s of it, "Hey Jarvis." again, 1 s of it."""
    tts = engines.tts
    wake = np.concatenate([resample(c, tts.sample_rate) for c in tts.synthesize("Hey Jarvis.")])
    rng = np.random.default_rng(7)

    def quiet(seconds: float) -> np.ndarray:
        return rng.normal(0, rms, int(seconds * 16000)).astype(np.int16)

    pcm = np.concatenate([quiet(4), wake, quiet(4), wake, quiet(1)])
    return pcm[: len(pcm) // BLOCK_SAMPLES * BLOCK_SAMPLES]


def _scores(detector: Any, pcm: np.ndarray) -> np.ndarray:
    return np.array([detector.process(b)["hey_jarvis"] for b in pcm.reshape(-1, BLOCK_SAMPLES)])


def test_gated_detector_gives_the_same_scores_wherever_it_runs(engines: Any, model_store: Any) -> None:
    pcm = _stream(engines)
    config = replace(Config(), wake=replace(Config().wake, speech_gate=0.0))  # the level alone
    np.random.seed(0)  # openWakeWord starts its feature history from random audio
    gated_detector = load_wake(config, model_store)
    np.random.seed(0)
    plain_detector = load_wake(replace(config, wake=replace(config.wake, silence_dbfs=-120.0)), model_store)
    gated, plain = _scores(gated_detector, pcm), _scores(plain_detector, pcm)

    levels = np.array([block_dbfs(b) for b in pcm.reshape(-1, BLOCK_SAMPLES)])
    gate = SilenceGate(config.wake.silence_dbfs, gated_detector._gate.hold_blocks)
    skipped = np.array([gate.gated(level) for level in levels])
    assert skipped.sum() >= 40, "the quiet stretches should be skipped"
    assert not skipped[levels >= config.wake.silence_dbfs].any()
    # Both wake words are heard, at the same blocks with the same scores.
    assert (plain > 0.5).sum() >= 2 and np.array_equal(gated > 0.5, plain > 0.5)
    np.testing.assert_allclose(gated[~skipped], plain[~skipped], atol=1e-5)
    assert (gated[skipped] == 0).all() and plain[skipped].max() < 0.01


def test_a_noisy_room_without_speech_skips_the_networks_and_the_wake_words_score_the_same(engines: Any,
                                                                                        model_store: Any) -> None:
    """A fan at -40 dBFS: above the level floor, but no speech, so the networks skip it; the wake words still score."""
    config = Config()
    pcm = _stream(engines, rms=330.0)
    np.random.seed(0)
    gated_detector = load_wake(config, model_store)
    np.random.seed(0)
    plain_detector = load_wake(replace(config, wake=replace(config.wake, silence_dbfs=-120.0)), model_store)
    gated, plain = _scores(gated_detector, pcm), _scores(plain_detector, pcm)
    levels = np.array([block_dbfs(b) for b in pcm.reshape(-1, BLOCK_SAMPLES)])
    skipped = gated == 0
    assert (skipped & (levels >= config.wake.silence_dbfs)).sum() >= 40, "noise above the floor, no speech: skipped"
    assert (plain > 0.5).sum() >= 2 and np.array_equal(gated > 0.5, plain > 0.5)
    np.testing.assert_allclose(gated[~skipped], plain[~skipped], atol=1e-5)
    assert plain[skipped].max() < 0.05
