"""--json: stdout carries JSON only (a skill's print() goes to the log), every command accepts it, and errors under
it are JSON objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import run_cli

from voicebox.core.audio import write_wav
from voicebox.core.resources import builtin_skills_dir

CHATTY = '''"""Prints at import and in its handler, as careless skills do."""
import os
import sys

from voicebox.skill import Skill, intent

print("chatty module imported")


class Chatty(Skill):
    @intent("ChattyHello")
    def hello(self, ctx):
        print("chatty handler ran")
        sys.stdout.write("no newline at the end")
        os.write(1, b"straight to file descriptor 1\\n")
        return "hello from chatty"
'''

STRAY = ("chatty module imported", "chatty handler ran", "no newline at the end", "straight to file descriptor 1")


@pytest.fixture
def chatty_config(tmp_path: Path) -> Path:
    folder = tmp_path / "extra" / "chatty"
    (folder / "sentences").mkdir(parents=True)
    (folder / "__init__.py").write_text(CHATTY)
    (folder / "sentences" / "en.yaml").write_text(
        'language: en\nintents:\n  ChattyHello:\n    data:\n      - sentences:\n          - "chatty hello"\n')
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{tmp_path / "user"}"\ndirs = ["{tmp_path / "extra"}"]\n'
                   f'[paths]\nstate_dir = "{tmp_path / "state"}"\n')
    return cfg


def _json_lines(stdout: str) -> list[Any]:
    """Every line of stdout is JSON (raises otherwise)."""
    return [json.loads(line) for line in stdout.splitlines()]


def _printed_to_the_log(proc: Any, expected: tuple[str, ...]) -> None:
    for text in expected:
        assert text not in proc.stdout
        assert text in proc.stderr


def test_intent_json_output_is_json_only(chatty_config: Path) -> None:
    proc = run_cli("intent", "--config", str(chatty_config), "--json", "-",
                   input=b"chatty hello\nwhat is seven times eight\n")
    assert proc.returncode == 0, proc.stderr
    rows = _json_lines(proc.stdout)
    assert [r["speech"] for r in rows] == ["hello from chatty", "7 times 8 is 56."]
    _printed_to_the_log(proc, STRAY)


@pytest.mark.slow
def test_transcribe_and_run_json_output_is_json_only(chatty_config: Path, tmp_path: Path,
                                                     model_store: object) -> None:
    quiet = tmp_path / "quiet.wav"
    write_wav(quiet, np.zeros(16000, np.int16))
    proc = run_cli("transcribe", "--config", str(chatty_config), "--json", str(quiet))
    assert proc.returncode == 0, proc.stderr
    assert set(_json_lines(proc.stdout)[0]) >= {"text", "audio_ms"}
    _printed_to_the_log(proc, STRAY[:1])
    proc = run_cli("run", "--config", str(chatty_config), "--json", "--input", str(quiet), "--output", "none")
    assert proc.returncode == 0, proc.stderr
    assert _json_lines(proc.stdout)[0]["event"] == "ready"
    _printed_to_the_log(proc, STRAY[:1])


def test_every_command_accepts_json() -> None:
    from voicebox.cli.main import COMMANDS, build_parser

    parser = build_parser()
    extra = {"transcribe": ["x.wav"], "say": ["hi", "-o", "x.wav"], "intent": ["hi"], "eval": ["--manifest", "m"],
             "models": ["pull"], "skills": ["new", "x"], "wake": ["test", "x", "x.wav"]}
    for cmd in COMMANDS:
        args = parser.parse_args([cmd.name, *extra.get(cmd.name, []), "--json"])
        assert args.json is True, cmd.name
    for nested in (["models", "list"], ["skills", "list"], ["skills", "check"]):
        assert parser.parse_args([*nested, "--json"]).json is True


def test_config_json_is_every_default() -> None:
    proc = run_cli("config", "--json")
    assert proc.returncode == 0, proc.stderr
    data = _json_lines(proc.stdout)[0]
    assert data["wake"]["models"] == ["hey_jarvis"] and data["skills"]["timeout_s"] == 5.0


def test_skills_new_and_check_json(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{tmp_path / "user"}"\n')
    proc = run_cli("skills", "new", "greeter", "--config", str(cfg), "--json")
    assert proc.returncode == 0, proc.stderr
    assert _json_lines(proc.stdout) == [{"name": "greeter", "created": str(tmp_path / "user" / "greeter")}]
    proc = run_cli("skills", "check", "--config", str(cfg), "--json")
    assert proc.returncode == 0, proc.stderr
    builtin = [d for d in builtin_skills_dir().iterdir() if (d / "__init__.py").is_file()]
    assert _json_lines(proc.stdout) == [{"skills": len(builtin) + 1, "problems": []}]  # the built-ins and greeter


def test_install_service_json(tmp_path: Path) -> None:
    proc = run_cli("install-service", "--unit-dir", str(tmp_path), "--print-only", "--json")
    assert proc.returncode == 0, proc.stderr
    out = _json_lines(proc.stdout)[0]
    assert out["unit"] == str(tmp_path / "voicebox.service") and out["ran"] is False
    assert "systemctl --user daemon-reload" in out["commands"]


@pytest.mark.slow
def test_say_json(tmp_path: Path, model_store: object) -> None:
    proc = run_cli("say", "hello there", "-o", str(tmp_path / "hi.wav"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = _json_lines(proc.stdout)[0]
    assert out["output"] == str(tmp_path / "hi.wav") and out["audio_ms"] > 0


@pytest.mark.parametrize(("args", "code"), [
    (["say", "", "-o", "x.wav"], "tts_empty"),
    (["transcribe", "/nonexistent/x.wav"], "audio_missing"),
    (["intent", "hi", "--config", "/nonexistent/voicebox.toml"], "config"),
    (["models", "pull", "no-such-model"], "model_unknown"),
    (["skills", "new", "Bad Name"], "skill_name"),
    (["intent", "--no-such-flag"], "usage"),
])
def test_errors_under_json_are_json_objects(args: list[str], code: str, tmp_path: Path) -> None:
    proc = run_cli(*args, "--json", cwd=tmp_path)
    assert proc.returncode != 0
    (error,) = _json_lines(proc.stdout)
    assert error["error"] == code and error["message"], proc.stdout
    assert "Traceback" not in proc.stderr
