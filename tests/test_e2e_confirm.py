"""End to end with the real models: a command no template matches is asked about ("Did you mean ...?") and a
spoken yes, without the wake word, runs it; a no drops it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli, say
from spoken import concat_wavs, events_of

pytestmark = pytest.mark.slow


@pytest.fixture()
def semantic_model(model_store: object) -> None:
    from voicebox.daemon.assistant import SEMANTIC_MODEL
    from voicebox.models.store import ModelStore, default_models_dir

    if ModelStore(default_models_dir()).status(SEMANTIC_MODEL) != "installed":
        pytest.skip(f"model {SEMANTIC_MODEL} is not installed; run: voicebox models pull {SEMANTIC_MODEL}")


def _say(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.wav"
    proc = say(text, path)
    assert proc.returncode == 0, proc.stderr
    return path


def _run(tmp_path: Path, *parts: Path | float) -> list[dict[str, object]]:
    wav = concat_wavs(tmp_path / "input.wav", *parts)
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\nstate_dir = "{tmp_path / "state"}"\n[skills]\nuser_dir = "{tmp_path / "skills"}"\n')
    proc = run_cli("run", "--config", str(config), "--input", str(wav), "--output", str(tmp_path / "reply.wav"),
                   "--json")
    assert proc.returncode == 0, proc.stderr
    return events_of(proc.stdout)


def test_did_you_mean_then_yes_runs_the_command(tmp_path: Path, semantic_model: None) -> None:
    command = _say(tmp_path, "command", "Hey Jarvis. Ring me after ten minutes.")
    yes = _say(tmp_path, "yes", "Yes.")
    events = _run(tmp_path, 0.5, command, 2.0, yes, 1.5)
    heard = [(e["event"], e.get("text", e.get("speech"))) for e in events
             if e["event"] in ("transcript", "intent_confirm", "intent", "response")]
    asked = [e for e in events if e["event"] == "intent_confirm"]
    assert asked and (asked[0]["skill"], asked[0]["intent"]) == ("timers", "StartTimer"), heard
    assert str(asked[0]["speech"]).startswith("Did you mean:") and "10 minutes" in str(asked[0]["speech"]), heard
    assert [e["event"] for e in events].count("wake") == 1, heard  # the yes needed no wake word
    done = [e for e in events if e["event"] == "intent"]
    assert [(e["skill"], e["intent"], e["matcher"]) for e in done] == [("timers", "StartTimer", "semantic")], heard
    assert done[0]["slots"]["duration"]["total_seconds"] == 600, heard
    responses = [str(e["speech"]) for e in events if e["event"] == "response"]
    assert responses[-1] == "OK, timer for 10 minutes, starting now.", heard  # it ran


def test_did_you_mean_then_no_drops_it(tmp_path: Path, semantic_model: None) -> None:
    command = _say(tmp_path, "command", "Hey Jarvis. Ring me after ten minutes.")
    no = _say(tmp_path, "no", "No.")
    events = _run(tmp_path, 0.5, command, 2.0, no, 1.5)
    heard = [(e["event"], e.get("text", e.get("speech"))) for e in events
             if e["event"] in ("transcript", "intent_confirm", "intent", "response")]
    assert any(e["event"] == "intent_confirm" for e in events), heard
    assert not any(e["event"] == "intent" for e in events), heard
    assert [str(e["speech"]) for e in events if e["event"] == "response"][-1] == "Okay, never mind.", heard
