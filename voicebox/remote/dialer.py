"""The hub dials satellites, as Home Assistant does: ``[hub] satellites = ["tcp://HOST:PORT", ...]``, ``zeroconf``.

Each listed address is a Wyoming satellite server (wyoming-satellite, or
``voicebox satellite --uri``). The hub connects, asks ``describe``, sends
``run-satellite``, and serves the satellite's ``run-pipeline`` requests with a
:class:`~voicebox.remote.session.SatelliteSession`: the turn, the reply audio,
and timer events. A satellite that goes away is dialled again, waiting longer
after each failure (up to ``[satellite] reconnect_max_s``). With ``[hub]
zeroconf = true`` the satellites announced on the network are dialled too
(:mod:`voicebox.remote.discovery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from urllib.parse import urlparse

from wyoming.event import Event, async_write_event
from wyoming.info import Describe, Info
from wyoming.satellite import RunSatellite

from voicebox.audio_io.supervise import Backoff
from voicebox.core.errors import ConfigError, ProtocolError
from voicebox.core.events import EventSink
from voicebox.daemon.assistant import Assistant, load_vad, model_store
from voicebox.hear.capture import SpeechDetector
from voicebox.remote.connection import check_uri, read_event
from voicebox.remote.session import SatelliteSession

__all__ = ["SatelliteLink", "with_satellites"]

_LOG = logging.getLogger(__name__)
T = TypeVar("T")
_DESCRIBE_TIMEOUT_S = 10.0
_CONNECT_TIMEOUT_S = 10.0


async def _open(uri: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parsed = urlparse(uri)
    if parsed.scheme == "unix":
        return await asyncio.open_unix_connection(parsed.path)
    return await asyncio.open_connection(parsed.hostname, parsed.port)


class SatelliteLink:
    """The hub's connection to one satellite at ``uri``, redialled until cancelled."""

    def __init__(self, assistant: Assistant, uri: str, *, make_vad: Callable[[], SpeechDetector] | None = None,
                 emit: EventSink | None = None, max_event_bytes: int = 1_048_576) -> None:
        self.assistant = assistant
        self.uri = check_uri(uri, what="[hub] satellites entry")
        self.name = uri
        self.connected = asyncio.Event()
        self._make_vad = make_vad or (lambda: load_vad(model_store(assistant.config)))
        self._emit = emit or assistant.emit
        self._max_event_bytes = max_event_bytes

    async def run(self) -> None:
        """Dial, serve, and dial again after a loss, with backoff; ends only when cancelled."""
        backoff = Backoff(first_s=0.5, max_s=self.assistant.config.satellite.reconnect_max_s)
        while True:
            try:
                await self._serve_once(backoff)
            except (OSError, TimeoutError, ProtocolError) as err:
                _LOG.warning("satellite %s: %s", self.uri, getattr(err, "message", None) or err)
            except (KeyError, TypeError, ValueError) as err:  # an event with fields of the wrong kind
                _LOG.warning("satellite %s sent a bad event (%r); dialling again", self.uri, err)
            self.connected.clear()
            delay = backoff.next_delay_s()
            _LOG.info("satellite %s: dialling again in %.1f s", self.uri, delay)
            await asyncio.sleep(delay)

    async def _serve_once(self, backoff: Backoff) -> None:
        reader, writer = await asyncio.wait_for(_open(self.uri), _CONNECT_TIMEOUT_S)
        session: SatelliteSession | None = None

        async def write(event: Event) -> None:
            await async_write_event(event, writer)

        try:
            await write(Describe().event())
            info = await asyncio.wait_for(self._read_info(reader), _DESCRIBE_TIMEOUT_S)
            if info.satellite is not None and info.satellite.name:
                self.name = f"{info.satellite.name} ({self.uri})"
            session = SatelliteSession(self.assistant, self.uri, write, make_vad=self._make_vad, emit=self._emit)
            await session.open()
            await write(RunSatellite().event())
            backoff.reset()
            self.connected.set()
            _LOG.info("satellite %s connected", self.name)
            while (event := await read_event(reader, self._max_event_bytes)) is not None:
                await session.feed(event)
            _LOG.warning("satellite %s closed the connection", self.name)
        finally:
            if session is not None:
                await session.close()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_info(self, reader: asyncio.StreamReader) -> Info:
        while (event := await read_event(reader, self._max_event_bytes)) is not None:
            if Info.is_type(event.type):
                return Info.from_event(event)
        raise ProtocolError(f"{self.uri} closed the connection before answering `describe`")


async def with_satellites(assistant: Assistant, uris: Sequence[str], main: Awaitable[T], *,
                          links: list[SatelliteLink] | None = None, discover: bool = False) -> T:
    """Run ``main`` (the daemon) while dialling each satellite in ``uris`` and, with ``discover``, each one zeroconf
    finds; ``links`` holds the links up now."""
    max_event_bytes = assistant.config.wyoming.max_event_bytes
    try:
        made = [SatelliteLink(assistant, uri, max_event_bytes=max_event_bytes) for uri in uris]
    except BaseException:
        if inspect.iscoroutine(main):
            main.close()  # never started: close it so it is not reported as never awaited
        raise
    held = links if links is not None else []
    held.extend(made)
    tasks = [asyncio.create_task(link.run(), name=f"satellite link {link.uri}") for link in made]
    if discover:
        tasks.append(asyncio.create_task(_discover(assistant, uris, held), name="zeroconf discovery"))
    try:
        return await main
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _discover(assistant: Assistant, listed: Sequence[str], held: list[SatelliteLink]) -> None:
    """``[hub] zeroconf``: dial the satellites announced on the network, each with a link of its own."""
    from voicebox.remote.discovery import Discovery
    from voicebox.remote.zeroconf import browse

    max_event_bytes = assistant.config.wyoming.max_event_bytes

    async def run_link(uri: str) -> None:
        link = SatelliteLink(assistant, uri, max_event_bytes=max_event_bytes)
        held.append(link)
        try:
            await link.run()
        finally:
            held.remove(link)

    discovery = Discovery(run_link, listed=listed, emit=assistant.emit, max_event_bytes=max_event_bytes,
                          retry_max_s=assistant.config.satellite.reconnect_max_s)
    _LOG.info("looking for Wyoming satellites with zeroconf")
    try:
        async with contextlib.aclosing(browse()) as changes:
            await discovery.run(changes)
    except (OSError, ConfigError) as err:  # no network to browse: the listed satellites still work
        _LOG.error("zeroconf discovery stopped: %s", getattr(err, "message", None) or err)
