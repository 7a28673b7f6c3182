"""The ``info`` voicebox answers to ``describe``: exactly the engines and skills that are loaded."""

from __future__ import annotations

from collections.abc import Sequence

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    IntentModel,
    IntentProgram,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)

from voicebox import __version__
from voicebox.core.config import Config

__all__ = ["PROJECT_URL", "build_info"]

# Where voicebox's source and licence are found: the GPL's page until the project has a public home page of its own.
PROJECT_URL = "https://www.gnu.org/licenses/gpl-3.0.html"
_VOICEBOX = Attribution(name="voicebox (GPL-3.0-or-later)", url=PROJECT_URL)
_WHISPER = Attribution(name="OpenAI Whisper via faster-whisper", url="https://github.com/SYSTRAN/faster-whisper")
_PIPER = Attribution(name="Piper", url="https://github.com/OHF-Voice/piper1-gpl")
_OWW = Attribution(name="openWakeWord", url="https://github.com/dscripka/openWakeWord")


def _phrase(model: str) -> str:
    return model.replace("_", " ").strip()


def build_info(config: Config, *, wake_models: Sequence[str], skills: Sequence[str]) -> Info:
    """Describe the ASR, TTS, wake-word, intent and handle services this server offers."""
    lang = [config.skills.language]
    asr = AsrProgram(
        name="voicebox-asr", attribution=_VOICEBOX, installed=True, version=__version__,
        description="Speech to text with faster-whisper, the command-sized encoder window",
        models=[AsrModel(name=config.asr.model, attribution=_WHISPER, installed=True, version=None,
                         description=f"Whisper {config.asr.model} ({config.asr.compute_type})", languages=lang)],
        supports_transcript_streaming=config.wyoming.transcript_streaming,
    )
    tts = TtsProgram(
        name="voicebox-tts", attribution=_VOICEBOX, installed=True, version=__version__,
        description="Text to speech with Piper, sentence by sentence",
        voices=[TtsVoice(name=config.tts.voice, attribution=_PIPER, installed=True, version=None,
                         description=f"Piper voice {config.tts.voice}", languages=[config.tts.voice.split("-")[0]])],
        supports_synthesize_streaming=True,
    )
    wake = WakeProgram(
        name="voicebox-wake", attribution=_VOICEBOX, installed=True, version=__version__,
        description="Wake-word detection with openWakeWord",
        models=[WakeModel(name=m, attribution=_OWW, installed=True, version=None, description=_phrase(m),
                          languages=lang, phrase=_phrase(m)) for m in wake_models],
    )
    skill_list = ", ".join(skills) or "none"
    intent = IntentProgram(
        name="voicebox-intent", attribution=_VOICEBOX, installed=True, version=__version__,
        description="Intent recognition over the skills' hassil sentence templates",
        models=[IntentModel(name="voicebox-skills", attribution=_VOICEBOX, installed=True, version=__version__,
                            description=f"skills: {skill_list}", languages=lang)],
    )
    handle = HandleProgram(
        name="voicebox-skills", attribution=_VOICEBOX, installed=True, version=__version__,
        description="Answers commands with voicebox's skills",
        models=[HandleModel(name="voicebox-skills", attribution=_VOICEBOX, installed=True, version=__version__,
                            description=f"skills: {skill_list}", languages=lang)],
    )
    return Info(asr=[asr], tts=[tts], wake=[wake], intent=[intent], handle=[handle])
