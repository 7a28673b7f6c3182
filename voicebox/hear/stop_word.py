"""③ A bare "stop" while voicebox plays: short utterances cut out of the audio, and the few phrases that count."""

from __future__ import annotations

import re

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, Pcm

__all__ = ["STOP_PHRASES", "StopSegmenter", "is_stop_phrase"]

# Kept short and unambiguous: said over voicebox's own audio without the wake word, a phrase here cuts the sound.
STOP_PHRASES = frozenset({
    "stop", "stop it", "stop that", "stop now", "stop talking", "stop ringing", "stop the alarm", "stop the timer",
    "cancel", "quiet", "be quiet", "enough", "that's enough", "shut up", "silence", "please stop", "okay stop",
    "ok stop",
})
_WORDS = re.compile(r"[a-z']+")


def is_stop_phrase(text: str) -> bool:
    """Whether a transcript is one of :data:`STOP_PHRASES` and nothing else (case and punctuation aside)."""
    words = _WORDS.findall(text.lower().replace("’", "'"))
    # A recognizer hearing "stop" over a ringing tone sometimes doubles it ("Stop. Stop."): still a stop.
    if len(words) > 1 and all(w == words[0] for w in words):
        words = words[:1]
    return " ".join(words) in STOP_PHRASES


class StopSegmenter:
    """Cuts short utterances out of the microphone audio, one 80 ms block and its speech probability at a time.

    An utterance starts at the first block over ``threshold`` and ends after
    ``end_silence_s`` under it; :meth:`feed` then returns its audio (with
    ``pad_blocks`` of context either side) if it held at most
    ``max_speech_s`` of speech. Anything longer is talk, not a "stop": it is
    dropped, and so is everything until the next silence. Pure: blocks and
    numbers in, audio out, no clock.
    """

    def __init__(self, *, threshold: float = 0.5, max_speech_s: float = 1.5, end_silence_s: float = 0.24,
                 pad_blocks: int = 2) -> None:
        self._threshold = threshold
        self._max_blocks = int(round(max_speech_s * SAMPLE_RATE / BLOCK_SAMPLES))
        self._end_blocks = max(1, int(round(end_silence_s * SAMPLE_RATE / BLOCK_SAMPLES)))
        self._pad = pad_blocks
        self.reset()

    def reset(self) -> None:
        """Forget any utterance in progress."""
        self._before: list[Pcm] = []
        self._blocks: list[Pcm] = []
        self._speech = self._quiet = 0
        self._too_long = False

    def feed(self, block: Pcm, probability: float) -> Pcm | None:
        """Take one block; the audio of a short utterance that just ended, else None."""
        speech = probability >= self._threshold
        if not self._blocks and not self._too_long:
            if not speech:
                self._before = (self._before + [block])[-self._pad :] if self._pad else []
                return None
            self._blocks = [*self._before, block]
            self._speech, self._quiet = 1, 0
            return None
        if self._too_long:
            self._quiet = 0 if speech else self._quiet + 1
            if self._quiet >= self._end_blocks:
                self.reset()
            return None
        self._blocks.append(block)
        if speech:
            self._speech += 1
            self._quiet = 0
        else:
            self._quiet += 1
        if self._speech > self._max_blocks:
            self._blocks, self._too_long = [], True
            return None
        if self._quiet >= self._end_blocks:
            tail = self._quiet - min(self._quiet, self._pad)
            audio = np.concatenate(self._blocks[: len(self._blocks) - tail])
            self.reset()
            return audio
        return None
