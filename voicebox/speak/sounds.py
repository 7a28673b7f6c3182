"""⑦ voicebox's own sounds, in the internal format: the timer alarm, the alarm clock's ring, the wake chime.

A skill names one in ``Response.sound``; it plays before the speech.
"""

from __future__ import annotations

import numpy as np

from voicebox.core.audio import SAMPLE_RATE, Pcm

__all__ = ["SOUNDS", "alarm", "alarm_clock", "earcon", "sound"]


def _beep(freq: float, seconds: float, level: float) -> np.ndarray:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return level * np.sin(2 * np.pi * freq * t) * np.hanning(len(t))


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(SAMPLE_RATE * seconds))


def _pcm(parts: list[np.ndarray]) -> Pcm:
    return (np.concatenate(parts) * 32767).astype(np.int16)


def alarm() -> Pcm:
    """The timers' alarm: three rising double beeps, 880, 988 and 1175 Hz (about 1.5 s)."""
    parts: list[np.ndarray] = []
    for freq in (880, 988, 1175):
        beep = _beep(freq, 0.12, 0.35)
        parts += [beep, _silence(0.08), beep, _silence(0.16)]
    return _pcm(parts)


def alarm_clock() -> Pcm:
    """The alarm clock's ring: two bursts of four quick beeps at one pitch, 1568 Hz (about 2 s)."""
    parts: list[np.ndarray] = []
    for _ in range(2):
        for _ in range(4):
            parts += [_beep(1568, 0.14, 0.35), _silence(0.05)]
        parts.append(_silence(0.3))
    return _pcm(parts)


def earcon() -> Pcm:
    """The short chime when the wake word is heard (880 Hz, 0.12 s)."""
    return _pcm([_beep(880, 0.12, 0.25)])


SOUNDS = {"alarm": alarm, "alarm_clock": alarm_clock}


def sound(name: str) -> Pcm | None:
    """The sound a response names (see :data:`SOUNDS`), or None for "" (none) or a name voicebox does not have."""
    make = SOUNDS.get(name)
    return make() if make is not None else None
