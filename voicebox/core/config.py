"""Configuration: one TOML file loaded into frozen per-section dataclasses, defaults declared once."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from voicebox.core.config_sections import (
    AsrConfig,
    AudioConfig,
    DebugConfig,
    HubConfig,
    ListenConfig,
    LlmConfig,
    PathsConfig,
    SatelliteConfig,
    SkillsConfig,
    TtsConfig,
    WakeConfig,
    WyomingConfig,
)
from voicebox.core.errors import ConfigError

__all__ = ["Config", "default_config_path", "default_values", "load_config", "render_config", "render_defaults",
           "scratch_config"]


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration; ``skill`` holds each skill's own table (``[skill.NAME]``)."""

    audio: AudioConfig = field(default_factory=AudioConfig)
    wake: WakeConfig = field(default_factory=WakeConfig)
    listen: ListenConfig = field(default_factory=ListenConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    skills: SkillsConfig = field(default_factory=SkillsConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    wyoming: WyomingConfig = field(default_factory=WyomingConfig)
    hub: HubConfig = field(default_factory=HubConfig)
    satellite: SatelliteConfig = field(default_factory=SatelliteConfig)
    debug: DebugConfig = field(default_factory=DebugConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)
    skill: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<defaults>"

    def replace(self, section: str, **changes: Any) -> Config:
        """A copy with some keys of one section changed (validated like the file)."""
        current = getattr(self, section)
        merged = {f.name: getattr(current, f.name) for f in dataclasses.fields(current)}
        merged.update(changes)
        new = _build_section(section, type(current), merged, "<override>")
        return dataclasses.replace(self, **{section: new})


SECTIONS: dict[str, type] = {
    "audio": AudioConfig,
    "wake": WakeConfig,
    "listen": ListenConfig,
    "asr": AsrConfig,
    "tts": TtsConfig,
    "skills": SkillsConfig,
    "paths": PathsConfig,
    "wyoming": WyomingConfig,
    "hub": HubConfig,
    "satellite": SatelliteConfig,
    "debug": DebugConfig,
    "llm": LlmConfig,
}


def default_config_path() -> Path:
    """$VOICEBOX_CONFIG, else <XDG config dir>/voicebox/config.toml."""
    env = os.environ.get("VOICEBOX_CONFIG")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("voicebox")) / "config.toml"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _check_value(source: str, where: str, value: Any, tp: Any, meta: Any) -> Any:
    origin = getattr(tp, "__origin__", None)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {where} must be true or false, not {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: {where} must be a whole number, not {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: {where} must be a number, not {value!r}")
        value = float(value)
    elif tp is str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # device indexes may be written as numbers
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {where} must be a string, not {value!r}")
    elif origin is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{source}: {where} must be a list of strings, not {value!r}")
        if meta.get("lo") and len(value) < meta["lo"]:
            raise ConfigError(f"{source}: {where} is empty; name at least one (see `voicebox config` for the "
                              "default and `voicebox models list` for the models)")
        return list(value)
    elif origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {where} must be a table, not {value!r}")
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < float(v) < 1.0:
                raise ConfigError(f"{source}: {where}.{k} must be a number between 0 and 1, not {v!r}")
        return {k: float(v) for k, v in value.items()}
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
    if lo is not None and hi is not None and not lo <= value <= hi:
        raise ConfigError(f"{source}: {where} = {value!r} is out of range; allowed: {lo} to {hi}")
    if choices and value not in choices:
        raise ConfigError(f"{source}: {where} = {value!r} is not allowed; choose one of: {', '.join(choices)}")
    return value


def _build_section(name: str, cls: type, table: dict[str, Any], source: str) -> Any:
    hints = get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            allowed = ", ".join(sorted(known))
            raise ConfigError(f"{source}: unknown key [{name}] {key}; allowed keys in [{name}]: {allowed}")
        values[key] = _check_value(source, f"[{name}] {key}", value, hints[key], known[key].metadata)
    section = cls(**values)
    check = getattr(section, "check", None)
    if check is not None:
        check(source)
    return section


def load_config(path: str | Path | None = None, *, required: bool = False) -> Config:
    """Load and validate the TOML config; a missing default file means all defaults.

    An explicitly given file (``required``) must exist.
    """
    cfg_path = Path(path) if path is not None else default_config_path()
    if not cfg_path.exists():
        if required or path is not None:
            raise ConfigError(f"{cfg_path}: config file not found; create it or leave out --config")
        return Config()
    try:
        data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{cfg_path}: not valid TOML: {err}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{cfg_path}: cannot read: {err}") from err
    return config_from_dict(data, str(cfg_path))


def config_from_dict(data: dict[str, Any], source: str = "<dict>") -> Config:
    """Validate a parsed TOML document into a :class:`Config`."""
    sections: dict[str, Any] = {}
    skill_tables: dict[str, dict[str, Any]] = {}
    for key, table in data.items():
        if key == "skill":
            if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
                raise ConfigError(f"{source}: [skill.NAME] sections must be tables of settings")
            skill_tables = {k: dict(v) for k, v in table.items()}
            continue
        if key not in SECTIONS:
            allowed = ", ".join([*SECTIONS, "skill.NAME"])
            raise ConfigError(f"{source}: unknown section [{key}]; allowed sections: {allowed}")
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: {key} must be a [{key}] table")
        sections[key] = _build_section(key, SECTIONS[key], table, source)
    return Config(**sections, skill=skill_tables, source=source)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def render_config(config: Config) -> str:
    """``config`` as a TOML document that :func:`load_config` reads back to an equal :class:`Config`."""
    import tomli_w

    data: dict[str, Any] = {name: dataclasses.asdict(getattr(config, name)) for name in SECTIONS}
    if config.skill:
        data["skill"] = config.skill
    return tomli_w.dumps(data)


def scratch_config(config: Config, folder: Path) -> Path:
    """Write ``config`` with its state (timers, lists) kept in ``folder``; for a child daemon run by a check.

    ``voicebox soak`` and ``voicebox bench`` start daemons that set timers and
    hear stray commands: they must neither touch the user's timers and lists
    nor ring the user's old alarms in the middle of a measurement.
    """
    path = folder / "config.toml"
    scratch = config.replace("paths", state_dir=str(folder / "state"))
    path.write_text(render_config(scratch), encoding="utf-8")
    return path


def default_values() -> dict[str, dict[str, Any]]:
    """Every section's keys with their defaults (``voicebox config --json``)."""
    return {name: dataclasses.asdict(cls()) for name, cls in SECTIONS.items()}


def render_defaults() -> str:
    """The default configuration as commented TOML (``voicebox config``; also in the README)."""
    lines = ["# voicebox configuration; every key with its default."]
    for name, cls in SECTIONS.items():
        lines.append("")
        lines.append(f"[{name}]")
        for f in dataclasses.fields(cls):
            factory: Any = f.default_factory
            default = factory() if f.default is dataclasses.MISSING else f.default
            lines.append(f"# {f.metadata['doc']}")
            lines.append(f"{f.name} = {_toml_value(default)}")
    lines += ["", "# Each skill reads its own settings from [skill.NAME], e.g.:", "# [skill.timers]",
              "# repeat_s = 15"]
    return "\n".join(lines) + "\n"
