"""One error tree for voicebox: every error carries a machine-readable code and a fix."""

from __future__ import annotations

__all__ = [
    "AudioError",
    "ConfigError",
    "DeviceError",
    "IntentError",
    "ModelError",
    "RecognizerError",
    "SkillError",
    "SynthesisError",
    "VoiceboxError",
    "WakeError",
]


class VoiceboxError(Exception):
    """Base of every error voicebox raises on purpose.

    ``code`` is stable and machine-readable (it appears in JSON events);
    ``message`` says what is wrong and, where possible, what to do about it.
    """

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigError(VoiceboxError):
    """The configuration file or a command-line value is invalid."""

    code = "config"


class ModelError(VoiceboxError):
    """A model is missing, corrupt or could not be fetched."""

    code = "model"


class AudioError(VoiceboxError):
    """Audio input could not be read or converted (file, stdin, format)."""

    code = "audio"


class DeviceError(AudioError):
    """A sound device is unknown, unavailable or failed."""

    code = "device"


class WakeError(VoiceboxError):
    """The wake-word engine failed."""

    code = "wake"


class RecognizerError(VoiceboxError):
    """The speech recognizer failed."""

    code = "asr"


class IntentError(VoiceboxError):
    """Intent templates could not be loaded or matched."""

    code = "intent"


class SkillError(VoiceboxError):
    """A skill failed to load, raised, or timed out."""

    code = "skill"


class SynthesisError(VoiceboxError):
    """Speech synthesis failed."""

    code = "tts"
