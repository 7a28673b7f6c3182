"""The turn logic with small fakes of the engines: order of stages, no audio lost after the wake word."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
from fakes import SPEECH_LEVEL, WAKE_LEVEL, FakeRecognizer, FakeSynth, FakeVad, FakeWake, block

from voicebox.act.dispatch import Dispatcher
from voicebox.audio_io.sinks import NullSink
from voicebox.core.audio import AudioBlock
from voicebox.core.config import Config
from voicebox.core.events import Event
from voicebox.daemon.assistant import load_skill_set
from voicebox.turn.pipeline import Engines, Pipeline

WORDS = ["what", "time", "is", "it", "banana"]


async def _stream(samples: list[np.ndarray]) -> AsyncIterator[AudioBlock]:
    for i, s in enumerate(samples):
        yield AudioBlock(s, i * 80)


def _run(samples: list[np.ndarray], config: Config | None = None) -> tuple[list[Event], FakeRecognizer, FakeSynth]:
    config = config or Config()
    skills, intents = load_skill_set(config)
    asr, tts = FakeRecognizer(WORDS), FakeSynth()
    engines = Engines(wake=FakeWake(), vad=FakeVad(), asr=asr, intents=intents,
                      dispatcher=Dispatcher(skills), tts=tts, wake_models=("hey_jarvis",))
    events: list[Event] = []
    pipeline = Pipeline(engines, config, sink=NullSink(), emit=events.append, realtime=False)
    try:
        asyncio.run(pipeline.run(_stream(samples)))
    finally:
        pipeline.close()
        engines.close()
    return events, asr, tts


def _command(*word_indexes: int) -> list[np.ndarray]:
    return [block(SPEECH_LEVEL + 500, word=w) for w in word_indexes]


def test_command_right_after_the_wake_word_is_not_lost() -> None:
    # No pause at all between the wake block and the first word.
    samples = [block(0)] * 3 + [block(WAKE_LEVEL)] + _command(0, 1, 2, 3) + [block(0)] * 20
    events, asr, tts = _run(samples)
    names = [e.name for e in events]
    assert names[:3] == ["wake", "speech_started", "speech_ended"]
    transcript = next(e for e in events if e.name == "transcript")
    assert transcript.text == "what time is it"  # type: ignore[attr-defined]
    assert next(e for e in events if e.name == "intent").intent == "GetTime"  # type: ignore[attr-defined]
    assert tts.spoken and tts.spoken[0].startswith("It's")
    assert names.index("audio_started") < names.index("turn_finished")


def test_complete_intent_ends_early_and_unknown_text_gets_a_helpful_reply() -> None:
    quick = [block(WAKE_LEVEL)] + _command(0, 1, 2, 3) + [block(0)] * 20
    events, _, _ = _run(quick)
    ended = next(e for e in events if e.name == "speech_ended")
    assert ended.reason == "intent"  # type: ignore[attr-defined]
    nonsense = [block(WAKE_LEVEL)] + _command(4) + [block(0)] * 20
    events, _, tts = _run(nonsense)
    ended = next(e for e in events if e.name == "speech_ended")
    assert ended.reason == "silence"  # type: ignore[attr-defined]
    assert any(e.name == "intent_not_matched" for e in events)
    assert "didn't understand" in tts.spoken[0]


def test_no_speech_after_wake_gives_up_and_keeps_listening() -> None:
    config = Config().replace("listen", no_speech_timeout_s=1.0)
    samples = [block(WAKE_LEVEL)] + [block(0)] * 30 + [block(WAKE_LEVEL)] + _command(0, 1, 2, 3) + [block(0)] * 20
    events, _, _ = _run(samples, config)
    names = [e.name for e in events]
    assert names.count("wake") == 2
    assert "no_speech" in names
    assert names.index("no_speech") < names.index("transcript")


@pytest.mark.parametrize("gap_blocks", [3, 6])
def test_pause_mid_command_is_kept_in_one_command(gap_blocks: int) -> None:
    # "what time" <pause> "is it": the pause (240-480 ms) is shorter than the 700 ms silence limit.
    samples = [block(WAKE_LEVEL)] + _command(0, 1) + [block(0)] * gap_blocks + _command(2, 3) + [block(0)] * 20
    events, _, _ = _run(samples)
    transcripts = [e.text for e in events if e.name == "transcript"]  # type: ignore[attr-defined]
    assert transcripts == ["what time is it"]


def test_wake_word_heard_again_during_a_command_restarts_the_turn() -> None:
    # A false wake on noise, then the user says the wake word and the command: the first capture is dropped.
    config = Config().replace("wake", refractory_s=0.5)
    samples = ([block(WAKE_LEVEL)] + [block(0)] * 8 + [block(WAKE_LEVEL)] + _command(0, 1, 2, 3)
               + [block(0)] * 20)
    events, asr, _ = _run(samples, config)
    names = [e.name for e in events]
    assert names.count("wake") == 2
    assert [e.text for e in events if e.name == "transcript"] == ["what time is it"]  # type: ignore[attr-defined]
    assert names.count("response") == 1
