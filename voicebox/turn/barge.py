"""Barge-in without the wake word: a bare "stop" heard while voicebox's own audio plays."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from voicebox.core.audio import SAMPLE_RATE, AudioBlock, Pcm
from voicebox.hear.capture import SpeechDetector
from voicebox.hear.stop_word import StopSegmenter, is_stop_phrase
from voicebox.understand.retries import Understanding

__all__ = ["GRACE_MS", "BareStop"]

GRACE_MS = 1500  # a "stop" that began while the sound played may end after it


class BareStop:
    """Listens for a stop phrase while voicebox plays (and ``GRACE_MS`` after), on the echo-cancelled microphone.

    :meth:`heard` is fed every block the wake word did not claim and whether
    voicebox's audio is playing; it runs the VAD, and each short utterance
    (:class:`~voicebox.hear.stop_word.StopSegmenter`) goes to ``understand``
    (recognizer and intent matcher); it returns the understanding of one
    whose whole transcript is a stop phrase. At other times it costs nothing.
    """

    def __init__(self, vad: SpeechDetector, understand: Callable[[Pcm], Awaitable[Understanding]],
                 run: Callable[[Callable[[], float]], Awaitable[float]], *, threshold: float = 0.5) -> None:
        self._vad, self._understand, self._run = vad, understand, run
        self._segmenter = StopSegmenter(threshold=threshold)
        self._played_ms: int | None = None  # stream time at which voicebox's audio was last seen playing

    async def heard(self, block: AudioBlock, playing: bool) -> tuple[Understanding, int] | None:
        """The understanding of a stop phrase that ended with ``block`` and its length in ms, else None."""
        if playing:
            if self._played_ms is None:
                self._vad.reset()
            self._played_ms = block.end_ms
        elif self._played_ms is None:
            return None
        elif block.end_ms - self._played_ms > GRACE_MS:
            self._played_ms = None
            self._segmenter.reset()
            return None
        samples = block.samples
        utterance = self._segmenter.feed(samples, await self._run(lambda: self._vad.probability(samples)))
        if utterance is None:
            return None
        understanding = await self._understand(utterance)
        if not is_stop_phrase(understanding.recognition.text):
            return None
        return understanding, len(utterance) * 1000 // SAMPLE_RATE
