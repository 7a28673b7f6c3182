"""End to end with the real models: wake word + command in a WAV file, answer spoken into a WAV file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli, say
from spoken import concat_wavs, events_of, hours_now, mentions_hour

pytestmark = pytest.mark.slow


def _check_answer(tmp_path: Path, wav: Path, prefix: tuple[str, ...] = ()) -> list[dict[str, object]]:
    reply = tmp_path / "reply.wav"
    proc = run_cli("run", "--input", str(wav), "--output", str(reply), "--json", prefix=prefix)
    assert proc.returncode == 0, proc.stderr
    events = events_of(proc.stdout)
    names = [e["event"] for e in events]
    for expected in ("ready", "wake", "speech_started", "speech_ended", "transcript", "intent", "response",
                     "audio_started", "turn_finished"):
        assert expected in names, (expected, names)
    wake = next(e for e in events if e["event"] == "wake")
    assert wake["model"] == "hey_jarvis" and float(wake["score"]) >= 0.5  # type: ignore[arg-type]
    transcript = next(e for e in events if e["event"] == "transcript")
    assert "time" in str(transcript["text"]).lower()
    intent = next(e for e in events if e["event"] == "intent")
    assert (intent["skill"], intent["intent"]) == ("time_date", "GetTime")
    hours = hours_now()
    response = next(e for e in events if e["event"] == "response")
    assert mentions_hour(str(response["speech"]), hours)
    back = run_cli("transcribe", str(reply), "--json", prefix=prefix)
    assert back.returncode == 0, back.stderr
    heard = json.loads(back.stdout)["text"]
    assert mentions_hour(heard, hours), heard
    return events


def test_synthesized_wake_word_and_command(tmp_path: Path, model_store: object) -> None:
    speech = tmp_path / "said.wav"
    proc = say("Hey Jarvis. What time is it?", speech)
    assert proc.returncode == 0, proc.stderr
    _check_answer(tmp_path, concat_wavs(tmp_path / "input.wav", 0.5, speech))


def test_real_recording_of_a_person(tmp_path: Path, model_store: object, shared_audio: Path) -> None:
    wav = concat_wavs(tmp_path / "input.wav", 0.5, shared_audio / "wyoming-openwakeword" / "hey_jarvis.wav",
                      shared_audio / "speech-to-phrase" / "en" / "what time is it.wav")
    _check_answer(tmp_path, wav)


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode == 0


def test_whole_pipeline_works_without_network(tmp_path: Path, model_store: object) -> None:
    if not _can_unshare():
        pytest.skip("`unshare -n` is not permitted here (needs root or user namespaces)")
    speech = tmp_path / "said.wav"
    proc = say("Hey Jarvis. What time is it?", speech, prefix=("unshare", "-n"))
    assert proc.returncode == 0, proc.stderr
    _check_answer(tmp_path, concat_wavs(tmp_path / "input.wav", 0.5, speech), prefix=("unshare", "-n"))


def test_demo_runs_the_whole_pipeline(tmp_path: Path, model_store: object) -> None:
    proc = run_cli("demo", "-o", str(tmp_path / "answer.wav"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for stage in ("wake word", "speech recognition", "intent", "speech synthesis", "peak memory"):
        assert stage in proc.stdout
    assert (tmp_path / "answer.wav").stat().st_size > 10_000


def test_every_command_in_a_file_is_answered(tmp_path: Path, model_store: object) -> None:
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    for text, path in (("Hey Jarvis. What time is it?", first), ("Hey Jarvis. What day is it today?", second)):
        proc = say(text, path)
        assert proc.returncode == 0, proc.stderr
    wav = concat_wavs(tmp_path / "input.wav", 0.5, first, 2.0, second, 1.0)
    proc = run_cli("run", "--input", str(wav), "--output", str(tmp_path / "reply.wav"), "--json")
    assert proc.returncode == 0, proc.stderr
    events = events_of(proc.stdout)
    intents = [(e["skill"], e["intent"]) for e in events if e["event"] == "intent"]
    heard = [(e["event"], e.get("text", e.get("model"))) for e in events if e["event"] in ("wake", "transcript")]
    assert intents == [("time_date", "GetTime"), ("time_date", "GetWeekday")], heard
