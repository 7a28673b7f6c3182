"""Pure, clock-free endpointing: speech/no-speech per block in, decisions out."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Decision", "Endpointer"]


class Decision(enum.Enum):
    """What capture should do after a block."""

    LISTEN = "listen"  # keep listening
    SPECULATE = "speculate"  # a short silence began: recognize what we have, keep listening
    RESUMED = "resumed"  # speech came back after SPECULATE: drop the speculative result
    END = "end"  # the command is over (long silence, or a speculative result matched an intent)
    CAP = "cap"  # the command reached its maximum length
    NO_SPEECH = "no_speech"  # nobody spoke before the timeout


@dataclass(slots=True)
class Endpointer:
    """Decides when a spoken command is over.

    A command ends after ``silence_s`` of trailing silence; after
    ``quick_silence_s`` it asks for a speculative recognition, and if that
    result is a complete intent (:meth:`intent_complete`) it ends at once.
    ``speech_start_s`` of speech starts the command; nothing for
    ``no_speech_timeout_s`` gives up; ``max_command_s`` caps it.
    """

    silence_s: float = 0.7
    quick_silence_s: float = 0.16
    no_speech_timeout_s: float = 5.0
    max_command_s: float = 12.0
    speech_start_s: float = 0.08
    elapsed_s: float = 0.0
    speech_s: float = 0.0
    trailing_silence_s: float = 0.0
    started: bool = False
    speculating: bool = False
    done: bool = False
    _pending_speech_s: float = 0.0

    def feed(self, is_speech: bool, seconds: float) -> Decision:
        """Account for one block of audio and decide."""
        if self.done:
            return Decision.END
        self.elapsed_s += seconds
        if not self.started:
            self._pending_speech_s = self._pending_speech_s + seconds if is_speech else 0.0
            if self._pending_speech_s >= self.speech_start_s - 1e-9:
                self.started = True
                self.speech_s = self._pending_speech_s
            elif self.elapsed_s >= self.no_speech_timeout_s - 1e-9:
                self.done = True
                return Decision.NO_SPEECH
            return Decision.LISTEN
        if is_speech:
            self.speech_s += seconds
            self.trailing_silence_s = 0.0
            if self.elapsed_s >= self.max_command_s - 1e-9:
                self.done = True
                return Decision.CAP
            if self.speculating:
                self.speculating = False
                return Decision.RESUMED
            return Decision.LISTEN
        before = self.trailing_silence_s
        self.trailing_silence_s += seconds
        if self.trailing_silence_s >= self.silence_s - 1e-9:
            self.done = True
            return Decision.END
        if self.elapsed_s >= self.max_command_s - 1e-9:
            self.done = True
            return Decision.CAP
        if before < self.quick_silence_s <= self.trailing_silence_s + 1e-9 and not self.speculating:
            self.speculating = True
            return Decision.SPECULATE
        return Decision.LISTEN

    def intent_complete(self, complete: bool) -> Decision:
        """The speculative result is in: a complete intent during the same silence ends the command."""
        if self.done:
            return Decision.END
        if complete and self.speculating and self.trailing_silence_s > 0:
            self.done = True
            return Decision.END
        return Decision.LISTEN
