"""Skills declare their settings' types and defaults; the config is checked against them at start-up, like the
rest of the config; a language no skill speaks and an empty list of wake words are config errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voicebox.act.context import SkillServices
from voicebox.act.loader import load_skills
from voicebox.core.config import config_from_dict
from voicebox.core.errors import ConfigError
from voicebox.testing import SkillHarness

SKILLS = Path(__file__).resolve().parent.parent / "skills"


def _intent(tmp_path: Path, config: str, text: str = "what is seven times eight") -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(config + f'\n[paths]\nstate_dir = "{tmp_path / "state"}"\n', encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "voicebox", "intent", "--config", str(cfg), text],
                          capture_output=True, text=True, timeout=120)


def test_a_setting_of_the_wrong_type_is_a_config_error_at_start(tmp_path: Path) -> None:
    proc = _intent(tmp_path, '[skill.timers]\nring_for_s = "abc"\n')
    assert proc.returncode != 0 and proc.stdout == ""
    assert "config error" in proc.stderr and "[skill.timers] ring_for_s must be a number, not 'abc'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("table", "expected"), [
    ({"timers": {"ring_for_s": "abc"}}, "[skill.timers] ring_for_s must be a number, not 'abc'"),
    ({"timers": {"repeat_s": 0}}, "[skill.timers] repeat_s = 0.0 is out of range; allowed: 1 to 3600"),
    ({"timers": {"ring_for": 30}}, "unknown key [skill.timers] ring_for; allowed keys in [skill.timers]: "
                                   "repeat_s, ring_for_s"),
    ({"lists": {"default_list": ["a"]}}, "[skill.lists] default_list must be a string, not ['a']"),
    ({"control": {"volume_step": True}}, "[skill.control] volume_step must be a number, not True"),
])
def test_settings_are_checked_against_what_the_skill_declares(table: dict[str, dict[str, object]],
                                                              expected: str, tmp_path: Path) -> None:
    config = config_from_dict({"skill": table, "skills": {"user_dir": str(tmp_path)}}, "my.toml")
    services = SkillServices.in_memory()
    try:
        with pytest.raises(ConfigError) as caught:
            load_skills(config, services.context)
    finally:
        services.close()
    assert caught.value.message == f"my.toml: {expected}"


def test_declared_defaults_fill_in_and_numbers_become_their_type() -> None:
    with SkillHarness(SKILLS / "timers", settings={"repeat_s": 30}) as timers:
        assert dict(timers.settings) == {"ring_for_s": 60.0, "repeat_s": 30.0}
        assert isinstance(timers.settings["repeat_s"], float)


def test_a_skill_without_declarations_gets_its_table_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "greeter"
    (folder / "sentences").mkdir(parents=True)
    (folder / "__init__.py").write_text(
        '"""Greets."""\nfrom voicebox.skill import Skill, intent\n\n\nclass G(Skill):\n'
        "    @intent('Hi')\n    def hi(self, ctx):\n        return ctx.settings.get('greeting', 'hello')\n")
    (folder / "sentences" / "en.yaml").write_text(
        'language: en\nintents:\n  Hi:\n    data:\n      - sentences:\n          - "greeter hi"\n')
    with SkillHarness(folder, settings={"greeting": "hey", "anything": 1}) as skill:
        assert skill.say("greeter hi").speech == "hey"


def test_a_language_no_skill_has_is_refused(tmp_path: Path) -> None:
    proc = _intent(tmp_path, '[skills]\nlanguage = "xx"\n')
    assert proc.returncode != 0
    assert "[skills] language = 'xx': no skill has sentences in that language (sentences/xx.yaml)" in proc.stderr
    assert "languages the skills have: en" in proc.stderr


def test_no_wake_word_models_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"wake": {"models": []}}, "my.toml")
    assert caught.value.message.startswith("my.toml: [wake] models is empty; name at least one")
    assert "alexa" not in caught.value.message
