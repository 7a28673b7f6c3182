"""Audio devices that come and go: a lost input or output is reported, retried with backoff, and resumed."""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fakes import SPEECH_LEVEL, WAKE_LEVEL, FakeRecognizer, FakeSynth, FakeVad, FakeWake, block

from voicebox.act.dispatch import Dispatcher
from voicebox.audio_io.sinks import NullSink
from voicebox.audio_io.sources import MicrophoneSource
from voicebox.audio_io.supervise import Backoff, SupervisedSink, SupervisedSource
from voicebox.core.audio import AudioBlock, Pcm, blocks_of, read_wav
from voicebox.core.config import Config
from voicebox.core.errors import DeviceError
from voicebox.core.events import DeviceLost, DeviceRestored, Event
from voicebox.daemon.assistant import load_skill_set
from voicebox.turn.pipeline import Engines, Pipeline

WORDS = ["what", "time", "is", "it"]


def test_backoff_doubles_and_is_capped() -> None:
    backoff = Backoff(0.5, 4.0)
    assert [backoff.next_delay_s() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay_s() == 0.5
    huge = Backoff(0.5, 30.0, failures=10_000)  # days of retrying never overflow
    assert huge.next_delay_s() == 30.0


class FlakyDevice:
    """A device whose streams play the given takes; a take that is an exception raises mid-stream.

    ``unavailable`` opening attempts fail (device unplugged) before the next take opens.
    """

    def __init__(self, takes: list[list[Pcm] | Exception], unavailable: int = 0) -> None:
        self.takes = list(takes)
        self.unavailable = unavailable
        self.opened = 0

    def open(self) -> FlakyDevice:
        if self.opened and self.unavailable:
            self.unavailable -= 1
            raise DeviceError("no such device", code="device_unknown")
        self.opened += 1
        return self

    async def blocks(self) -> AsyncIterator[AudioBlock]:
        take = self.takes.pop(0)
        for i, samples in enumerate(take if not isinstance(take, Exception) else []):
            await asyncio.sleep(0)
            yield AudioBlock(samples, i * 80)
        nxt = self.takes[0] if self.takes else None
        if isinstance(nxt, Exception):
            self.takes.pop(0)
            raise nxt


def _turn(*words: int) -> list[Pcm]:
    return ([block(0)] * 3 + [block(WAKE_LEVEL)] + [block(SPEECH_LEVEL + 500, word=w) for w in words]
            + [block(0)] * 20)


def _run(source: SupervisedSource, events: list[Event]) -> FakeSynth:
    config = Config()
    skills, intents = load_skill_set(config)
    tts = FakeSynth()
    engines = Engines(wake=FakeWake(), vad=FakeVad(), asr=FakeRecognizer(WORDS), intents=intents,
                      dispatcher=Dispatcher(skills), tts=tts, wake_models=("hey_jarvis",))
    pipeline = Pipeline(engines, config, sink=NullSink(), emit=events.append, realtime=False)
    try:
        asyncio.run(pipeline.run(source.blocks()))
    finally:
        pipeline.close()
        engines.close()
    return tts


def test_input_lost_mid_stream_is_reopened_and_the_next_turn_is_answered() -> None:
    device = FlakyDevice([_turn(0, 1, 2, 3)[:10], OSError("device unplugged"), _turn(0, 1, 2, 3)], unavailable=3)
    waits: list[float] = []

    async def fake_sleep(s: float) -> None:
        waits.append(s)

    events: list[Event] = []
    beats: list[int] = []
    source = SupervisedSource(device.open, name="usb mic", emit=events.append, retry_max_s=1.5,
                              sleep=fake_sleep, heartbeat=lambda: beats.append(1))
    tts = _run(source, events)
    lost = [e for e in events if isinstance(e, DeviceLost)]
    restored = [e for e in events if isinstance(e, DeviceRestored)]
    assert len(lost) == 1 and lost[0].device == "usb mic" and "unplugged" in lost[0].message
    assert len(restored) == 1
    assert sum(waits) == pytest.approx(0.5 + 1.0 + 1.5 + 1.5)  # doubling, capped by retry_max_s
    assert beats, "the watchdog heartbeat must be fed while waiting for the device"
    names = [e.name for e in events]
    assert names.index("device_restored") < len(names) - 1 - names[::-1].index("response")
    # the turn after recovery was understood and answered
    assert tts.spoken and tts.spoken[-1].startswith("It's")
    positions = [e.stream_ms for e in events if e.name == "wake"]  # type: ignore[attr-defined]
    assert positions == sorted(positions)  # positions stay monotonic across the reopen


def test_open_failure_at_start_up_is_an_error_not_a_retry() -> None:
    def never() -> FlakyDevice:
        raise DeviceError("no input device named 'usb'", code="device_unknown")

    with pytest.raises(DeviceError, match="usb"):
        SupervisedSource(never, name="usb", emit=lambda e: None, retry_max_s=1)


class FlakySink(NullSink):
    """An output that fails ``fail`` writes after opening; records what it played."""

    def __init__(self, played: list[int], fail: bool) -> None:
        self.played = played
        self.fail = fail

    async def write(self, pcm: Pcm) -> None:
        if self.fail:
            raise DeviceError("output device stopped", code="device_lost")
        self.played.append(len(pcm))


def test_output_lost_drops_audio_then_reopens_after_backoff() -> None:
    played: list[int] = []
    opens = iter([True, None, False])  # fails while playing, reopen fails, then works
    now = [0.0]
    events: list[Event] = []

    def open_sink() -> FlakySink:
        fail = next(opens)
        if fail is None:
            raise DeviceError("no output device", code="device_unknown")
        return FlakySink(played, fail)

    sink = SupervisedSink(open_sink, name="speaker", emit=events.append, retry_max_s=8, clock=lambda: now[0])
    chunk = np.zeros(1600, np.int16)

    async def play() -> None:
        await sink.write(chunk)  # fails: lost, retry after 0.5 s
        await sink.write(chunk)  # too early to retry: dropped
        now[0] = 0.6
        await sink.write(chunk)  # reopen fails: next try after 1 s more
        now[0] = 1.7
        await sink.write(chunk)  # reopened: played
        await sink.drain()

    asyncio.run(play())
    assert [e.name for e in events] == ["device_lost", "device_restored"]
    assert played == [1600]


def test_output_that_stops_playing_does_not_hang_drain() -> None:
    class Stalled(FlakySink):
        def __init__(self) -> None:
            super().__init__([], False)
            self.release = threading.Event()

        async def drain(self) -> None:
            await asyncio.to_thread(self.release.wait)

        def stop(self) -> None:
            self.release.set()

    events: list[Event] = []
    sink = SupervisedSink(Stalled, name="speaker", emit=events.append, retry_max_s=5, drain_slack_s=0.2)

    async def play() -> None:
        await sink.write(np.zeros(160, np.int16))
        await sink.drain()

    asyncio.run(asyncio.wait_for(play(), 10))
    assert [e.name for e in events] == ["device_lost"]


def test_microphone_overflow_drops_the_oldest_and_counts() -> None:
    mic = MicrophoneSource.__new__(MicrophoneSource)  # no sound card here: exercise the callback alone
    mic._queue = collections.deque(maxlen=4)
    mic.dropped_blocks = 0
    mic._ready = threading.Event()
    mic._latency_s, mic.rate = 0.0, 16000
    status = SimpleNamespace(input_overflow=False)
    for i in range(10):
        mic._callback(np.full((1280, 1), i, np.int16), 1280, None, status)
    assert len(mic._queue) == 4  # bounded: never grows
    assert mic.dropped_blocks == 6
    assert [int(samples[0]) for samples, _ in mic._queue] == [6, 7, 8, 9]  # the newest audio is kept


@pytest.mark.slow
def test_real_pipeline_answers_after_the_microphone_comes_back(engines: Engines, shared_audio: Path) -> None:
    wake = read_wav(shared_audio / "wyoming-openwakeword/hey_jarvis.wav")
    command = read_wav(shared_audio / "speech-to-phrase/en/what time is it.wav")
    turn = [b.samples for b in blocks_of(np.concatenate([np.zeros(8000, np.int16), wake, command,
                                                         np.zeros(32000, np.int16)]))]
    device = FlakyDevice([turn[:5], DeviceError("input device stopped delivering audio"), turn], unavailable=1)

    async def no_wait(s: float) -> None:
        pass

    events: list[Event] = []
    source = SupervisedSource(device.open, name="mic", emit=events.append, retry_max_s=2, sleep=no_wait)
    pipeline = Pipeline(engines, Config(), sink=NullSink(), emit=events.append, realtime=False)
    try:
        asyncio.run(pipeline.run(source.blocks()))
    finally:
        pipeline.close()
    names = [e.name for e in events]
    assert names.count("device_lost") == 1 and names.count("device_restored") == 1
    after = names[names.index("device_restored"):]
    assert "wake" in after and "intent" in after
    intent = next(e for e in events if e.name == "intent")
    assert intent.intent == "GetTime"  # type: ignore[attr-defined]
