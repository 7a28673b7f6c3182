"""Latency through the Wyoming server and the hub: ASR (audio-stop -> transcript), TTS (-> first chunk), 4 satellites.

Run: .venv/bin/python benchmarks/wyoming_latency.py [--shared-audio ../shared/audio] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from wyoming.asr import Transcribe
from wyoming.audio import AudioStop, wav_to_chunks
from wyoming.client import AsyncClient
from wyoming.tts import Synthesize

from voicebox.audio_io.sinks import NullSink
from voicebox.core.audio import BLOCK_MS, AudioBlock, blocks_of, read_wav
from voicebox.core.config import Config
from voicebox.core.conversation import current_origin
from voicebox.daemon.assistant import Assistant, build_engines, load_wake, model_store
from voicebox.remote.hub import Hub
from voicebox.remote.satellite import ReplyPlayed, Satellite
from voicebox.remote.server import WyomingService, make_services

REPLIES = ["It's 8:53 AM.", "Today is Friday, November 27th, 2026.", "It's Friday.",
           "Sorry, I didn't understand that. Say \"what can you do\" to hear some things I can help with."]


async def _read(client: AsyncClient, kind: str) -> float:
    while (event := await client.read_event()) is not None:
        if event.type == kind:
            return time.perf_counter()
    raise RuntimeError(f"closed before {kind}")


async def asr_and_tts(clips: list[Path], rounds: int) -> tuple[list[float], list[float]]:
    """Milliseconds from audio-stop to transcript per clip, and from synthesize to the first audio chunk."""
    config = Config()
    store = model_store(config)
    engines = build_engines(config, store)
    uri = f"unix://{tempfile.mkdtemp()}/bench.sock"
    service = WyomingService(make_services(config, engines, store, lambda e: None))
    await service.start(uri)
    asr_ms: list[float] = []
    tts_ms: list[float] = []
    direct_ms = [engines.asr.transcribe(read_wav(c)).compute_ms for c in clips]  # same engine, no Wyoming
    print(f"ASR direct (same engine, no Wyoming), {len(clips)} clips: median {statistics.median(direct_ms):.0f} ms")
    try:
        async with AsyncClient.from_uri(uri) as client:
            for _ in range(rounds):
                for clip in clips:
                    await client.write_event(Transcribe(language="en").event())
                    with wave.open(str(clip), "rb") as wav:
                        for item in wav_to_chunks(wav, 1024, start_event=True):
                            await client.write_event(item.event())
                    await client.write_event(AudioStop().event())
                    sent = time.perf_counter()
                    asr_ms.append((await _read(client, "transcript") - sent) * 1000)
                for text in REPLIES:
                    await client.write_event(Synthesize(text=text).event())
                    sent = time.perf_counter()
                    tts_ms.append((await _read(client, "audio-chunk") - sent) * 1000)
                    await _read(client, "audio-stop")
    finally:
        await service.stop()
        engines.close()
    return asr_ms, tts_ms


async def four_satellites(shared: Path) -> dict[str, dict[str, float]]:
    """One hub, four satellites speaking different commands at once; the hub's turn timings per satellite."""
    config = Config()
    store = model_store(config)
    assistant = Assistant(config, sink=NullSink(), emit=lambda e: None, store=store)
    turns: dict[str, dict[str, float]] = {}

    def emit(event: object) -> None:
        if getattr(event, "name", "") == "turn_finished":
            turns[current_origin()] = dict(event.timings_ms)  # type: ignore[attr-defined]

    hub = Hub(assistant, emit=emit)
    uri = f"unix://{tempfile.mkdtemp()}/hub.sock"
    await hub.start(uri)
    wake = read_wav(shared / "wyoming-openwakeword/hey_jarvis.wav")
    names = ["what time is it.wav", "what's the date.wav", "what's the weather.wav", "timer status.wav"]
    inputs = [np.concatenate([wake, np.zeros(4800, np.int16), read_wav(shared / "speech-to-phrase/en" / n)])
              for n in names]
    seen: dict[str, list[object]] = {}
    ends: dict[str, float] = {}

    async def paced(name: str, pcm: np.ndarray) -> object:
        loop = asyncio.get_running_loop()
        blocks = blocks_of(pcm)
        start = loop.time()
        for i in range(int(60_000 / BLOCK_MS)):
            if i >= len(blocks) and any(isinstance(e, ReplyPlayed) for e in seen[name]):
                return
            await asyncio.sleep(max(0.0, start + i * BLOCK_MS / 1000 - loop.time()))
            if i == len(blocks) - 1:
                ends[name] = time.perf_counter()
            yield blocks[i] if i < len(blocks) else AudioBlock(np.zeros(1280, np.int16), i * BLOCK_MS)

    sats = []
    for i, pcm in enumerate(inputs):
        name = f"sat{i + 1}"
        seen[name] = []
        sat = Satellite(config, uri, wake=load_wake(config, store), sink=NullSink(), emit=seen[name].append, name=name)
        await sat.connect()
        sats.append(sat.run(paced(name, pcm)))  # type: ignore[arg-type]
    await asyncio.gather(*sats)
    await hub.stop()
    assistant.engines.close()
    for name, events in seen.items():
        played = [e for e in events if isinstance(e, ReplyPlayed)]
        if played and name in ends:
            turns.setdefault(name, {})["input_end_to_first_audio_ms"] = round(
                (played[0].first_audio_wall - ends[name]) * 1000, 1)
    return turns


def main() -> None:
    """Print the three measurements."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared-audio", default=str(Path(__file__).resolve().parents[2] / "shared" / "audio"))
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    shared = Path(args.shared_audio)
    with open(shared / "manifest.tsv", encoding="utf-8", newline="") as f:
        clips = [shared / r["path"] for r in csv.DictReader(f, delimiter="\t") if r["kind"] == "command"]
    asr_ms, tts_ms = asyncio.run(asr_and_tts(clips, args.rounds))
    q = statistics.quantiles
    print(f"ASR via Wyoming, audio-stop -> transcript, {len(asr_ms)} command clips: median {statistics.median(asr_ms):.0f} ms, "
          f"p90 {q(asr_ms, n=10)[-1]:.0f} ms, max {max(asr_ms):.0f} ms")
    print(f"TTS via Wyoming, synthesize -> first audio-chunk, {len(tts_ms)} replies: "
          f"median {statistics.median(tts_ms):.0f} ms, max {max(tts_ms):.0f} ms")
    for name, timings in sorted(asyncio.run(four_satellites(shared)).items()):
        print(f"{name}: {timings}")


if __name__ == "__main__":
    main()
