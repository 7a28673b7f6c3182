"""The soak check: scoring of a run's events, and the 5-minute CI version of ``voicebox soak``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from voicebox.measure.soak import Cue, SoakReport, score


def _events() -> list[dict[str, object]]:
    return [
        {"event": "wake", "stream_ms": 10_900, "time_s": 100.0},  # inside cue 1
        {"event": "intent", "intent": "GetTime", "time_s": 100.5},
        {"event": "response", "speech": "It's noon.", "time_s": 100.6},
        {"event": "synthesis_started", "text": "It's noon.", "time_s": 100.7},
        {"event": "wake", "stream_ms": 30_000, "time_s": 101.0},  # between cues: a false wake
        {"event": "response", "speech": "Sorry", "time_s": 101.5},
        {"event": "synthesis_started", "text": "Sorry", "time_s": 101.6},
        {"event": "wake", "stream_ms": 50_500, "time_s": 102.0},  # cue 2, set a timer
        {"event": "intent", "intent": "StartTimer", "time_s": 102.4},
        {"event": "response", "speech": "Timer set.", "time_s": 102.5},
        {"event": "synthesis_started", "text": "Timer set.", "time_s": 102.6},
        {"event": "synthesis_started", "text": "Your timer is done.", "time_s": 132.9},  # unprompted: the ring
        {"event": "error", "stage": "speak", "message": "boom", "time_s": 133.0},
    ]


def test_score_counts_commands_false_wakes_and_timers() -> None:
    cues = [Cue(10_000, 16_000, "what time is it", "time_date", "GetTime"),
            Cue(50_000, 56_000, "set a timer for 30 seconds", "timers", "StartTimer", 30.0),
            Cue(90_000, 96_000, "what time is it", "time_date", "GetTime")]  # never woken
    report = SoakReport(audio_minutes=30.0)
    score(cues, _events(), report)
    assert (report.commands_spoken, report.commands_woken, report.commands_answered,
            report.commands_understood) == (3, 2, 2, 2)
    assert report.false_wakes == 1 and report.false_wakes_per_hour == 2.0
    assert report.timers_set == 1 and report.timers_rung_on_time == 1 and report.timer_delays_s == [30.4]
    assert report.errors == ["speak: boom"]
    assert not report.passed  # a command went unanswered


def test_a_turn_restarted_by_the_wake_word_within_a_cue_counts_as_that_cue() -> None:
    cues = [Cue(10_000, 16_000, "what time is it", "time_date", "GetTime")]
    events = [
        {"event": "wake", "stream_ms": 10_100, "time_s": 100.0},  # the end of the audio before the cue woke it
        {"event": "speech_started", "time_s": 100.1},
        {"event": "wake", "stream_ms": 12_200, "time_s": 100.2},  # the cue's own wake word restarts the turn
        {"event": "intent", "intent": "GetTime", "time_s": 100.5},
        {"event": "response", "speech": "It's noon.", "time_s": 100.6},
    ]
    report = SoakReport(audio_minutes=1.0)
    score(cues, events, report)
    assert (report.commands_woken, report.commands_answered, report.commands_understood) == (1, 1, 1)
    assert report.false_wakes == 0


@pytest.mark.slow
def test_five_minute_soak(shared_audio: Path, model_store: object) -> None:
    proc = run_cli("soak", "--minutes", "5", "--json", "--audio", str(shared_audio), timeout=1800)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "voicebox soak: audio streamed 0/300 s (0 %)" in proc.stderr and "(50 %)" in proc.stderr
    print("soak (5 min of audio):", report)
    assert report["crashes"] == 0, report["errors"]
    assert report["commands_spoken"] >= 6
    assert report["commands_answered"] == report["commands_spoken"], report
    assert report["rss_growth_pct"] <= 10.0, report
    assert report["timers_rung_on_time"] == report["timers_set"], report
    assert proc.returncode == 0
