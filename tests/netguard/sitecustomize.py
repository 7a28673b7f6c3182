"""Test-side network guard: put this folder on PYTHONPATH and every non-loopback connect, sendto or name lookup
is recorded (one line per attempt in $NETGUARD_LOG) and refused with an OSError. Unix sockets are allowed.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import traceback

_LOG = os.environ.get("NETGUARD_LOG", "")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _record(what: str, target: object) -> None:
    if _LOG:
        where = "".join(traceback.format_stack(limit=6)[:-2]).replace("\n", " | ")
        with open(_LOG, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {what} {target!r} at {where}\n")


def _is_loopback_host(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).split("%")[0]
    if text in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _check(sock: socket.socket, address: object, what: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_loopback_host(host):
        _record(what, address)
        raise OSError(f"netguard: {what} to {address!r} blocked (not loopback)")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto
_getaddrinfo = socket.getaddrinfo


class _GuardedSocket(socket.socket):
    def connect(self, address):  # type: ignore[no-untyped-def]
        _check(self, address, "connect")
        return _connect(self, address)

    def connect_ex(self, address):  # type: ignore[no-untyped-def]
        _check(self, address, "connect_ex")
        return _connect_ex(self, address)

    def sendto(self, data, *args):  # type: ignore[no-untyped-def]
        _check(self, args[-1], "sendto")
        return _sendto(self, data, *args)


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if not _is_loopback_host(host):
        _record("getaddrinfo", host)
        raise socket.gaierror(socket.EAI_NONAME, f"netguard: lookup of {host!r} blocked")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket = _GuardedSocket  # type: ignore[misc]
socket.getaddrinfo = _guarded_getaddrinfo
