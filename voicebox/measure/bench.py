"""``voicebox bench``: latency, accuracy and cost of the whole pipeline on recorded and synthesized commands."""

from __future__ import annotations

import asyncio
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebox.audio_io.sinks import NullSink
from voicebox.core.audio import BLOCK_MS, SAMPLE_RATE, AudioBlock, BlockFramer, Pcm, read_wav, resample, write_wav
from voicebox.core.config import Config, scratch_config
from voicebox.core.errors import CODE_BENCH_STARTUP, MeasureError
from voicebox.core.events import (
    AudioPlayed,
    Event,
    LlmAnswer,
    NoSpeech,
    SpeechEnded,
    Transcript,
    TurnFinished,
    WakeDetected,
)
from voicebox.core.resources import shared_audio_dir
from voicebox.daemon.assistant import build_engines, model_store
from voicebox.measure.metrics import word_error_rate
from voicebox.measure.progress import Progress
from voicebox.turn.pipeline import Engines, Pipeline

__all__ = ["MACHINE_FACTOR_TEXT", "SYNTH_COMMANDS", "TARGETS", "machine_factor", "run_bench"]

# Synthesized in voicebox's own voice: some match an intent, some need the longer silence.
SYNTH_COMMANDS = ("what time is it", "what's the date today", "what day is it", "tell me the time please",
                  "set a timer for five minutes", "turn on the kitchen lights", "what's the weather like tomorrow")
# With [llm] configured: a question no skill knows, for llm_first_audio_ms (the end of the question to the first
# audio of the model's answer).
LLM_QUESTION = "why is the sky blue"
# key: (comparison, target); medians unless named otherwise.
TARGETS = {"e2e_ms_intent": ("<=", 500.0), "e2e_ms_silence": ("<=", 1200.0), "asr_ms": ("<=", 150.0),
           "tts_first_audio_ms": ("<=", 120.0), "wake_cpu_percent": ("<=", 3.0), "rss_mb": ("<=", 400.0),
           "startup_s": ("<=", 3.0), "barge_in_wake_rate": (">=", 0.9), "barge_in_stop_rate": (">=", 0.9),
           "self_wakes": ("<=", 0), "self_stops": ("<=", 0)}
# The reference computation of ``machine_factor``: the first synthesized command (this sentence in the voice, the
# first thing it says after the seed is set, after 0.3 s of seeded noise), recognized with the full 30 s window,
# median of _FACTOR_RUNS runs in ms. The same audio and the same work on every machine: a figure to divide by.
MACHINE_FACTOR_TEXT = SYNTH_COMMANDS[0]
_FACTOR_RUNS = 5
_TAIL_S = 4.0  # longest trailing silence fed after a command before giving up on the turn
_NOISE_RMS = 30.0  # a quiet room (-61 dBFS), not digital silence
_BUSY_RMS = 330.0  # a fan or a far-off TV (-40 dBFS): above the wake-word silence gate, so the networks always run


@dataclass(frozen=True, slots=True)
class Clip:
    """One command: its audio (16 kHz int16), what was said, and where it comes from."""

    name: str
    pcm: Pcm
    transcript: str
    origin: str  # "recorded" or "synthesized"


def _noise(seconds: float, seed: int = 0, rms: float = _NOISE_RMS) -> Pcm:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, rms, int(seconds * SAMPLE_RATE)), -32768, 32767).astype(np.int16)


def recorded_clips(root: Path, limit: int | None = None) -> list[Clip]:
    """The ``command`` clips of the shared recordings' manifest."""
    with open(root / "manifest.tsv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["kind"] == "command"]
    return [Clip(r["path"], read_wav(root / r["path"]), r["transcript"], "recorded") for r in rows[:limit]]


def synthesized_clips(engines: Engines, texts: Sequence[str]) -> list[Clip]:
    """Commands spoken by the configured voice, with a little room noise before them."""
    tts = engines.tts
    clips = []
    for i, text in enumerate(texts):
        speech = np.concatenate([resample(c, tts.sample_rate) for c in tts.synthesize(text)])
        clips.append(Clip(f"synth: {text}", np.concatenate([_noise(0.3, i), speech]), text, "synthesized"))
    return clips


def wake_clip(root: Path | None, engines: Engines) -> Pcm:
    """A spoken "hey jarvis": the recording if present, else synthesized."""
    if root is not None and (root / "wyoming-openwakeword" / "hey_jarvis.wav").is_file():
        return read_wav(root / "wyoming-openwakeword" / "hey_jarvis.wav")
    tts = engines.tts
    return np.concatenate([resample(c, tts.sample_rate) for c in tts.synthesize("Hey Jarvis.")])


async def _paced(fast: Pcm, realtime: Pcm, done: asyncio.Event) -> AsyncIterator[AudioBlock]:
    """``fast`` as quickly as it is consumed, then ``realtime`` block by block as a microphone delivers it."""
    framer = BlockFramer()
    fast_blocks = framer.feed(fast) + framer.flush()  # its last block padded: the real-time part starts on a block
    n_fast = len(fast_blocks)
    loop = asyncio.get_running_loop()
    start = 0.0
    for i, block in enumerate(fast_blocks + framer.feed(realtime) + framer.flush()):
        if done.is_set():
            return
        if i < n_fast:
            await asyncio.sleep(0)
        else:
            if i == n_fast:
                start = loop.time()
            # A block exists once its last sample has been spoken.
            await asyncio.sleep(max(0.0, start + (i - n_fast + 1) * BLOCK_MS / 1000 - loop.time()))
        yield block


async def run_turn(engines: Engines, config: Config, wake: Pcm, clip: Clip) -> dict[str, Any]:
    """Wake word (fed fast), then the command and room noise at real-time pace, through a fresh pipeline."""
    events: list[Event] = []
    done = asyncio.Event()

    def emit(event: Event) -> None:
        events.append(event)
        if isinstance(event, (TurnFinished, NoSpeech)):
            done.set()

    engines.wake.reset()
    engines.vad.reset()
    pipeline = Pipeline(engines, config, sink=NullSink(), emit=emit, realtime=True)
    try:
        await pipeline.run(_paced(wake, np.concatenate([clip.pcm, _noise(_TAIL_S, 7)]), done))
    finally:
        pipeline.close()
    out: dict[str, Any] = {"name": clip.name, "origin": clip.origin, "reference": clip.transcript,
                           "woke": any(isinstance(e, WakeDetected) for e in events)}
    for e in events:
        if isinstance(e, SpeechEnded):
            out["reason"] = e.reason
        elif isinstance(e, NoSpeech):
            out["reason"] = "no_speech"
        elif isinstance(e, Transcript):
            out.update(heard=e.text, window=e.window, speculative=e.speculative)
        elif isinstance(e, AudioPlayed):
            out["tts_first_audio_ms"] = e.first_audio_ms
        elif isinstance(e, LlmAnswer) and e.task == "answer":
            out.update(llm_first_token_ms=e.first_token_ms, llm_tokens_per_s=e.tokens_per_s)
        elif isinstance(e, TurnFinished):
            out.update(e.timings_ms)
    return out


def _unseen(pcm: Pcm, i: int) -> Pcm:
    """``pcm`` with its ``i``-th sample changed by one step: the same work, but audio no recognizer cache has seen."""
    out = pcm.copy()
    out[i % len(out)] ^= 1
    return out


def machine_factor(engines: Engines, clip: Pcm) -> float:
    """The full-window recognition of ``clip`` (:data:`MACHINE_FACTOR_TEXT` in the voice): median of a few runs, ms."""
    engines.asr.transcribe(_unseen(clip, 0), full_window=True)  # the first run of a shape pays its allocations
    runs = []
    for i in range(1, _FACTOR_RUNS + 1):
        audio = _unseen(clip, i)
        start = time.perf_counter()
        engines.asr.transcribe(audio, full_window=True)
        runs.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(runs), 1)


def measure_asr(engines: Engines, clips: Sequence[Clip], done: Callable[[], None] = lambda: None) -> list[dict[str, Any]]:
    """Each clip recognized with the configured window policy and with the full 30 s window (``done`` after each)."""
    rows = []
    for clip in clips:
        start = time.perf_counter()
        short = engines.asr.transcribe(clip.pcm)
        short_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        full = engines.asr.transcribe(_unseen(clip.pcm, 0), full_window=True)  # encoded afresh, not from the first
        full_ms = (time.perf_counter() - start) * 1000
        rows.append({"name": clip.name, "reference": clip.transcript, "audio_s": len(clip.pcm) / SAMPLE_RATE,
                     "text": short.text, "window": short.window, "ms": short_ms, "full_text": full.text, "full_ms": full_ms})
        done()
    return rows


async def measure_wake_cpu(engines: Engines, config: Config, seconds: float, noise_rms: float = _NOISE_RMS) -> float:
    """Process CPU time per wall second (percent of one core) while idle listening to room noise in real time.

    The clock starts once the pipeline has listened for 3 s (the steady state of a daemon that has been idle),
    so the first seconds after a (re)start, when the silence gate has not closed yet, are not counted.
    """
    engines.wake.reset()
    pipeline = Pipeline(engines, config, sink=NullSink(), emit=lambda e: None, realtime=True)
    await asyncio.sleep(0.5)  # let worker threads of earlier stages go idle
    settle = int(3.0 * 1000 / BLOCK_MS)
    clock: list[tuple[float, float]] = []

    async def room() -> AsyncIterator[AudioBlock]:
        i = 0
        async for block in _paced(np.zeros(0, np.int16), _noise(3.0 + seconds, 3, noise_rms), asyncio.Event()):
            if i == settle:
                clock.append((time.process_time(), time.perf_counter()))
            i += 1
            yield block

    try:
        await pipeline.run(room())
    finally:
        pipeline.close()
    cpu, wall = clock[0]
    return 100.0 * (time.process_time() - cpu) / (time.perf_counter() - wall)


def measure_startup(config: Config, audio: Pcm) -> tuple[float, float]:
    """Seconds from process start to the ``ready`` event, and the peak RSS (MB) of that process answering ``audio``."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "startup.wav"
        write_wav(wav, audio)
        # At real-time pace, as a microphone delivers it: fed faster, a turn would overlap the previous reply.
        # Its own state: the user's stored timers would ring in the middle of the measurement.
        cmd = [sys.executable, "-m", "voicebox", "run", "--config", str(scratch_config(config, Path(tmp))),
               "--input", str(wav), "--output", "none", "--json", "--realtime"]
        started = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    ready = [e for e in events if e.get("event") == "ready"]
    turns = [e for e in events if e.get("event") == "turn_finished"]
    if proc.returncode != 0 or not ready or not turns:
        raise MeasureError(f"bench: the start-up run failed (exit {proc.returncode}, {len(turns)} turns): "
                           f"{proc.stderr.strip()[-300:]}", code=CODE_BENCH_STARTUP)
    # The process's own peak (VmHWM), as it reports it: ru_maxrss of a child would also count this process's
    # memory, which a child started with vfork carries until it execs.
    return ready[0]["time_s"] - started, max(t["peak_rss_mb"] for t in turns)


def _wer(pairs: Sequence[tuple[str, str]]) -> float:
    return round(100 * word_error_rate(pairs)[0], 1)


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p90(values: Sequence[float]) -> float | None:
    return round(float(np.percentile(values, 90)), 1) if values else None


def summarize(turns: list[dict[str, Any]], asr_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The bench's JSON keys from per-turn and per-clip results (medians unless named otherwise)."""
    e2e = [t["e2e_ms"] for t in turns if "e2e_ms" in t]
    by_reason = {r: [t["e2e_ms"] for t in turns if t.get("reason") == r and "e2e_ms" in t] for r in ("intent", "silence")}
    heard = [(t["reference"], t.get("heard", "")) for t in turns if t["woke"]]
    return {
        "n_commands": len(turns), "n_woke": sum(t["woke"] for t in turns), "n_answered": len(e2e),
        "e2e_ms": _median(e2e), "e2e_ms_p90": _p90(e2e),
        "e2e_ms_intent": _median(by_reason["intent"]), "n_intent": len(by_reason["intent"]),
        "e2e_ms_silence": _median(by_reason["silence"]), "n_silence": len(by_reason["silence"]),
        "endpoint_ms": _median([t["endpoint_ms"] for t in turns if "endpoint_ms" in t]),
        "asr_ms": _median([r["ms"] for r in asr_rows]), "asr_full_window_ms": _median([r["full_ms"] for r in asr_rows]),
        "asr_ms_p90": _p90([r["ms"] for r in asr_rows]),
        "wer": _wer([(r["reference"], r["text"]) for r in asr_rows]),
        "wer_full_window": _wer([(r["reference"], r["full_text"]) for r in asr_rows]),
        "wer_turns": _wer(heard) if heard else None,
        "asr_ms_turn": _median([t["asr_ms"] for t in turns if "asr_ms" in t]),
        "intent_ms": _median([t["intent_ms"] for t in turns if "intent_ms" in t]),
        "tts_first_audio_ms": _median([t["tts_first_audio_ms"] for t in turns if "tts_first_audio_ms" in t]),
    }


def run_bench(config: Config, *, quick: bool = False) -> dict[str, Any]:
    """Every measurement of ``voicebox bench``; returns its JSON object (with per-clip details under ``clips``)."""
    began = time.perf_counter()
    notes: list[str] = []
    root = shared_audio_dir()
    import onnxruntime

    # Piper draws random noise inside its model: a fixed seed, set before the voice loads, makes the synthesized
    # commands (and so every figure that depends on them) the same in every run.
    onnxruntime.set_seed(0)
    engines = build_engines(config, model_store(config))
    try:
        wake = wake_clip(root, engines)
        clips = recorded_clips(root, 2 if quick else None) if root is not None else []
        if root is None:
            notes.append("shared recordings not found (../shared/audio or $VOICEBOX_SHARED_AUDIO): synthesized commands only")
        synthesized = synthesized_clips(engines, SYNTH_COMMANDS[:1] if quick else SYNTH_COMMANDS)
        factor = machine_factor(engines, synthesized[0].pcm)  # before the turns and the start-up run
        clips += synthesized
        # Three turns (one not understood, with its long reply): a daemon's peak comes from successive turns' buffers.
        turns_audio = [part for clip in (clips[-1], clips[0], clips[-1]) for part in (wake, clip.pcm, _noise(1.5))]
        # Steps: the start-up run, each command's turn, each command's recognition, the two idle CPU runs, barge-in.
        with Progress(4 + 2 * len(clips), "voicebox bench", "measuring", unit="steps") as bar:
            startup_s, rss_mb = measure_startup(config, np.concatenate(turns_audio))
            bar.update()
            turns = []
            for clip in clips:
                turns.append(asyncio.run(run_turn(engines, config, wake, clip)))
                bar.update()
            asr_rows = measure_asr(engines, clips, bar.update)
            wake_cpu = asyncio.run(measure_wake_cpu(engines, config, 3.0 if quick else 10.0))
            bar.update()
            wake_cpu_busy = asyncio.run(measure_wake_cpu(engines, config, 3.0 if quick else 10.0, _BUSY_RMS))
            bar.update()
            barge_in = _barge_in(engines, config, wake, notes)
            bar.update()
            llm_turn = None
            if engines.llm is not None:
                llm_turn = asyncio.run(run_turn(engines, config, wake, synthesized_clips(engines, [LLM_QUESTION])[0]))
    finally:
        engines.close()
    result = {"machine_factor": factor, **summarize(turns, asr_rows)}
    result.update(wake_cpu_percent=round(wake_cpu, 2), wake_cpu_percent_noisy=round(wake_cpu_busy, 2),
                  rss_mb=round(rss_mb, 1), startup_s=round(startup_s, 2), **barge_in,
                  bench_s=round(time.perf_counter() - began, 1), quick=quick, notes=notes,
                  **({} if llm_turn is None else {"llm_first_audio_ms": llm_turn.get("e2e_ms"),
                                                  "llm_first_token_ms": llm_turn.get("llm_first_token_ms"),
                                                  "llm_tokens_per_s": llm_turn.get("llm_tokens_per_s")}),
                  clips=[{**t, **{k: a[k] for k in ("text", "window", "ms", "full_text", "full_ms")}}
                         for t, a in zip(turns, asr_rows, strict=True)])
    return result


def _barge_in(engines: Engines, config: Config, wake: Pcm, notes: list[str]) -> dict[str, Any]:
    """The barge-in figures over a simulated echo path (see :mod:`voicebox.measure.barge_in`), when Speex is here."""
    from voicebox.engines.speex_aec import speexdsp_available
    from voicebox.measure.barge_in import measure_barge_in
    from voicebox.speak.sounds import alarm_clock

    if not speexdsp_available():
        notes.append("barge-in not measured: the echo canceller needs libspeexdsp (apt install libspeexdsp1)")
        return {"barge_in_wake_rate": None, "barge_in_stop_rate": None, "self_wakes": None, "self_stops": None}
    return measure_barge_in(engines.wake, engines.tts, config, wake, alarm_clock(), vad=engines.vad, asr=engines.asr,
                            stop=stop_clip(shared_audio_dir(), engines))


def stop_clip(root: Path | None, engines: Engines) -> Pcm:
    """A spoken "stop": a person's recording if present, else synthesized."""
    if root is not None and (root / "mycroft-core" / "stop.wav").is_file():
        return read_wav(root / "mycroft-core" / "stop.wav")
    tts = engines.tts
    return np.concatenate([resample(c, tts.sample_rate) for c in tts.synthesize("Stop.")])


def print_table(result: dict[str, Any]) -> None:
    """A readable table: each key, its value and its target."""
    print(f"voicebox bench: {result['n_commands']} commands ({result['n_woke']} woke, {result['n_answered']} answered), "
          f"{result['n_intent']} ended on an intent, {result['n_silence']} on silence; {result['bench_s']} s")
    for key, value in result.items():
        if key in ("clips", "notes", "quick") or key.startswith("n_"):
            continue
        target = TARGETS.get(key)
        shown = "-" if value is None else value
        print(f"  {key:<22} {shown:>10}   {'target ' + ' '.join(map(str, target)) if target else ''}")
    for note in result["notes"]:
        print(f"  note: {note}")
