"""``voicebox soak``: stream an hour of real background audio with wake words and commands through the daemon."""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voicebox.core.audio import SAMPLE_RATE, Pcm, read_wav, resample
from voicebox.core.config import Config, scratch_config
from voicebox.core.errors import CODE_SOAK_AUDIO, CODE_SOAK_COMMANDS, CODE_SOAK_PLAN, CODE_SOAK_START, MeasureError
from voicebox.core.resources import shared_audio_dir
from voicebox.measure.progress import Progress

__all__ = ["Cue", "SoakReport", "plan", "score"]

_REAL_COMMANDS = ("what time is it", "what's the date", "set a timer for 30 seconds")
# The timer cue is spoken clearly (synthesized): the soak measures staying up, memory and timers, not recognition
# of the far-field recordings (`voicebox eval` and `voicebox bench` measure that).
_SYNTH_COMMANDS = ("Set a timer for thirty seconds.", "What day is it today?", "What time is it?",
                   "What's the date today?")
_WAKE_CLIP = "wyoming-openwakeword/hey_jarvis.wav"
_SETTLE_S = 5.0  # seconds of paused feed over which memory at rest is taken


@dataclass(frozen=True, slots=True)
class Cue:
    """One inserted wake word + command: where it starts in the stream and what it should do."""

    start_ms: int
    end_ms: int
    text: str
    skill: str
    intent: str
    timer_s: float = 0.0


@dataclass(slots=True)
class SoakReport:
    """What ``voicebox soak`` measured."""

    audio_minutes: float = 0.0
    wall_s: float = 0.0
    commands_spoken: int = 0
    commands_woken: int = 0
    commands_answered: int = 0
    commands_understood: int = 0
    false_wakes: int = 0
    false_wakes_per_hour: float = 0.0
    errors: list[str] = field(default_factory=list)
    crashes: int = 0
    exit_code: int | None = None
    rss_baseline_mb: float = 0.0
    rss_baseline_at_min: float = 0.0
    rss_peak_mb: float = 0.0
    rss_final_mb: float = 0.0
    rss_growth_pct: float = 0.0
    timers_set: int = 0
    timers_rung_on_time: int = 0
    timer_delays_s: list[float] = field(default_factory=list)
    timers_note: str = ""

    @property
    def passed(self) -> bool:
        """No crash, every command answered, memory within 10 % of the early baseline, timers on time."""
        return (self.crashes == 0 and self.commands_answered == self.commands_spoken
                and self.rss_growth_pct <= 10.0 and self.timers_rung_on_time == self.timers_set)


def _shared_audio(arg: str | None) -> Path:
    found = shared_audio_dir(arg)
    if found is not None:
        return found
    raise MeasureError("recordings not found: pass --audio DIR (a folder with manifest.tsv, e.g. ../shared/audio) "
                       "or set VOICEBOX_SHARED_AUDIO", code=CODE_SOAK_AUDIO)


def _silence(ms: int) -> Pcm:
    return np.zeros(SAMPLE_RATE * ms // 1000, np.int16)


def plan(config: Config, audio_dir: Path, *, minutes: float, every_s: float, seed: int,
         synthesize: Any = None, rest_at_ms: int | None = None) -> tuple[list[Cue], Iterator[Pcm], list[int]]:
    """The cues, a generator of the stream, and where its quiet moments end (stream ms).

    The stream is negatives back to back, with a wake word + command every
    ``every_s``. Commands are kept only when the loaded skills recognise their
    transcript, so every cue has an expected skill and intent. A quiet moment
    (long enough for any turn in progress to end, a false wake's included)
    starts at ``rest_at_ms`` (or right after the command playing then) and at
    the end: the daemon's memory is measured at rest there.
    """
    from voicebox.daemon.assistant import load_skill_set

    _skills, intents = load_skill_set(config)
    with open(audio_dir / "manifest.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    negatives = [r["path"] for r in rows if r["kind"] == "negative"]
    random.Random(seed).shuffle(negatives)
    by_text = {r["transcript"]: r["path"] for r in rows if r["kind"] == "command"}
    commands: list[tuple[str, Pcm]] = [(t, read_wav(audio_dir / by_text[t])) for t in _REAL_COMMANDS if t in by_text]
    if synthesize is not None:
        commands += [(t, synthesize(t)) for t in _SYNTH_COMMANDS]
    usable: list[tuple[str, Pcm, Any]] = []
    for text, pcm in commands:
        match = intents.recognize(text.lower().strip("?.!"))
        if match is not None:
            usable.append((text, pcm, match))
    if not usable:
        raise MeasureError("no soak command is understood by the loaded skills", code=CODE_SOAK_COMMANDS)
    timers = sorted((u for u in usable if "timer" in u[0].lower()), key=lambda u: u[0] in _REAL_COMMANDS)
    others = [u for u in usable if "timer" not in u[0].lower()] or usable
    wake = read_wav(audio_dir / _WAKE_CLIP)
    total_ms = int(minutes * 60_000)
    every_ms = int(every_s * 1000)
    timer_slots = {0, 40} if timers else set()  # one early (rings during the run), one later on long runs
    pieces: list[Pcm] = []
    cues: list[Cue] = []
    start = every_ms // 2
    k = 0
    while start < total_ms - every_ms // 2:
        text, pcm, match = timers[0] if k in timer_slots else others[k % len(others)]
        piece = np.concatenate([_silence(800), wake, _silence(150), pcm, _silence(2500)])
        if len(piece) * 1000 // SAMPLE_RATE >= every_ms:
            raise MeasureError(f"--every-s {every_s} is shorter than one wake word + command", code=CODE_SOAK_PLAN)
        cues.append(Cue(start, start + len(piece) * 1000 // SAMPLE_RATE, text, match.skill, match.intent,
                        30.0 if "timer" in text.lower() else 0.0))
        pieces.append(piece)
        start += every_ms
        k += 1

    listen = config.listen
    rest = _silence(int((listen.no_speech_timeout_s + listen.silence_s + 1.0) * 1000))
    rest_ms = len(rest) * 1000 // SAMPLE_RATE
    rest_starts = [total_ms]
    if rest_at_ms is not None:
        at = max([rest_at_ms] + [c.end_ms for c in cues if c.start_ms <= rest_at_ms < c.end_ms])
        if any(at < c.start_ms < at + rest_ms for c in cues) or at + rest_ms > total_ms:
            raise MeasureError(f"--every-s {every_s} leaves no room for a quiet moment at {at / 60_000:.1f} min",
                               code=CODE_SOAK_PLAN)
        rest_starts.insert(0, at)
    starts = sorted([*((c.start_ms, p) for c, p in zip(cues, pieces, strict=True)), *((at, rest) for at in rest_starts)],
                    key=lambda b: b[0])
    rests = [at + rest_ms for at in rest_starts]

    def stream() -> Iterator[Pcm]:
        done = 0  # samples
        neg = 0
        bounds = [(at * SAMPLE_RATE // 1000, piece) for at, piece in starts]
        for cue_at, piece in bounds:
            while done < cue_at:
                clip = read_wav(audio_dir / negatives[neg % len(negatives)])[: cue_at - done]
                neg += 1
                yield clip
                done += len(clip)
            yield piece
            done += len(piece)

    return cues, stream(), rests


def score(cues: list[Cue], events: list[dict[str, Any]], report: SoakReport) -> None:
    """Fill in the command, wake and timer counts from the daemon's JSON events."""
    turns: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for event in events:
        if event["event"] == "wake":
            turns.append((event, []))
        elif turns:
            turns[-1][1].append(event)
    report.commands_spoken = len(cues)
    answered: dict[int, list[dict[str, Any]]] = {}
    for wake, after in turns:
        at = int(wake["stream_ms"])
        hit = next((i for i, c in enumerate(cues) if c.start_ms <= at <= c.end_ms), None)
        if hit is None:
            report.false_wakes += 1
        else:  # a second wake within a cue (the wake word itself, after a false wake at its start) restarts the turn
            answered.setdefault(hit, []).extend(after)
    report.commands_woken = len(answered)
    for i, after in answered.items():
        if any(e["event"] == "response" for e in after):
            report.commands_answered += 1
        if any(e["event"] == "intent" and e["intent"] == cues[i].intent for e in after):
            report.commands_understood += 1
    hours = report.audio_minutes / 60
    report.false_wakes_per_hour = round(report.false_wakes / hours, 2) if hours else 0.0
    report.errors = [f"{e.get('stage')}: {e.get('message')}" for e in events if e["event"] == "error"]
    _score_timers(cues, events, answered, report)


def _score_timers(cues: list[Cue], events: list[dict[str, Any]], answered: dict[int, list[dict[str, Any]]],
                  report: SoakReport) -> None:
    # An announcement is speech nobody asked for in a turn: a response with no intent just before it (a
    # scheduled callback's answer), or speech with no response just before it.
    pending_intent = pending_reply = False
    announcements: list[float] = []
    for e in events:
        if e["event"] in ("intent", "intent_not_matched"):
            pending_intent = True
        elif e["event"] == "response":
            if not pending_intent:
                announcements.append(float(e["time_s"]))
            pending_intent, pending_reply = False, True
        elif e["event"] == "synthesis_started":
            if not pending_reply:
                announcements.append(float(e["time_s"]))
            pending_reply = False
    for i, cue in enumerate(cues):
        if not cue.timer_s:
            continue
        report.timers_set += 1
        set_at = next((float(e["time_s"]) for e in answered.get(i, []) if e["event"] == "response"), None)
        if set_at is None:
            continue
        # Alarms repeat until stopped, so an earlier timer's repeat may come first: take the announcement
        # nearest to when this one was due.
        later = [t for t in announcements if t > set_at]
        if not later:
            continue
        rung = min(later, key=lambda t: abs(t - set_at - cue.timer_s))
        delay = round(rung - set_at, 2)
        report.timer_delays_s.append(delay)
        if abs(delay - cue.timer_s) <= 2.0:
            report.timers_rung_on_time += 1


class _Sampler(threading.Thread):
    """Samples the daemon's resident memory twice a second against the audio position fed so far."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        import psutil

        self._proc = psutil.Process(pid)
        self.fed_ms = 0
        self.samples: list[tuple[int, int]] = []
        self.stop_event = threading.Event()

    def sample(self) -> int:
        """RSS now, in bytes (0 once the process is gone)."""
        try:
            rss = int(self._proc.memory_info().rss)
        except Exception:
            return 0
        self.samples.append((self.fed_ms, rss))
        return rss

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stop_event.wait(0.5):
            self.sample()

    def settled(self, seconds: float) -> float:
        """The daemon's memory at rest, in MB: the least RSS over ``seconds`` of 0.1 s samples.

        Called with the feed paused, so the daemon catches up and falls idle;
        one sample would land anywhere in a reply, which lifts RSS by up to
        ~90 MB until the heap trim after it.
        """
        end = time.monotonic() + seconds
        least = self.sample()
        while time.monotonic() < end:
            time.sleep(0.1)
            rss = self.sample()
            least = min(least, rss) if rss else least
        return round(least / 2**20, 1)


def run_soak(config: Config, args: argparse.Namespace) -> SoakReport:
    """Plan the stream, run ``voicebox run --input -`` on it, and score what came back."""
    from voicebox.daemon.assistant import load_tts, model_store, required_models

    audio_dir = _shared_audio(args.audio)
    store = model_store(config)
    store.require(required_models(config, stages=("tts",)))
    tts = load_tts(config, store)

    def synthesize(text: str) -> Pcm:
        return resample(np.concatenate(list(tts.synthesize(text))), tts.sample_rate)

    # Memory after the first 5 minutes (the measure); a short run (CI's 5 minutes) takes its half-way point
    # instead, once every kind of turn (reply, timer, alarm) has been through the process at least once.
    baseline_ms = int(min(5.0, args.minutes / 2) * 60_000)
    cues, stream, rests = plan(config, audio_dir, minutes=args.minutes, every_s=args.every_s, seed=args.seed,
                               synthesize=synthesize, rest_at_ms=baseline_ms)
    with tempfile.TemporaryDirectory(prefix="voicebox-soak-") as scratch:
        # The daemon keeps its timers and lists apart from the user's (it sets timers; old alarms would ring).
        return _stream_through_daemon(scratch_config(config, Path(scratch)), cues, stream, rests[0], args)


def _stream_through_daemon(config_path: Path, cues: list[Cue], stream: Iterator[Pcm], baseline_ms: int,
                           args: argparse.Namespace) -> SoakReport:
    report = SoakReport(audio_minutes=args.minutes)
    command = [sys.executable, "-m", "voicebox", "run", "--config", str(config_path),
               "--input", "-", "--output", "none", "--json"]
    started = time.monotonic()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr
    if stdin is None or stdout is None or stderr is None:
        raise MeasureError("could not start the daemon with pipes", code=CODE_SOAK_START)
    events: list[dict[str, Any]] = []
    stderr_tail: list[str] = []

    def read_events() -> None:
        for line in stdout:
            if line.startswith(b"{"):
                events.append(json.loads(line))

    def read_log() -> None:
        for line in stderr:
            stderr_tail[:] = [*stderr_tail[-20:], line.decode("utf-8", "replace")]

    readers = [threading.Thread(target=read_events, daemon=True), threading.Thread(target=read_log, daemon=True)]
    for r in readers:
        r.start()
    sampler = _Sampler(proc.pid)
    sampler.start()
    report.rss_baseline_at_min = round(baseline_ms / 60_000, 2)
    fed = 0  # samples
    bar = Progress(round(args.minutes * 60), "voicebox soak", "audio streamed", unit="s")
    try:
        for pcm in stream:
            stdin.write(np.ascontiguousarray(pcm, "<i2").tobytes())
            fed += len(pcm)
            sampler.fed_ms = fed * 1000 // SAMPLE_RATE
            bar.update(len(pcm) / SAMPLE_RATE)
            if not report.rss_baseline_mb and fed >= baseline_ms * SAMPLE_RATE // 1000:  # a quiet moment ended
                stdin.flush()
                report.rss_baseline_mb = sampler.settled(_SETTLE_S)
        stdin.flush()
        deadline = time.monotonic() + (45.0 if any(c.timer_s for c in cues) else 0.0)
        while time.monotonic() < deadline and proc.poll() is None:  # timers ring on the wall clock
            scored = SoakReport(audio_minutes=args.minutes)
            score(cues, list(events), scored)
            if len(scored.timer_delays_s) >= scored.timers_set:
                break
            time.sleep(0.5)
        report.rss_final_mb = sampler.settled(_SETTLE_S)
        stdin.close()
    except BrokenPipeError:
        pass
    finally:
        bar.close()
    try:
        report.exit_code = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        report.exit_code = proc.wait()
    sampler.stop_event.set()
    for r in readers:
        r.join(timeout=5)
    report.wall_s = round(time.monotonic() - started, 1)
    report.crashes = int(report.exit_code != 0)
    if report.crashes:
        report.errors.append(f"daemon exited with code {report.exit_code}: {''.join(stderr_tail[-5:])}")
    rss = [s[1] for s in sampler.samples if s[1]]
    report.rss_peak_mb = round(max(rss, default=0) / 2**20, 1)
    if report.rss_baseline_mb:
        report.rss_growth_pct = round((report.rss_final_mb / report.rss_baseline_mb - 1) * 100, 1)
    crash_errors = report.errors
    score(cues, events, report)
    report.errors = crash_errors + report.errors
    if report.timers_set == 0:
        report.timers_note = "no timer skill understands 'set a timer for 30 seconds'; timers not tested"
    return report
