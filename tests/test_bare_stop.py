"""A bare "stop" while voicebox plays: the short-utterance cutter (numbers), the phrases, and the real models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE
from voicebox.hear.stop_word import StopSegmenter, is_stop_phrase


def _feed(segmenter: StopSegmenter, probabilities: list[float]) -> list[tuple[int, int]]:
    """(block index, length in blocks) of each utterance returned; block i holds the value i everywhere."""
    out = []
    for i, p in enumerate(probabilities):
        audio = segmenter.feed(np.full(BLOCK_SAMPLES, i, np.int16), p)
        if audio is not None:
            out.append((i, len(audio) // BLOCK_SAMPLES))
    return out


def test_a_short_utterance_is_cut_out_with_a_little_context() -> None:
    seg = StopSegmenter(max_speech_s=1.5, end_silence_s=0.24, pad_blocks=2)
    probs = [0.0] * 5 + [0.9] * 8 + [0.0] * 6
    (ended, blocks), = _feed(seg, probs)
    assert ended == 5 + 8 + 2  # three quiet blocks after the speech
    assert blocks == 2 + 8 + 2  # two before, the speech, two after


def test_talk_longer_than_a_stop_is_dropped_until_the_next_silence() -> None:
    seg = StopSegmenter(max_speech_s=1.5, end_silence_s=0.24)
    long_talk = [0.9] * 30 + [0.0] + [0.9] * 4 + [0.0] * 4  # 2.4 s of speech, a short pause, more speech
    assert _feed(seg, long_talk) == []
    assert _feed(seg, [0.0, 0.9, 0.9, 0.9, 0.0, 0.0, 0.0]) != []  # after the silence, a "stop" is heard again


def test_only_a_whole_stop_phrase_counts() -> None:
    for said in ("Stop.", "stop!", " Stop it. ", "Cancel.", "Be quiet.", "That's enough.", "Shut up!", "Stop. Stop."):
        assert is_stop_phrase(said), said
    for said in ("", "Stop the timer in five minutes.", "I'll stop", "Don't stop.", "Set a timer", "Stop. Go."):
        assert not is_stop_phrase(said), said


@pytest.mark.slow
def test_a_synthesized_stop_over_the_alarm_is_heard_through_the_echo_canceller_and_the_alarm_alone_is_not(
        model_store: object) -> None:
    from voicebox.core.audio import resample
    from voicebox.core.config import Config
    from voicebox.daemon.assistant import load_asr, load_tts, load_vad
    from voicebox.engines.speex_aec import speexdsp_available
    from voicebox.measure.barge_in import echo_path, stops_heard
    from voicebox.speak.sounds import alarm_clock

    if not speexdsp_available():
        pytest.skip("libspeexdsp not installed (apt install libspeexdsp1)")
    config = Config()
    tts, vad, asr = load_tts(config, model_store), load_vad(model_store), load_asr(config, model_store)  # type: ignore[arg-type]
    stop = np.concatenate([resample(c, tts.sample_rate) for c in tts.synthesize("Stop.")]).astype(np.float64)
    played = np.tile(alarm_clock(), 5)
    rng = np.random.default_rng(1)
    echo = echo_path(played, rng) + rng.standard_normal(len(played)) * 20
    # The user, as loud as the alarm's echo, in its fourth ring: the canceller has had three rings to converge.
    at = len(played) * 3 // 5 + SAMPLE_RATE // 4
    voice = stop * np.sqrt(np.mean(echo**2)) / np.sqrt(np.mean(stop**2))
    mic = echo.copy()
    mic[at : at + len(voice)] += voice
    hits = stops_heard(vad, asr, mic, played)
    assert any(at // BLOCK_SAMPLES <= h <= (at + len(voice)) // BLOCK_SAMPLES + 12 for h in hits), hits
    assert stops_heard(vad, asr, echo, played) == []  # its own alarm, heard back, is never a "stop"
