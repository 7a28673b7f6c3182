"""Every file and folder a skill import may load is permission-checked, not only the skill's folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from voicebox.act.loader import discover
from voicebox.core.config import config_from_dict


def _skill(root: Path, name: str) -> Path:
    folder = root / name
    (folder / "sentences").mkdir(parents=True)
    (folder / "helpers").mkdir()
    (folder / "helpers" / "__init__.py").write_text('"""Helpers."""\n')
    (folder / "helpers" / "words.py").write_text('WORD = "hello"\n')
    (folder / "__init__.py").write_text(
        '"""A skill."""\nfrom voicebox.skill import Skill, intent\nfrom .helpers.words import WORD\n\n\n'
        "class S(Skill):\n    @intent('Hi')\n    def hi(self, ctx):\n        return WORD\n")
    (folder / "sentences" / "en.yaml").write_text(
        f'language: en\nintents:\n  Hi:\n    data:\n      - sentences:\n          - "{name} hi"\n')
    return folder


def _found(root: Path, tmp_path: Path) -> set[str]:
    config = config_from_dict({"skills": {"dirs": [str(root)], "user_dir": str(tmp_path / "none")}})
    return {name for name, source, _ in discover(config) if source == "dir"}


def _world_writable_init(folder: Path) -> Path:
    (folder / "__init__.py").chmod(0o666)
    return folder / "__init__.py"


def _world_writable_subpackage(folder: Path) -> Path:
    (folder / "helpers").chmod(0o777)
    return folder / "helpers"


def _world_writable_module(folder: Path) -> Path:
    (folder / "helpers" / "words.py").chmod(0o646)
    return folder / "helpers" / "words.py"


def _group_writable_cache(folder: Path) -> Path:
    if os.getuid() != 0:
        pytest.skip("a folder of a group not yours needs root")
    cache = folder / "helpers" / "__pycache__"
    cache.mkdir()
    os.chown(cache, -1, 12345)
    cache.chmod(0o775)
    return cache


def _symlink_to_another_users_file(folder: Path) -> Path:
    if os.getuid() != 0:
        pytest.skip("making a file owned by another user needs root")
    theirs = folder.parent.parent / "theirs.py"
    theirs.write_text((folder / "__init__.py").read_text())
    os.chown(theirs, 65534, 65534)
    (folder / "__init__.py").unlink()
    (folder / "__init__.py").symlink_to(theirs)
    return folder / "__init__.py"


@pytest.mark.parametrize("make_unsafe", [_world_writable_init, _world_writable_subpackage, _world_writable_module,
                                         _group_writable_cache, _symlink_to_another_users_file],
                         ids=["world-writable-init", "world-writable-subpackage", "world-writable-module",
                              "group-writable-pycache", "symlink-to-another-users-file"])
def test_an_unsafe_file_or_folder_inside_a_skill_is_refused(tmp_path: Path, make_unsafe: Callable[[Path], Path],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "skills"
    _skill(root, "good")
    bad = make_unsafe(_skill(root, "bad"))
    assert _found(root, tmp_path) == {"good"}
    assert f"refusing to load skills from {root / 'bad'}: {bad}" in caplog.text
    assert "fix with `chmod" in caplog.text or "not by you" in caplog.text


def test_a_safe_skill_with_subpackages_loads(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    _skill(root, "good")
    assert _found(root, tmp_path) == {"good"}
