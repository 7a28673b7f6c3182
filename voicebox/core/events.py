"""Typed pipeline events: every stage reports through one callback that logs, CLI and tests share."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from voicebox.core.errors import Stage

__all__ = [
    "AudioPlayed",
    "DeviceLost",
    "DeviceRestored",
    "ErrorEvent",
    "Event",
    "EventSink",
    "IntentConfirm",
    "IntentMatched",
    "IntentNotMatched",
    "LlmAnswer",
    "LlmStarted",
    "NoSpeech",
    "Ready",
    "SkillResponded",
    "SpeechEnded",
    "SpeechStarted",
    "SynthesisFinished",
    "SynthesisStarted",
    "Transcript",
    "TurnFinished",
    "WakeDetected",
    "event_to_json",
    "describe",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of all events; ``time_s`` is wall-clock (epoch seconds) when it was emitted."""

    name: ClassVar[str] = "event"
    time_s: float = field(default_factory=time.time)

    def fields(self) -> dict[str, Any]:
        """The event's own fields as plain JSON-compatible values."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Ready(Event):
    """Models are loaded and audio is flowing."""

    name: ClassVar[str] = "ready"
    startup_s: float
    wake_models: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class WakeDetected(Event):
    """A wake word scored above its threshold at ``stream_ms`` into the audio."""

    name: ClassVar[str] = "wake"
    model: str
    score: float
    stream_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechStarted(Event):
    """The voice-activity detector heard the command begin."""

    name: ClassVar[str] = "speech_started"
    stream_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechEnded(Event):
    """The command was taken as finished (``reason``: silence, intent, cap)."""

    name: ClassVar[str] = "speech_ended"
    stream_ms: int
    reason: str
    speech_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NoSpeech(Event):
    """Nobody spoke after the wake word within the no-speech timeout."""

    name: ClassVar[str] = "no_speech"
    stream_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript(Event):
    """Speech recognition result for the captured command."""

    name: ClassVar[str] = "transcript"
    text: str
    audio_ms: int
    compute_ms: float
    window: str
    speculative: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentMatched(Event):
    """The transcript matched a skill's intent: by a sentence template, a near match, or by meaning (``matcher``)."""

    name: ClassVar[str] = "intent"
    skill: str
    intent: str
    slots: dict[str, Any]
    text: str
    matcher: str = "template"
    confidence: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentConfirm(Event):
    """A match too unsure to act on: the user is asked ``speech`` ("Did you mean ...?") and answers yes or no."""

    name: ClassVar[str] = "intent_confirm"
    skill: str
    intent: str
    slots: dict[str, Any]
    text: str
    confidence: float
    speech: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentNotMatched(Event):
    """No skill's template matched the transcript (an outcome, not an error)."""

    name: ClassVar[str] = "intent_not_matched"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SkillResponded(Event):
    """A skill handler returned a response."""

    name: ClassVar[str] = "response"
    skill: str
    intent: str
    speech: str
    data: dict[str, Any] = field(default_factory=dict)
    compute_ms: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmStarted(Event):
    """The language model was asked what no skill matched (``task``: answer or intent)."""

    name: ClassVar[str] = "llm_started"
    model: str
    task: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmAnswer(Event):
    """The language model finished (or was stopped: ``stopped``): its text and its speed."""

    name: ClassVar[str] = "llm_answer"
    model: str
    task: str
    text: str
    first_token_ms: float | None
    tokens: int
    tokens_per_s: float | None
    compute_ms: float
    stopped: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SynthesisStarted(Event):
    """Text is being turned into speech."""

    name: ClassVar[str] = "synthesis_started"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioPlayed(Event):
    """The first sample of reply audio reached the output (``first_audio_ms`` after synthesis began)."""

    name: ClassVar[str] = "audio_started"
    first_audio_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SynthesisFinished(Event):
    """All reply audio was produced and handed to the output."""

    name: ClassVar[str] = "synthesis_finished"
    audio_ms: int
    compute_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnFinished(Event):
    """One wake-to-reply turn is over; timings in milliseconds of wall clock."""

    name: ClassVar[str] = "turn_finished"
    timings_ms: dict[str, float]
    peak_rss_mb: float = 0.0  # the process's peak memory so far


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceLost(Event):
    """An audio device disappeared or failed; voicebox retries."""

    name: ClassVar[str] = "device_lost"
    device: str
    message: str
    retry_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRestored(Event):
    """An audio device is back."""

    name: ClassVar[str] = "device_restored"
    device: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEvent(Event):
    """A stage of the turn failed; ``code`` is the error's machine-readable code, ``stage`` the stage's name."""

    name: ClassVar[str] = "error"
    code: str
    message: str
    stage: Stage


EventSink = Callable[[Event], None]


def event_to_json(event: Event) -> str:
    """One JSON line for ``--json`` output: ``{"event": name, ...fields}``."""
    return json.dumps({"event": event.name, **event.fields()}, default=str, ensure_ascii=False)


def describe(event: Event) -> str:
    """A short human-readable line for the log."""
    f = event.fields()
    f.pop("time_s", None)
    body = " ".join(f"{k}={str(v)!r}" if isinstance(v, str) else f"{k}={v}" for k, v in f.items())
    return f"{event.name}: {body}"
