"""⑤ The language-model Protocol, and mapping a command no sentence matched to a skill's intent with its help.

The model never picks slots itself: it names an intent (from a closed list, by
grammar-constrained JSON) and rewrites the command as a sentence of that
intent, which then goes through the normal template matching. Only a rewrite
that matches the intent it named counts, and it counts as unsure (a near
match: ``complete`` False, ``heard`` the original text), like any other guess.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from voicebox.understand.intent import IntentMatch, IntentRecognizer

__all__ = ["NO_INTENT", "LanguageModel", "Prompt", "intent_prompt", "parse_intent"]

NO_INTENT = "none"
_MAX_COMMAND_CHARS = 160


@dataclass(frozen=True, slots=True)
class Prompt:
    """One request to a language model: the instructions, the user's words, and how much it may write.

    With ``schema`` (a JSON schema) the reply is constrained to JSON of that
    shape (a grammar on a local model, ``response_format`` on a server).
    """

    system: str
    user: str
    max_tokens: int
    schema: dict[str, Any] | None = None


class LanguageModel(Protocol):
    """Writes a reply to a :class:`Prompt`, piece by piece as it is generated (blocking: run it on a worker)."""

    name: str

    def stream(self, prompt: Prompt, stop: threading.Event) -> Iterator[str]:
        """Yield the reply's text as the model writes it; end soon after ``stop`` is set.

        Raises :class:`~voicebox.core.errors.LlmError` when the model fails or
        exceeds its timeout.
        """
        ...


def intent_prompt(text: str, examples: Mapping[str, Sequence[str]]) -> Prompt:
    """The request that asks which intent (of ``examples``: name -> example sentences) ``text`` means."""
    lines = [f"- {name}: " + " | ".join(sentences) for name, sentences in examples.items()]
    system = ("You route voice commands. Known intents, each with example sentences ({name} marks a value):\n"
              + "\n".join(lines)
              + f"\nAnswer with the intent the command means, or \"{NO_INTENT}\" if none fits, and the command "
                "rewritten as one sentence in the style of that intent's examples, with the command's own values.")
    schema = {
        "type": "object",
        "properties": {
            "intent": {"enum": [*examples, NO_INTENT]},
            "command": {"type": "string", "maxLength": _MAX_COMMAND_CHARS},
        },
        "required": ["intent", "command"],
        "additionalProperties": False,
    }
    return Prompt(system=system, user=text, max_tokens=64, schema=schema)


def parse_intent(reply: str, heard: str, recognizer: IntentRecognizer) -> IntentMatch | None:
    """The match the model's JSON ``reply`` stands for, or ``None`` (no intent, bad JSON, or a rewrite that does not
    match the intent it named)."""
    try:
        data = json.loads(reply)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    intent, command = data.get("intent"), data.get("command")
    if not isinstance(intent, str) or not isinstance(command, str) or intent == NO_INTENT:
        return None
    match = recognizer.recognize(command[:_MAX_COMMAND_CHARS])
    if match is None or f"{match.skill}.{match.intent}" != intent:
        return None
    return replace(match, complete=False, heard=heard)
