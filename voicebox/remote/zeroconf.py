"""Zeroconf (mDNS) for Wyoming: announce a server as ``_wyoming._tcp.local.``, and browse for the ones announced.

The only module that imports the ``zeroconf`` package. Announcements match
wyoming-satellite 1.0.0 (and the ``wyoming`` library's ``register_server``)
exactly, so Home Assistant discovers ours the same way: service type
``_wyoming._tcp.local.``, instance ``NAME._wyoming._tcp.local.``, one IPv4
address, the port, no properties.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from voicebox.core.errors import ConfigError

__all__ = ["WYOMING_TYPE", "Announcement", "ServiceChange", "announce", "announced", "browse", "mac_name"]

WYOMING_TYPE = "_wyoming._tcp.local."
_MDNS_GROUP = "224.0.0.251"
_RESOLVE_TIMEOUT_MS = 3000
_announced: set[str] = set()  # service names this process announces: a hub never dials itself


@dataclass(frozen=True, slots=True)
class ServiceChange:
    """A Wyoming service appeared or changed (``port`` > 0), or went away (``port`` == 0, no addresses)."""

    name: str
    addresses: tuple[str, ...] = ()
    port: int = 0
    server: str = ""

    @property
    def removed(self) -> bool:
        """Whether the service went away."""
        return self.port == 0


class Announcement:
    """A registered service; :meth:`close` withdraws it."""

    def __init__(self, zc: Any, info: Any) -> None:
        self._zc = zc
        self._info = info
        self.name: str = info.name

    async def close(self) -> None:
        """Say goodbye on the network and stop answering for the name."""
        _announced.discard(self.name)
        try:
            broadcast = await self._zc.async_unregister_service(self._info)
            await broadcast  # the goodbye itself: closing before it is sent would leave browsers waiting for a TTL
        finally:
            await self._zc.async_close()


def _import() -> Any:
    try:
        import zeroconf.asyncio as zc_asyncio
    except ImportError as err:
        raise ConfigError("zeroconf needs the zeroconf package: pip install zeroconf") from err
    return zc_asyncio


def mac_name() -> str:
    """wyoming-satellite's default name: this machine's MAC address as 12 hex digits."""
    return "".join(f"{(uuid.getnode() >> shift) & 0xFF:02x}" for shift in range(40, -8, -8))


def _outgoing_address() -> str:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((_MDNS_GROUP, 1))  # no packet is sent: this only picks the interface mDNS goes out of
        return str(probe.getsockname()[0])
    finally:
        probe.close()


async def announce(uri: str, name: str = "", *, host: str = "") -> Announcement:
    """Register ``NAME._wyoming._tcp.local.`` for the tcp:// server at ``uri``.

    ``host`` is the address announced; empty = the URI's own address, or the
    outgoing interface's when the server listens on every interface.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "tcp" or parsed.port is None:
        raise ConfigError(f"zeroconf needs a tcp:// address, not {uri!r}")
    zc_asyncio = _import()
    if not host:
        host = parsed.hostname or ""
        if host in ("0.0.0.0", "", "::"):
            host = _outgoing_address()
    label = name or f"voicebox-{socket.gethostname()}"
    info = zc_asyncio.AsyncServiceInfo(WYOMING_TYPE, f"{label}.{WYOMING_TYPE}", addresses=[socket.inet_aton(host)],
                                       port=parsed.port)
    zc = zc_asyncio.AsyncZeroconf()
    try:
        await zc.async_register_service(info)
    except BaseException:
        await zc.async_close()
        raise
    _announced.add(info.name)
    return Announcement(zc, info)


def announced() -> frozenset[str]:
    """The service names this process announces now."""
    return frozenset(_announced)


async def browse(service_type: str = WYOMING_TYPE) -> AsyncGenerator[ServiceChange, None]:
    """Each Wyoming service announced on the network, resolved to its addresses, and each removal, until closed."""
    zc_asyncio = _import()
    from zeroconf import ServiceStateChange

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()

    def changed(zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (name, state_change is ServiceStateChange.Removed))

    azc = zc_asyncio.AsyncZeroconf()
    browser = zc_asyncio.AsyncServiceBrowser(azc.zeroconf, [service_type], handlers=[changed])
    try:
        while True:
            name, removed = await queue.get()
            if removed:
                yield ServiceChange(name)
                continue
            info = zc_asyncio.AsyncServiceInfo(service_type, name)
            if not await info.async_request(azc.zeroconf, _RESOLVE_TIMEOUT_MS):
                continue  # announced but not resolvable (gone already): a later update tries again
            addresses = tuple(sorted(info.parsed_addresses(), key=lambda a: ":" in a))  # IPv4 first
            if info.port and addresses:
                yield ServiceChange(name, addresses, int(info.port), str(info.server or ""))
    finally:
        with contextlib.suppress(Exception):
            await browser.async_cancel()
        await azc.async_close()

