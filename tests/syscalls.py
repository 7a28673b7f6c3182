"""Whole-process tracing for the privacy tests: run a command under ``strace -f`` and read back what every thread
and child of it tried on the network and where it created files (native libraries included, not only Python)."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

NET_CALLS = ("connect", "sendto", "sendmsg", "sendmmsg")
FILE_CALLS = ("open", "openat", "creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "link", "linkat",
              "symlink", "symlinkat")

_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<call>\w+)\((?P<args>.*)$")
_INET = re.compile(r'sa_family=AF_INET, sin_port=htons\((?P<port>\d+)\), sin_addr=inet_addr\("(?P<addr>[^"]+)"\)')
_INET6 = re.compile(r'sa_family=AF_INET6, sin6_port=htons\((?P<port>\d+)\).*?inet_pton\(AF_INET6, "(?P<addr>[^"]+)"')
_UNIX = re.compile(r'sa_family=AF_UNIX, sun_path=(?P<path>@?"[^"]*")')
_RESULT = re.compile(r"\)\s+=\s+(?P<rc>-?\d+)")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
# glibc's name service: asking nscd or systemd-resolved over a unix socket is a DNS lookup by another door
_NAME_SERVICE_SOCKETS = ("nscd", "resolve")


def strace_prefix(log: Path) -> tuple[str, ...]:
    """The command prefix that traces a process tree's network and file-creating calls into ``log``."""
    calls = ",".join(NET_CALLS + FILE_CALLS)
    return ("strace", "-f", "-qq", "-s", "256", "-e", f"trace={calls}", "-o", str(log))


def strace_usable() -> str:
    """"" when ``strace -f`` works here, else why not (for a skip)."""
    if shutil.which("strace") is None:
        return "strace is not installed (Debian: `sudo apt-get install strace`; .ci/run installs it)"
    probe = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "true"], capture_output=True, text=True,
                           check=False)
    if probe.returncode != 0:
        return f"strace cannot trace here (ptrace not permitted?): {probe.stderr.strip()[:200]}"
    return ""


@dataclass(frozen=True, slots=True)
class NetAttempt:
    """One network call that left (or tried to leave) the machine, or asked a name service."""

    pid: int
    call: str
    target: str
    line: str


def _is_loopback(addr: str) -> bool:
    try:
        ip = ipaddress.ip_address(addr.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def network_attempts(log_text: str) -> list[NetAttempt]:
    """Every traced call that is not loopback-only: non-loopback IP addresses, any DNS (port 53, even to a
    resolver on loopback), and lookups through glibc's name-service sockets."""
    found: list[NetAttempt] = []
    for line in log_text.splitlines():
        m = _CALL.match(line)
        if m is None or m["call"] not in NET_CALLS:
            continue
        args = m["args"]
        for inet in (*_INET.finditer(args), *_INET6.finditer(args)):
            if inet["port"] == "53" or not _is_loopback(inet["addr"]):
                found.append(NetAttempt(int(m["pid"]), m["call"], f"{inet['addr']}:{inet['port']}", line))
        for unix in _UNIX.finditer(args):
            if any(name in unix["path"] for name in _NAME_SERVICE_SOCKETS):
                found.append(NetAttempt(int(m["pid"]), m["call"], unix["path"], line))
    return found


def created_paths(log_text: str, cwd: Path) -> set[Path]:
    """Paths the traced processes created or opened for creation (O_CREAT), made directories, renamed or linked
    to, where the call succeeded."""
    made: set[Path] = set()
    for line in log_text.splitlines():
        m = _CALL.match(line)
        if m is None or m["call"] not in FILE_CALLS:
            continue
        result = _RESULT.search(m["args"])
        if result is None or int(result["rc"]) < 0:
            continue
        names = _STRING.findall(m["args"])
        if not names:
            continue
        call = m["call"]
        if call in ("open", "openat") and "O_CREAT" not in m["args"]:
            continue
        target = names[-1] if call.startswith(("rename", "link", "symlink")) else names[0]
        path = Path(target)
        made.add(path if path.is_absolute() else cwd / path)
    return made


def outside(paths: set[Path], allowed: list[Path]) -> list[Path]:
    """The paths under none of the ``allowed`` folders."""
    return sorted(p for p in paths if not any(p == a or a in p.parents for a in allowed))
