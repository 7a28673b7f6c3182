"""SIGHUP reloads config and skills without dropping what is scheduled; SIGTERM stops mid-reply; a timer set
before a kill -9 still rings after the restart."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import numpy as np
import pytest
from daemon_proc import DaemonProc, skill_folder

from voicebox.core.audio import read_wav

WAKE = "wyoming-openwakeword/hey_jarvis.wav"


def _turn(shared_audio: Path, command: str) -> np.ndarray:
    return np.concatenate([np.zeros(8000, np.int16), read_wav(shared_audio / WAKE),
                           read_wav(shared_audio / f"speech-to-phrase/en/{command}.wav"), np.zeros(24000, np.int16)])


# With only a test skill or two, a vocabulary prompt of their few sentences can derail tiny.en.
NO_PROMPT = "[asr]\nvocabulary_prompt = false\n"
REMIND = ("        loop = asyncio.get_running_loop()\n"
          "        self.pending = loop.call_later(4.0, lambda: loop.create_task(ctx.speak('reminder is due')))\n"
          "        return 'I will remind you in four seconds'\n")


@pytest.mark.slow
def test_sighup_reloads_config_and_skills_and_keeps_what_is_scheduled(tmp_path: Path, shared_audio: Path,
                                                                      model_store: object) -> None:
    skills = tmp_path / "skills"
    skill_folder(skills, "reminder", "Remind", "what time is it", REMIND)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{skills}"\ndisabled = ["time_date"]\n' + NO_PROMPT)
    daemon = DaemonProc("--config", str(cfg))
    try:
        daemon.wait_for(lambda e: e["event"] == "ready")
        daemon.feed(_turn(shared_audio, "what time is it"))
        set_event = daemon.wait_for(lambda e: e["event"] == "response" and e["skill"] == "reminder")
        # a new skill appears and the config changes; then reload
        skill_folder(skills, "dater", "Date", "what's the date", "        return 'date from the new skill'\n")
        cfg.write_text(f'[skills]\nuser_dir = "{skills}"\ndisabled = ["time_date"]\n[audio]\nvolume = 0.5\n' + NO_PROMPT)
        mark, logged = len(daemon.events), len(daemon.stderr)
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("reloaded", after=logged)  # the reload runs on the daemon's loop between blocks
        daemon.feed(_turn(shared_audio, "what's the date"))
        new = daemon.wait_for(lambda e: e["event"] == "response" and e["skill"] == "dater", after=mark)
        assert new["speech"] == "date from the new skill"
        rung = daemon.wait_for(lambda e: e["event"] == "synthesis_started" and e["text"] == "reminder is due")
        assert rung["time_s"] - set_event["time_s"] >= 3.0  # scheduled before the reload, still rang, not early
        # a broken config on reload is refused, and the daemon keeps answering
        cfg.write_text("[audio]\nvolume = 99\n")
        logged = len(daemon.stderr)
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("reload refused", after=logged)
        mark = len(daemon.events)
        daemon.feed(_turn(shared_audio, "what's the date"))
        daemon.wait_for(lambda e: e["event"] == "response" and e["skill"] == "dater", after=mark)
    finally:
        code = daemon.close()
    assert code == 0, "".join(daemon.stderr[-10:])
    log = "".join(daemon.stderr)
    assert "reloaded" in log and "reload refused" in log and "[audio] volume" in log


@pytest.mark.slow
def test_sigterm_while_speaking_stops_the_reply_and_exits(tmp_path: Path, shared_audio: Path,
                                                          model_store: object) -> None:
    skills = tmp_path / "skills"
    long_answer = " ".join(["This is a long answer that takes a while to say."] * 12)
    skill_folder(skills, "talker", "Talk", "what time is it", f"        return {long_answer!r}\n")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{skills}"\ndisabled = ["time_date"]\n' + NO_PROMPT)
    daemon = DaemonProc("--config", str(cfg), "--realtime")
    try:
        daemon.wait_for(lambda e: e["event"] == "ready")
        daemon.feed(_turn(shared_audio, "what time is it"))
        daemon.wait_for(lambda e: e["event"] == "audio_started")
        started = time.monotonic()
        daemon.proc.send_signal(signal.SIGTERM)
        code = daemon.proc.wait(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        daemon.close()
    print(f"SIGTERM while speaking -> exit in {elapsed:.2f} s")
    assert code == 0, "".join(daemon.stderr[-10:])
    assert not any(e["event"] == "synthesis_finished" and e["audio_ms"] > 20_000 for e in daemon.events)
    assert elapsed < 10  # upper bound with slack for a shared machine; the target is 2 s


@pytest.mark.slow
def test_timer_survives_kill_9_and_rings_after_restart(tmp_path: Path, shared_audio: Path,
                                                       model_store: object) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[paths]\nstate_dir = "{tmp_path / "state"}"\n')
    first = DaemonProc("--config", str(cfg))
    try:
        first.wait_for(lambda e: e["event"] == "ready")
        first.feed(_turn(shared_audio, "set a timer for 30 seconds"))
        set_event = first.wait_for(lambda e: e["event"] == "response" and "timer" in e["skill"])
        time.sleep(3)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=30)
    finally:
        first.close()
    second = DaemonProc("--config", str(cfg))
    try:
        ready = second.wait_for(lambda e: e["event"] == "ready")
        rung = second.wait_for(lambda e: e["event"] == "synthesis_started", timeout_s=90)
    finally:
        second.close()
    delay = rung["time_s"] - set_event["time_s"]
    print(f"timer set, daemon killed (-9) and restarted: rang {delay:.1f} s after it was set (asked: 30 s)")
    assert delay >= 28  # not early
    # Kept its due time: it rang when due or, if the restart took longer, as soon as the daemon was ready
    # (a timer started afresh would ring 30 s after the restart). The margin is for a busy machine.
    assert delay <= max(30.0, ready["time_s"] - set_event["time_s"]) + 20, (delay, ready)


@pytest.mark.slow
def test_sighup_keeps_a_running_timer(tmp_path: Path, shared_audio: Path, model_store: object) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[paths]\nstate_dir = "{tmp_path / "state"}"\n')
    daemon = DaemonProc("--config", str(cfg))
    try:
        daemon.wait_for(lambda e: e["event"] == "ready")
        daemon.feed(_turn(shared_audio, "set a timer for 30 seconds"))
        set_event = daemon.wait_for(lambda e: e["event"] == "response" and "timer" in e["skill"])
        mark = len(daemon.events)
        cfg.write_text(f'[paths]\nstate_dir = "{tmp_path / "state"}"\n[audio]\nvolume = 0.8\n')
        daemon.proc.send_signal(signal.SIGHUP)
        rung = daemon.wait_for(lambda e: e["event"] == "synthesis_started", timeout_s=90, after=mark)
    finally:
        code = daemon.close()
    delay = rung["time_s"] - set_event["time_s"]
    print(f"timer set, SIGHUP reload, rang {delay:.1f} s after it was set (asked: 30 s): {rung['text']!r}")
    assert code == 0
    assert "reloaded" in "".join(daemon.stderr)
    assert 28 <= delay <= 40
