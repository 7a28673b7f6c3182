"""The loaded engines a pipeline runs on, one per stage, and the shared workers of the non-thread-safe ones."""

from __future__ import annotations

from dataclasses import dataclass, field

from voicebox.act.context import SkillServices
from voicebox.act.dispatch import Dispatcher
from voicebox.act.llm import LlmFallback
from voicebox.core.workers import Worker
from voicebox.hear.capture import SpeechDetector
from voicebox.hear.wake import WakeDetector
from voicebox.speak.tts import Synthesizer
from voicebox.understand.asr import Recognizer
from voicebox.understand.intent import IntentRecognizer

__all__ = ["Engines"]


@dataclass(slots=True)
class Engines:
    """The loaded engines, one per stage."""

    wake: WakeDetector
    vad: SpeechDetector
    asr: Recognizer
    intents: IntentRecognizer
    dispatcher: Dispatcher
    tts: Synthesizer
    wake_models: tuple[str, ...] = ()
    services: SkillServices | None = None  # the skills' database, scheduler and host
    llm: LlmFallback | None = None  # [llm]: answers what no skill matched; None = not configured
    # One worker per shared, non-thread-safe model, used by every pipeline (e.g. one per satellite).
    asr_pool: Worker = field(default_factory=lambda: Worker("asr"))
    tts_pool: Worker = field(default_factory=lambda: Worker("tts"))

    def close(self) -> None:
        """Release the shared workers and the skill handlers' threads."""
        self.asr_pool.close()
        self.tts_pool.close()
        self.dispatcher.close()
