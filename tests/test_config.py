import dataclasses
import re
from pathlib import Path

import pytest

from voicebox.core.config import SECTIONS, Config, load_config, render_config, render_defaults, scratch_config
from voicebox.core.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_when_no_file(tmp_path: Path) -> None:
    cfg = Config()
    assert cfg.wake.models == ["hey_jarvis"]
    assert cfg.asr.model == "tiny.en"
    assert cfg.tts.voice == "en_US-joe-medium"


def test_values_are_read_and_frozen(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "[listen]\nsilence_s = 1.2\n[wake]\nthresholds = {alexa = 0.6}\n"
                                       "[skill.timers]\nrepeat_s = 30\n"))
    assert cfg.listen.silence_s == 1.2
    assert cfg.wake.thresholds == {"alexa": 0.6}
    assert cfg.skill["timers"]["repeat_s"] == 30
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.listen.silence_s = 3.0  # type: ignore[misc]


@pytest.mark.parametrize(("text", "expected"), [
    ("[listen]\nsilnce_s = 1\n", r"unknown key \[listen\] silnce_s; allowed keys in \[listen\]: .*silence_s"),
    ("[lsten]\n", r"unknown section \[lsten\]; allowed sections: audio, wake, listen"),
    ("[listen]\nsilence_s = -3\n", r"\[listen\] silence_s = -3.0 is out of range; allowed: 0.1 to 10.0"),
    ("[asr]\nbeam_size = 'big'\n", r"\[asr\] beam_size must be a whole number"),
    ("[asr]\ncompute_type = 'fp4'\n", r"choose one of: int8"),
    ("[wake]\nmodels = 'alexa'\n", r"\[wake\] models must be a list of strings"),
    ("[listen\n", r"not valid TOML"),
])
def test_bad_config_names_file_key_and_allowed_values(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in err.value.message
    assert re.search(expected, err.value.message), err.value.message


def test_explicit_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_rendered_defaults_round_trip() -> None:
    import tomllib

    from voicebox.core.config import config_from_dict

    assert config_from_dict(tomllib.loads(render_defaults())) == dataclasses.replace(Config(), source="<dict>")


def test_readme_documents_every_key_with_its_default() -> None:
    readme = (REPO / "README.md").read_text()
    assert render_defaults() in readme, "README's configuration block is stale: run `make readme`"
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            assert re.search(rf"^{f.name} = ", readme, re.M), f"README lacks [{section}] {f.name}"


def test_a_changed_config_is_written_and_read_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[wake]\nmodels = ["alexa"]\nthreshold = 0.7\n[skills]\nuser_dir = "C:\\\\odd \\"dir\\""\n'
                    '[skill.timers]\nring_for_s = 30\n', encoding="utf-8")
    mine = load_config(path)
    again = tmp_path / "again.toml"
    again.write_text(render_config(mine), encoding="utf-8")
    assert dataclasses.replace(load_config(again), source=mine.source) == mine


def test_a_scratch_config_moves_only_the_state(tmp_path: Path) -> None:
    mine = Config().replace("wake", threshold=0.7)
    scratch = load_config(scratch_config(mine, tmp_path))
    assert scratch.paths.state_dir == str(tmp_path / "state")
    assert dataclasses.replace(scratch, paths=mine.paths, source=mine.source) == mine
