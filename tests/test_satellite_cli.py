"""The commands as separate processes: `voicebox serve`, and `voicebox run --hub-uri` with `voicebox satellite`."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from spoken import concat_wavs
from wyoming.client import AsyncClient
from wyoming.info import Describe, Info

pytestmark = pytest.mark.slow


def _wait_for_socket(path: Path, proc: subprocess.Popen[bytes], limit_s: float = 180.0) -> None:
    deadline = time.monotonic() + limit_s
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stderr.read().decode() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {limit_s} s")
        time.sleep(0.2)


def _start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "voicebox", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stop(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err.decode("utf-8", "replace")


@pytest.fixture()
def serve_proc(tmp_path: Path, model_store: Any) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    sock = tmp_path / "voicebox.sock"
    proc = _start("serve", "--uri", f"unix://{sock}")
    try:
        _wait_for_socket(sock, proc)
        yield sock, proc
    finally:
        if proc.poll() is None:
            _stop(proc)


def test_voicebox_serve_answers_describe_and_stops_on_ctrl_c(serve_proc: tuple[Path, Any]) -> None:
    sock, proc = serve_proc

    async def describe() -> Info:
        async with AsyncClient.from_uri(f"unix://{sock}", connect_timeout=10, read_timeout=30) as client:
            await client.write_event(Describe().event())
            event = await client.read_event()
            assert event is not None
            return Info.from_event(event)

    info = asyncio.run(describe())
    assert info.asr and info.tts and info.wake and info.intent and info.handle
    code, err = _stop(proc)
    assert code in (0, 130), err


def test_a_satellite_process_gets_its_answer_from_a_hub_process(tmp_path: Path, model_store: Any,
                                                                shared_audio: Path) -> None:
    sock = tmp_path / "hub.sock"
    spoken_in = concat_wavs(tmp_path / "in.wav", shared_audio / "wyoming-openwakeword/hey_jarvis.wav", 0.3,
                            shared_audio / "speech-to-phrase/en/what's the date.wav", 2.0)
    hub = _start("run", "--input", "none", "--output", "none", "--hub-uri", f"unix://{sock}", "--json")
    try:
        _wait_for_socket(sock, hub)
        sat = subprocess.run([sys.executable, "-m", "voicebox", "satellite", "--hub", f"unix://{sock}", "--name",
                              "kitchen", "--input", str(spoken_in), "--realtime", "--output",
                              str(tmp_path / "reply.wav"), "--json"], capture_output=True, timeout=180, check=False)
    finally:
        code, hub_err = _stop(hub)
    assert sat.returncode == 0, sat.stderr.decode()
    events = [json.loads(line) for line in sat.stdout.decode().splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert names[:2] == ["wake", "hub_transcript"], names
    reply = next(e["text"] for e in events if e["event"] == "hub_reply")
    import datetime as dt

    assert reply.startswith("Today is ") and dt.date.today().strftime("%B") in reply
    assert (tmp_path / "reply.wav").stat().st_size > 16000  # half a second of audio at least
    assert "satellite 'kitchen' connected" in hub_err


def test_a_hub_process_dials_a_satellite_server_process(tmp_path: Path, model_store: Any, shared_audio: Path) -> None:
    """`voicebox satellite --uri` listens; `voicebox run` with `[hub] satellites` dials it and answers its command."""
    import threading

    import numpy as np
    from wyoming_helpers import free_tcp_uri

    from voicebox.core.audio import SAMPLE_RATE, read_wav

    uri = free_tcp_uri()
    (tmp_path / "hub.toml").write_text(f'[hub]\nsatellites = ["{uri}"]\n[paths]\nstate_dir = "{tmp_path / "state"}"\n')
    said = np.concatenate([read_wav(shared_audio / "wyoming-openwakeword/hey_jarvis.wav"),
                           np.zeros(SAMPLE_RATE * 3 // 10, np.int16),
                           read_wav(shared_audio / "speech-to-phrase/en/what's the date.wav")])
    sat = subprocess.Popen([sys.executable, "-m", "voicebox", "satellite", "--uri", uri, "--no-zeroconf", "--name", "den",
                            "--input", "-", "--output", str(tmp_path / "reply.wav"), "--json"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    events: list[dict[str, Any]] = []
    log: list[str] = []
    threading.Thread(target=lambda: events.extend(json.loads(line) for line in sat.stdout if line.startswith(b"{")),
                     daemon=True).start()
    threading.Thread(target=lambda: log.extend(line.decode() for line in sat.stderr), daemon=True).start()
    hub = _start("run", "--config", str(tmp_path / "hub.toml"), "--input", "none", "--output", "none", "--json")
    assert sat.stdin is not None

    def feed(pcm: np.ndarray) -> None:  # at real time, as a microphone would
        for start in range(0, len(pcm), 1280):
            sat.stdin.write(np.ascontiguousarray(pcm[start : start + 1280], "<i2").tobytes())
            sat.stdin.flush()
            time.sleep(0.08)

    def until(check: Any, what: str) -> None:
        deadline = time.monotonic() + 240
        while not check():
            assert sat.poll() is None and hub.poll() is None and time.monotonic() < deadline, (what, log[-10:])
            feed(np.zeros(1280 * 2, np.int16))  # silence meanwhile

    try:
        until(lambda: any("serving the hub" in line for line in log), "the hub to connect")
        feed(said)
        until(lambda: any(e["event"] == "reply_played" for e in events), "the reply to be played")
    finally:
        sat.stdin.close()
        sat.terminate()
        sat.wait(timeout=30)
        code, hub_err = _stop(hub)
    names = [e["event"] for e in events]
    assert names[:2] == ["wake", "hub_transcript"], names
    reply = next(e["text"] for e in events if e["event"] == "hub_reply")
    import datetime as dt

    assert reply.startswith("Today is ") and dt.date.today().strftime("%B") in reply
    assert "satellite den (tcp://127.0.0.1:" in hub_err

