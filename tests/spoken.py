"""Helpers for end-to-end tests: build spoken inputs and check spoken answers."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np

from voicebox.core.audio import SAMPLE_RATE, read_wav, write_wav

HOUR_WORDS = ["twelve", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"]


def concat_wavs(out: Path, *parts: Path | float) -> Path:
    """Join WAV files (and float seconds of silence) into one 16 kHz file."""
    pieces = [np.zeros(int(p * SAMPLE_RATE), np.int16) if isinstance(p, float) else read_wav(p) for p in parts]
    write_wav(out, np.concatenate(pieces))
    return out


def events_of(stdout: str) -> list[dict[str, object]]:
    """The JSON-line events printed by ``voicebox run --json``."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def hours_now() -> set[int]:
    """Plausible 12-hour clock hours (now and a minute ago, for runs crossing the hour)."""
    now = dt.datetime.now().astimezone()
    return {(t.hour % 12) or 12 for t in (now, now - dt.timedelta(minutes=2))}


# What tiny.en writes for an hour word it hears on its own ("It's to twenty one p.m." for "It's 2:21 PM.").
HOMOPHONES = {"two": ("to", "too"), "four": ("for",), "eight": ("ate",)}


def mentions_hour(text: str, hours: set[int]) -> bool:
    """Whether ``text`` says one of ``hours`` as digits ("8:35", "8 a.m.") or words ("eight").

    A homophone ("to" for "two") counts only in the hour's place, right after "it's".
    """
    lowered = text.lower()
    for hour in hours:
        word = HOUR_WORDS[hour % 12]
        # "9", "9:43", "9.43", "943" (the recognizer sometimes drops the colon), three digits after the hour ("It's
        # 7:07 PM.", "seven oh seven", came back as "it 7077 p.n"), or the word.
        if re.search(rf"(?<![\d:.]){hour}(?:[:.]?\d{{2,3}})?(?=\D|$)", lowered) or re.search(rf"\b{word}\b", lowered):
            return True
        if any(re.search(rf"\bit'?s {alike}\b", lowered) for alike in HOMOPHONES.get(word, ())):
            return True
    return False


def plays_tone(pcm: np.ndarray, freq: float) -> bool:
    """Whether some 0.1 s of ``pcm`` is nearly all one pure tone at ``freq`` (an alarm beep, not speech)."""
    n = SAMPLE_RATE // 10
    near = np.abs(np.fft.rfftfreq(n, 1 / SAMPLE_RATE) - freq) <= 30
    for start in range(0, len(pcm) - n, n // 4):
        power = np.abs(np.fft.rfft(pcm[start:start + n] * np.hanning(n))) ** 2
        if power.sum() > 0 and power[near].sum() > 0.8 * power.sum():
            return True
    return False
