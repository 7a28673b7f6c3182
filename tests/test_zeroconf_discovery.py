"""Zeroconf discovery of satellites: a fake browser feeds service changes, real Wyoming servers answer `describe`.

The browser is the one thing faked (multicast is not needed); the describe
exchange is real TCP against small Wyoming servers, and the dialling is a
recorder of which links run and which were hung up. The last tests use real
multicast DNS where this machine has it (they skip saying what is missing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from mdns import unique_name
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info, Satellite
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming_helpers import free_tcp_uri

from voicebox.remote.discovery import (
    ALREADY_DIALLED,
    DIALLING,
    GONE,
    NO_ANSWER,
    NOT_A_SATELLITE,
    OWN,
    Discovery,
    SatelliteDiscovered,
)
from voicebox.remote.zeroconf import ServiceChange

_WHO = Attribution(name="test", url="https://example.invalid")
SATELLITE = Info(satellite=Satellite(name="den", attribution=_WHO, installed=True, description="a satellite",
                                     version="1"))
ASR = Info(asr=[AsrProgram(name="stt", attribution=_WHO, installed=True, description="speech to text", version="1",
                           models=[AsrModel(name="m", attribution=_WHO, installed=True, description="m", version="1",
                                            languages=["en"])])])


class _Describes(AsyncEventHandler):
    def __init__(self, info: Info, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._info = info

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self._info.event())
        return True


@contextlib.asynccontextmanager
async def wyoming_server(info: Info, uri: str | None = None) -> AsyncIterator[int]:
    """A Wyoming server on 127.0.0.1 that answers `describe` with ``info``; yields its port."""
    uri = uri or free_tcp_uri()
    server = AsyncServer.from_uri(uri)
    await server.start(lambda r, w: _Describes(info, r, w))
    try:
        yield int(uri.rsplit(":", 1)[1])
    finally:
        await server.stop()


def found(name: str, port: int, host: str = "127.0.0.1", server: str = "") -> ServiceChange:
    return ServiceChange(f"{name}._wyoming._tcp.local.", (host,), port, server)


def gone(name: str) -> ServiceChange:
    return ServiceChange(f"{name}._wyoming._tcp.local.")


class Harness:
    """A :class:`Discovery` fed by hand, with every link it runs and every outcome it reports, in order."""

    def __init__(self, listed: tuple[str, ...] = (), own: frozenset[str] = frozenset()) -> None:
        self.changes: asyncio.Queue[ServiceChange | None] = asyncio.Queue()
        self.log: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.discovery = Discovery(self._link, listed=listed, emit=self._emitted, retry_max_s=0.5, own=lambda: own)

    async def _link(self, uri: str) -> None:
        self.log.put_nowait(("dial", uri))
        try:
            await asyncio.Event().wait()  # a link runs until it is hung up
        finally:
            self.log.put_nowait(("hang up", uri))

    def _emitted(self, event: Any) -> None:
        assert isinstance(event, SatelliteDiscovered)
        self.log.put_nowait((event.outcome, event.service.split(".")[0]))

    async def browser(self) -> AsyncIterator[ServiceChange]:
        while (change := await self.changes.get()) is not None:
            yield change

    async def next(self, *, skip: tuple[str, ...] = (NO_ANSWER,)) -> tuple[str, str]:
        while (entry := await asyncio.wait_for(self.log.get(), 30))[0] in skip:
            pass
        return entry


@pytest.fixture()
def loop_run() -> Iterator[Any]:
    def run(scenario: Any) -> None:
        asyncio.run(asyncio.wait_for(scenario, 60))

    yield run


def test_a_satellite_is_dialled_and_hung_up_when_its_service_goes_away(loop_run: Any) -> None:
    async def scenario() -> None:
        h = Harness()
        async with wyoming_server(SATELLITE) as port:
            running = asyncio.create_task(h.discovery.run(h.browser()))
            h.changes.put_nowait(found("den", port))
            assert await h.next() == (DIALLING, "den")
            assert await h.next() == ("dial", f"tcp://127.0.0.1:{port}")
            h.changes.put_nowait(gone("den"))
            assert await h.next() == ("hang up", f"tcp://127.0.0.1:{port}")
            assert await h.next() == (GONE, "den")
            h.changes.put_nowait(None)
            await running
        assert h.log.empty()

    loop_run(scenario())


def test_speech_services_and_our_own_announcement_are_not_dialled(loop_run: Any) -> None:
    async def scenario() -> None:
        h = Harness(own=frozenset({"voicebox-here._wyoming._tcp.local."}))
        async with wyoming_server(ASR) as asr, wyoming_server(SATELLITE) as mine, wyoming_server(SATELLITE) as den:
            running = asyncio.create_task(h.discovery.run(h.browser()))
            h.changes.put_nowait(found("stt", asr))
            assert await h.next() == (NOT_A_SATELLITE, "stt")
            h.changes.put_nowait(found("voicebox-here", mine))
            assert await h.next() == (OWN, "voicebox-here")
            h.changes.put_nowait(found("den", den))  # a satellite after them still is: nothing was stuck
            assert await h.next() == (DIALLING, "den")
            assert await h.next() == ("dial", f"tcp://127.0.0.1:{den}")
            h.changes.put_nowait(None)
            await running
        assert await h.next() == ("hang up", f"tcp://127.0.0.1:{den}")  # discovery's end ends its links

    loop_run(scenario())


def test_no_host_and_port_is_dialled_twice(loop_run: Any) -> None:
    async def scenario() -> None:
        async with wyoming_server(SATELLITE) as listed, wyoming_server(SATELLITE) as den:
            h = Harness(listed=(f"tcp://localhost:{listed}",))
            running = asyncio.create_task(h.discovery.run(h.browser()))
            # The listed satellite, found by its address (the list names it by host name): it keeps its one link.
            h.changes.put_nowait(found("listed", listed))
            assert await h.next() == (ALREADY_DIALLED, "listed")
            h.changes.put_nowait(found("den", den, server="den.local."))
            assert await h.next() == (DIALLING, "den")
            assert await h.next() == ("dial", f"tcp://127.0.0.1:{den}")
            h.changes.put_nowait(found("den-renamed", den))  # the same satellite under a second name
            assert await h.next() == (ALREADY_DIALLED, "den-renamed")
            h.changes.put_nowait(found("den", den, server="den.local."))  # announced again, unchanged
            h.changes.put_nowait(gone("nobody"))  # never seen: nothing to do
            h.changes.put_nowait(gone("den"))
            assert await h.next() == ("hang up", f"tcp://127.0.0.1:{den}")
            assert await h.next() == (GONE, "den")
            h.changes.put_nowait(None)
            await running
        assert h.log.empty()

    loop_run(scenario())


def test_a_satellite_announced_before_it_listens_is_dialled_once_it_does(loop_run: Any) -> None:
    async def scenario() -> None:
        h = Harness()
        uri = free_tcp_uri()
        port = int(uri.rsplit(":", 1)[1])
        running = asyncio.create_task(h.discovery.run(h.browser()))
        h.changes.put_nowait(found("early", port))  # wyoming-satellite registers before its server listens
        assert await h.next(skip=()) == (NO_ANSWER, "early")
        async with wyoming_server(SATELLITE, uri):
            assert await h.next() == (DIALLING, "early")
            assert await h.next() == ("dial", uri)
            h.changes.put_nowait(None)
            await running
        assert await h.next() == ("hang up", uri)

    loop_run(scenario())


def test_an_announcement_is_found_by_the_browser_and_its_removal_too(mdns: None, loop_run: Any) -> None:
    """voicebox's own announce and browse over real multicast DNS: the name, port and address come through."""
    from voicebox.remote.zeroconf import announce, browse

    name = unique_name("vbtest")

    async def scenario() -> None:
        async with contextlib.aclosing(browse()) as changes:
            announcement = await announce("tcp://0.0.0.0:10799", name)
            assert announcement.name == f"{name}._wyoming._tcp.local."
            async for change in changes:
                if change.name == announcement.name and not change.removed:
                    assert change.port == 10799 and change.addresses, change
                    break
            await announcement.close()
            async for change in changes:
                if change.name == announcement.name and change.removed:
                    break

    loop_run(scenario())
