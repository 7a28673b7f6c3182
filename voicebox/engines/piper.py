"""Piper adapter: ONNX voice from the model store, streamed one sentence at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from voicebox.core.audio import Pcm
from voicebox.core.errors import CODE_TTS_ENGINE, SynthesisError
from voicebox.engines.onnx import cpu_session
from voicebox.speak.sentences import speech_pieces

__all__ = ["PiperSynthesizer"]

class PiperSynthesizer:
    """Speech from a Piper voice (``.onnx`` + ``.onnx.json``); yields int16 PCM per sentence."""

    def __init__(self, model_path: Path, *, threads: int = 2, length_scale: float = 1.0, volume: float = 1.0) -> None:
        try:
            from piper import PiperConfig, PiperVoice, SynthesisConfig
        except ImportError as err:  # pragma: no cover - dependency declared
            raise SynthesisError("piper-tts is not installed; run: pip install piper-tts") from err
        try:
            config = PiperConfig.from_dict(json.loads(Path(f"{model_path}.json").read_text(encoding="utf-8")))
            session = cpu_session(model_path, threads)
        except Exception as err:
            raise SynthesisError(f"could not load voice {model_path}: {err}", code=CODE_TTS_ENGINE) from err
        self._voice = PiperVoice(session=session, config=config)
        self._syn = SynthesisConfig(length_scale=length_scale, volume=volume)
        self.sample_rate: int = config.sample_rate
        for _ in self.synthesize("Ready."):  # warm the session and the phonemizer
            pass

    def set_volume(self, volume: float) -> None:
        """Loudness multiplier for the following sentences."""
        from piper import SynthesisConfig

        self._syn = SynthesisConfig(length_scale=self._syn.length_scale, volume=volume)

    def synthesize(self, text: str) -> Iterator[Pcm]:
        """One int16 chunk per piece of :func:`~voicebox.speak.sentences.speech_pieces` (sentences, long ones in parts)."""
        try:
            for part in speech_pieces(text):
                if part.strip():
                    for chunk in self._voice.synthesize(part, self._syn):
                        yield chunk.audio_int16_array
        except Exception as err:
            raise SynthesisError(f"speech synthesis failed: {err}", code=CODE_TTS_ENGINE) from err
