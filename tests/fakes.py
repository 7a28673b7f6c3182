"""Small fakes of the engine Protocols for fast unit tests of the pipeline's logic."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from voicebox.core.audio import Pcm
from voicebox.understand.asr import Recognition

WAKE_LEVEL = 20000  # a block whose first sample is this loud "is" the wake word
SPEECH_LEVEL = 5000  # blocks at least this loud are speech


class FakeWake:
    """Scores 1.0 for blocks whose first sample is WAKE_LEVEL."""

    def __init__(self) -> None:
        self.resets = 0

    def process(self, block: Pcm) -> dict[str, float]:
        return {"hey_jarvis": 1.0 if int(block[0]) == WAKE_LEVEL else 0.0}

    def reset(self) -> None:
        self.resets += 1


class FakeVad:
    """Speech where the block's mean absolute level is high."""

    def probability(self, block: Pcm) -> float:
        return 1.0 if float(np.abs(block.astype(np.int32)).mean()) >= SPEECH_LEVEL else 0.0

    def reset(self) -> None:
        pass


class FakeRecognizer:
    """Reads the "words" encoded in the audio: each speech block's level // 1000 indexes a word list."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.heard: list[Pcm] = []

    def transcribe(self, pcm: Pcm, *, full_window: bool = False, careful: bool = False) -> Recognition:
        self.heard.append(pcm)
        blocks = pcm[: len(pcm) - len(pcm) % 1280].reshape(-1, 1280)
        said = [self.words[int(b[1]) // 1000 - SPEECH_LEVEL // 1000] for b in blocks if int(b[1]) >= SPEECH_LEVEL]
        return Recognition(" ".join(said), "short", -0.1, 1.0)


class FakeSynth:
    """A 100 ms beep per sentence at 22050 Hz."""

    sample_rate = 22050

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def synthesize(self, text: str) -> Iterator[Pcm]:
        self.spoken.append(text)
        for _ in text.split(". "):
            yield (np.ones(2205) * 1000).astype(np.int16)


def block(level: int, *, word: int | None = None) -> Pcm:
    """One 80 ms block at a constant level; ``word`` sets sample 1 to encode a word index for FakeRecognizer."""
    samples = np.full(1280, level, np.int16)
    if word is not None:
        samples[1] = SPEECH_LEVEL + 1000 * word
    return samples
