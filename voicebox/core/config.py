"""Configuration: one TOML file loaded into frozen per-section dataclasses, defaults declared once."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from voicebox.core.errors import ConfigError

__all__ = ["Config", "default_config_path", "load_config", "render_config", "render_defaults", "scratch_config"]


def _opt(default: Any, doc: str, *, lo: float | None = None, hi: float | None = None,
         choices: tuple[str, ...] | None = None) -> Any:
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True, slots=True)
class AudioConfig:
    """[audio] devices and output."""

    input_device: str = _opt("", "Microphone: a device name (substring) or index; empty = system default.")
    output_device: str = _opt("", "Speaker: a device name (substring) or index; empty = system default.")
    earcon: bool = _opt(False, "Play a short chime when the wake word is heard.")
    volume: float = _opt(1.0, "Output volume of voicebox's own audio, 0.0-2.0.", lo=0.0, hi=2.0)
    queue_blocks: int = _opt(64, "Input blocks (80 ms each) buffered before the oldest are dropped.", lo=4, hi=10000)
    retry_max_s: float = _opt(30.0, "Longest wait between attempts to reopen a lost device, seconds.", lo=0.5, hi=3600)


@dataclass(frozen=True, slots=True)
class WakeConfig:
    """[wake] wake-word detection."""

    models: list[str] = _opt(["hey_jarvis"], "Wake-word models to listen for (see `voicebox models list`).")
    threshold: float = _opt(0.5, "Score (0-1) above which a wake word counts.", lo=0.01, hi=0.999)
    thresholds: dict[str, float] = _opt({}, "Per-model thresholds overriding `threshold`, e.g. {alexa = 0.6}.")
    refractory_s: float = _opt(2.0, "After a detection, ignore further detections for this long, seconds.", lo=0.0, hi=60.0)
    vad_threshold: float = _opt(0.0, "Only accept wake words while speech probability is above this (0 = off).", lo=0.0, hi=1.0)
    noise_suppression: bool = _opt(False, "Run Speex noise suppression before wake-word detection (needs speexdsp-ns).")
    threads: int = _opt(1, "CPU threads for the wake-word models.", lo=1, hi=64)
    patience: int = _opt(1, "Blocks (80 ms each) in a row a score must stay over its threshold to count.", lo=1, hi=10)
    gain_control: bool = _opt(False, "Lift quiet input (automatic gain) before wake-word detection.")
    max_gain_db: float = _opt(18.0, "Largest lift the automatic gain may apply, dB.", lo=0.0, hi=40.0)
    silence_dbfs: float = _opt(
        -55.0, "Input quieter than this (dBFS) for about 2 s is not run through the wake-word networks, which saves "
        "CPU in a quiet room; scores are unchanged once sound returns. -120 = always run them.", lo=-120.0, hi=0.0)


@dataclass(frozen=True, slots=True)
class ListenConfig:
    """[listen] command capture and endpointing."""

    vad_threshold: float = _opt(0.5, "Speech probability (0-1) above which a block counts as speech.", lo=0.01, hi=0.99)
    silence_s: float = _opt(0.7, "Trailing silence that ends a command not yet matching an intent, seconds.", lo=0.1, hi=10.0)
    quick_silence_s: float = _opt(
        0.16, "Silence after which recognition starts early; a command that already matches an intent ends here.",
        lo=0.0, hi=5.0)
    no_speech_timeout_s: float = _opt(5.0, "Give up when nobody speaks this long after the wake word, seconds.", lo=0.5, hi=60.0)
    max_command_s: float = _opt(12.0, "Longest command, seconds; longer speech is cut here.", lo=1.0, hi=60.0)


@dataclass(frozen=True, slots=True)
class AsrConfig:
    """[asr] speech recognition (faster-whisper)."""

    model: str = _opt("tiny.en", "Recognition model (see `voicebox models list`).")
    beam_size: int = _opt(1, "Beam size; 1 is fastest.", lo=1, hi=10)
    threads: int = _opt(2, "CPU threads for recognition.", lo=1, hi=64)
    compute_type: str = _opt("int8", "CTranslate2 compute type.", choices=("int8", "int8_float32", "float32", "default"))
    short_window: bool = _opt(True, "Size the encoder window to the command instead of 30 s (much faster).")
    vocabulary_prompt: bool = _opt(True, "Prompt the recognizer with the skills' vocabulary.")


@dataclass(frozen=True, slots=True)
class TtsConfig:
    """[tts] speech synthesis (piper)."""

    voice: str = _opt("en_US-joe-medium", "Piper voice (see `voicebox models list`).")
    length_scale: float = _opt(1.0, "Speaking rate: below 1 is faster, above 1 slower.", lo=0.3, hi=3.0)
    threads: int = _opt(2, "CPU threads for synthesis.", lo=1, hi=64)


@dataclass(frozen=True, slots=True)
class SkillsConfig:
    """[skills] skill discovery and isolation."""

    dirs: list[str] = _opt([], "Extra directories with skill folders (besides the built-in and user directories).")
    user_dir: str = _opt("", "User skills directory; empty = <XDG data dir>/voicebox/skills.")
    disabled: list[str] = _opt([], "Skill names not to load.")
    timeout_s: float = _opt(5.0, "A handler running longer than this is abandoned, seconds.", lo=0.1, hi=300.0)
    language: str = _opt("en", "Language of the sentence files (sentences/<language>.yaml).")
    near_match: bool = _opt(
        True, "Take a spoken command that matches no sentence exactly (even after a second, careful recognition) for "
        "the closest sentence the skills know if it differs only slightly: a misheard word ending (\"pause time\" "
        "for \"pause timer\"), a short word like \"the\" missing or extra; never when a longer word is missing.")
    semantic: bool = _opt(
        True, "When no sentence template matches, compare the command's meaning with the skills' sentences "
        "(model all-minilm-l6-v2): act when it is clearly close, ask \"Did you mean ...?\" when it is less sure.")


@dataclass(frozen=True, slots=True)
class PathsConfig:
    """[paths] where voicebox keeps its files."""

    models_dir: str = _opt("", "Model weights; empty = <XDG data dir>/voicebox/models (or $VOICEBOX_MODELS_DIR).")
    state_dir: str = _opt("", "SQLite database of timers, lists and skill data; empty = <XDG state dir>/voicebox.")


@dataclass(frozen=True, slots=True)
class WyomingConfig:
    """[wyoming] the Wyoming protocol server (`voicebox serve`) for Home Assistant and other clients."""

    uri: str = _opt("tcp://127.0.0.1:10700", "Where `voicebox serve` listens: tcp://HOST:PORT or unix://PATH "
                    "(127.0.0.1 = this machine only; 0.0.0.0 = every network).")
    zeroconf: bool = _opt(False, "Announce the server on the local network with zeroconf/mDNS (needs `pip install zeroconf`).")
    zeroconf_name: str = _opt("", "Name to announce with zeroconf; empty = voicebox-<hostname>.")
    max_event_bytes: int = _opt(1_048_576, "Largest data or audio payload one event may declare, bytes; "
                                "a larger one closes that connection.", lo=4096, hi=67_108_864)
    max_clients: int = _opt(16, "Connections served at once; further ones get an error and are closed.", lo=1, hi=1024)
    max_audio_s: float = _opt(30.0, "Longest audio accepted for one transcription, seconds.", lo=1.0, hi=600.0)
    max_text_chars: int = _opt(5000, "Longest text accepted for synthesis or intent recognition, characters.",
                               lo=100, hi=1_000_000)
    transcript_streaming: bool = _opt(True, "Send transcript-start/-chunk/-stop before the final transcript.")


@dataclass(frozen=True, slots=True)
class HubConfig:
    """[hub] satellites: `voicebox run` accepts room satellites when `uri` is set."""

    uri: str = _opt("", "Where `voicebox run` accepts satellites: tcp://HOST:PORT or unix://PATH; empty = no hub.")
    token: str = _opt("", "Shared secret satellites must present (set it whenever the hub listens beyond 127.0.0.1).")
    max_satellites: int = _opt(8, "Satellites connected at once; further ones are refused.", lo=1, hi=256)


@dataclass(frozen=True, slots=True)
class SatelliteConfig:
    """[satellite] `voicebox satellite`: a room device that streams commands to a hub."""

    hub: str = _opt("tcp://127.0.0.1:10800", "The hub to connect to: tcp://HOST:PORT or unix://PATH.")
    name: str = _opt("", "This satellite's name as the hub logs it; empty = the host name.")
    area: str = _opt("", "The room this satellite is in (informational).")
    reconnect_max_s: float = _opt(30.0, "Longest wait between attempts to reach the hub, seconds.", lo=0.5, hi=3600)


@dataclass(frozen=True, slots=True)
class DebugConfig:
    """[debug] debugging aids; off by default because they keep audio."""

    record_dir: str = _opt("", "Keep each turn's command audio as a WAV here (a 0700 folder); empty = never record.")
    record_max_mb: float = _opt(200.0, "Size cap of the debug recordings; the oldest are deleted first, MB.",
                                lo=1.0, hi=100_000.0)


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
    return cls(**values)


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
