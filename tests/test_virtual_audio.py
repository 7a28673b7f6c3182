"""The real audio path: virtual PulseAudio mic and speaker reached through sounddevice/PortAudio/ALSA.

A recording is played into the virtual microphone, ``voicebox run`` answers it on its
default devices, and the answer is captured from the virtual speaker and transcribed back.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli, say
from spoken import concat_wavs, hours_now, mentions_hour

pytestmark = [pytest.mark.slow, pytest.mark.audio_devices]

SCRIPT = Path(__file__).resolve().parent / "virtual_audio.sh"


@pytest.fixture(scope="module")
def virtual_audio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private PulseAudio daemon with a virtual mic and speaker; yields the environment to reach it."""
    missing = [tool for tool in ("pulseaudio", "pactl", "paplay", "parecord") if shutil.which(tool) is None]
    import ctypes.util

    if ctypes.util.find_library("portaudio") is None:
        missing.append("the PortAudio library")
    if missing:
        pytest.skip(f"virtual audio devices need {', '.join(missing)}: "
                    "apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2 (.ci/run does)")
    va_dir = tmp_path_factory.mktemp("va")
    env = {**os.environ, "VA_DIR": str(va_dir), "VA_PYTHON": sys.executable}
    # The sound server keeps its own files under its private HOME, not in the tests' XDG folders.
    daemon_env = {k: v for k, v in env.items() if not k.startswith("XDG_")}
    started = subprocess.run(["bash", str(SCRIPT), "start"], env=daemon_env, capture_output=True, text=True,
                             timeout=120, check=False)
    assert started.returncode == 0, started.stderr
    for line in started.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value.strip("'")
    yield env
    subprocess.run(["bash", str(SCRIPT), "stop"], env=daemon_env, capture_output=True, timeout=30, check=False)


def _pactl(env: dict[str, str], *args: str) -> object:
    out = subprocess.run(["pactl", "-f", "json", *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _wait_for_recording_client(env: dict[str, str], source: str, timeout: float = 30.0) -> None:
    index = next(d["index"] for d in _pactl(env, "list", "short", "sources") if d["name"] == source)  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s["source"] == index and s["client"] is not None for s in _pactl(env, "list", "source-outputs")):  # type: ignore[attr-defined]
            return
        time.sleep(0.05)
    raise TimeoutError(f"voicebox never started recording from {source}")


def _events(proc: subprocess.Popen[str], seen: list[dict[str, object]]) -> queue.Queue[dict[str, object]]:
    """The daemon's events as they come (each also kept in ``seen``, for the message of a failure)."""
    found: queue.Queue[dict[str, object]] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                event = json.loads(line)
                seen.append({k: v for k, v in event.items() if k != "time_s"})
                found.put(event)

    threading.Thread(target=read, daemon=True).start()
    return found


def _wait_event(events: queue.Queue[dict[str, object]], name: str, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            event = events.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(event["event"])
        if event["event"] == name:
            return event
    raise TimeoutError(f"no {name!r} event within {timeout} s; saw {seen}")


def test_spoken_command_through_virtual_mic_is_answered_on_virtual_speaker(
        virtual_audio: dict[str, str], tmp_path: Path, model_store: object, shared_audio: Path) -> None:
    env = virtual_audio
    # A person's wake word, then a clearly spoken command: this test is about the device path, not about
    # recognizing far-field speech (test_e2e and `voicebox eval` cover that).
    command = tmp_path / "command.wav"
    said = say("What time is it?", command)
    assert said.returncode == 0, said.stderr
    feed = concat_wavs(tmp_path / "feed.wav", 0.5, shared_audio / "wyoming-openwakeword" / "hey_jarvis.wav",
                       command, 2.0)
    captured = tmp_path / "speaker.wav"
    daemon = subprocess.Popen([sys.executable, "-m", "voicebox", "run", "--json"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    recorder: subprocess.Popen[bytes] | None = None
    seen: list[dict[str, object]] = []
    try:
        events = _events(daemon, seen)
        _wait_event(events, "ready", timeout=180)
        _wait_for_recording_client(env, "virtual_mic")
        recorder = subprocess.Popen(["parecord", "--device=virtual_speaker.monitor", "--file-format=wav",
                                     "--format=s16le", "--rate=48000", "--channels=2", "--latency-msec=20",
                                     str(captured)], env=env)
        deadline = time.monotonic() + 60
        while not (captured.exists() and captured.stat().st_size > 9600):
            assert time.monotonic() < deadline and recorder.poll() is None, "parecord did not start"
            time.sleep(0.02)
        recording_from = time.monotonic() - 0.05  # the recording holds at least 50 ms (9600 bytes) now
        subprocess.run(["paplay", "--device=virtual_mic_feed", str(feed)], env=env, check=True, timeout=60)
        wake = _wait_event(events, "wake", timeout=30)
        assert wake["model"] == "hey_jarvis"
        transcript = _wait_event(events, "transcript", timeout=60)
        _wait_event(events, "synthesis_finished", timeout=60)  # sent once the sink has played the reply
        # Wait until parecord has written everything up to now plus 0.5 s (48 kHz stereo 16-bit), however late
        # a busy machine runs it: then the reply is in the file.
        wanted = 44 + int((time.monotonic() - recording_from + 0.5) * 48000 * 4)
        deadline = time.monotonic() + 60
        while captured.stat().st_size < wanted:
            assert time.monotonic() < deadline and recorder.poll() is None, "parecord stopped recording"
            time.sleep(0.05)
    finally:
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)  # parecord writes a valid WAV header on SIGINT
            recorder.wait(timeout=10)
        daemon.terminate()
        _, log = daemon.communicate(timeout=30)
    back = run_cli("transcribe", str(captured), "--json")
    assert back.returncode == 0, back.stderr
    heard = json.loads(back.stdout)["text"]
    assert mentions_hour(heard, hours_now()), (heard, transcript, seen, log[-2000:])


def test_wake_word_over_voicebox_own_alarm_looped_back_into_the_mic(
        virtual_audio: dict[str, str], tmp_path: Path, model_store: object, shared_audio: Path) -> None:
    """The speaker loops back into the microphone 60 ms late: its own alarm never wakes it, a wake word over it does."""
    env = virtual_audio
    command = tmp_path / "command.wav"
    said = say("Set a timer for three seconds.", command)
    assert said.returncode == 0, said.stderr
    wake_word = shared_audio / "wyoming-openwakeword" / "hey_jarvis.wav"
    feed = concat_wavs(tmp_path / "feed.wav", 0.5, wake_word, command, 2.0)
    loop = subprocess.run(["pactl", "load-module", "module-loopback", "source=virtual_speaker.monitor",
                           "sink=virtual_mic_feed", "latency_msec=60"], env=env, capture_output=True, text=True,
                          check=True)
    daemon = subprocess.Popen([sys.executable, "-m", "voicebox", "run", "--json"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: list[dict[str, object]] = []
    try:
        events = _events(daemon, seen)
        _wait_event(events, "ready", timeout=180)
        _wait_for_recording_client(env, "virtual_mic")
        subprocess.run(["paplay", "--device=virtual_mic_feed", str(feed)], env=env, check=True, timeout=60)
        assert _wait_event(events, "wake", timeout=30)["model"] == "hey_jarvis"
        intent = _wait_event(events, "intent", timeout=60)
        assert intent["skill"] == "timers", intent
        while True:  # the timer's reply, then its alarm and announcement, all heard back through the loop
            started = _wait_event(events, "synthesis_started", timeout=60)
            if "done" in str(started["text"]).lower():
                break
        woke_before = sum(e["event"] == "wake" for e in seen)
        subprocess.run(["paplay", "--device=virtual_mic_feed", str(wake_word)], env=env, check=True, timeout=60)
        assert woke_before == 1, seen  # neither the reply nor the alarm woke it
        assert _wait_event(events, "wake", timeout=30)["model"] == "hey_jarvis"
    finally:
        daemon.terminate()
        _, log = daemon.communicate(timeout=30)
        subprocess.run(["pactl", "unload-module", loop.stdout.strip()], env=env, capture_output=True, check=False)
    assert "echo cancellation is off" not in log, log[-2000:]
