"""Whether multicast DNS works here, asked of the zeroconf package itself (not voicebox's code under test)."""

from __future__ import annotations

import asyncio
import socket
import uuid

__all__ = ["mdns_missing", "unique_name"]

_PROBE_TYPE = "_voicebox-probe._tcp.local."


def unique_name(prefix: str) -> str:
    """A service name no other test (or test run on this network) announces."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def _probe(timeout_s: float) -> str:
    from zeroconf import ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("224.0.0.251", 1))  # no packet: this only asks which interface multicast would leave by
        host = probe.getsockname()[0]
    except OSError as err:
        return f"no route for multicast (224.0.0.251): {err}"
    finally:
        probe.close()
    name = f"{unique_name('probe')}.{_PROBE_TYPE}"
    info = AsyncServiceInfo(_PROBE_TYPE, name, addresses=[socket.inet_aton(host)], port=9)
    seen = asyncio.Event()

    def changed(zeroconf: object, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if name == info.name and state_change is ServiceStateChange.Added:
            seen.set()

    announcer, listener = AsyncZeroconf(), AsyncZeroconf()
    try:
        await announcer.async_register_service(info)
        browser = AsyncServiceBrowser(listener.zeroconf, [_PROBE_TYPE], handlers=[changed])
        try:
            await asyncio.wait_for(seen.wait(), timeout_s)
        except TimeoutError:
            return (f"an mDNS announcement from {host} was not heard back within {timeout_s:.0f} s: multicast does not "
                    "loop back on this machine's interfaces (loopback has no MULTICAST flag by default)")
        finally:
            await browser.async_cancel()
        await announcer.async_unregister_service(info)
    except OSError as err:
        return f"zeroconf cannot open its multicast sockets here: {err}"
    finally:
        await announcer.async_close()
        await listener.async_close()
    return ""


def mdns_missing(timeout_s: float = 15.0) -> str:
    """Empty when an mDNS announcement made here is heard here; otherwise why not (a skip reason)."""
    try:
        import zeroconf  # noqa: F401
    except ImportError:
        return "the zeroconf package is not installed (pip install zeroconf)"
    return asyncio.run(_probe(timeout_s))
