"""The configuration's sections: one frozen dataclass per TOML table, each key's default and meaning declared once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from voicebox.core.errors import ConfigError

__all__ = ["AsrConfig", "AudioConfig", "DebugConfig", "HubConfig", "ListenConfig", "LlmConfig", "PathsConfig",
           "SatelliteConfig", "SkillsConfig", "TtsConfig", "WakeConfig", "WyomingConfig"]


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
    echo_cancel: str = _opt(
        "auto", "Remove voicebox's own audio from the microphone (Speex, needs libspeexdsp): auto = where voicebox plays "
        "to the speaker and listens to the microphone itself; off = never (e.g. with PulseAudio's module-echo-cancel).",
        choices=("auto", "off"))
    bare_stop: bool = _opt(
        True, "While voicebox's own audio plays, a bare \"stop\" (no wake word) cuts it and silences a ringing alarm "
        "or timer; off by itself where a microphone hears voicebox without echo cancellation.")


@dataclass(frozen=True, slots=True)
class WakeConfig:
    """[wake] wake-word detection."""

    models: list[str] = _opt(["hey_jarvis"], "Wake-word models to listen for (see `voicebox models list`).",
                             lo=1)
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
    speech_gate: float = _opt(
        0.5, "Louder input counts as quiet for that gate too while its speech probability (Silero VAD) stays below "
        "this: a fan or a hum is not run through the networks either. 0 = only the level counts.", lo=0.0, hi=0.99)


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
    zeroconf: bool = _opt(False, "Announce the server on the local network with zeroconf/mDNS, as `_wyoming._tcp.local.`.")
    zeroconf_name: str = _opt("", "Name to announce with zeroconf; empty = voicebox-<hostname>.")
    max_event_bytes: int = _opt(1_048_576, "Largest data or audio payload one event may declare, bytes; "
                                "a larger one closes that connection.", lo=4096, hi=67_108_864)
    max_clients: int = _opt(16, "Connections served at once; further ones get an error and are closed.", lo=1, hi=1024)
    max_per_client: int = _opt(8, "Connections one host (IP address) may hold at once; further ones are refused "
                               "(Home Assistant holds one per satellite waiting for a wake word here).",
                               lo=1, hi=1024)
    idle_timeout_s: float = _opt(120.0, "A connection that sends nothing for this long is closed, seconds.", lo=1.0,
                                 hi=86400.0)
    event_timeout_s: float = _opt(10.0, "Once an event has begun, all of it must arrive within this time, seconds.",
                                  lo=0.5, hi=600.0)
    max_audio_s: float = _opt(30.0, "Longest audio accepted for one transcription, seconds.", lo=1.0, hi=600.0)
    max_text_chars: int = _opt(5000, "Longest text accepted for synthesis or intent recognition, characters.",
                               lo=100, hi=1_000_000)
    transcript_streaming: bool = _opt(True, "Send transcript-start/-chunk/-stop before the final transcript.")


@dataclass(frozen=True, slots=True)
class HubConfig:
    """[hub] `voicebox run` accepts room satellites when `uri` is set, and dials those in `satellites` (and, with
    `zeroconf`, those announced on the network)."""

    uri: str = _opt("", "Where `voicebox run` accepts satellites: tcp://HOST:PORT or unix://PATH; empty = no hub.")
    token: str = _opt("", "Shared secret satellites must present (set it whenever the hub listens beyond 127.0.0.1).")
    max_satellites: int = _opt(8, "Satellites connected at once; further ones are refused.", lo=1, hi=256)
    satellites: list[str] = _opt([], "Wyoming satellites `voicebox run` dials, as Home Assistant does (wyoming-satellite, "
                                 "`voicebox satellite --uri`): e.g. [\"tcp://kitchen.local:10700\"]; redialled when lost.")
    zeroconf: bool = _opt(False, "Also dial the Wyoming satellites announced on the network with zeroconf/mDNS "
                          "(`_wyoming._tcp.local.` services whose `describe` answer has a satellite), as Home Assistant "
                          "finds them; each is hung up when its announcement goes away.")


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

    record_dir: str = _opt("", "Keep each turn's command audio as a WAV here (created 0700; an existing folder must be "
                               "yours, writable by nobody else); empty = never record.")
    record_max_mb: float = _opt(200.0, "Size cap of the debug recordings; the oldest are deleted first, MB.",
                                lo=1.0, hi=100_000.0)


_LLM_PROMPT = ("You are a voice assistant answering out loud. Answer in one or two short sentences, plainly, "
               "without lists or markup. You cannot act on anything: never say that you did, set, turned, "
               "started or sent something.")


@dataclass(frozen=True, slots=True)
class LlmConfig:
    """[llm] a language model for what no skill matched: off unless ``model`` or ``url`` is set."""

    model: str = _opt("", "Local model: a catalogue name (`voicebox models pull gemma3-270m`) or a path to a "
                      ".gguf file (needs `pip install xllamacpp`); empty = no local model.")
    url: str = _opt("", "Or an OpenAI-compatible server (llama.cpp, Ollama), e.g. http://192.168.1.20:8080/v1; "
                    "only this host is contacted, and only a loopback or private-network address unless "
                    "allow_remote = true.")
    allow_remote: bool = _opt(False, "Allow a `url` on the internet (questions then leave your network).")
    api_key_file: str = _opt("", "File holding the server's API key (sent as a bearer token, never logged).")
    server_model: str = _opt("", "Model name sent to the server with `url` (some servers need one).")
    answer: bool = _opt(True, "Answer questions no skill matched.")
    intents: bool = _opt(False, "First try to map a command no sentence matched to a skill's intent "
                         "(grammar-constrained JSON), then run it through the skills as usual.")
    max_words: int = _opt(40, "Longest spoken answer, words; the model is stopped there.", lo=5, hi=400)
    system_prompt: str = _opt(_LLM_PROMPT, "What the model is told before each question.")
    timeout_s: float = _opt(10.0, "Give up on an answer (or a silent server) after this long, seconds.",
                            lo=0.5, hi=300.0)
    threads: int = _opt(1, "CPU threads for a local model.", lo=1, hi=64)
    chat_template: bool = _opt(False, "Local model: use the model's own chat template (instruct models); "
                               "off = a plain question-and-answer prompt, which base models need.")

    def check(self, source: str) -> None:
        """A ``model`` and a ``url`` exclude each other; a ``url`` must be http(s)."""
        if self.model and self.url:
            raise ConfigError(f"{source}: [llm] model and [llm] url are both set; keep one (a local model, or a "
                              "server on your network)")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"{source}: [llm] url = {self.url!r} must start with http:// or https://")
