"""``[hub] zeroconf = true``: the hub finds Wyoming satellites announced on the network and dials them.

As Home Assistant does: each ``_wyoming._tcp.local.`` service found is asked
``describe``; one whose ``info`` has a ``satellite`` is dialled like a listed
``[hub] satellites`` entry (same link, same reconnection), and hung up when
the service goes away. Speech, wake-word and other services are left alone,
as are this process's own announcements, and no host:port is dialled twice:
a listed satellite found again, or one satellite announced under two names,
keeps its one link. The browser is any async stream of
:class:`~voicebox.remote.zeroconf.ServiceChange` (zeroconf's, or a test's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlparse

from wyoming.event import async_write_event
from wyoming.info import Describe, Info

from voicebox.audio_io.supervise import Backoff
from voicebox.core.errors import ProtocolError
from voicebox.core.events import Event, EventSink
from voicebox.remote.connection import read_event
from voicebox.remote.zeroconf import ServiceChange, announced

__all__ = ["Discovery", "SatelliteDiscovered", "describe"]

_LOG = logging.getLogger(__name__)
_DESCRIBE_TIMEOUT_S = 10.0
Endpoint = tuple[str, int]

DIALLING = "dialling"
NOT_A_SATELLITE = "not a satellite"
ALREADY_DIALLED = "already dialled"
OWN = "this process"
GONE = "gone"
NO_ANSWER = "not answering yet"


@dataclass(frozen=True, slots=True, kw_only=True)
class SatelliteDiscovered(Event):
    """A Wyoming service announced with zeroconf, and what the hub did: ``outcome`` is one of the constants above."""

    name: ClassVar[str] = "satellite_discovered"
    service: str
    uri: str
    outcome: str


async def describe(uri: str, *, max_event_bytes: int = 1_048_576, timeout_s: float = _DESCRIBE_TIMEOUT_S) -> Info:
    """Ask the Wyoming server at tcp:// ``uri`` what it is."""
    parsed = urlparse(uri)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(parsed.hostname, parsed.port), timeout_s)
    try:
        await async_write_event(Describe().event(), writer)
        async with asyncio.timeout(timeout_s):
            while (event := await read_event(reader, max_event_bytes)) is not None:
                if Info.is_type(event.type):
                    return Info.from_event(event)
        raise ProtocolError(f"{uri} closed the connection before answering `describe`")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def _uri(change: ServiceChange) -> str:
    host = change.addresses[0]
    return f"tcp://[{host}]:{change.port}" if ":" in host else f"tcp://{host}:{change.port}"


def _found_endpoints(change: ServiceChange) -> frozenset[Endpoint]:
    names = [*change.addresses, change.server.rstrip(".").lower()] if change.server else list(change.addresses)
    return frozenset((name, change.port) for name in names)


async def _listed_endpoints(uri: str) -> frozenset[Endpoint]:
    """The addresses a listed ``tcp://HOST:PORT`` reaches: its host name as written and what it resolves to."""
    parsed = urlparse(uri)
    if parsed.scheme != "tcp" or not parsed.hostname or parsed.port is None:
        return frozenset()
    host = parsed.hostname.rstrip(".").lower()
    found = {(host, parsed.port)}
    with contextlib.suppress(OSError):  # unresolvable now: the name as written still counts
        for *_, address in await asyncio.get_running_loop().getaddrinfo(host, parsed.port, type=socket.SOCK_STREAM):
            found.add((str(address[0]), parsed.port))
    return frozenset(found)


class Discovery:
    """Turns zeroconf's service changes into satellite links: ``run_link(uri)`` runs one until cancelled."""

    def __init__(self, run_link: Callable[[str], Awaitable[None]], *, listed: Sequence[str] = (),
                 emit: EventSink | None = None, max_event_bytes: int = 1_048_576, retry_max_s: float = 30.0,
                 own: Callable[[], Iterable[str]] = announced) -> None:
        self._run_link = run_link
        self._listed = list(listed)
        self._emit = emit or (lambda event: None)
        self._max_event_bytes = max_event_bytes
        self._retry_max_s = retry_max_s
        self._own = own
        self._taken: list[frozenset[Endpoint]] = []  # the listed satellites' endpoints
        self._found: dict[str, tuple[frozenset[Endpoint], asyncio.Task[None]]] = {}

    async def run(self, changes: AsyncIterator[ServiceChange]) -> None:
        """Follow ``changes`` until it ends (or this is cancelled); every link made here ends with it."""
        self._taken = [await _listed_endpoints(uri) for uri in self._listed]
        try:
            async for change in changes:
                await self._apply(change)
        finally:
            for name in list(self._found):
                await self._drop(name)

    async def _apply(self, change: ServiceChange) -> None:
        if change.removed:
            if change.name in self._found:
                await self._drop(change.name)
                self._tell(change.name, "", GONE)
            return
        if change.name in self._own():
            self._tell(change.name, _uri(change), OWN)
            return
        endpoints = _found_endpoints(change)
        if change.name in self._found:
            if self._found[change.name][0] == endpoints:
                return  # re-announced where it was: the link stands
            await self._drop(change.name)  # moved: dial the new address instead
        uri = _uri(change)
        taken = [*self._taken, *(known for known, _ in self._found.values())]
        if any(endpoints & known for known in taken):
            self._tell(change.name, uri, ALREADY_DIALLED)
            return
        task = asyncio.create_task(self._follow(change.name, uri), name=f"discovered satellite {change.name}")
        self._found[change.name] = (endpoints, task)

    async def _follow(self, service: str, uri: str) -> None:
        """Describe until it answers (it may announce before it listens), then dial it if it is a satellite."""
        backoff = Backoff(first_s=0.5, max_s=self._retry_max_s)
        while True:
            try:
                info = await describe(uri, max_event_bytes=self._max_event_bytes)
                break
            except (OSError, TimeoutError, ProtocolError, KeyError, TypeError, ValueError) as err:
                delay = backoff.next_delay_s()
                self._tell(service, uri, NO_ANSWER)
                _LOG.debug("zeroconf: %s at %s does not answer `describe` (%s); again in %.1f s", service, uri,
                          getattr(err, "message", None) or err or type(err).__name__, delay)
                await asyncio.sleep(delay)
        if info.satellite is None:
            self._tell(service, uri, NOT_A_SATELLITE)
            return
        self._tell(service, uri, DIALLING)
        try:
            await self._run_link(uri)
        except Exception:  # one satellite's failure must not end discovery; the link logs its own
            _LOG.exception("zeroconf: the link to %s at %s failed", service, uri)

    async def _drop(self, name: str) -> None:
        _, task = self._found.pop(name)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _tell(self, service: str, uri: str, outcome: str) -> None:
        _LOG.info("zeroconf: %s %s: %s", service, uri, outcome)
        self._emit(SatelliteDiscovered(service=service, uri=uri, outcome=outcome))
