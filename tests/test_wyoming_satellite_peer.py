"""The real wyoming-satellite (from PyPI) driven by `voicebox run` with `[hub] satellites`, as Home Assistant drives it.

wyoming-satellite 1.0.0 pins wyoming 1.4.1 while voicebox needs 1.10, so it
cannot share voicebox's environment: it is installed, once, into a folder of
its own (``pip install --target``) and run as ``python -m wyoming_satellite``
with that folder first on its path. Its microphone is a program that plays
recordings at real-time pace when the test asks; its speaker writes each
stream it plays to a file; its event service (``--event-uri``) is this test,
which so sees every event the hub sent the satellite. Wake-word detection is
voicebox's own Wyoming service (``run --serve-uri``), over the one wake
connection the satellite keeps for its whole life.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import say
from satellite_peer import MARK, MIC, SPEAKER, Recorder, raw, run_showing_logs, start_hub, start_satellite, stop, until
from spoken import hours_now, mentions_hour, plays_tone
from wyoming.event import Event
from wyoming.server import AsyncServer
from wyoming_helpers import free_tcp_uri

from voicebox.core.audio import SAMPLE_RATE, read_wav, write_wav

pytestmark = pytest.mark.slow


def test_wyoming_satellite_answers_and_rings_a_timer_through_the_hub(wyoming_satellite_path: Path, model_store: Any,
                                                                    shared_audio: Path, tmp_path: Path) -> None:
    control, played, detects = tmp_path / "mic", tmp_path / "played", tmp_path / "detects"
    for folder in (control, played, detects):
        folder.mkdir()
    (tmp_path / "mic.py").write_text(textwrap.dedent(MIC))
    (tmp_path / "mark.py").write_text(textwrap.dedent(MARK))
    (tmp_path / "speaker.py").write_text(textwrap.dedent(SPEAKER))
    wake = read_wav(shared_audio / "wyoming-openwakeword/hey_jarvis.wav")
    pause, tail = np.zeros(SAMPLE_RATE * 3 // 10, np.int16), np.zeros(SAMPLE_RATE * 2, np.int16)
    first = np.concatenate([wake, pause, read_wav(shared_audio / "speech-to-phrase/en/what time is it.wav"), tail])
    # The recording "set a timer for 30 seconds" is heard by tiny.en as "set time of the 30 seconds" in some cuts of
    # it (which cut depends on how soon the speculative look finishes): the timer is asked with synthesized speech,
    # the same audio on every run.
    timer = tmp_path / "timer.wav"
    said = say("Set a timer for twenty seconds.", timer)
    assert said.returncode == 0, said.stderr
    second = np.concatenate([wake, pause, read_wav(timer), tail])
    sat_uri, wake_uri, events_uri = free_tcp_uri(), free_tcp_uri(), free_tcp_uri()
    (tmp_path / "voicebox.toml").write_text(f'[paths]\nstate_dir = "{tmp_path / "state"}"\n\n'
                                            f'[hub]\nsatellites = ["{sat_uri}"]\n')
    seen: list[Event] = []

    async def scenario() -> None:
        changed = asyncio.Event()
        service = AsyncServer.from_uri(events_uri)
        await service.start(lambda r, w: Recorder(seen, changed, r, w))
        satellite = await start_satellite(
            wyoming_satellite_path, tmp_path, sat_uri, events_uri, "--name", "test kitchen", "--no-zeroconf",
            "--wake-uri", wake_uri, "--wake-word-name", "hey_jarvis",
            "--detect-command", f"{sys.executable} {tmp_path / 'mark.py'} {detects}")
        hub = await start_hub(tmp_path, "--serve-uri", wake_uri)
        procs = [satellite, hub]
        try:
            # The satellite asks for the wake word when its wake connection opens and again on run-satellite; audio
            # it heard before its wake connection opened is dropped, so the first words wait for both.
            await until(seen, changed, lambda t: "run-satellite" in t and len(list(detects.iterdir())) >= 2,
                         "the hub to connect and the satellite's wake connection to open", procs)
            raw(first, control / "1.raw")
            await until(seen, changed, lambda t: "synthesize" in t and "audio-stop" in t[t.index("synthesize"):],
                         "the answer to 'what time is it'", procs)
            # The second command waits for the satellite to listen for the wake word again (its third detect, sent
            # after the first transcript) and to have played the first answer: on a busy machine either comes late.
            await until(seen, changed, lambda t: len(list(detects.iterdir())) >= 3 and any(played.glob("*.raw")),
                        "the satellite to play the answer and listen for the wake word again", procs)
            raw(second, control / "2.raw")
            # timer-finished follows the ring's audio (the alarm and its announcement).
            await until(seen, changed, lambda t: "timer-finished" in t, "the timer to ring", procs)
            await until(seen, changed, lambda t: len(list(played.glob("*.raw"))) >= 3,
                        "the satellite to finish playing the answers and the alarm", procs)
        finally:
            await stop(procs)
            await service.stop()

    run_showing_logs(scenario(), 400, tmp_path)
    types = [e.type for e in seen]
    # Two wake words said, two heard: the satellite's `detect` after each command started no second detection.
    assert types.count("run-pipeline") == 2, types
    transcripts = [str(e.data.get("text", "")) for e in seen if e.type == "transcript"]
    assert "time" in transcripts[0].lower() and "timer" in transcripts[1].lower(), transcripts
    started = next(e for e in seen if e.type == "timer-started")
    finished = next(e for e in seen if e.type == "timer-finished")
    assert started.data["id"] == finished.data["id"] and 20 <= started.data["total_seconds"] <= 30, started.data
    # What the satellite played: the time (its words, transcribed back) and, later, the alarm.
    streams = [np.frombuffer(p.read_bytes(), "<i2").astype(np.int16) for p in sorted(played.glob("*.raw"))]
    assert len(streams) >= 3, [len(s) for s in streams]
    write_wav(tmp_path / "answer.wav", streams[0])
    heard = subprocess.run([sys.executable, "-m", "voicebox", "transcribe", str(tmp_path / "answer.wav")],
                           capture_output=True, text=True, timeout=300).stdout
    assert mentions_hour(heard, hours_now()), heard
    assert any(plays_tone(s, 1175) for s in streams[2:]), "no alarm played after the timer was set"


def test_an_always_streaming_wyoming_satellite_is_woken_on_the_hub(wyoming_satellite_path: Path, model_store: Any,
                                                                   shared_audio: Path, tmp_path: Path) -> None:
    """Without a wake service of its own, wyoming-satellite streams all the time: the hub hears the wake word."""
    control, played = tmp_path / "mic", tmp_path / "played"
    for folder in (control, played):
        folder.mkdir()
    (tmp_path / "mic.py").write_text(textwrap.dedent(MIC))
    (tmp_path / "speaker.py").write_text(textwrap.dedent(SPEAKER))
    said = np.concatenate([read_wav(shared_audio / "wyoming-openwakeword/hey_jarvis.wav"),
                           np.zeros(SAMPLE_RATE * 3 // 10, np.int16),
                           read_wav(shared_audio / "speech-to-phrase/en/what time is it.wav"),
                           np.zeros(SAMPLE_RATE * 2, np.int16)])
    sat_uri, events_uri = free_tcp_uri(), free_tcp_uri()
    (tmp_path / "voicebox.toml").write_text(f'[paths]\nstate_dir = "{tmp_path / "state"}"\n\n'
                                            f'[hub]\nsatellites = ["{sat_uri}"]\n')
    seen: list[Event] = []

    async def scenario() -> None:
        changed = asyncio.Event()
        service = AsyncServer.from_uri(events_uri)
        await service.start(lambda r, w: Recorder(seen, changed, r, w))
        satellite = await start_satellite(wyoming_satellite_path, tmp_path, sat_uri, events_uri, "--no-zeroconf")
        hub = await start_hub(tmp_path)
        procs = [satellite, hub]
        try:
            # run-satellite: the satellite answers with run-pipeline from the wake stage and streams from then on.
            await until(seen, changed, lambda t: "run-pipeline" in t, "the satellite to start streaming", procs)
            raw(said, control / "1.raw")
            await until(seen, changed, lambda t: "synthesize" in t and "audio-stop" in t[t.index("synthesize"):],
                         "the answer", procs)
            await until(seen, changed, lambda t: any(played.glob("*.raw")), "the satellite to finish playing", procs)
        finally:
            await stop(procs)
            await service.stop()

    run_showing_logs(scenario(), 300, tmp_path)
    pipeline = next(e for e in seen if e.type == "run-pipeline")
    assert pipeline.data["start_stage"] == "wake", pipeline.data
    transcripts = [str(e.data.get("text", "")) for e in seen if e.type == "transcript"]
    assert len(transcripts) == 1 and "time" in transcripts[0].lower(), transcripts
    streams = [np.frombuffer(p.read_bytes(), "<i2").astype(np.int16) for p in sorted(played.glob("*.raw"))]
    write_wav(tmp_path / "answer.wav", np.concatenate(streams))
    heard = subprocess.run([sys.executable, "-m", "voicebox", "transcribe", str(tmp_path / "answer.wav")],
                           capture_output=True, text=True, timeout=300).stdout
    assert mentions_hour(heard, hours_now()), heard
