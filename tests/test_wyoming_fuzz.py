"""Fuzzing the Wyoming server: broken headers, wrong lengths, unknown types, huge sizes; it stays up and bounded."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wyoming.client import AsyncClient
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming_helpers import free_tcp_uri

from voicebox.core.config import Config
from voicebox.remote.server import WyomingService, make_services

pytestmark = pytest.mark.slow
MAX_EVENT_BYTES = 65_536
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def server(engines: Any, model_store: Any) -> Iterator[tuple[str, WyomingService]]:
    """A server on its own thread and loop, as a separate process would be, with a small event limit."""
    config = Config().replace("wyoming", max_event_bytes=MAX_EVENT_BYTES, max_clients=8)
    service = WyomingService(make_services(config, engines, model_store, lambda e: None))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzzed server", daemon=True)
    thread.start()
    uri = free_tcp_uri()
    asyncio.run_coroutine_threadsafe(service.start(uri), loop).result(10)
    yield uri, service
    asyncio.run_coroutine_threadsafe(service.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def describe_bytes() -> bytes:
    return b'{"type": "describe", "data": {}}\n'


def exchange(uri: str, payload: bytes, *, close_write: bool = False, timeout_s: float = 5.0) -> tuple[list[Any], bool]:
    """Send raw bytes; return the JSON headers received and whether the server closed the connection."""
    parsed = urlparse(uri)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout_s) as sock:
        try:
            sock.sendall(payload)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            return [], True  # the server closed while we were still sending
        received = b""
        closed = False
        while len(received) < 1_000_000:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            except OSError:
                closed = True
                break
            if not data:
                closed = True
                break
            received += data
            if b'"type": "info"' in received and not close_write:
                break
    headers = []
    for line in received.split(b"\n"):
        try:
            headers.append(json.loads(line))
        except ValueError:
            continue
    return [h for h in headers if isinstance(h, dict) and "type" in h], closed


def still_serving(uri: str) -> bool:
    """A fresh connection through the library's own client gets ``info``."""
    async def ask() -> bool:
        async with AsyncClient.from_uri(uri, connect_timeout=5, read_timeout=10) as client:
            await client.write_event(Describe().event())
            event = await client.read_event()
            return event is not None and Info.is_type(event.type)

    return asyncio.run(ask())


@FUZZ
@given(junk=st.binary(min_size=1, max_size=400).filter(lambda b: b.strip() and not b.lstrip().startswith(b"{")))
def test_garbage_header_gets_an_error_and_only_that_connection_closes(server: tuple[str, Any], junk: bytes) -> None:
    uri, _ = server
    line = junk.replace(b"\n", b" ") + b"\n"
    headers, closed = exchange(uri, line + describe_bytes())
    assert [h["type"] for h in headers] == ["error"] and closed
    assert still_serving(uri)


_LENGTH = st.one_of(st.integers(-5, 2**48), st.floats(allow_nan=False), st.text(max_size=5), st.none(), st.booleans())


@FUZZ
@given(kind=st.one_of(st.text(max_size=20), st.integers(), st.none(), st.lists(st.integers(), max_size=2)),
       data_length=_LENGTH, payload_length=_LENGTH, body=st.binary(max_size=2000))
def test_wrong_lengths_and_types_never_hang_or_crash(server: tuple[str, Any], kind: Any, data_length: Any,
                                                     payload_length: Any, body: bytes) -> None:
    uri, _ = server
    header = json.dumps({"type": kind, "data_length": data_length, "payload_length": payload_length}).encode()
    headers, closed = exchange(uri, header + b"\n" + body, close_write=True)
    assert closed  # the peer's end of stream ends the connection, valid or not: no hang
    assert all(h["type"] in ("error", "info", "pong") for h in headers)
    assert still_serving(uri)


@FUZZ
@given(kind=st.text(min_size=1, max_size=40).filter(
    lambda t: t not in {"describe", "ping", "transcribe", "detect", "audio-start", "audio-chunk", "audio-stop",
                        "synthesize", "synthesize-start", "synthesize-chunk", "synthesize-stop", "recognize",
                        "transcript"}),
       data=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4))
def test_unknown_event_types_are_ignored_and_the_connection_keeps_working(server: tuple[str, Any], kind: str,
                                                                          data: dict[str, Any]) -> None:
    uri, _ = server

    async def talk() -> str:
        async with AsyncClient.from_uri(uri, connect_timeout=5, read_timeout=10) as client:
            await client.write_event(Event(type=kind, data=data))
            await client.write_event(Describe().event())
            event = await client.read_event()
            return event.type if event is not None else "closed"

    assert asyncio.run(talk()) == "info"


@FUZZ
@given(size=st.integers(MAX_EVENT_BYTES + 1, 2**50), field=st.sampled_from(["data_length", "payload_length"]))
def test_huge_declared_sizes_are_refused_before_reading(server: tuple[str, Any], size: int, field: str) -> None:
    uri, _ = server
    header = json.dumps({"type": "audio-chunk", field: size}).encode() + b"\n"
    headers, closed = exchange(uri, header + b"\0" * 4096)
    assert [(h["type"]) for h in headers] == ["error"] and closed
    assert still_serving(uri)


def test_a_flood_after_a_huge_header_does_not_grow_memory_and_others_keep_working(server: tuple[str, Any]) -> None:
    uri, _ = server
    parsed = urlparse(uri)
    process = psutil.Process()
    before = process.memory_info().rss

    async def witness_then_flood() -> str:
        async with AsyncClient.from_uri(uri, connect_timeout=5, read_timeout=30) as witness:
            flooders = []
            for _ in range(4):
                sock = socket.create_connection((parsed.hostname, parsed.port), timeout=5)
                sock.sendall(b'{"type": "audio-chunk", "payload_length": 50000000000}\n')
                flooders.append(sock)
            junk = b"\x7f" * 1_000_000
            for sock in flooders:
                try:
                    for _ in range(50):  # up to 50 MB each, refused after the header
                        sock.sendall(junk)
                except OSError:
                    pass
                finally:
                    sock.close()
            await witness.write_event(Describe().event())
            event = await witness.read_event()
            return event.type if event is not None else "closed"

    assert asyncio.run(witness_then_flood()) == "info"
    grown_mb = (process.memory_info().rss - before) / 2**20
    assert grown_mb < 64, f"memory grew by {grown_mb:.0f} MB while 4 peers sent up to 200 MB"


def test_an_over_long_header_line_closes_only_that_connection(server: tuple[str, Any]) -> None:
    uri, _ = server
    headers, closed = exchange(uri, b'{"type": "' + b"a" * 200_000 + b'"}\n' + describe_bytes())
    assert [h["type"] for h in headers] == ["error"] and closed
    assert still_serving(uri)
