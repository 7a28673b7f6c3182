"""Optional zeroconf (mDNS) announcement of the Wyoming server, so Home Assistant discovers it."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlparse

from voicebox.core.errors import ConfigError

__all__ = ["announce"]


async def announce(uri: str, name: str = "") -> Any:
    """Register ``_wyoming._tcp`` for a tcp:// server; returns an object whose ``close()`` withdraws it."""
    parsed = urlparse(uri)
    if parsed.scheme != "tcp" or parsed.port is None:
        raise ConfigError(f"[wyoming] zeroconf needs a tcp:// address, not {uri!r}")
    try:
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf
    except ImportError as err:
        raise ConfigError("[wyoming] zeroconf = true needs the zeroconf package: pip install zeroconf") from err
    host = parsed.hostname or ""
    if host in ("0.0.0.0", "", "::"):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.connect(("224.0.0.251", 5353))  # no packet is sent: this only picks the outgoing interface
            host = probe.getsockname()[0]
        finally:
            probe.close()
    label = name or f"voicebox-{socket.gethostname()}"
    info = AsyncServiceInfo("_wyoming._tcp.local.", f"{label}._wyoming._tcp.local.",
                            addresses=[socket.inet_aton(host)], port=parsed.port)
    zc = AsyncZeroconf()
    await zc.async_register_service(info)

    class _Registration:
        async def close(self) -> None:
            await zc.async_unregister_service(info)
            await zc.async_close()

    return _Registration()
