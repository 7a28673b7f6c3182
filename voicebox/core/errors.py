"""One error tree for voicebox: every error carries a machine-readable code and a fix.

Codes are the module-level ``CODE_*`` constants (their values appear in JSON
events and never change). Errors of a pipeline stage derive from
:class:`StageError` and name their :class:`Stage`; the turn
(:mod:`voicebox.turn.pipeline`) is the one place that reports them as an
``error`` event.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AudioError",
    "ConfigError",
    "DeviceError",
    "IntentError",
    "LlmError",
    "MeasureError",
    "ModelError",
    "NetworkError",
    "ProtocolError",
    "RecognizerError",
    "RemoteError",
    "ServiceError",
    "SkillError",
    "Stage",
    "StageError",
    "StorageError",
    "SynthesisError",
    "VadError",
    "VoiceboxError",
    "WakeError",
]


class Stage(StrEnum):
    """A stage of the turn, as the ``stage`` of an ``error`` event names it."""

    AUDIO_IN = "audio_in"
    WAKE = "wake"
    VAD = "vad"
    ASR = "asr"
    INTENT = "intent"
    SKILL = "skill"
    LLM = "llm"
    TTS = "tts"
    AUDIO_OUT = "audio_out"


# ---- codes: the class codes first, then the specific ones (grouped by the class that uses them) -------------
CODE_ERROR = "error"
CODE_CONFIG = "config"
CODE_MODEL = "model"
CODE_AUDIO = "audio"
CODE_DEVICE = "device"
CODE_WAKE = "wake"
CODE_VAD = "vad"
CODE_ASR = "asr"
CODE_INTENT = "intent"
CODE_SKILL = "skill"
CODE_LLM = "llm"
CODE_TTS = "tts"
CODE_REMOTE = "remote"
CODE_NETWORK = "network"
CODE_PROTOCOL = "protocol"
CODE_SERVICE = "service"
CODE_MEASURE = "measure"
CODE_STORAGE = "storage"

# models
CODE_MODEL_CATALOGUE = "model_catalogue"
CODE_MODEL_CHECKSUM = "model_checksum"
CODE_MODEL_CORRUPT = "model_corrupt"
CODE_MODEL_FETCH = "model_fetch"
CODE_MODEL_MISSING = "model_missing"
CODE_MODEL_SOURCE = "model_source"
CODE_MODEL_STORE = "model_store"
CODE_MODEL_UNKNOWN = "model_unknown"
CODE_MODEL_UNVERIFIED = "model_unverified"
# audio input (files, stdin) and sound devices
CODE_AUDIO_ECHO = "audio_echo"
CODE_AUDIO_EMPTY = "audio_empty"
CODE_AUDIO_FORMAT = "audio_format"
CODE_AUDIO_MISSING = "audio_missing"
CODE_DEVICE_LOST = "device_lost"
CODE_DEVICE_OPEN = "device_open"
CODE_DEVICE_PORTAUDIO = "device_portaudio"
CODE_DEVICE_UNKNOWN = "device_unknown"
CODE_NO_INPUT_DEVICE = "no_input_device"
CODE_NO_OUTPUT_DEVICE = "no_output_device"
CODE_OUTPUT_FILE = "output_file"
# engines of the stages
CODE_WAKE_ENGINE = "wake_engine"
CODE_WAKE_BLOCK = "wake_block"
CODE_WAKE_ENROL = "wake_enrol"
CODE_VAD_ENGINE = "vad_engine"
CODE_ASR_ENGINE = "asr_engine"
CODE_INTENT_MATCH = "intent_match"
CODE_TTS_ENGINE = "tts_engine"
CODE_TTS_EMPTY = "tts_empty"
CODE_LLM_ENGINE = "llm_engine"
CODE_LLM_REFUSED = "llm_refused"
CODE_LLM_RUNTIME = "llm_runtime"
CODE_LLM_TIMEOUT = "llm_timeout"
# skills
CODE_SKILL_EXISTS = "skill_exists"
CODE_SKILL_FAILED = "skill_failed"
CODE_SKILL_NAME = "skill_name"
CODE_STORAGE_VALUE = "storage_value"
# private directories and the state folder
CODE_UNSAFE_DIR = "unsafe_dir"
CODE_STATE_DIR = "state_dir"
CODE_STATE_IN_USE = "state_in_use"
CODE_STORAGE_LOCKED = "storage_locked"
CODE_STORAGE_OPEN = "storage_open"
# hub, satellites and Wyoming peers
CODE_HUB_LOST = "hub_lost"
CODE_HUB_REFUSED = "hub_refused"
CODE_HUB_UNREACHABLE = "hub_unreachable"
CODE_OUT_OF_ORDER = "out_of_order"
CODE_TEXT_TOO_LONG = "text_too_long"
CODE_MALFORMED = "malformed"
CODE_TOO_LARGE = "too_large"
CODE_TRUNCATED = "truncated"
CODE_BAD_EVENT = "bad_event"
CODE_BUSY = "busy"
CODE_TIMEOUT = "timeout"
CODE_HELLO = "hello"
CODE_UNAUTHORIZED = "unauthorized"
CODE_NO_SPEECH = "no_speech"
# the systemd service
CODE_SERVICE_INSTALL = "service_install"
# measuring: bench, eval, soak
CODE_BENCH_STARTUP = "bench_startup"
CODE_BENCH_COMPARE = "bench_compare"
CODE_BENCH_PEERS = "bench_peers"
CODE_EVAL_ARGS = "eval_args"
CODE_EVAL_MANIFEST = "eval_manifest"
CODE_EVAL_PLOT = "eval_plot"
CODE_EVAL_REPORT = "eval_report"
CODE_SOAK_ARGS = "soak_args"
CODE_SOAK_AUDIO = "soak_audio"
CODE_SOAK_COMMANDS = "soak_commands"
CODE_SOAK_PLAN = "soak_plan"
CODE_SOAK_START = "soak_start"
# the command line
CODE_USAGE = "usage"


class VoiceboxError(Exception):
    """Base of every error voicebox raises on purpose.

    ``code`` is stable and machine-readable (it appears in JSON events);
    ``message`` says what is wrong and, where possible, what to do about it.
    """

    code: str = CODE_ERROR

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigError(VoiceboxError):
    """The configuration file or a command-line value is invalid."""

    code = CODE_CONFIG


class ModelError(VoiceboxError):
    """A model is missing, corrupt or could not be fetched."""

    code = CODE_MODEL


class StorageError(VoiceboxError):
    """A folder or database voicebox keeps private data in cannot be used (unsafe, read-only, locked, in use)."""

    code = CODE_STORAGE


class ServiceError(VoiceboxError):
    """The systemd service could not be installed or controlled."""

    code = CODE_SERVICE


class MeasureError(VoiceboxError):
    """A measuring tool (bench, eval, soak) cannot run: bad arguments, recordings or reports."""

    code = CODE_MEASURE


class RemoteError(VoiceboxError):
    """A hub, satellite or Wyoming peer refused or could not serve a request."""

    code = CODE_REMOTE


class NetworkError(RemoteError):
    """The connection to a hub could not be made or was lost (worth retrying)."""

    code = CODE_NETWORK


class ProtocolError(RemoteError):
    """A peer sent something that is not a valid, acceptable Wyoming event."""

    code = CODE_PROTOCOL


class StageError(VoiceboxError):
    """A stage of the turn failed; ``stage`` names which (each subclass names its own)."""

    stage: Stage  # set by each subclass; a StageError raised as such is given one

    def __init__(self, message: str, *, code: str | None = None, stage: Stage | None = None) -> None:
        super().__init__(message, code=code)
        if stage is not None:
            self.stage = stage
        elif not hasattr(self, "stage"):
            raise TypeError(f"{type(self).__name__} needs a stage")


class AudioError(StageError):
    """Audio input could not be read or converted (file, stdin, format)."""

    code = CODE_AUDIO
    stage = Stage.AUDIO_IN


class DeviceError(AudioError):
    """A sound device is unknown, unavailable or failed (an output device passes ``stage=Stage.AUDIO_OUT``)."""

    code = CODE_DEVICE


class WakeError(StageError):
    """The wake-word engine failed."""

    code = CODE_WAKE
    stage = Stage.WAKE


class VadError(StageError):
    """The voice-activity detector failed."""

    code = CODE_VAD
    stage = Stage.VAD


class RecognizerError(StageError):
    """The speech recognizer failed."""

    code = CODE_ASR
    stage = Stage.ASR


class IntentError(StageError):
    """Intent templates could not be loaded or matched."""

    code = CODE_INTENT
    stage = Stage.INTENT


class LlmError(StageError):
    """The language model could not be loaded, reached, or answer in time."""

    code = CODE_LLM
    stage = Stage.LLM


class SkillError(StageError):
    """A skill failed to load, raised, or timed out."""

    code = CODE_SKILL
    stage = Stage.SKILL


class SynthesisError(StageError):
    """Speech synthesis failed."""

    code = CODE_TTS
    stage = Stage.TTS
