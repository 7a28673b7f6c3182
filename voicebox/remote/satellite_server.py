"""``voicebox satellite --uri tcp://0.0.0.0:10700``: the satellite as a Wyoming server, as Home Assistant expects.

Home Assistant (or a voicebox hub with ``[hub] satellites``) connects, asks
``describe`` (answered with ``info.satellite``), and sends ``run-satellite``;
from then on each wake word heard here starts a ``run-pipeline`` on that
connection, and the hub's replies, audio and timer events come back on it.
``pause-satellite`` or a closed connection stops streaming until a hub
connects again; a newer connection takes over from an older one. It
announces itself with zeroconf as wyoming-satellite does, so Home Assistant
(or a hub with ``[hub] zeroconf = true``) finds it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from wyoming.event import Event
from wyoming.info import Info
from wyoming.ping import Ping, Pong

from voicebox.core.audio import AudioBlock
from voicebox.remote.connection import GuardedHandler, Limits, start_server
from voicebox.remote.satellite import Satellite

__all__ = ["serve_satellite"]

_LOG = logging.getLogger(__name__)


class _HubConnection(GuardedHandler):
    """One hub connected to this satellite."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: _SatelliteServer) -> None:
        super().__init__(reader, writer, limits=server.limits, active=server.active)
        self.server = server

    async def handle_event(self, event: Event) -> bool:
        """``describe``, ``ping``, ``run-satellite`` and ``pause-satellite`` here; the rest goes to the satellite."""
        satellite = self.server.satellite
        if event.type == "describe":
            await self.write_event(Info(satellite=satellite.about()).event())
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        elif event.type == "run-satellite":
            self.server.current = self
            satellite.attach(self.write_event)
            _LOG.info("serving the hub at %s", self.peer)
        elif event.type == "pause-satellite":
            if self.server.current is self:
                await self.server.release()
        elif self.server.current is self:
            await satellite.on_event(event)
        return True

    async def disconnect(self) -> None:
        """A hub that leaves is no longer served."""
        if self.server.current is self:
            _LOG.info("the hub at %s left", self.peer)
            await self.server.release()


class _SatelliteServer:
    def __init__(self, satellite: Satellite, limits: Limits) -> None:
        self.satellite = satellite
        self.limits = limits
        self.active: set[GuardedHandler] = set()
        self.current: _HubConnection | None = None

    async def release(self) -> None:
        self.current = None
        await self.satellite.detach()


async def serve_satellite(satellite: Satellite, uri: str, blocks: AsyncIterator[AudioBlock], *,
                          limits: Limits | None = None, zeroconf_name: str | None = None,
                          zeroconf_host: str = "") -> None:
    """Listen for hubs at ``uri`` and serve the microphone's wake words to the one attached, until ``blocks`` ends.

    With ``zeroconf_name`` (empty = this machine's MAC address, as
    wyoming-satellite names itself) a tcp:// server is announced as
    ``NAME._wyoming._tcp.local.`` once it listens, at ``zeroconf_host`` (empty =
    the address mDNS goes out of), and withdrawn when it stops.
    """
    state = _SatelliteServer(satellite, limits or Limits(max_clients=4))
    server = await start_server(uri, lambda r, w: _HubConnection(r, w, state))
    _LOG.info("satellite %r listening for a hub on %s", satellite.name, uri)
    announcement = None
    try:
        if zeroconf_name is not None and uri.startswith("tcp://"):
            from voicebox.remote.zeroconf import announce, mac_name

            try:
                announcement = await announce(uri, zeroconf_name or mac_name(), host=zeroconf_host)
                _LOG.info("announced as %s with zeroconf", announcement.name)
            except OSError as err:  # no multicast route here: a hub can still be told the address
                _LOG.warning("not announced with zeroconf (%s); hubs must be given %s", err, uri)
        await satellite.listen(blocks)
    finally:
        if announcement is not None:
            await announcement.close()
        await server.stop()
