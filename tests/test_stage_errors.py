"""A stage's engine failing is one ``error`` event naming the stage; the pipeline goes on, or ends with one clear error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
from fakes import SPEECH_LEVEL, WAKE_LEVEL, FakeRecognizer, FakeSynth, FakeVad, FakeWake, block

from voicebox.act.dispatch import Dispatcher
from voicebox.audio_io.sinks import NullSink
from voicebox.core.audio import AudioBlock, Pcm
from voicebox.core.config import Config
from voicebox.core.errors import VoiceboxError
from voicebox.core.events import Event, event_to_json
from voicebox.daemon.assistant import load_skill_set
from voicebox.hear.capture import SpeechDetector
from voicebox.hear.wake import WakeDetector
from voicebox.turn.pipeline import Engines, Pipeline

WORDS = ["what", "time", "is", "it"]


class FailingWake(FakeWake):
    """Raises on its first ``failures`` blocks (``None``: on every block), then scores like :class:`FakeWake`."""

    def __init__(self, failures: int | None) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0

    def process(self, block: Pcm) -> dict[str, float]:
        self.calls += 1
        if self.failures is None or self.calls <= self.failures:
            raise RuntimeError("onnxruntime: invalid input shape")
        return super().process(block)


class FailingVad(FakeVad):
    """Raises on its first call, then works."""

    def __init__(self) -> None:
        self.calls = 0

    def probability(self, block: Pcm) -> float:
        self.calls += 1
        if self.calls == 1:
            raise ValueError("silero: state tensor has the wrong shape")
        return super().probability(block)


async def _stream(samples: list[np.ndarray]) -> AsyncIterator[AudioBlock]:
    for i, s in enumerate(samples):
        yield AudioBlock(s, i * 80)


def _run(samples: list[np.ndarray], events: list[Event], *, wake: WakeDetector | None = None,
         vad: SpeechDetector | None = None) -> FakeSynth:
    config = Config()
    skills, intents = load_skill_set(config)
    tts = FakeSynth()
    engines = Engines(wake=wake or FakeWake(), vad=vad or FakeVad(), asr=FakeRecognizer(WORDS), intents=intents,
                      dispatcher=Dispatcher(skills), tts=tts, wake_models=("hey_jarvis",))
    pipeline = Pipeline(engines, config, sink=NullSink(), emit=events.append, realtime=False)
    try:
        asyncio.run(pipeline.run(_stream(samples)))
    finally:
        pipeline.close()
        engines.close()
    return tts


def _command() -> list[np.ndarray]:
    return [block(SPEECH_LEVEL + 500, word=w) for w in range(4)] + [block(0)] * 20


def test_a_failing_wake_detector_is_one_error_event_and_listening_goes_on() -> None:
    events: list[Event] = []
    tts = _run([block(0)] * 5 + [block(WAKE_LEVEL)] + _command(), events, wake=FailingWake(failures=3))
    errors = [e for e in events if e.name == "error"]
    assert len(errors) == 1  # three failing blocks in a row: reported once
    assert errors[0].stage == "wake" and errors[0].code == "wake_engine"  # type: ignore[attr-defined]
    assert "invalid input shape" in errors[0].message  # type: ignore[attr-defined]
    assert '"stage": "wake"' in event_to_json(errors[0])
    names = [e.name for e in events]
    assert names.index("error") < names.index("wake")
    assert next(e for e in events if e.name == "transcript").text == "what time is it"  # type: ignore[attr-defined]
    assert tts.spoken and tts.spoken[0].startswith("It's")


def test_a_wake_detector_that_never_works_ends_the_run_with_one_clear_error() -> None:
    events: list[Event] = []
    with pytest.raises(VoiceboxError) as raised:
        _run([block(0)] * 80, events, wake=FailingWake(failures=None))
    assert raised.value.code == "wake_engine"
    assert "invalid input shape" in raised.value.message and "\n" not in raised.value.message
    assert [(e.name, e.stage) for e in events if e.name == "error"] == [("error", "wake")]  # type: ignore[attr-defined]


def test_a_failing_vad_is_one_error_event_and_the_next_command_is_answered() -> None:
    events: list[Event] = []
    samples = [block(WAKE_LEVEL)] + _command() + [block(WAKE_LEVEL)] + _command()
    tts = _run(samples, events, vad=FailingVad())
    errors = [e for e in events if e.name == "error"]
    assert [(e.stage, e.code) for e in errors] == [("vad", "vad_engine")]  # type: ignore[attr-defined]
    assert "wrong shape" in errors[0].message  # type: ignore[attr-defined]
    names = [e.name for e in events]
    assert names.count("wake") == 2 and names.count("turn_finished") == 2
    assert tts.spoken[0] == "Sorry, something went wrong."
    assert tts.spoken[1].startswith("It's")
