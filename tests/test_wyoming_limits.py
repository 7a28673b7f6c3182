"""The Wyoming server under careless or hostile clients: idle and half-sent connections, one host hogging it,
many parallel wake-word streams, synthesis of text without spaces, requests that must all be answered."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import psutil
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.info import Describe
from wyoming.tts import Synthesize
from wyoming.wake import Detect
from wyoming_helpers import free_tcp_uri, read_until, served

from voicebox.core.config import Config

pytestmark = pytest.mark.slow


def _raw_connection(uri: str) -> socket.socket:
    parsed = urlparse(uri)
    return socket.create_connection((parsed.hostname, parsed.port), timeout=60)


def _error_then_close(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while data := sock.recv(65536):
        received += data
    return received


def test_idle_and_half_sent_connections_are_closed_and_others_served(engines: Any, model_store: Any) -> None:
    config = Config().replace("wyoming", max_clients=4, idle_timeout_s=1.0, event_timeout_s=0.5)
    uri = free_tcp_uri()

    async def scenario() -> tuple[list[bytes], list[Any]]:
        async with served(engines, model_store, uri, config):
            loop = asyncio.get_running_loop()
            idle = [await asyncio.to_thread(_raw_connection, uri) for _ in range(2)]
            half = [await asyncio.to_thread(_raw_connection, uri) for _ in range(2)]
            for sock in half:  # a header that never ends, and one that promises data it never sends
                sock.sendall(b'{"type": "describe", "da')
            half[1].sendall(b'ta": {}, "data_length": 100}\n{"x"')
            closed = await asyncio.gather(*(loop.run_in_executor(None, _error_then_close, s) for s in idle + half))
            for sock in idle + half:
                sock.close()
            async with AsyncClient.from_uri(uri) as client:  # every slot was freed: a new client is served
                await client.write_event(Describe().event())
                return closed, await read_until(client, "info")

    closed, answer = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert all(b'"code": "timeout"' in c or b'"timeout"' in c for c in closed), closed
    assert answer[-1].type == "info"


def test_one_host_cannot_take_every_connection(engines: Any, model_store: Any, tmp_path: Path) -> None:
    config = Config().replace("wyoming", max_clients=16, max_per_client=3)
    uri = free_tcp_uri()

    async def scenario() -> tuple[bytes, Any]:
        async with served(engines, model_store, uri, config):
            held = [await asyncio.to_thread(_raw_connection, uri) for _ in range(3)]
            extra = await asyncio.to_thread(_raw_connection, uri)
            refused = await asyncio.to_thread(_error_then_close, extra)
            for sock in [*held, extra]:
                sock.close()
            return refused, None

    refused, _ = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert b'"busy"' in refused and b"too many connections from 127.0.0.1" in refused


def test_parallel_wake_streams_share_the_models(engines: Any, model_store: Any, shared_audio: Path) -> None:
    """16 clients detecting at once load no model of their own: memory grows by their buffers only."""
    from voicebox.core.audio import read_wav

    uri = free_tcp_uri()
    config = Config().replace("wyoming", max_per_client=16)
    pcm = np.concatenate([np.zeros(8000, np.int16), read_wav(shared_audio / "wyoming-openwakeword/hey_jarvis.wav")])
    process = psutil.Process()

    async def one(client: AsyncClient) -> str:
        await client.write_event(Detect(names=["hey_jarvis"]).event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        for start in range(0, len(pcm), 1280):
            piece = np.ascontiguousarray(pcm[start : start + 1280], "<i2").tobytes()
            await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=piece).event())
        await client.write_event(AudioStop().event())
        return (await read_until(client, "detection", "not-detected"))[-1].type

    async def scenario() -> tuple[list[str], float]:
        async with served(engines, model_store, uri, config):
            clients = [AsyncClient.from_uri(uri) for _ in range(16)]
            for client in clients:
                await client.connect()
            before = process.memory_info().rss
            results = await asyncio.gather(*(one(c) for c in clients))
            grown_mb = (process.memory_info().rss - before) / 2**20
            for client in clients:
                await client.disconnect()
            return results, grown_mb

    results, grown_mb = asyncio.run(asyncio.wait_for(scenario(), 300))
    print(f"16 parallel wake-word streams: {grown_mb:.0f} MB more")
    assert results == ["detection"] * 16
    # A detector of its own per stream (the models loaded again) was 35-80 MB each: 16 of them over 500 MB.
    assert grown_mb < 200, f"{grown_mb:.0f} MB more for 16 wake-word streams"


def test_a_very_long_word_is_spoken_in_parts_and_blank_text_is_answered(engines: Any, model_store: Any) -> None:
    uri = free_tcp_uri()
    process = psutil.Process()

    async def speak(client: AsyncClient, text: str) -> list[Any]:
        await client.write_event(Synthesize(text=text).event())
        return await read_until(client, "audio-stop", limit=100_000)

    async def scenario() -> tuple[list[Any], list[Any], list[Any], float]:
        async with served(engines, model_store, uri), AsyncClient.from_uri(uri) as client:
            # A usual reply first (two sentences), so that what follows is measured against the voice's usual needs.
            await speak(client, "The quick brown fox jumps over the lazy dog. Then it sleeps under a big old tree.")
            before = process.memory_info().rss
            peak = [before]
            done = threading.Event()

            def sample() -> None:  # the peak while it speaks, not only what is left afterwards
                while not done.wait(0.02):
                    peak[0] = max(peak[0], process.memory_info().rss)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            long_word = await speak(client, "supercalifragilistic" * 40)  # 800 characters, no space
            done.set()
            sampler.join()
            grown_mb = (peak[0] - before) / 2**20
            return long_word, await speak(client, ""), await speak(client, " \n\t "), grown_mb

    long_word, empty, blank, grown_mb = asyncio.run(asyncio.wait_for(scenario(), 300))
    print(f"an 800-character word: {grown_mb:.0f} MB more")
    assert sum(e.type == "audio-chunk" for e in long_word) > 10
    assert [e.type for e in empty] == ["audio-start", "audio-stop"]
    assert [e.type for e in blank] == ["audio-start", "audio-stop"]
    # A minute of speech: said in one call of the voice, a fifth of it (11 s) already peaked 355 MB higher.
    assert grown_mb < 200, f"{grown_mb:.0f} MB more to say one long word"
