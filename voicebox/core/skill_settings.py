"""Settings a skill declares (type by default, range, choices), checked against its ``[skill.NAME]`` table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voicebox.core.config import Config
from voicebox.core.config import _check_value as check_value  # the one checker of every config value
from voicebox.core.errors import ConfigError

__all__ = ["SkillSetting", "check_skill_settings"]


@dataclass(frozen=True, slots=True)
class SkillSetting:
    """One setting a skill declares: its default (whose type the value must have), what it means, what is allowed.

    ``lo``/``hi`` bound a number; ``choices`` lists the allowed strings.
    """

    default: bool | int | float | str | list[str]
    doc: str = ""
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] | None = None


def check_skill_settings(config: Config, skill: str, declared: Mapping[str, SkillSetting]) -> dict[str, Any]:
    """The ``[skill.NAME]`` table checked against what the skill declares, with defaults filled in.

    A skill that declares nothing gets its table as written (skills from before declarations).
    """
    table = dict(config.skill.get(skill, {}))
    if not declared:
        return table
    where = f"skill.{skill}"
    unknown = sorted(set(table) - set(declared))
    if unknown:
        raise ConfigError(f"{config.source}: unknown key [{where}] {unknown[0]}; allowed keys in [{where}]: "
                          f"{', '.join(sorted(declared))}")
    values: dict[str, Any] = {}
    for key, setting in declared.items():
        tp = list[str] if isinstance(setting.default, list) else type(setting.default)
        meta = {"lo": setting.lo, "hi": setting.hi, "choices": setting.choices}
        value = table.get(key, setting.default)
        values[key] = check_value(config.source, f"[{where}] {key}", value, tp, meta)
    return values
