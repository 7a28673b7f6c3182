"""Wyoming connections with limits: bounded event reading, one error event then close, audio in our format.

The framing is the ``wyoming`` library's own (``async_read_event``); this module
only puts a bounded reader under it, so a peer that declares a huge data or
payload length, sends a broken header or a malformed event is answered with an
``error`` event and disconnected, and nothing it sends can grow memory beyond
the limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np
from wyoming.audio import AudioChunk, AudioChunkConverter
from wyoming.error import Error
from wyoming.event import Event, async_read_event
from wyoming.server import AsyncEventHandler, AsyncServer

from voicebox.core.audio import SAMPLE_RATE, AudioBlock, BlockFramer, Pcm
from voicebox.core.errors import (
    CODE_AUDIO_FORMAT,
    CODE_BAD_EVENT,
    CODE_BUSY,
    CODE_MALFORMED,
    CODE_TIMEOUT,
    CODE_TOO_LARGE,
    CODE_TRUNCATED,
    ConfigError,
    ProtocolError,
    VoiceboxError,
)
from voicebox.core.permissions import private_socket

__all__ = ["AudioReceiver", "GuardedHandler", "Limits", "ProtocolError", "check_uri", "start_server"]

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    """What one connection may send and how fast; connections per server and per client host.

    ``idle_timeout_s``: longest wait for the next event to begin (``None``: no
    limit, for a satellite's connection that is quiet between commands);
    ``event_timeout_s``: once an event has begun, all of it must arrive in this
    time, so a half-sent event cannot hold a connection.
    """

    max_event_bytes: int = 1_048_576
    max_clients: int = 16
    max_per_client: int = 1024
    idle_timeout_s: float | None = None
    event_timeout_s: float = 10.0


class _BoundedReader:
    """Gives ``async_read_event`` the two reads it uses, refusing declared lengths over the limit and slow events."""

    def __init__(self, reader: asyncio.StreamReader, limits: Limits) -> None:
        self._reader = reader
        self._max = limits.max_event_bytes
        self._limits = limits
        self._deadline: float | None = None  # when the event being read must be complete
        self.at_end = False

    def _left_s(self) -> float:
        assert self._deadline is not None
        return max(0.0, self._deadline - asyncio.get_running_loop().time())

    async def readline(self) -> bytes:
        # The stream's own limit (64 KiB) bounds a header line; an overlong one raises ValueError.
        if self._deadline is None:
            try:
                first = await asyncio.wait_for(self._reader.readexactly(1), self._limits.idle_timeout_s)
            except asyncio.IncompleteReadError:
                self.at_end = True
                return b""
            except TimeoutError as err:
                raise ProtocolError(f"nothing received for {self._limits.idle_timeout_s:g} s",
                                    code=CODE_TIMEOUT) from err
            self._deadline = asyncio.get_running_loop().time() + self._limits.event_timeout_s
            if first == b"\n":
                return first
            return first + await self._within(self._reader.readline())
        return await self._within(self._reader.readline())

    async def readexactly(self, n: int) -> bytes:
        if not isinstance(n, int) or n > self._max:
            raise ProtocolError(f"event declares {n!r} bytes, more than the {self._max} allowed", code=CODE_TOO_LARGE)
        return await self._within(self._reader.readexactly(n))

    async def _within(self, read: Awaitable[bytes]) -> bytes:
        try:
            return await asyncio.wait_for(read, self._left_s())
        except TimeoutError as err:
            raise ProtocolError(f"an event took longer than {self._limits.event_timeout_s:g} s to arrive",
                                code=CODE_TIMEOUT) from err


async def read_event(reader: asyncio.StreamReader, max_bytes: int | Limits) -> Event | None:
    """The next event, ``None`` at a clean end of stream; raises :class:`ProtocolError` for anything else.

    ``max_bytes`` is the largest payload allowed, or the whole :class:`Limits` (timeouts included).
    """
    bounded = _BoundedReader(reader, max_bytes if isinstance(max_bytes, Limits) else Limits(max_event_bytes=max_bytes))
    try:
        event = await async_read_event(bounded)  # type: ignore[arg-type]
    except ProtocolError:
        raise
    except asyncio.IncompleteReadError as err:
        raise ProtocolError("the connection closed in the middle of an event", code=CODE_TRUNCATED) from err
    except (ConnectionError, OSError):
        return None
    except Exception as err:  # a malformed header: wrong types, missing "type", bad nesting
        raise ProtocolError(f"malformed event header ({type(err).__name__}: {err})", code=CODE_MALFORMED) from err
    if event is None:
        if bounded.at_end:
            return None
        # The library reads a JSON or length error as end of stream; it is not one.
        raise ProtocolError("malformed event header (not a JSON object line, or over 64 KiB)", code=CODE_MALFORMED)
    if not isinstance(event.type, str) or not isinstance(event.data, dict):
        raise ProtocolError("malformed event: 'type' must be a string and 'data' an object", code=CODE_MALFORMED)
    return event


class GuardedHandler(AsyncEventHandler):
    """An event handler whose read loop enforces :class:`Limits` and turns bad input into one error event.

    Subclasses implement ``handle_event``; a :class:`ProtocolError` or a
    ``KeyError``/``TypeError``/``ValueError`` from reading an event's fields
    closes this connection only. Engine failures (other :class:`VoiceboxError`)
    are reported as an error event and the connection stays open.
    """

    active: set[GuardedHandler]

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, limits: Limits,
                 active: set[GuardedHandler]) -> None:
        super().__init__(reader, writer)
        self.limits = limits
        self.active = active
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "local"
        self.peer_host = str(peer[0]) if isinstance(peer, tuple) else "local"

    async def send_error(self, text: str, code: str) -> None:
        """Send an ``error`` event, ignoring a peer that is already gone."""
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            await self.write_event(Error(text=text, code=code).event())

    async def run(self) -> None:
        """Read and handle events until the peer leaves, misbehaves, or the server stops."""
        self._is_running = True
        refusal = ""
        if len(self.active) >= self.limits.max_clients:
            refusal = f"server busy: {self.limits.max_clients} connections already"
        elif self.peer_host != "local" and sum(h.peer_host == self.peer_host for h in self.active) >= \
                self.limits.max_per_client:
            refusal = f"too many connections from {self.peer_host}: {self.limits.max_per_client} at once allowed"
        if refusal:
            _LOG.warning("wyoming client %s refused: %s", self.peer, refusal)
            await self.send_error(refusal, CODE_BUSY)
            self.writer.close()
            return
        self.active.add(self)
        try:
            while self._is_running:
                try:
                    event = await read_event(self.reader, self.limits)
                    if event is None or not await self.handle_event(event):
                        break
                except (ProtocolError, KeyError, TypeError, ValueError) as err:
                    code = err.code if isinstance(err, ProtocolError) else CODE_BAD_EVENT
                    text = err.message if isinstance(err, ProtocolError) else f"bad event fields: {err!r}"
                    _LOG.warning("wyoming client %s: %s; closing", self.peer, text)
                    await self.send_error(text, code)
                    break
                except VoiceboxError as err:
                    await self.send_error(err.message, err.code)
        except (ConnectionError, OSError):
            pass
        finally:
            self.active.discard(self)
            with contextlib.suppress(Exception):
                await self.disconnect()
            self.writer.close()


def check_uri(uri: str, *, what: str) -> str:
    """Validate a tcp:// or unix:// URI; an error names the value and the form expected."""
    parsed = urlparse(uri)
    if parsed.scheme == "unix" and parsed.path:
        return uri
    if parsed.scheme == "tcp":
        try:
            port = parsed.port
        except ValueError:
            port = None
        if parsed.hostname and port is not None:
            return uri
    raise ConfigError(f"{what} {uri!r} is not a valid address; use tcp://HOST:PORT (e.g. tcp://127.0.0.1:10700) "
                      "or unix:///path/to/socket")


def is_loopback(uri: str) -> bool:
    """Whether a server at ``uri`` is reachable from this machine only."""
    parsed = urlparse(uri)
    if parsed.scheme == "unix":
        return True
    host = parsed.hostname or ""
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


async def start_server(uri: str, factory: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]) -> AsyncServer:
    """Start listening at ``uri`` (tcp:// or unix://) without blocking."""
    server = AsyncServer.from_uri(check_uri(uri, what="listen address"))
    try:
        await server.start(factory)
    except OSError as err:
        raise ConfigError(f"cannot listen on {uri}: {err.strerror or err} (is another server using it?)") from err
    if urlparse(uri).scheme == "unix":
        private_socket(urlparse(uri).path)  # only this user may connect
    return server


class AudioReceiver:
    """Wyoming audio chunks of any rate/width/channels in, internal-format 80 ms blocks out."""

    def __init__(self) -> None:
        self._convert = AudioChunkConverter(rate=SAMPLE_RATE, width=2, channels=1)
        self._framer = BlockFramer()

    @property
    def position_ms(self) -> int:
        """Stream position just after the last whole block handed out."""
        return self._framer.position_ms

    def feed(self, event: Event) -> list[AudioBlock]:
        """Convert one ``audio-chunk`` event; returns the whole blocks it completes."""
        chunk = AudioChunk.from_event(event)
        rate, width, channels = chunk.rate, chunk.width, chunk.channels
        if not (isinstance(rate, int) and 1000 <= rate <= 192_000 and width in (1, 2, 3, 4)
                and isinstance(channels, int) and 1 <= channels <= 8):
            raise ProtocolError(f"unsupported audio format: rate={rate!r} width={width!r} channels={channels!r}; "
                                "send 16-bit PCM at 8-192 kHz, 1-8 channels", code=CODE_AUDIO_FORMAT)
        if len(chunk.audio) % (width * channels):
            raise ProtocolError(f"audio payload of {len(chunk.audio)} bytes is not whole {width * channels}-byte frames",
                                code=CODE_AUDIO_FORMAT)
        pcm = np.frombuffer(self._convert.convert(chunk).audio, "<i2").astype(np.int16)
        return self._framer.feed(pcm)

    def flush(self) -> Pcm:
        """The samples left over after the last whole block, unpadded (and forget them)."""
        return self._framer.take_rest()


def pcm_chunk(pcm: Pcm, timestamp_ms: int | None = None) -> Event:
    """Internal-format audio as an ``audio-chunk`` event."""
    return AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=np.ascontiguousarray(pcm, "<i2").tobytes(),
                      timestamp=timestamp_ms).event()
