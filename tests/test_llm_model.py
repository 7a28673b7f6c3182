"""The [llm] stage with the real local model (gemma3-270m through llama.cpp): `voicebox intent` and a whole turn.

Skipped where the model is not pulled (`voicebox models pull gemma3-270m`, 253 MB; `make setup` does not) or
llama.cpp (`pip install xllamacpp`) is missing.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from conftest import run_cli, say
from spoken import concat_wavs, events_of

from voicebox.models.store import ModelStore, default_models_dir

pytestmark = pytest.mark.slow

MODEL = "gemma3-270m"


@pytest.fixture(scope="module")
def llm_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("llama.cpp is not installed: pip install xllamacpp")
    if ModelStore(default_models_dir()).status(MODEL) != "installed":
        pytest.skip(f"the {MODEL} model is not installed: voicebox models pull {MODEL}")
    path = tmp_path_factory.mktemp("llm") / "config.toml"
    path.write_text(f'[llm]\nmodel = "{MODEL}"\n', encoding="utf-8")
    return path


def test_intent_answers_a_question_no_skill_knows_and_skills_keep_theirs(llm_config: Path) -> None:
    proc = run_cli("intent", "--config", str(llm_config), "--json", "-",
                   input=b"why is the sky blue\nwhat time is it\n", timeout=120)
    assert proc.returncode == 0, proc.stderr
    sky, time_ = (json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{"))
    assert sky["skill"] == "llm" and sky["intent"] == "answer" and sky["speech"].strip()
    assert (time_["skill"], time_["intent"]) == ("time_date", "GetTime")


def test_a_spoken_question_gets_the_models_answer_spoken(llm_config: Path, model_store: object,
                                                          tmp_path: Path) -> None:
    said = tmp_path / "said.wav"
    proc = say("Hey Jarvis. Why is the sky blue?", said)
    assert proc.returncode == 0, proc.stderr
    reply = tmp_path / "reply.wav"
    proc = run_cli("run", "--config", str(llm_config), "--input", str(concat_wavs(tmp_path / "in.wav", 0.5, said)),
                   "--output", str(reply), "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    events = events_of(proc.stdout)
    names = [e["event"] for e in events]
    for expected in ("wake", "transcript", "intent_not_matched", "llm_started", "llm_answer", "response",
                     "synthesis_started", "audio_started", "turn_finished"):
        assert expected in names, (expected, names)
    answer = next(e for e in events if e["event"] == "llm_answer")
    assert answer["tokens"] > 0 and answer["first_token_ms"] is not None  # type: ignore[operator]
    response = next(e for e in events if e["event"] == "response")
    assert response["skill"] == "llm" and str(response["speech"]).strip()
    # What was played is the model's answer: read back, it shares its words.
    back = run_cli("transcribe", str(reply), "--json")
    assert back.returncode == 0, back.stderr
    heard = set(re.findall(r"[a-z]{3,}", json.loads(back.stdout)["text"].lower()))
    spoken = set(re.findall(r"[a-z]{3,}", str(response["speech"]).lower()))
    assert heard & spoken, (heard, spoken)
