"""Home Assistant's Wyoming client sequences, replayed against `voicebox serve` and `voicebox satellite --uri`.

Each scenario sends exactly what HA's ``homeassistant/components/wyoming`` code
sends (stt.py, tts.py streaming and not, wake_word.py, conversation.py,
assist_satellite.py), one new TCP connection per request as HA opens them, and
checks what HA reads: the answers and the order of the events.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from spoken import concat_wavs, plays_tone
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping
from wyoming.pipeline import RunPipeline
from wyoming.satellite import RunSatellite
from wyoming.timer import TimerFinished, TimerStarted
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeVoice
from wyoming.wake import Detect
from wyoming_helpers import audio_of, free_tcp_uri, words

from voicebox.core.audio import read_wav

pytestmark = pytest.mark.slow


class Proc:
    """A voicebox command in the background, its JSON events collected."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "voicebox", *args, "--json"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.events: list[dict[str, Any]] = []
        self.log: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, False), daemon=True).start()

    def _read(self, stream: Any, events: bool) -> None:
        for line in stream:
            if events and line.startswith("{"):
                self.events.append(json.loads(line))
            else:
                self.log.append(line)

    def wait_for(self, check: Any, what: str, timeout_s: float = 240.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check(self):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {what}: exit={self.proc.poll()} log={''.join(self.log[-15:])}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory, model_store: Any) -> Iterator[tuple[str, int]]:
    root = tmp_path_factory.mktemp("ha")
    (root / "voicebox.toml").write_text(f'[paths]\nstate_dir = "{root / "state"}"\n')
    uri = free_tcp_uri()
    proc = Proc("serve", "--config", str(root / "voicebox.toml"), "--uri", uri)
    try:
        proc.wait_for(lambda p: any(e["event"] == "ready" for e in p.events), "ready event")
        host, port = uri.removeprefix("tcp://").split(":")
        yield host, int(port)
    finally:
        proc.stop()


def _run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 240))


async def _read_all(client: AsyncTcpClient, last: str) -> list[Event]:
    seen: list[Event] = []
    while (event := await client.read_event()) is not None:
        seen.append(event)
        if event.type == last:
            break
    return seen


def test_describe_as_home_assistant_reads_it(serve: tuple[str, int]) -> None:
    async def scenario() -> Info:
        async with AsyncTcpClient(*serve) as client:
            await client.write_event(Describe().event())
            return Info.from_event((await _read_all(client, "info"))[-1])

    info = _run(scenario())
    programs = [*info.asr, *info.tts, *info.wake, *info.intent, *info.handle]
    models = [*info.asr[0].models, *info.wake[0].models, *info.intent[0].models, *info.handle[0].models]
    assert all(p.installed and p.attribution.url.startswith("https://") for p in programs)
    assert all(m.installed and m.attribution.url.startswith("https://") and m.languages == ["en"] for m in models)
    voice = info.tts[0].voices[0]  # the voice's own locale, as wyoming-piper reports it
    assert voice.installed and voice.attribution.url.startswith("https://") and voice.languages == ["en_US"]
    assert info.wake[0].models[0].phrase == "hey jarvis"
    assert info.handle[0].supports_home_control is False
    assert info.satellite is None  # a server of services, not a satellite: HA adds no satellite entity for it


def test_stt_as_home_assistant_streams_it(serve: tuple[str, int], shared_audio: Path) -> None:
    pcm = read_wav(shared_audio / "speech-to-phrase/en/what time is it.wav")

    async def scenario() -> list[Event]:
        async with AsyncTcpClient(*serve) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            for start in range(0, len(pcm), 1024):  # HA forwards the pipeline's audio chunks as they come
                piece = pcm[start : start + 1024].astype("<i2").tobytes()
                await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=piece).event())
            await client.write_event(AudioStop().event())
            return await _read_all(client, "transcript-stop")

    events = _run(scenario())
    types = [e.type for e in events]
    assert types[0] == "transcript-start" and types[-2:] == ["transcript", "transcript-stop"], types
    assert set(types[1:-2]) == {"transcript-chunk"}
    assert words(Transcript.from_event(events[-2]).text) == ["what", "time", "is", "it"]


def test_tts_as_home_assistant_asks_whole_and_blank(serve: tuple[str, int]) -> None:
    async def speak(text: str) -> list[Event]:
        async with AsyncTcpClient(*serve) as client:
            await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name="en_US-joe-medium")).event())
            return await _read_all(client, "audio-stop")

    said, blank = _run(speak("The kitchen timer is done.")), _run(speak("   "))
    assert said[0].type == "audio-start" and said[-1].type == "audio-stop"
    assert len(audio_of(said)[0]) > 16000 * 0.5  # at least half a second of speech at the voice's rate
    assert [e.type for e in blank] == ["audio-start", "audio-stop"]  # answered: HA's read loop ends


def test_tts_as_home_assistant_streams_it(serve: tuple[str, int]) -> None:
    parts = ["Sure. ", "Your pizza ", "timer is set for ", "ten minutes."]

    async def scenario() -> list[Event]:
        async with AsyncTcpClient(*serve) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice(name="en_US-joe-medium")).event())
            for part in parts:
                await client.write_event(SynthesizeChunk(text=part).event())
            await client.write_event(Synthesize(text="".join(parts)).event())  # for servers that do not stream
            await client.write_event(SynthesizeStop().event())
            return await _read_all(client, "synthesize-stopped")

    types = [e.type for e in _run(scenario())]
    # One audio stream per sentence, the whole text not spoken again, then synthesize-stopped.
    assert types.count("audio-start") == 2 and types.count("audio-stop") == 2, types
    assert types[-1] == "synthesize-stopped" and types[-2] == "audio-stop"


def test_wake_as_home_assistant_runs_it(serve: tuple[str, int], shared_audio: Path) -> None:
    pcm = read_wav(shared_audio / "wyoming-openwakeword/hey_jarvis.wav")

    async def detect(names: list[str] | None) -> list[Event]:
        async with AsyncTcpClient(*serve) as client:
            await client.write_event(Detect(names=names).event())
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            for n, start in enumerate(range(0, len(pcm), 1280)):
                piece = pcm[start : start + 1280].astype("<i2").tobytes()
                await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=piece,
                                                    timestamp=n * 80).event())
            await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=bytes(32000)).event())
            return await _read_all(client, "detection")

    for names in (["hey_jarvis"], None):  # None: HA's "default" wake word
        events = _run(detect(names))
        assert [e.type for e in events] == ["detection"] and events[0].data["name"] == "hey_jarvis"


async def _converse(serve: tuple[str, int], text: str, context: dict[str, str] | None) -> Event:
    """HA's conversation agent: a `transcript` with its context, then the first answer it understands."""
    async with AsyncTcpClient(*serve) as client:
        await client.write_event(Transcript(text, context=context, language="en").event())
        while (event := await client.read_event()) is not None:
            if event.type in ("error", "intent", "not-recognized", "handled", "not-handled"):
                return event
    raise AssertionError("connection closed without an answer")


def test_conversation_as_home_assistant_sends_it(serve: tuple[str, int]) -> None:
    device = {"conversation_id": "01JHA0000000000000000000", "device_id": "d1", "satellite_id": "assist_satellite.hall"}
    chat = {"conversation_id": "01JHA0000000000000000001"}

    timer = _run(_converse(serve, "set a timer for 5 minutes", device))
    date = _run(_converse(serve, "what's the date", device))
    unknown = _run(_converse(serve, "paint the fence purple", device))
    # A timer asked on an HA device is HA's own intent (HA rings it on that device); voicebox answers the rest.
    assert timer.type == "intent" and timer.data["name"] == "HassStartTimer", timer
    assert {e["name"]: e["value"] for e in timer.data["entities"]} == {"minutes": 5}
    assert date.type == "handled" and dt.date.today().strftime("%B") in date.data["text"]
    assert unknown.type == "not-recognized"
    # A follow-up question over two connections, as HA opens them, kept by HA's conversation id.
    question = _run(_converse(serve, "set a pizza timer", chat))
    answer = _run(_converse(serve, "five minutes", chat))
    assert question.type == "handled" and question.data["text"] == "For how long?"
    assert answer.type == "handled" and "pizza timer" in answer.data["text"] and "5 minutes" in answer.data["text"]
    # `voicebox serve` has no speaker, and HA was not given the timer: the answer says so.
    assert "won't hear it" in answer.data["text"], answer.data["text"]
    assert _run(_converse(serve, "cancel the pizza timer", chat)).type == "handled"


def test_handle_and_recognize_as_plain_wyoming_clients(serve: tuple[str, int]) -> None:
    from wyoming.intent import Recognize

    async def recognize(text: str) -> Event:
        async with AsyncTcpClient(*serve) as client:
            await client.write_event(Recognize(text=text).event())
            event = await client.read_event()
            assert event is not None
            return event

    handled = _run(_converse(serve, "what day is it today", None))
    unhandled = _run(_converse(serve, "paint the fence purple", None))
    shopping = _run(recognize("add milk to my shopping list"))
    never = _run(recognize("never mind"))
    assert handled.type == "handled" and dt.date.today().strftime("%A") in handled.data["text"]
    assert unhandled.type == "not-handled"
    assert shopping.type == "intent" and shopping.data["name"] == "HassShoppingListAddItem"
    assert shopping.data["entities"] == [{"name": "item", "value": "milk"}]
    assert never.type == "intent" and never.data["name"] == "HassNevermind"


def test_assist_satellite_as_home_assistant_drives_it(tmp_path: Path, model_store: Any, shared_audio: Path) -> None:
    """HA's assist_satellite: connect, run-satellite, describe, ping; then a pipeline per run-pipeline."""
    said = concat_wavs(tmp_path / "said.wav", 3.0, shared_audio / "wyoming-openwakeword/hey_jarvis.wav", 0.3,
                       shared_audio / "speech-to-phrase/en/what time is it.wav", 40.0)
    uri = free_tcp_uri()
    sat = Proc("satellite", "--uri", uri, "--no-zeroconf", "--input", str(said), "--realtime", "--output",
               str(tmp_path / "out.wav"), "--name", "hall")
    host, port = uri.removeprefix("tcp://").split(":")

    async def scenario() -> tuple[list[Event], list[Event]]:
        for _ in range(600):
            try:
                client = AsyncTcpClient(host, int(port))
                await client.connect()
                break
            except OSError:
                await asyncio.sleep(0.2)
        else:
            raise AssertionError("the satellite never listened")
        got: list[Event] = []
        async with client:
            await client.write_event(RunSatellite().event())
            await client.write_event(Describe().event())
            await client.write_event(Ping().event())
            while not any(e.type == "run-pipeline" for e in got):
                event = await client.read_event()
                assert event is not None
                got.append(event)
            audio = 0
            while audio < 16000 * 2 * 2:  # two seconds of the command, then HA's STT says what it heard
                event = await client.read_event()
                assert event is not None
                got.append(event)
                if event.type == "audio-chunk":
                    audio += len(AudioChunk.from_event(event).audio)
            await client.write_event(Transcript(text="what time is it").event())
            await client.write_event(Synthesize(text="It's noon.").event())
            await client.write_event(TimerStarted(id="t1", total_seconds=300, name="tea").event())
            tone = (np.sin(np.arange(16000) / 16000 * 2 * np.pi * 440) * 8000).astype("<i2").tobytes()
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
            await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=tone).event())
            await client.write_event(AudioStop().event())
            after: list[Event] = []
            while not any(e.type == "played" for e in after):
                event = await client.read_event()
                assert event is not None
                after.append(event)
            await client.write_event(TimerFinished(id="t1").event())  # HA keeps the timer: the satellite rings
            await client.write_event(Ping(text="after the timer").event())
            while not any(e.type == "pong" and e.data.get("text") == "after the timer" for e in after):
                event = await client.read_event()
                assert event is not None
                after.append(event)
            return got, after

    try:
        got, after = _run(scenario())
        sat.wait_for(lambda p: sum(e["event"] == "hub_timer" for e in p.events) == 2, "hub_timer events", 30)
    finally:
        sat.stop()  # writes out.wav
    types = [e.type for e in got]
    info = Info.from_event(next(e for e in got if e.type == "info"))
    assert info.satellite is not None and info.satellite.name == "hall"
    assert "pong" in types
    request = RunPipeline.from_event(next(e for e in got if e.type == "run-pipeline"))
    assert request.start_stage == "asr" and request.end_stage == "tts"
    assert types.index("run-pipeline") < types.index("audio-chunk")
    assert "audio-stop" in [e.type for e in after]  # HA's transcript ended the streaming
    started, finished = (e for e in sat.events if e["event"] == "hub_timer")
    assert started["change"] == "started" and started["timer_id"] == "t1" and started["total_seconds"] == 300
    assert finished["change"] == "finished" and finished["timer_id"] == "t1"
    assert plays_tone(read_wav(tmp_path / "out.wav"), 1175)  # the alarm rang on the satellite's speaker
