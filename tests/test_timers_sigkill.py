"""A timer set through the daemon survives SIGKILL: the restarted daemon rings it at its time."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from conftest import say
from daemon_proc import DaemonProc

from voicebox.core.audio import SAMPLE_RATE, read_wav

pytestmark = pytest.mark.slow


def test_timer_survives_kill(tmp_path: Path, model_store: object) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[skills]\nuser_dir = "{tmp_path / "skills"}"\n[paths]\nstate_dir = "{tmp_path / "state"}"\n'
                      "[skill.timers]\nring_for_s = 0\n")
    env = {"VOICEBOX_CONFIG": str(config)}
    wav = tmp_path / "command.wav"
    assert say("Hey Jarvis. Set a timer for twenty seconds.", wav, env=env).returncode == 0
    pcm = read_wav(wav)

    first = DaemonProc(env=env)
    try:
        first.wait_for(lambda e: e["event"] == "ready")
        first.feed(np.concatenate([np.zeros(SAMPLE_RATE // 2, np.int16), pcm]))
        started = first.wait_for(lambda e: e["event"] == "response")
        assert (started["skill"], started["intent"]) == ("timers", "StartTimer"), started
        assert started["data"]["total_seconds"] == 20
        set_at = started["time_s"]
        first.proc.kill()  # SIGKILL: no cleanup, no goodbye
        first.proc.wait()
    finally:
        first.close()

    again = DaemonProc(env=env)
    try:
        rang = again.wait_for(lambda e: e["event"] == "response" and e["intent"] == "ring", timeout_s=180)
        assert rang["skill"] == "timers" and rang["speech"].startswith("Your 20 second timer is done")
        due = rang["data"]["due_s"]
        assert abs(due - (set_at + 20)) < 5  # the due time survived as it was set
        assert rang["time_s"] >= due  # never early
        assert rang["time_s"] - due < 60  # announced when it came due (or at start, if it was already over)
        said = again.wait_for(lambda e: e["event"] == "synthesis_started", after=again.events.index(rang))
        assert said["text"] == rang["speech"]
    finally:
        assert again.close() == 0
    assert time.time() >= due
