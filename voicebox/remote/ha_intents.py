"""voicebox's intents as Home Assistant's own: for the intents HA implements (timers, time, date, lists, never mind).

When voicebox is Home Assistant's intent engine, HA handles these itself, so
its timers ring on the satellite that set them and items land on HA's own
shopping list. Names and slots are those of HA's built-in intent handlers
(``homeassistant.components.intent`` and ``timers``, ``shopping_list``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from voicebox.understand.intent import IntentMatch

__all__ = ["HaIntent", "TIMER_INTENTS", "to_home_assistant"]

# voicebox timers intent -> HA intent; the duration slot becomes hours/minutes/seconds.
_TIMERS = {"StartTimer": "HassStartTimer", "CancelTimer": "HassCancelTimer", "CancelAllTimers": "HassCancelAllTimers",
           "PauseTimer": "HassPauseTimer", "ResumeTimer": "HassUnpauseTimer", "AddTime": "HassIncreaseTimer",
           "RemoveTime": "HassDecreaseTimer", "TimeLeft": "HassTimerStatus"}
TIMER_INTENTS = frozenset(_TIMERS.values())
_NEVER_MIND = re.compile(r"\b(never ?mind|forget (it|about it))\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class HaIntent:
    """An intent in Home Assistant's terms: its name and slot values."""

    name: str
    slots: dict[str, Any]


def _duration(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {unit: int(value[unit]) for unit in ("hours", "minutes", "seconds") if value.get(unit)}


def to_home_assistant(match: IntentMatch) -> HaIntent | None:
    """The HA intent ``match`` stands for, or ``None`` when HA has no such intent of its own."""
    slots = match.slots
    name = slots.get("name")
    if match.skill == "timers" and match.intent in _TIMERS:
        duration = _duration(slots.get("duration"))
        if match.intent in ("StartTimer", "AddTime", "RemoveTime") and not duration:
            return None  # HA's handler needs the length; voicebox's skill asks for it
        return HaIntent(_TIMERS[match.intent], {**duration, **({"name": name} if isinstance(name, str) and name else {})})
    if match.skill == "time_date" and match.intent == "GetTime":
        return HaIntent("HassGetCurrentTime", {})
    if match.skill == "time_date" and match.intent == "GetDate":
        return HaIntent("HassGetCurrentDate", {})
    if match.skill == "lists" and match.intent == "AddItem" and isinstance(slots.get("item"), str):
        list_name = slots.get("list_name")
        if list_name in (None, "", "shopping"):
            return HaIntent("HassShoppingListAddItem", {"item": slots["item"]})
        return HaIntent("HassListAddItem", {"item": slots["item"], "name": str(list_name)})
    if match.skill == "control" and match.intent == "Stop" and _NEVER_MIND.search(match.text):
        return HaIntent("HassNevermind", {})
    return None
