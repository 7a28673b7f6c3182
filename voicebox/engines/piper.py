"""Piper adapter: ONNX voice from the model store, streamed one sentence at a time."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from voicebox.core.audio import Pcm
from voicebox.core.errors import CODE_TTS_ENGINE, SynthesisError
from voicebox.engines.onnx import cpu_session
from voicebox.speak.sentences import OPENINGS, speech_pieces

__all__ = ["PiperSynthesizer"]

# Phonemes said in one call of the voice (about 5 s of speech): a ten-word sentence has some 40-60.
_MAX_PHONEMES = 80

class PiperSynthesizer:
    """Speech from a Piper voice (``.onnx`` + ``.onnx.json``); yields int16 PCM per sentence."""

    def __init__(self, model_path: Path, *, threads: int = 2, length_scale: float = 1.0, volume: float = 1.0,
                 noise_scale: float | None = None, noise_w_scale: float | None = None) -> None:
        """``noise_scale`` and ``noise_w_scale`` (Piper's own; ``None``: the voice's) vary each synthesis of the
        same text; 0 and 0 make it come out the same every time."""
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
        self._syn = SynthesisConfig(length_scale=length_scale, volume=volume, noise_scale=noise_scale,
                                    noise_w_scale=noise_w_scale)
        self.sample_rate: int = config.sample_rate
        # The audio of the common reply openings (OPENINGS), kept from the first time each is said at this volume:
        # a reply opening with one again needs no synthesis before its first audio. Kept on first use rather than
        # made at start-up: start-up stays as short, and the voice's random draws (seeded by the bench) stay the same.
        self._ready: dict[str, Pcm] = {}
        for _ in self.synthesize("Ready."):  # warm the session and the phonemizer
            pass

    def set_volume(self, volume: float) -> None:
        """Loudness multiplier for the following sentences."""
        self._syn = dataclasses.replace(self._syn, volume=volume)
        self._ready = {}

    def synthesize(self, text: str) -> Iterator[Pcm]:
        """One int16 chunk per piece of :func:`~voicebox.speak.sentences.speech_pieces` (sentences, long ones in parts).

        A piece whose phonemes are still many (spelled-out letters, long
        numbers) is said in runs of at most ``_MAX_PHONEMES``: the voice's
        memory grows with the speech one call makes (about 30 MB a second).
        """
        try:
            for part in speech_pieces(text):
                if part in self._ready:
                    yield self._ready[part].copy()
                elif part in OPENINGS:
                    self._ready[part] = np.concatenate([self._say(run) for phonemes in self._voice.phonemize(part)
                                                        for run in _runs(phonemes, _MAX_PHONEMES)])
                    yield self._ready[part].copy()
                elif part.strip():
                    for phonemes in self._voice.phonemize(part):
                        for run in _runs(phonemes, _MAX_PHONEMES):
                            yield self._say(run)
        except Exception as err:
            raise SynthesisError(f"speech synthesis failed: {err}", code=CODE_TTS_ENGINE) from err

    def _say(self, phonemes: list[str]) -> Pcm:
        """What ``PiperVoice.synthesize`` does with one sentence's phonemes: audio, normalized, at the volume."""
        audio = self._voice.phoneme_ids_to_audio(self._voice.phonemes_to_ids(phonemes), self._syn)
        if isinstance(audio, tuple):
            audio = audio[0]
        if self._syn.normalize_audio:
            peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
            audio = audio / peak if peak >= 1e-8 else np.zeros_like(audio)
        audio = np.clip(audio * self._syn.volume, -1.0, 1.0)
        return np.clip(audio * 32767.0, -32767, 32767).astype(np.int16)


def _runs(phonemes: list[str], most: int) -> list[list[str]]:
    """``phonemes`` in runs of at most ``most``, cut between words where there is a word break."""
    runs: list[list[str]] = []
    while len(phonemes) > most:
        breaks = [i for i in range(most // 2, most) if phonemes[i] == " "]
        cut = breaks[-1] + 1 if breaks else most
        runs.append(phonemes[:cut])
        phonemes = phonemes[cut:]
    return [*runs, phonemes] if phonemes else runs
