"""Personal wake words: the pure matching and checks, the store, enrolment on real clips, and use in a run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from spoken import concat_wavs, events_of

from voicebox.hear.personal import EnrolmentRejected, calibrate, distances, dtw_distance, score_of, speech_span
from voicebox.models.personal import PersonalModel, read_personal, write_personal
from voicebox.models.store import ModelStore, list_rows

_ALEXA = "picovoice-wwb/alexa"
_ENROL = ("0.wav", "1.wav", "10.wav")
_HELD_OUT = ("2.wav", "4.wav", "101.wav", "104.wav", "105.wav", "106.wav")


def _base(rng: np.random.Generator) -> np.ndarray:
    """A word's feature rows: a random point drifting slowly, as embeddings of consecutive blocks do."""
    return rng.standard_normal(96) + np.cumsum(0.3 * rng.standard_normal((10, 96)), axis=0)


def _word(rng: np.random.Generator, base: np.ndarray, n: int, noise: float) -> np.ndarray:
    """A feature sequence like ``base`` resampled to ``n`` rows, with some noise."""
    idx = np.linspace(0, len(base) - 1, n).round().astype(int)
    return (base[idx] + noise * rng.standard_normal((n, base.shape[1]))).astype(np.float32)


def test_speech_span_takes_the_longest_stretch_and_bridges_short_pauses() -> None:
    probs = [0.0] * 5 + [0.9] * 5 + [0.1] * 3 + [0.8] * 6 + [0.0] * 20 + [0.9] * 2
    start, end = speech_span(probs)  # type: ignore[misc]
    assert start == pytest.approx(0.2) and end == pytest.approx(0.76)
    assert speech_span([0.1] * 30) is None


def test_time_warping_matches_the_same_word_said_faster() -> None:
    rng = np.random.default_rng(1)
    word, other = _base(rng), _base(rng)
    assert dtw_distance(_word(rng, word, 7, 0.1), word.astype(np.float32)) < 0.3 * dtw_distance(
        _word(rng, other, 10, 0.1), word.astype(np.float32))
    assert score_of(0.1, 0.1) == 0.5 and score_of(0.0, 0.1) == 1.0 and score_of(0.5, 0.1) == 0.0


def test_a_consistent_enrolment_is_calibrated_below_the_negatives() -> None:
    rng = np.random.default_rng(2)
    word = _base(rng)
    takes = [_word(rng, word, n, 0.3) for n in (9, 10, 11)]
    negatives = [rng.standard_normal((400, 96)).astype(np.float32)]
    enrolment = calibrate(takes, negatives)
    assert enrolment.worst_own < enrolment.threshold
    closest = float(np.min(distances(negatives[0], takes)))
    assert enrolment.closest_negative == pytest.approx(closest)
    stream = np.concatenate([negatives[0][:50], _word(rng, word, 10, 0.3), negatives[0][50:100]])
    d = distances(stream, takes)
    assert d[55:65].min() < enrolment.threshold < d[:50].min()


@pytest.mark.parametrize(("lengths", "odd", "message"), [
    ((10, 10), False, "needs 3 to 5 recordings"),
    ((5, 10, 12), False, "differ too much in length"),
    ((10, 10, 10), True, "recording(s) #3 do not match the others"),
])
def test_a_bad_enrolment_is_rejected_with_the_reason(lengths: tuple[int, ...], odd: bool, message: str) -> None:
    rng = np.random.default_rng(3)
    word, other = _base(rng), _base(rng)
    takes = [_word(rng, word, n, 0.3) for n in lengths]
    if odd:
        takes[-1] = _word(rng, other, lengths[-1], 0.3)
    with pytest.raises(EnrolmentRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        calibrate(takes, [rng.standard_normal((200, 96)).astype(np.float32)])


def test_the_store_lists_a_personal_model_and_notices_damage(tmp_path: Path) -> None:
    templates = tuple(np.full((8, 96), i, np.float32) for i in range(3))
    write_personal(tmp_path, PersonalModel("my_word", "my word", templates, 0.2, {"n_recordings": 3}))
    store = ModelStore(tmp_path)
    row = next(r for r in list_rows(store) if r["name"] == "my_word")
    assert (row["kind"], row["licence"], row["status"]) == ("wake", "personal", "installed")
    back = read_personal(store.dir("my_word"))
    assert back.threshold == 0.2 and back.word == "my word" and [t[0, 0] for t in back.templates] == [0, 1, 2]
    path = store.dir("my_word") / "personal_wake.npz"
    data = bytearray(path.read_bytes())
    data[-200] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1, 1))  # a changed file the stamp no longer vouches for
    assert ModelStore(tmp_path).status("my_word") == "corrupt"


@pytest.fixture(scope="module")
def personal_store(tmp_path_factory: pytest.TempPathFactory, model_store: ModelStore, shared_audio: Path) -> Path:
    """A store with the real models (linked) and ``my_alexa`` enrolled from three crowd-sourced alexa clips."""
    root = tmp_path_factory.mktemp("models")
    for name in ("wake_features", "silero_vad", "hey_jarvis", "tiny.en", "en_US-joe-medium"):
        (root / name).symlink_to(model_store.dir(name))
    clips = [str(shared_audio / _ALEXA / name) for name in _ENROL]
    proc = run_cli("wake", "enroll", "my_alexa", *clips, "--word", "alexa", env={"VOICEBOX_MODELS_DIR": str(root)})
    assert proc.returncode == 0, proc.stderr
    assert "personal wake word 'my_alexa' stored" in proc.stdout
    return root


@pytest.mark.slow
def test_enrolment_on_real_clips_wakes_on_other_speakers_not_on_near_misses(
        personal_store: Path, shared_audio: Path, manifest_rows: list[dict[str, str]]) -> None:
    near = [shared_audio / r["path"] for r in manifest_rows if r["kind"] == "negative"
            and r["transcript"] in ("amelia", "athena", "computer")][:9]
    held_out = [shared_audio / _ALEXA / name for name in _HELD_OUT]
    env = {"VOICEBOX_MODELS_DIR": str(personal_store)}
    listed = run_cli("models", "list", env=env)
    assert any(line.split()[:2] == ["my_alexa", "wake"] and "personal" in line for line in listed.stdout.splitlines())
    proc = run_cli("wake", "test", "my_alexa", *map(str, held_out + near), env=env)
    assert proc.returncode == 0, proc.stderr
    scores = {Path(p).name if i < len(held_out) else f"neg{i}": float(s)
              for i, (p, s, _) in enumerate(line.split("\t") for line in proc.stdout.splitlines())}
    detected = [s >= 0.5 for s in list(scores.values())[: len(held_out)]]
    assert sum(detected) >= len(held_out) - 1, scores
    assert all(s < 0.5 for s in list(scores.values())[len(held_out):]), scores


@pytest.mark.slow
def test_a_bad_enrolment_of_real_clips_is_refused(personal_store: Path, shared_audio: Path,
                                                  manifest_rows: list[dict[str, str]]) -> None:
    env = {"VOICEBOX_MODELS_DIR": str(personal_store)}
    other = next(shared_audio / r["path"] for r in manifest_rows if r["kind"] == "negative" and r["transcript"] == "computer")
    clips = [str(shared_audio / _ALEXA / "0.wav"), str(shared_audio / _ALEXA / "1.wav"), str(other)]
    proc = run_cli("wake", "enroll", "mixed", *clips, env=env)
    assert proc.returncode == 1
    assert "enrolment rejected" in proc.stderr and "record them again" in proc.stderr, proc.stderr
    too_few = run_cli("wake", "enroll", "few", *clips[:2], env=env)
    assert too_few.returncode == 1 and "3 to 5 recordings" in too_few.stderr, too_few.stderr
    assert not (personal_store / "mixed").exists() and not (personal_store / "few").exists()


@pytest.mark.slow
def test_a_personal_wake_word_in_the_config_starts_a_turn(personal_store: Path, shared_audio: Path,
                                                          tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[wake]\nmodels = ["hey_jarvis", "my_alexa"]\n', encoding="utf-8")
    wav = concat_wavs(tmp_path / "input.wav", 0.5, shared_audio / _ALEXA / "2.wav",
                      shared_audio / "speech-to-phrase" / "en" / "what time is it.wav")
    proc = run_cli("run", "--config", str(config), "--input", str(wav), "--output", "none", "--json",
                   env={"VOICEBOX_MODELS_DIR": str(personal_store)})
    assert proc.returncode == 0, proc.stderr
    events = events_of(proc.stdout)
    ready = next(e for e in events if e["event"] == "ready")
    assert list(ready["wake_models"]) == ["hey_jarvis", "my_alexa"]  # type: ignore[call-overload]
    wake = next(e for e in events if e["event"] == "wake")
    assert wake["model"] == "my_alexa", json.dumps(events)
    intent = next(e for e in events if e["event"] == "intent")
    assert (intent["skill"], intent["intent"]) == ("time_date", "GetTime")


def test_eval_takes_the_words_clips_less_those_the_model_was_enrolled_from(tmp_path: Path) -> None:
    from voicebox.core.audio import write_wav
    from voicebox.core.config import Config
    from voicebox.core.errors import MeasureError
    from voicebox.daemon.personal_wake import clip_digest
    from voicebox.measure.eval import _personal_positives
    from voicebox.measure.eval_data import Clip

    clips = []
    for i, (kind, text) in enumerate([("wake", "alexa"), ("wake", "Alexa"), ("wake", "hey jarvis"), ("negative", "")]):
        write_wav(tmp_path / f"{i}.wav", np.full(1600, i + 1, np.int16))
        clips.append(Clip(tmp_path / f"{i}.wav", kind, text))
    models = tmp_path / "models"
    enrolled = [clip_digest(np.full(1600, 1, np.int16))]
    write_personal(models, PersonalModel("mine", "alexa", (np.zeros((5, 96), np.float32),) * 3, 0.2,
                                         {"clips": enrolled}))
    config = Config().replace("paths", models_dir=str(models))
    chosen = _personal_positives(clips, config, {"mine": "alexa"}, lambda msg: None)
    assert [(c.path.name, m) for c, m in chosen] == [("1.wav", "mine")]
    with pytest.raises(MeasureError, match="'other' is not a personal wake word"):
        _personal_positives(clips, config, {"other": "alexa"}, lambda msg: None)
