"""Personal wake-word models in the model store: enrolled templates and their threshold, one folder each."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from voicebox.core.errors import CODE_MODEL_CORRUPT, CODE_MODEL_STORE, ModelError
from voicebox.models.catalogue import ModelFile, ModelInfo

__all__ = [
    "LICENCE", "META_NAME", "TEMPLATES_NAME", "PersonalModel", "check_name", "is_personal", "personal_infos",
    "read_personal", "write_personal",
]

LICENCE = "personal"
META_NAME = "personal_wake.json"
TEMPLATES_NAME = "personal_wake.npz"
_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")


@dataclass(frozen=True, slots=True)
class PersonalModel:
    """An enrolled wake word: feature templates, the threshold distance, and where they came from."""

    name: str
    word: str
    templates: tuple[npt.NDArray[np.float32], ...]
    threshold: float
    meta: dict[str, Any]


def is_personal(catalogue: Mapping[str, ModelInfo], name: str) -> bool:
    """Whether ``name`` is a personal wake word (the store adds those to its catalogue)."""
    info = catalogue.get(name)
    return info is not None and info.licence == LICENCE


def check_name(name: str) -> str:
    """``name`` if it can name a personal model (lower-case letters, digits, underscores), else a ModelError."""
    if not _NAME.fullmatch(name):
        raise ModelError(f"{name!r} cannot name a wake word: use 1-40 lower-case letters, digits or underscores, "
                         "starting with a letter or digit (e.g. hey_computer)", code=CODE_MODEL_STORE)
    return name


def write_personal(root: Path, model: PersonalModel) -> Path:
    """Store ``model`` under ``root/NAME`` (replacing an earlier enrolment of the same name); its folder."""
    from voicebox.models.fetch import write_stamp

    folder = root / check_name(model.name)
    tmp = root / f".{model.name}.enrolling"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.savez(tmp / TEMPLATES_NAME, *model.templates)
    sha = hashlib.sha256((tmp / TEMPLATES_NAME).read_bytes()).hexdigest()
    meta = {**model.meta, "word": model.word, "threshold": model.threshold, "templates_sha256": sha,
            "enrolled": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    (tmp / META_NAME).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    write_stamp(tmp, LICENCE, {TEMPLATES_NAME: sha})
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder


def _meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def personal_infos(root: Path) -> dict[str, ModelInfo]:
    """Catalogue entries (kind ``wake``, licence ``personal``) for the personal models stored under ``root``."""
    infos: dict[str, ModelInfo] = {}
    if not root.is_dir():
        return infos
    for folder in sorted(root.iterdir()):
        meta = _meta(folder) if folder.is_dir() and _NAME.fullmatch(folder.name) else None
        if meta is None:
            continue
        size = (folder / TEMPLATES_NAME).stat().st_size if (folder / TEMPLATES_NAME).is_file() else 0
        n = meta.get("n_recordings", "?")
        infos[folder.name] = ModelInfo(
            name=folder.name, kind="wake", description=f"personal wake word \"{meta.get('word', '')}\" ({n} recordings)",
            licence=LICENCE, licence_note="enrolled on this machine from your own recordings", default=False,
            files=(ModelFile(TEMPLATES_NAME, size, str(meta.get("templates_sha256", ""))),), sources=())
    return infos


def read_personal(folder: Path) -> PersonalModel:
    """The personal model stored in ``folder`` (checked by the store before)."""
    meta = _meta(folder)
    if meta is None:
        raise ModelError(f"{folder / META_NAME} is missing or unreadable; enrol the word again: "
                         f"voicebox wake enroll {folder.name} CLIP.wav ...", code=CODE_MODEL_CORRUPT)
    try:
        with np.load(folder / TEMPLATES_NAME) as data:
            templates = tuple(np.asarray(data[k], np.float32) for k in sorted(data.files, key=lambda k: int(k[4:])))
        threshold = float(meta["threshold"])
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(f"personal wake word {folder.name!r} is corrupt ({err}); enrol it again: "
                         f"voicebox wake enroll {folder.name} CLIP.wav ...", code=CODE_MODEL_CORRUPT) from err
    return PersonalModel(folder.name, str(meta.get("word", folder.name)), templates, threshold, meta)
