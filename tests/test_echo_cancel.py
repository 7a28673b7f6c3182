"""The Speex echo canceller over a simulated speaker-to-microphone path: echo removed, the user's voice kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, read_wav
from voicebox.core.errors import AudioError
from voicebox.engines.speex_aec import SpeexEchoCanceller, speexdsp_available

pytestmark = pytest.mark.skipif(not speexdsp_available(), reason="libspeexdsp not installed (apt install libspeexdsp1)")


def _room(played: np.ndarray, rng: np.random.Generator, delay_ms: int = 20) -> np.ndarray:
    """What a microphone hears of ``played``: a delay, a decaying room impulse response, a little noise."""
    rir = np.zeros(SAMPLE_RATE // 10)
    rir[[0, 80, 400, 1200]] = (0.6, 0.25, 0.1, 0.05)
    rir += 0.02 * rng.standard_normal(len(rir)) * np.exp(-np.arange(len(rir)) / 300)
    delayed = np.concatenate([np.zeros(SAMPLE_RATE * delay_ms // 1000), played])
    return np.convolve(delayed, rir)[: len(played)] + rng.standard_normal(len(played)) * 30


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x.astype(np.float64))) + 1.0))


def _run(mic: np.ndarray, played: np.ndarray) -> np.ndarray:
    aec = SpeexEchoCanceller()
    try:
        return np.concatenate([aec.process(mic[i : i + BLOCK_SAMPLES], played[i : i + BLOCK_SAMPLES])
                               for i in range(0, len(mic) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES)])
    finally:
        aec.close()


def test_echo_of_speech_is_removed_once_converged_and_the_users_voice_kept(shared_audio: Path) -> None:
    rng = np.random.default_rng(0)
    clips = sorted((shared_audio / "speech-to-phrase" / "en").glob("*.wav"))[:20]
    played = np.concatenate([read_wav(p) for p in clips])[: SAMPLE_RATE * 12].astype(np.float64)
    user = read_wav(shared_audio / "wyoming-openwakeword" / "hey_jarvis.wav").astype(np.float64)
    at = SAMPLE_RATE * 9
    echo = _room(played, rng)
    mic = echo.copy()
    mic[at : at + len(user)] += user
    out = _run(np.clip(mic, -32768, 32767).astype(np.int16), played.astype(np.int16))
    late = slice(SAMPLE_RATE * 6, at)  # echo alone, after the filter converged
    assert _db(echo[late]) - _db(out[late]) > 20
    spoken = slice(at, at + len(user))
    n = len(out[spoken])
    kept = np.corrcoef(out[spoken], user[:n])[0, 1]
    heard_raw = np.corrcoef(mic[spoken][:n], user[:n])[0, 1]
    assert kept > 0.9 > heard_raw, (kept, heard_raw)
    assert _db(mic[spoken][:n] - user[:n]) - _db(out[spoken] - user[:n]) > 15  # the echo under the voice


def test_blocks_of_the_wrong_size_are_refused() -> None:
    aec = SpeexEchoCanceller()
    with pytest.raises(AudioError, match="1280-sample blocks"):
        aec.process(np.zeros(640, np.int16), np.zeros(640, np.int16))
    aec.close()


@pytest.mark.slow
def test_the_wake_word_is_heard_over_voicebox_speaking_and_its_own_audio_never_wakes_it(
        model_store: object, shared_audio: Path) -> None:
    from voicebox.core.config import Config
    from voicebox.daemon.assistant import load_tts, load_wake
    from voicebox.measure.barge_in import measure_barge_in
    from voicebox.speak.sounds import alarm_clock

    config = Config()
    wake = read_wav(shared_audio / "wyoming-openwakeword" / "hey_jarvis.wav")
    result = measure_barge_in(load_wake(config, model_store), load_tts(config, model_store),  # type: ignore[arg-type]
                              config, wake, alarm_clock())
    assert result["barge_in_wake_rate"] >= 0.9 and result["barge_in_stop_rate"] >= 0.9 and result["self_wakes"] == 0, result
    assert result["barge_in_wake_rate_no_aec"] < result["barge_in_wake_rate"], result  # the echo did hide it


def test_the_reference_gives_what_was_played_at_a_moment_and_silence_elsewhere() -> None:
    from voicebox.audio_io.echo import PlaybackReference

    ref = PlaybackReference(keep_s=1.5)
    assert not ref.window(5.0).any()  # nothing played yet
    tone = (np.arange(1600) % 100 + 1).astype(np.int16)  # 0.1 s, starting at t = 10.0 s
    ref.played(tone, 10.0)
    ref.played(tone, 10.1)  # continuous
    ref.played(tone, 10.23)  # a late wake-up of the audio thread: still follows on at 10.2
    ref.played(tone, 10.8)  # after 0.5 s of nothing: a gap
    assert np.array_equal(ref.window(10.0, 1600), tone)
    assert np.array_equal(ref.window(10.05, 1600), np.concatenate([tone[800:], tone[:800]]))
    assert np.array_equal(ref.window(10.2, 1600), tone)
    assert not ref.window(10.3, 8000).any()
    assert np.array_equal(ref.window(10.75, 1600)[800:], tone[:800])
    assert not ref.window(9.0).any() and not ref.window(11.0).any()  # before it was kept, after it was played


def test_the_delay_the_sound_server_adds_is_measured_from_the_echo() -> None:
    from voicebox.audio_io.echo import DelayEstimator

    rng = np.random.default_rng(4)
    played = (rng.standard_normal(SAMPLE_RATE * 6) * 3000).astype(np.int16)
    lag = int(0.31 * SAMPLE_RATE)
    heard = _room(np.concatenate([np.zeros(lag), played[:-lag]]), rng, delay_ms=0).astype(np.int16)
    estimator = DelayEstimator()
    estimates = [estimator.feed(heard[i : i + BLOCK_SAMPLES], played[i : i + BLOCK_SAMPLES])
                 for i in range(0, len(played) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES)]
    assert estimates[0] is None  # nothing to go on yet
    assert estimates[-1] == pytest.approx(0.31, abs=0.005)
    early = DelayEstimator()  # the echo before the reported play time (as on PulseAudio's ALSA plugin)
    ahead = np.concatenate([played[lag:], np.zeros(lag)])
    heard = _room(ahead, rng, delay_ms=0).astype(np.int16)
    for i in range(0, len(played) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):
        found = early.feed(heard[i : i + BLOCK_SAMPLES], played[i : i + BLOCK_SAMPLES])
    assert found == pytest.approx(-0.31, abs=0.005)
    quiet = DelayEstimator()
    for i in range(0, len(played) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):  # no echo at all: no estimate
        assert quiet.feed(rng.integers(-30, 30, BLOCK_SAMPLES).astype(np.int16), played[i : i + BLOCK_SAMPLES]) is None


def test_the_delay_follows_the_drift_between_two_device_clocks() -> None:
    import soxr

    from voicebox.audio_io.echo import DelayEstimator

    rng = np.random.default_rng(5)
    played = (rng.standard_normal(SAMPLE_RATE * 30) * 3000).astype(np.int16)
    ppm = 100  # the microphone's clock runs this much fast: the echo falls behind by 1.6 samples a second
    heard = soxr.resample(np.concatenate([np.zeros(800), played[:-800]]).astype(np.float64), SAMPLE_RATE,
                          SAMPLE_RATE * (1 + ppm * 1e-6))[: len(played)].astype(np.int16)
    estimator = DelayEstimator()
    delays = {}
    for i in range(0, len(heard) - BLOCK_SAMPLES + 1, BLOCK_SAMPLES):
        delays[i] = estimator.feed(heard[i : i + BLOCK_SAMPLES], played[i : i + BLOCK_SAMPLES])
    for i in (SAMPLE_RATE * 20, SAMPLE_RATE * 28):  # the true delay at sample i: 800 + i * ppm samples
        assert delays[i] * SAMPLE_RATE == pytest.approx(800 + i * ppm * 1e-6, abs=0.5), i


def test_a_time_between_two_samples_reads_between_them() -> None:
    from voicebox.audio_io.echo import PlaybackReference

    ref = PlaybackReference(keep_s=1.0)
    ramp = (np.arange(1600) * 10).astype(np.int16)
    ref.played(ramp, 10.0)
    half = ref.window(10.0 + 0.5 / SAMPLE_RATE, 100)
    assert np.array_equal(half, (np.arange(100) * 10 + 5).astype(np.int16))
    assert np.array_equal(ref.window(10.0 + 3 / SAMPLE_RATE, 100), ramp[3:103])
