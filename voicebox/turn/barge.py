"""Barge-in without the wake word: a bare "stop" heard while voicebox's own audio plays."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from voicebox.core.audio import SAMPLE_RATE, AudioBlock, Pcm
from voicebox.core.errors import Stage, VoiceboxError
from voicebox.hear.capture import SpeechDetector
from voicebox.hear.stop_word import StopSegmenter, is_stop_phrase
from voicebox.understand.retries import Understanding

__all__ = ["GRACE_MS", "BareStop"]

GRACE_MS = 1500  # a "stop" that began while the sound played may end after it
_LOG = logging.getLogger(__name__)


class BareStop:
    """Listens for a stop phrase while voicebox plays (and ``GRACE_MS`` after), on the echo-cancelled microphone.

    :meth:`heard` is fed every block the wake word did not claim and whether
    voicebox's audio is playing; it runs the VAD, and each short utterance
    (:class:`~voicebox.hear.stop_word.StopSegmenter`) goes to ``understand``
    (recognizer and intent matcher) in a task of its own, so that the
    microphone's blocks keep flowing meanwhile; one whose whole transcript is
    a stop phrase goes to ``stopped`` with its length in ms. One utterance is
    checked at a time; of those that end meanwhile, the newest waits its turn.
    At other times it costs nothing.
    """

    def __init__(self, vad: SpeechDetector, understand: Callable[[Pcm], Awaitable[Understanding]],
                 run: Callable[[Callable[[], float]], Awaitable[float]],
                 stopped: Callable[[Understanding, int], Awaitable[None]], report: Callable[[VoiceboxError, Stage], None],
                 *, threshold: float = 0.5) -> None:
        self._vad, self._understand, self._run = vad, understand, run
        self._stopped, self._report = stopped, report
        self._segmenter = StopSegmenter(threshold=threshold)
        self._played_ms: int | None = None  # stream time at which voicebox's audio was last seen playing
        self._waiting: Pcm | None = None
        self._task: asyncio.Task[None] | None = None

    async def heard(self, block: AudioBlock, playing: bool) -> None:
        """Take one block; a short utterance that ends with it is checked for a stop phrase (a VAD error is
        reported, not raised)."""
        started = playing and self._played_ms is None
        if playing:
            self._played_ms = block.end_ms
        elif self._played_ms is None:
            return
        elif block.end_ms - self._played_ms > GRACE_MS:
            self._played_ms = None
            self._segmenter.reset()
            return
        samples = block.samples
        try:
            if started:
                self._vad.reset()
            probability = await self._run(lambda: self._vad.probability(samples))
        except VoiceboxError as err:
            self._report(err, Stage.VAD)
            return
        utterance = self._segmenter.feed(samples, probability)
        if utterance is None:
            return
        self._waiting = utterance
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._check(), name="bare-stop")

    async def _check(self) -> None:
        while (utterance := self._waiting) is not None:
            self._waiting = None
            try:
                understanding = await self._understand(utterance)
            except VoiceboxError as err:
                self._report(err, Stage.ASR)
                continue
            _LOG.debug("bare stop: a %d ms utterance over voicebox's audio reads %r", len(utterance) * 1000 // SAMPLE_RATE,
                       understanding.recognition.text)
            if is_stop_phrase(understanding.recognition.text):
                await self._stopped(understanding, len(utterance) * 1000 // SAMPLE_RATE)

    async def close(self) -> None:
        """Wait for a check in progress (it may still stop the sound), then stop listening."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
