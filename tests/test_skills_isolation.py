"""Isolation: a skill that fails at import, one that raises, one that hangs; the next command is answered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BROKEN = {
    "broken_import": ("import this_module_does_not_exist\n", "BrokenHello", "broken hello"),
    "raiser": ("", "RaiserHello", "raiser hello"),
    "hanger": ("", "HangerHello", "hanger hello"),
}

BODY = {
    "broken_import": "return Response('never')",
    "raiser": "raise RuntimeError('handler bug')",
    "hanger": "import time\n        time.sleep(60)\n        return Response('too late')",
}


def _write_skill(root: Path, name: str) -> None:
    prefix, intent_name, sentence = BROKEN[name]
    folder = root / name
    (folder / "sentences").mkdir(parents=True)
    (folder / "__init__.py").write_text(
        f'"""Test skill {name}."""\n{prefix}from voicebox.skill import Response, Skill, intent\n\n\n'
        f"class S(Skill):\n    @intent('{intent_name}')\n    def h(self, ctx):\n        {BODY[name]}\n")
    (folder / "sentences" / "en.yaml").write_text(
        f'language: en\nintents:\n  {intent_name}:\n    data:\n      - sentences:\n          - "{sentence}"\n')


@pytest.fixture
def config(tmp_path: Path) -> Path:
    skills = tmp_path / "extra"
    for name in BROKEN:
        _write_skill(skills, name)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{tmp_path / "user"}"\ndirs = ["{skills}"]\ntimeout_s = 1.0\n'
                   f'[paths]\nstate_dir = "{tmp_path / "state"}"\n')
    return cfg


def _run(config: Path, lines: list[str]) -> tuple[list[dict], str]:
    out = subprocess.run([sys.executable, "-m", "voicebox", "intent", "--config", str(config), "--json", "-"],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120, check=True)
    return [json.loads(line) for line in out.stdout.splitlines()], out.stderr


def test_each_failure_then_a_correct_answer(config: Path) -> None:
    rows, log = _run(config, ["broken hello", "what is seven times eight", "raiser hello", "what is seven times eight",
                              "hanger hello", "what is seven times eight"])
    assert "skill broken_import" in log and "failed to load" in log and "this_module_does_not_exist" in log
    assert rows[0]["skill"] is None  # its sentences were never loaded
    assert rows[2]["speech"] == "Sorry, something went wrong in the raiser skill."
    assert "RuntimeError: handler bug" in log and "Traceback" in log
    assert rows[4]["speech"] == "Sorry, the hanger skill took too long."
    assert "ran over 1.0 s and was abandoned" in log
    for row in rows[1::2]:
        assert (row["skill"], row["intent"], row["speech"]) == ("arithmetic", "Calculate", "7 times 8 is 56.")


def test_skills_list_shows_status(config: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "voicebox", "skills", "list", "--config", str(config), "--json"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["broken_import"]["status"].startswith("error: ModuleNotFoundError")
    assert rows["raiser"]["status"] == "ok" and rows["raiser"]["source"] == "dir"
    assert rows["timers"]["source"] == "builtin" and "StartTimer" in rows["timers"]["intents"]


def test_skills_check_reports_problems(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    folder = extra / "clock2"
    (folder / "sentences").mkdir(parents=True)
    (folder / "__init__.py").write_text(
        '"""Overlaps time_date."""\nfrom voicebox.skill import Skill, intent\n\n\nclass C(Skill):\n'
        "    @intent('Now')\n    def now(self, ctx):\n        return 'now'\n\n"
        "    @intent('Orphan')\n    def orphan(self, ctx):\n        return 'x'\n")
    (folder / "sentences" / "en.yaml").write_text(
        'language: en\nintents:\n  Now:\n    data:\n      - sentences:\n          - "what time is it"\n')
    bad = extra / "badyaml"
    (bad / "sentences").mkdir(parents=True)
    (bad / "__init__.py").write_text('"""Bad template."""\nfrom voicebox.skill import Skill\n\n\nclass B(Skill):\n    pass\n')
    (bad / "sentences" / "en.yaml").write_text(
        'language: en\nintents:\n  X:\n    data:\n      - sentences:\n          - "unclosed (paren"\n')
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{tmp_path / "user"}"\ndirs = ["{extra}"]\n')
    proc = subprocess.run([sys.executable, "-m", "voicebox", "skills", "check", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "clock2: handler for intent Orphan has no sentences" in proc.stdout
    assert "both match 'what time is it'" in proc.stdout
    assert "badyaml: failed to load: sentence templates failed to parse" in proc.stdout


def test_builtin_skills_check_clean() -> None:
    proc = subprocess.run([sys.executable, "-m", "voicebox", "skills", "check"], capture_output=True, text=True,
                          timeout=120, env={"VOICEBOX_CONFIG": "/nonexistent/voicebox.toml", "PATH": ""})
    assert proc.returncode == 0, proc.stdout


def test_skills_check_reads_lists_defined_inside_an_intent_block(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    folder = extra / "colours"
    (folder / "sentences").mkdir(parents=True)
    (folder / "__init__.py").write_text(
        '"""Block-level lists."""\nfrom voicebox.skill import Skill, intent\n\n\nclass C(Skill):\n'
        "    @intent('Paint')\n    def paint(self, ctx):\n        return 'painted'\n")
    (folder / "sentences" / "en.yaml").write_text(
        "language: en\nintents:\n  Paint:\n    data:\n      - sentences:\n          - \"paint it {colour}\"\n"
        "        lists:\n          colour:\n            values: [teal, mauve]\n")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{tmp_path / "user"}"\ndirs = ["{extra}"]\n')
    proc = subprocess.run([sys.executable, "-m", "voicebox", "skills", "check", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
