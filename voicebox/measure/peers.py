"""``voicebox bench --peers``: voicebox's Wyoming server side by side with Home Assistant's own services.

wyoming-faster-whisper and wyoming-piper (from PyPI) pin their own Wyoming
versions, so each is installed once into a folder of its own (``pip install
--target``) and run as ``python -m`` with that folder first on its path. Both
get the very model files voicebox uses (the recognizer's folder with int8,
beam 1 and voicebox's thread count; the same voice ``.onnx``), and ``voicebox
serve`` runs beside them. The same clips go to both over Wyoming, a fresh
connection per request as Home Assistant opens them, in alternating order;
each server answers one warm-up request first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize

from voicebox.core.audio import SAMPLE_RATE, Pcm, resample
from voicebox.core.config import Config, scratch_config
from voicebox.core.errors import CODE_BENCH_PEERS, MeasureError
from voicebox.core.resources import shared_audio_dir
from voicebox.measure.metrics import word_error_rate
from voicebox.models.store import ModelStore

__all__ = ["PEERS", "TTS_SENTENCES", "asr_once", "print_peers", "run_peers", "tts_once"]

PEERS = {"asr": "wyoming-faster-whisper==3.8.1", "tts": "wyoming-piper==2.5.2"}
# Replies of the kind voicebox says most: the first sentence of each is what its first audio waits for.
TTS_SENTENCES = ("It's five past three.", "Timer set for five minutes.", "Sorry, I didn't catch that.",
                 "Today is Tuesday, the fourth of March.", "The kitchen lights are on.")
_CHUNK = 2048  # bytes of audio per audio-chunk event (64 ms), what satellites send
_START_S = 180.0  # a server must answer ``describe`` within this long of its start


def _install(folder: Path, spec: str) -> Path:
    """``spec`` installed into ``folder``/NAME-VERSION (once); returns that folder."""
    target = folder / spec.replace("==", "-")
    module = spec.split("==")[0].replace("-", "_")
    if not (target / module / "__main__.py").exists():
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "--target", str(target), spec], capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise MeasureError(f"bench --peers: could not install {spec} (pip install --target {target} {spec}): "
                               f"{done.stderr.strip()[-400:]}", code=CODE_BENCH_PEERS)
    return target


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-600:]


async def _ready(port: int, proc: subprocess.Popen[bytes], name: str, log: Path) -> None:
    """Wait until the server on ``port`` answers ``describe``."""
    deadline = time.monotonic() + _START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise MeasureError(f"bench --peers: {name} exited ({proc.returncode}): "
                               f"{_tail(log)}", code=CODE_BENCH_PEERS)
        with contextlib.suppress(OSError, TimeoutError, asyncio.IncompleteReadError):
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                while (event := await asyncio.wait_for(client.read_event(), 10)) is not None:
                    if Info.is_type(event.type):
                        return
        await asyncio.sleep(0.5)
    raise MeasureError(f"bench --peers: {name} did not answer within {_START_S:.0f} s: "
                       f"{_tail(log)}", code=CODE_BENCH_PEERS)


async def asr_once(port: int, pcm: Pcm) -> tuple[str, float]:
    """One transcription over a fresh connection: the transcript and ms from ``audio-stop`` sent to it received."""
    data = np.ascontiguousarray(pcm, "<i2").tobytes()
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
        for i in range(0, len(data), _CHUNK):
            await client.write_event(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=data[i:i + _CHUNK]).event())
        await client.write_event(AudioStop().event())
        stopped = time.perf_counter()
        while (event := await asyncio.wait_for(client.read_event(), 60)) is not None:
            if Transcript.is_type(event.type):
                return Transcript.from_event(event).text.strip(), (time.perf_counter() - stopped) * 1000
    raise MeasureError("bench --peers: the connection closed before a transcript", code=CODE_BENCH_PEERS)


async def tts_once(port: int, text: str) -> tuple[Pcm, int, float]:
    """One synthesis over a fresh connection: the audio, its rate, and ms from ``synthesize`` to the first chunk."""
    parts: list[bytes] = []
    rate, first = SAMPLE_RATE, None
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Synthesize(text=text).event())
        sent = time.perf_counter()
        while (event := await asyncio.wait_for(client.read_event(), 60)) is not None:
            if AudioChunk.is_type(event.type):
                if first is None:
                    first = (time.perf_counter() - sent) * 1000
                chunk = AudioChunk.from_event(event)
                rate = chunk.rate
                parts.append(chunk.audio)
            elif AudioStop.is_type(event.type):
                break
    if first is None:
        raise MeasureError("bench --peers: no audio came back for a synthesize", code=CODE_BENCH_PEERS)
    return np.frombuffer(b"".join(parts), "<i2"), rate, first


def _clips(root: Path | None, quick: bool) -> list[tuple[str, Pcm, str]]:
    if root is None:
        return []
    from voicebox.measure.bench import recorded_clips

    return [(c.name, c.pcm, c.transcript) for c in recorded_clips(root, 4 if quick else None)]


def _stats(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None}
    return {"median": round(statistics.median(values), 1), "p90": round(float(np.percentile(values, 90)), 1)}


async def _measure(ports: dict[str, int], clips: list[tuple[str, Pcm, str]], rounds: int) -> dict[str, Any]:
    asr: dict[str, list[float]] = {"voicebox": [], "peer": []}
    heard: dict[str, list[tuple[str, str]]] = {"voicebox": [], "peer": []}
    tts: dict[str, list[float]] = {"voicebox": [], "peer": []}
    order = (("voicebox", "vb_asr"), ("peer", "asr"))
    for _, key in order:  # warm-up, not counted
        await asr_once(ports[key], clips[0][1])
    for r in range(rounds):
        for i, (_name, pcm, reference) in enumerate(clips):
            for who, key in order if (r + i) % 2 == 0 else order[::-1]:
                text, ms = await asr_once(ports[key], pcm)
                asr[who].append(ms)
                if r == 0:
                    heard[who].append((reference, text))
    order = (("voicebox", "vb_tts"), ("peer", "tts"))
    for _, key in order:
        await tts_once(ports[key], "Ready.")
    for r in range(rounds):
        for i, sentence in enumerate(TTS_SENTENCES):
            for who, key in order if (r + i) % 2 == 0 else order[::-1]:
                tts[who].append((await tts_once(ports[key], sentence))[2])
    out: dict[str, Any] = {"n_clips": len(clips), "rounds": rounds}
    for who in ("voicebox", "peer"):
        prefix = "voicebox" if who == "voicebox" else "peer"
        a, t = _stats(asr[who]), _stats(tts[who])
        out[f"{prefix}_asr_ms"], out[f"{prefix}_asr_ms_p90"] = a["median"], a["p90"]
        out[f"{prefix}_tts_first_audio_ms"], out[f"{prefix}_tts_first_audio_ms_p90"] = t["median"], t["p90"]
        out[f"{prefix}_wer"] = round(100 * word_error_rate(heard[who])[0], 1)
    if out["voicebox_asr_ms"] and out["peer_asr_ms"]:
        out["asr_speedup"] = round(out["peer_asr_ms"] / out["voicebox_asr_ms"], 2)  # peer / voicebox: >1 = faster
    if out["voicebox_tts_first_audio_ms"] and out["peer_tts_first_audio_ms"]:
        out["tts_first_audio_ratio"] = round(out["voicebox_tts_first_audio_ms"] / out["peer_tts_first_audio_ms"], 2)
    return out


def _factor(config: Config, store: ModelStore) -> float:
    """``machine_factor`` exactly as ``voicebox bench`` measures it (the same engines, seed and clip)."""
    import onnxruntime

    from voicebox.daemon.assistant import build_engines
    from voicebox.measure.bench import SYNTH_COMMANDS, machine_factor, synthesized_clips

    onnxruntime.set_seed(0)
    engines = build_engines(config, store)
    try:
        return machine_factor(engines, synthesized_clips(engines, SYNTH_COMMANDS[:1])[0].pcm)
    finally:
        engines.close()


def run_peers(config: Config, store: ModelStore, *, peers_dir: Path, quick: bool = False) -> dict[str, Any]:
    """Install (once) and start the peers and ``voicebox serve``, measure both sides, stop them; the JSON result."""
    began = time.perf_counter()
    asr_model = store.dir(config.asr.model)
    onnx = next(store.dir(config.tts.voice).glob("*.onnx"))
    factor = _factor(config, store)  # before the servers start, on a quiet machine
    folders = {role: _install(peers_dir, spec) for role, spec in PEERS.items()}
    ports = {key: _free_port() for key in ("asr", "tts", "vb")}
    threads = str(config.asr.threads)
    root = shared_audio_dir()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        commands = {
            "asr": [sys.executable, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{ports['asr']}",
                    "--stt-library", "faster-whisper", "--model", str(asr_model), "--data-dir", str(tmp),
                    "--local-files-only", "--compute-type", config.asr.compute_type,
                    "--beam-size", str(config.asr.beam_size), "--cpu-threads", threads, "--language", "en"],
            "tts": [sys.executable, "-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{ports['tts']}",
                    "--voice", onnx.name.removesuffix(".onnx"), "--data-dir", str(onnx.parent)],
            "vb": [sys.executable, "-m", "voicebox", "serve", "--uri", f"tcp://127.0.0.1:{ports['vb']}",
                   "--config", str(scratch_config(config, tmp))],
        }
        procs: dict[str, subprocess.Popen[bytes]] = {}
        logs = {key: tmp / f"{key}.log" for key in commands}
        try:
            for key, cmd in commands.items():
                env = dict(os.environ)
                if key in folders:
                    env["PYTHONPATH"] = os.pathsep.join([str(folders[key]), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
                with open(logs[key], "wb") as log:
                    procs[key] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
            result = asyncio.run(_run(ports, procs, logs, root, quick))
        finally:
            for proc in procs.values():
                proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return {"machine_factor": factor, **result, "peers": dict(PEERS), "asr_model": str(asr_model),
            "voice": str(onnx), "bench_s": round(time.perf_counter() - began, 1)}


async def _run(ports: dict[str, int], procs: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path],
               root: Path | None, quick: bool) -> dict[str, Any]:
    for key, name in (("asr", "wyoming-faster-whisper"), ("tts", "wyoming-piper"), ("vb", "voicebox serve")):
        await _ready(ports[key], procs[key], name, logs[key])
    clips = _clips(root, quick)
    origin = "recorded"
    if not clips:  # no recordings: commands in voicebox's voice, fetched from its server
        origin = "synthesized"
        from voicebox.measure.bench import SYNTH_COMMANDS

        for text in SYNTH_COMMANDS:
            pcm, rate, _ = await tts_once(ports["vb"], text)
            clips.append((f"synth: {text}", resample(pcm, rate, SAMPLE_RATE), text))
    vb = {"vb_asr": ports["vb"], "vb_tts": ports["vb"], "asr": ports["asr"], "tts": ports["tts"]}
    return {"clips": origin, **await _measure(vb, clips, 1 if quick else 3)}


def print_peers(result: dict[str, Any]) -> None:
    """A readable table of the side-by-side figures."""
    print(f"voicebox bench --peers: {result['n_clips']} {result['clips']} clips x {result['rounds']} rounds, "
          f"{len(TTS_SENTENCES)} sentences; machine_factor {result['machine_factor']} ms; {result['bench_s']} s")
    print(f"  {'':<24} {'voicebox':>10} {'peer':>10}")
    for key, label in (("asr_ms", "asr_ms (median)"), ("asr_ms_p90", "asr_ms_p90"), ("wer", "wer %"),
                       ("tts_first_audio_ms", "tts_first_audio_ms"), ("tts_first_audio_ms_p90", "tts_first_audio_ms_p90")):
        print(f"  {label:<24} {result[f'voicebox_{key}']!s:>10} {result[f'peer_{key}']!s:>10}")
    print(f"  asr_speedup (peer / voicebox)              {result.get('asr_speedup', '-')}  (target >= 4.5)")
    print(f"  tts_first_audio_ratio (voicebox / peer)    {result.get('tts_first_audio_ratio', '-')}  (target <= 1)")
    print(f"  peers: {', '.join(result['peers'].values())}")
