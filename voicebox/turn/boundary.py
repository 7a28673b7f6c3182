"""The stage boundary: an engine's unexpected exception becomes its stage's :class:`StageError`.

Cancellation (``asyncio.CancelledError``, a ``BaseException``) passes untouched,
and so does an error voicebox raised on purpose. The turn reports what comes
out (:meth:`voicebox.turn.pipeline.Pipeline._report`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from voicebox.core.audio import Pcm
from voicebox.core.errors import (
    CODE_ASR_ENGINE,
    CODE_TTS_ENGINE,
    CODE_VAD_ENGINE,
    CODE_WAKE_ENGINE,
    Stage,
    StageError,
    VoiceboxError,
)
from voicebox.hear.capture import SpeechDetector

__all__ = ["GuardedVad", "engine_call"]

T = TypeVar("T")
# The code an unexpected exception from a stage's engine is reported with.
_ENGINE_CODES = {Stage.WAKE: CODE_WAKE_ENGINE, Stage.VAD: CODE_VAD_ENGINE, Stage.ASR: CODE_ASR_ENGINE,
                 Stage.TTS: CODE_TTS_ENGINE}


def engine_call(stage: Stage, func: Callable[[], T]) -> T:
    """Call a stage's engine: an unexpected exception becomes that stage's error; cancellation passes untouched."""
    try:
        return func()
    except VoiceboxError:
        raise
    except Exception as err:
        raise StageError(f"the {stage} engine failed: {type(err).__name__}: {err}", code=_ENGINE_CODES[stage],
                         stage=stage) from err


class GuardedVad:
    """A VAD behind the stage boundary: its failures are :class:`StageError` of :attr:`Stage.VAD`."""

    def __init__(self, vad: SpeechDetector) -> None:
        self._vad = vad

    def probability(self, block: Pcm) -> float:
        """The wrapped VAD's speech probability."""
        return engine_call(Stage.VAD, lambda: self._vad.probability(block))

    def reset(self) -> None:
        """Reset the wrapped VAD."""
        engine_call(Stage.VAD, self._vad.reset)
