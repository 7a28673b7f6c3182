"""Alarms set by voice through the daemon ring at their minute, with their own sound, and survive SIGKILL.

Each test says a clock time a minute or two ahead, in the skill's configured
zone (not the machine's), and waits for the real clock: for the ring event,
after which the daemon exits (or is closed).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from conftest import run_cli, say
from daemon_proc import DaemonProc
from spoken import concat_wavs, events_of, plays_tone

from voicebox.core.audio import SAMPLE_RATE, read_wav

pytestmark = pytest.mark.slow

LEAD_S = 150  # synthesis, start-up and recognition on a busy machine take well under this (17 s start-up seen in CI)


def _zone() -> str:
    """A zone where it is about 10 AM now: the recognizer hears "ten" well (it writes "four" as "for", "two" as "to")."""
    offset = (10 - dt.datetime.now(dt.UTC).hour) % 24
    offset -= 24 if offset > 14 else 0
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"  # POSIX signs: Etc/GMT-9 is 9 hours ahead of UTC


def _config(tmp_path: Path) -> tuple[dict[str, str], str]:
    """The environment that points voicebox at a fresh config and state, and the alarms' zone in that config."""
    zone, config = _zone(), tmp_path / "config.toml"
    config.write_text(f'[skills]\nuser_dir = "{tmp_path / "skills"}"\n[paths]\nstate_dir = "{tmp_path / "state"}"\n'
                      f'[skill.alarms]\nring_for_s = 0\ntime_zone = "{zone}"\n')
    return {"VOICEBOX_CONFIG": str(config)}, zone


def _command(tmp_path: Path, env: dict[str, str], zone: str) -> tuple[dt.datetime, str, Path]:
    """A minute at least LEAD_S ahead, how it is said (12-hour clock), and "Hey Jarvis, set an alarm for it" as a WAV."""
    now = dt.datetime.now(ZoneInfo(zone))
    due = (now + dt.timedelta(seconds=LEAD_S + 60)).replace(second=0, microsecond=0)
    # tiny.en garbles some minutes now and then ("4:08" as "4 0 8", "10:28" as "10 20 8"); whole tens ("10:30") it
    # hears well. Up to nine minutes later than LEAD_S: the waits are counted from `due`.
    if due.minute % 10:
        due += dt.timedelta(minutes=10 - due.minute % 10)
    said = f"{due.hour % 12 or 12}" + (f":{due.minute:02d}" if due.minute else "") + (" AM" if due.hour < 12 else " PM")
    day = "today" if due.date() == now.date() else "tomorrow"
    wav = tmp_path / "command.wav"
    proc = say(f"Hey Jarvis. Set an alarm for {said} {day}.", wav, env=env)
    assert proc.returncode == 0, proc.stderr
    return due, said, wav


def _until(due: dt.datetime, margin_s: float) -> float:
    """Seconds from now until `due`, plus a margin for start-up, recognition and the ring on a busy machine."""
    return max(0.0, due.timestamp() - time.time()) + margin_s


def _check_ring(ring: dict[str, object], due: dt.datetime, said: str) -> None:
    assert (ring["skill"], ring["intent"]) == ("alarms", "ring"), ring
    assert ring["data"]["due_s"] == due.timestamp()  # type: ignore[index]
    assert due.timestamp() <= float(ring["time_s"]) < due.timestamp() + 60, ring  # type: ignore[arg-type]
    assert ring["speech"] == f"It's {said}. This is your {said} alarm."



def test_an_alarm_set_by_voice_rings_at_its_minute_with_its_own_sound(tmp_path: Path, model_store: object) -> None:
    env, zone = _config(tmp_path)
    due, said, command = _command(tmp_path, env, zone)
    reply = tmp_path / "reply.wav"
    proc = run_cli("run", "--input", str(concat_wavs(tmp_path / "input.wav", 0.5, command)), "--output", str(reply),
                   "--json", "--wait-timers", env=env, timeout=_until(due, 400))
    assert proc.returncode == 0, proc.stderr
    events = events_of(proc.stdout)
    responses = [e for e in events if e["event"] == "response"]
    assert [(e["skill"], e["intent"]) for e in responses] == [("alarms", "SetAlarm"), ("alarms", "ring")], events
    heard = [e.get("text") for e in events if e["event"] == "transcript"]
    assert responses[0]["data"].get("due_s") == due.timestamp(), (responses[0], heard)  # type: ignore[index]
    _check_ring(responses[1], due, said)
    spoken = [e["text"] for e in events if e["event"] == "synthesis_started"]
    assert spoken[-1] == responses[1]["speech"]
    audio = read_wav(reply)
    assert plays_tone(audio, 1568) and not plays_tone(audio, 1175)  # the alarm clock's ring, not the timers' beeps


def test_an_alarm_survives_kill(tmp_path: Path, model_store: object) -> None:
    env, zone = _config(tmp_path)
    due, said, command = _command(tmp_path, env, zone)
    first = DaemonProc(env=env)
    try:
        first.wait_for(lambda e: e["event"] == "ready")
        first.feed(np.concatenate([np.zeros(SAMPLE_RATE // 2, np.int16), read_wav(command)]))
        set_ = first.wait_for(lambda e: e["event"] == "response")
        assert (set_["skill"], set_["intent"]) == ("alarms", "SetAlarm"), set_
        heard = [e.get("text") for e in first.events if e["event"] == "transcript"]
        assert set_["data"].get("due_s") == due.timestamp(), (set_, heard)
        first.proc.kill()  # SIGKILL: no cleanup, no goodbye
        first.proc.wait()
    finally:
        first.close()

    again = DaemonProc(env=env)
    try:
        ring = again.wait_for(lambda e: e["event"] == "response" and e["intent"] == "ring", timeout_s=_until(due, 240))
        _check_ring(ring, due, said)
        said_now = again.wait_for(lambda e: e["event"] == "synthesis_started", after=again.events.index(ring))
        assert said_now["text"] == ring["speech"]
    finally:
        assert again.close() == 0
