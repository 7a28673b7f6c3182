"""The recognizer's second look at the same command reuses its encoder output, and hears exactly what a first look would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebox.core.audio import read_wav

pytestmark = pytest.mark.slow

CLIPS = ("what time is it", "set a timer for 30 seconds", "cancel all timers", "add apples to my Shopping List")


def test_a_second_look_hears_what_a_fresh_one_does(model_store: Any, shared_audio: Path) -> None:
    from voicebox.core.config import Config
    from voicebox.daemon.assistant import load_asr

    config = Config()
    reusing, fresh = load_asr(config, model_store), load_asr(config, model_store)
    other = np.zeros(16000, np.int16)
    looks: tuple[dict[str, bool], ...] = ({}, {"careful": True}, {"full_window": True}, {})
    for name in CLIPS:
        pcm = read_wav(shared_audio / "speech-to-phrase" / "en" / f"{name}.wav")
        for look in looks:
            again = reusing.transcribe(pcm, **look)
            fresh.transcribe(other)  # its cache now holds other audio: the next call encodes from scratch
            first = fresh.transcribe(pcm, **look)
            assert (again.text, again.window) == (first.text, first.window), (name, look)
            assert again.avg_logprob == pytest.approx(first.avg_logprob, abs=1e-3), (name, look)
