"""The model store: where installed models live, whether they are intact, and pulling the missing ones."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from voicebox.core.errors import CODE_MODEL_CORRUPT, CODE_MODEL_MISSING, CODE_MODEL_SOURCE, CODE_MODEL_UNKNOWN, ModelError
from voicebox.models.catalogue import SOURCES, STAMP_NAME, ModelInfo, load_catalogue

__all__ = ["ModelStore", "default_models_dir", "list_rows", "sha256_file"]


def default_models_dir(configured: str = "") -> Path:
    """The models folder: ``configured``, else ``$VOICEBOX_MODELS_DIR``, else the user data dir."""
    chosen = configured or os.environ.get("VOICEBOX_MODELS_DIR", "")
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs  # only needed when nothing is configured

    return Path(platformdirs.user_data_dir("voicebox")) / "models"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class ModelStore:
    """The installed models under ``root``, one folder per model, checked against the catalogue."""

    def __init__(self, root: Path, catalogue: dict[str, ModelInfo] | None = None) -> None:
        self.root = Path(root).expanduser()
        self.catalogue = dict(catalogue if catalogue is not None else load_catalogue())
        from voicebox.models.personal import personal_infos

        # Personal wake words live in the store beside the catalogue's models; a catalogue name always wins.
        for name, info in personal_infos(self.root).items():
            self.catalogue.setdefault(name, info)

    def info(self, name: str) -> ModelInfo:
        """The catalogue entry for ``name``."""
        try:
            return self.catalogue[name]
        except KeyError:
            known = ", ".join(self.catalogue)
            raise ModelError(f"unknown model {name!r}; known models: {known} (a wake word of your own: "
                             f"voicebox wake enroll {name} CLIP.wav ...)", code=CODE_MODEL_UNKNOWN) from None

    def dir(self, name: str) -> Path:
        """The folder that holds model ``name`` (whether or not it is installed)."""
        return self.root / self.info(name).name

    def file(self, name: str, filename: str) -> Path:
        """The path of one file of model ``name``."""
        if filename not in {f.name for f in self.info(name).files}:
            raise ModelError(f"model {name!r} has no file {filename!r}", code=CODE_MODEL_UNKNOWN)
        return self.dir(name) / filename

    def status(self, name: str) -> str:
        """"installed", "missing" or "corrupt"."""
        return self._check(self.info(name))[0]

    def _check(self, info: ModelInfo) -> tuple[str, str]:
        folder = self.root / info.name
        present = [f for f in info.files if (folder / f.name).is_file()]
        if not present:
            return "missing", ""
        if len(present) < len(info.files):
            lacking = ", ".join(f.name for f in info.files if f not in present)
            return "corrupt", f"{lacking} missing"
        stamp = _read_stamp(folder)
        entries: dict[str, Any] = stamp.get("files", {})
        rehashed: dict[str, str] = {}
        for f in info.files:
            shas, sizes = info.accepted(f.name)
            entry = entries.get(f.name, {})
            if f.name in stamp.get("unverified", ()):  # installed with --allow-unverified
                shas, sizes = shas | {str(entry.get("sha256"))}, sizes | {int(entry.get("size_bytes", -1))}
            st = (folder / f.name).stat()
            if (entry.get("sha256") in shas and entry.get("size_bytes") == st.st_size
                    and entry.get("mtime_ns") == st.st_mtime_ns):
                continue
            if st.st_size not in sizes:
                return "corrupt", f"{f.name} has {st.st_size} bytes, expected {f.size_bytes}"
            rehashed[f.name] = sha256_file(folder / f.name)
            if rehashed[f.name] not in shas:
                return "corrupt", f"{f.name} does not match its sha256"
        if rehashed:  # unchanged content, new mtime: refresh the stamp so the next check is fast
            all_shas = {n: e.get("sha256", "") for n, e in entries.items()} | rehashed
            from voicebox.models.fetch import write_stamp  # lazily: the rare path

            with contextlib.suppress(OSError):
                write_stamp(folder, stamp.get("source", ""), all_shas, stamp.get("unverified", ()))
        return "installed", ""

    def require(self, names: Iterable[str]) -> None:
        """Raise ModelError ("model_missing" / "model_corrupt") unless every model is installed intact."""
        missing: list[str] = []
        corrupt: dict[str, str] = {}
        for name in dict.fromkeys(names):
            state, detail = self._check(self.info(name))
            if state == "missing":
                missing.append(name)
            elif state == "corrupt":
                corrupt[name] = detail
        if not missing and not corrupt:
            return
        problems = [f"model {n!r} is not installed in {self.root}" for n in missing]
        problems += [f"model {n!r} in {self.root} is corrupt ({detail})" for n, detail in corrupt.items()]
        fix = " ".join([*missing, *corrupt])
        raise ModelError(f"{'; '.join(problems)}; run: voicebox models pull {fix}",
                         code=CODE_MODEL_MISSING if missing else CODE_MODEL_CORRUPT)

    def pull(self, names: Iterable[str], *, progress: bool = True, allow_unverified: bool = False,
             source: str = "auto") -> list[str]:
        """Fetch, verify and install the named models that are not installed intact; return those installed."""
        if source not in SOURCES:
            raise ModelError(f"unknown model source {source!r}; choose one of {', '.join(SOURCES)}",
                             code=CODE_MODEL_SOURCE)
        infos = [self.info(n) for n in dict.fromkeys(names)]
        todo = [i for i in infos if self._check(i)[0] != "installed"]
        if not todo:
            return []
        personal = [i.name for i in todo if not i.sources]
        if personal:
            raise ModelError(f"personal wake word(s) {', '.join(personal)} in {self.root} cannot be fetched; "
                             f"enrol again: voicebox wake enroll {personal[0]} CLIP.wav ...", code=CODE_MODEL_CORRUPT)
        from voicebox.models.fetch import fetch_models  # lazily: keeps start-up imports small

        return fetch_models(self.root, todo, progress=progress, allow_unverified=allow_unverified, source=source)


def _read_stamp(folder: Path) -> dict[str, Any]:
    try:
        stamp = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def list_rows(store: ModelStore) -> list[dict[str, Any]]:
    """One row per catalogue model for ``voicebox models list``: name, kind, size_mb, licence, default, status."""
    return [
        {"name": info.name, "kind": info.kind, "size_mb": round(info.size_bytes / 1e6, 1),
         "licence": info.licence, "default": info.default, "status": store.status(info.name),
         "verified": info.verified}
        for info in store.catalogue.values()
    ]
