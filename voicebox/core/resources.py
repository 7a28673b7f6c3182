"""Package data, found in one place: the model catalogue, built-in skills, the systemd units, shared recordings.

In a wheel these files live in ``voicebox/_data`` (force-included by ``pyproject.toml``); in a source checkout
they are read from the repository's ``models/``, ``skills/`` and ``packaging/`` folders.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["builtin_skills_dir", "catalogue_path", "shared_audio_dir", "unit_template_path"]

_PACKAGE = Path(__file__).resolve().parent.parent
_DATA = _PACKAGE / "_data"
_REPO = _PACKAGE.parent


def _first(packaged: Path, in_repo: Path) -> Path:
    return packaged if packaged.exists() else in_repo


def catalogue_path() -> Path:
    """The model catalogue (``models/catalogue.toml``)."""
    return _first(_DATA / "catalogue.toml", _REPO / "models" / "catalogue.toml")


def builtin_skills_dir() -> Path:
    """The built-in skills folder (``skills/``)."""
    return _first(_DATA / "skills", _REPO / "skills")


def unit_template_path(name: str) -> Path:
    """A systemd unit file shipped in ``packaging/``."""
    return _first(_DATA / name, _REPO / "packaging" / name)


def shared_audio_dir(explicit: str | None = None) -> Path | None:
    """Recordings with a ``manifest.tsv``: EXPLICIT, $VOICEBOX_SHARED_AUDIO, else ``../shared/audio`` beside the checkout."""
    candidates = [explicit, os.environ.get("VOICEBOX_SHARED_AUDIO"), str(_REPO.parent / "shared" / "audio"),
                  str(Path.cwd().parent / "shared" / "audio")]
    for c in candidates:
        if c and (Path(c) / "manifest.tsv").is_file():
            return Path(c)
    return None
