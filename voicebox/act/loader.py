"""Skill discovery: built-in folder, user folder, configured folders, ``voicebox.skills`` entry points; each isolated."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from voicebox.core.config import Config
from voicebox.core.errors import ConfigError
from voicebox.core.permissions import unsafe_dir_reason, unsafe_tree_reason
from voicebox.core.resources import builtin_skills_dir
from voicebox.core.skill_settings import check_skill_settings
from voicebox.skill import Context, Skill

__all__ = ["ENTRY_POINT_GROUP", "LoadedSkill", "MakeContext", "discover", "load_folder", "load_skills",
           "user_skills_dir"]

ENTRY_POINT_GROUP = "voicebox.skills"

_LOG = logging.getLogger(__name__)

MakeContext = Callable[[str, Mapping[str, Any]], Context]
"""Builds the context of skill ``name`` with its checked settings (defaults filled in)."""


class _NoSentences(FileNotFoundError):
    """The skill has no sentences file in the configured language."""


@dataclass(slots=True)
class LoadedSkill:
    """One discovered skill: where it came from and whether it loaded."""

    name: str
    source: str
    path: Path | None
    instance: Skill | None = None
    sentences: dict[str, Any] = field(default_factory=dict)
    handlers: dict[str, str] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        """Loaded without error."""
        return self.instance is not None and not self.error

    @property
    def intents(self) -> list[str]:
        """Intent names in this skill's sentences."""
        return sorted(self.sentences.get("intents", {}))


def user_skills_dir(config: Config) -> Path:
    """``[skills] user_dir`` or <XDG data dir>/voicebox/skills."""
    if config.skills.user_dir:
        return Path(config.skills.user_dir).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("voicebox")) / "skills"


def discover(config: Config) -> Iterator[tuple[str, str, Path]]:
    """(name, source, folder) of every skill folder, built-in first; later sources override by name."""
    roots: list[tuple[str, Path]] = [("builtin", builtin_skills_dir()), ("user", user_skills_dir(config))]
    roots += [("dir", Path(d).expanduser()) for d in config.skills.dirs]
    for source, root in roots:
        if not root.is_dir() or not _safe(source, root):
            continue
        for folder in sorted(root.iterdir()):
            if not (folder / "__init__.py").is_file() or folder.name.startswith(("_", ".")):
                continue
            if _safe(source, folder, tree=True):
                yield folder.name, source, folder


def _safe(source: str, path: Path, *, tree: bool = False) -> bool:
    """User and configured skill folders must be yours and writable by nobody else (built-ins ship with voicebox).

    With ``tree`` every file and folder inside ``path`` is checked too (what importing it may load).
    """
    if source == "builtin":
        return True
    problem = unsafe_dir_reason(path)
    if not problem and tree:
        problem = unsafe_tree_reason(path)
    if problem:
        _LOG.error("refusing to load skills from %s: %s", path, problem)
    return not problem


def _import_folder(name: str, folder: Path) -> ModuleType:
    module_name = f"voicebox_skill_{name}"
    spec = importlib.util.spec_from_file_location(module_name, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _skill_class(module: ModuleType) -> type[Skill]:
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, Skill) and c is not Skill and c.__module__ == module.__name__]
    if len(classes) != 1:
        raise ImportError(f"expected exactly one Skill subclass, found {len(classes)}")
    return classes[0]


def _read_sentences(folder: Path, language: str) -> dict[str, Any]:
    path = folder / "sentences" / f"{language}.yaml"
    if not path.is_file():
        raise _NoSentences(f"no sentences file {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not isinstance(data.get("intents", {}), dict):
        raise ValueError(f"{path}: expected a mapping with an 'intents' table")
    data.setdefault("language", language)
    return data


def _entry_points() -> Iterator[tuple[str, str, Any]]:
    """(name, source, entry point) of installed packages declaring the ``voicebox.skills`` group."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        yield ep.name, f"package:{dist.name if dist is not None else ep.value}", ep


def _load_entry_point(ep: Any) -> tuple[type[Skill], Path]:
    obj = ep.load()
    cls = obj if inspect.isclass(obj) and issubclass(obj, Skill) else _skill_class(obj)
    return cls, Path(inspect.getfile(cls)).resolve().parent


def _instantiate(skill: LoadedSkill, cls: type[Skill], folder: Path, config: Config,
                 make_context: MakeContext) -> None:
    settings = check_skill_settings(config, skill.name, cls.settings)
    skill.sentences = _read_sentences(folder, config.skills.language)
    skill.handlers = cls.handlers()
    skill.examples = tuple(cls.examples)
    skill.instance = cls(make_context(skill.name, settings))


def load_folder(folder: Path, make_context: MakeContext, *, config: Config | None = None, name: str = "",
                source: str = "dir") -> LoadedSkill:
    """Import the one skill in ``folder`` (named after it unless ``name``) as :func:`load_skills` does.

    Unlike :func:`load_skills` a failure is raised, not recorded (used by :mod:`voicebox.testing`).
    """
    skill = LoadedSkill(name=name or folder.name, source=source, path=folder)
    _instantiate(skill, _skill_class(_import_folder(skill.name, folder)), folder, config or Config(), make_context)
    return skill


def load_skills(config: Config, make_context: MakeContext) -> list[LoadedSkill]:
    """Import every discovered skill; one that fails is reported (``error``) and skipped.

    Later sources override earlier ones of the same name: built-in, user
    folder, ``[skills] dirs``, then installed packages. Settings that do not
    match what a skill declares, and a ``[skills] language`` no skill has
    sentences in, are a :class:`ConfigError` (the config is wrong, not the skill).
    """
    found: dict[str, tuple[str, Any]] = {}
    for name, source, folder in discover(config):
        found[name] = (source, folder)
    try:
        for name, source, ep in _entry_points():
            found[name] = (source, ep)
    except Exception as err:  # broken package metadata must not stop the folder skills
        _LOG.error("cannot list %s entry points: %s", ENTRY_POINT_GROUP, err)
    loaded: list[LoadedSkill] = []
    bad_settings: list[str] = []
    languages: set[str] = set()
    for name, (source, where) in found.items():
        if name in config.skills.disabled:
            continue
        skill = LoadedSkill(name=name, source=source, path=where if isinstance(where, Path) else None)
        try:
            if isinstance(where, Path):
                cls, folder = _skill_class(_import_folder(name, where)), where
            else:
                cls, folder = _load_entry_point(where)
                skill.path = folder
            languages.update(p.stem for p in (folder / "sentences").glob("*.yaml"))
            _instantiate(skill, cls, folder, config, make_context)
        except ConfigError as err:
            bad_settings.append(err.message)
            skill.error = f"ConfigError: {err.message}"
        except (Exception, SystemExit) as err:  # isolation: one broken skill must not stop the others
            skill.error = f"{type(err).__name__}: {err}"
            _LOG.error("skill %s (%s) failed to load: %s", name, skill.path or source, skill.error)
        loaded.append(skill)
    if bad_settings:
        raise ConfigError("\n".join(bad_settings))
    _check_language(config, loaded, languages)
    return loaded


def _check_language(config: Config, loaded: list[LoadedSkill], languages: set[str]) -> None:
    """Refuse a ``[skills] language`` that no skill has sentences in (every skill would fail)."""
    language = config.skills.language
    if not loaded or any(s.ok for s in loaded) or language in languages:
        return
    have = ", ".join(sorted(languages)) or "none"
    raise ConfigError(f"{config.source}: [skills] language = {language!r}: no skill has sentences in that language "
                      f"(sentences/{language}.yaml); languages the skills have: {have}")
