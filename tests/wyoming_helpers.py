"""Test helpers for the Wyoming server, hub and satellites: a served instance and the library's client as peer."""

from __future__ import annotations

import contextlib
import re
import socket
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
from wyoming.audio import AudioChunk, AudioStart, AudioStop, wav_to_chunks
from wyoming.client import AsyncClient
from wyoming.event import Event

from voicebox.core.config import Config
from voicebox.remote.server import WyomingService, make_services


def words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    return re.findall(r"[a-z0-9']+", text.lower())


def free_tcp_uri() -> str:
    """A loopback address with a port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


@contextlib.asynccontextmanager
async def served(engines: Any, store: Any, uri: str, config: Config | None = None,
                 events: list[Any] | None = None) -> AsyncIterator[WyomingService]:
    """A running Wyoming server over the session's engines."""
    sink = events if events is not None else []
    service = WyomingService(make_services(config or Config(), engines, store, sink.append))
    await service.start(uri)
    try:
        yield service
    finally:
        await service.stop()


async def read_until(client: AsyncClient, *types: str, limit: int = 10_000) -> list[Event]:
    """Events from ``client`` up to and including the first of ``types`` (bounded)."""
    seen: list[Event] = []
    for _ in range(limit):
        event = await client.read_event()
        assert event is not None, f"connection closed before {types}; got {[e.type for e in seen]}"
        seen.append(event)
        if event.type in types:
            return seen
    raise AssertionError(f"no {types} within {limit} events")


async def send_wav(client: AsyncClient, path: Path, samples_per_chunk: int = 1024) -> None:
    """A WAV file as audio-start, audio-chunks, audio-stop (the library's own splitter)."""
    with wave.open(str(path), "rb") as wav:
        for item in wav_to_chunks(wav, samples_per_chunk, start_event=True, stop_event=True):
            await client.write_event(item.event())


async def send_pcm(client: AsyncClient, pcm: np.ndarray, rate: int = 16000, samples_per_chunk: int = 1024) -> None:
    """int16 mono samples as audio-start, audio-chunks, audio-stop."""
    await client.write_event(AudioStart(rate=rate, width=2, channels=1).event())
    for start in range(0, len(pcm), samples_per_chunk):
        piece = np.ascontiguousarray(pcm[start : start + samples_per_chunk], "<i2").tobytes()
        await client.write_event(AudioChunk(rate=rate, width=2, channels=1, audio=piece).event())
    await client.write_event(AudioStop().event())


def audio_of(events: list[Event]) -> tuple[np.ndarray, int]:
    """Concatenated audio of the audio-chunk events, and its rate."""
    chunks = [AudioChunk.from_event(e) for e in events if AudioChunk.is_type(e.type)]
    assert chunks, "no audio-chunk events"
    pcm = np.frombuffer(b"".join(c.audio for c in chunks), "<i2").astype(np.int16)
    return pcm, chunks[0].rate
