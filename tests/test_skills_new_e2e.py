"""`voicebox skills new`, one added sentence, then the daemon hears it (synthesized) and answers out loud."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli, say

pytestmark = pytest.mark.slow


def test_new_skill_answers_a_spoken_command(tmp_path: Path, model_store: object) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[skills]\nuser_dir = "{tmp_path / "skills"}"\n[paths]\nstate_dir = "{tmp_path / "state"}"\n'
                      '[skill.greeter]\ngreeting = "Hello there, I am the greeter."\n')
    env = {"VOICEBOX_CONFIG": str(config)}
    made = run_cli("skills", "new", "greeter", env=env)
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "skills" / "greeter"
    assert {p.name for p in folder.iterdir()} >= {"__init__.py", "sentences", "test_greeter.py"}
    again = run_cli("skills", "new", "greeter", env=env)
    assert again.returncode == 1 and "already exists" in again.stderr

    sentences = folder / "sentences" / "en.yaml"
    sentences.write_text(sentences.read_text() + '          - "start the coffee machine"\n')
    listed = json.loads(run_cli("skills", "list", "--json", env=env).stdout)
    assert {"name": "greeter", "status": "ok"}.items() <= next(r for r in listed if r["name"] == "greeter").items()

    heard = tmp_path / "command.wav"
    said = say("Hey Jarvis. Start the coffee machine.", heard, env=env)
    assert said.returncode == 0, said.stderr
    reply = tmp_path / "reply.wav"
    ran = run_cli("run", "--input", str(heard), "--output", str(reply), "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    events = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    responses = [e for e in events if e["event"] == "response"]
    assert [(r["skill"], r["intent"]) for r in responses] == [("greeter", "GreeterHello")], ran.stdout
    assert responses[0]["speech"] == "Hello there, I am the greeter."

    text = run_cli("transcribe", str(reply), env=env).stdout.lower()
    # Piper's voice is sampled, so "hello" is sometimes heard back as "below": the skill's own word must be there.
    assert "greeter" in text, text
