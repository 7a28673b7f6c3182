"""systemd integration: sd_notify (ready, watchdog, status) and ``voicebox install-service``."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from voicebox.core.errors import CODE_SERVICE_INSTALL, ServiceError
from voicebox.core.resources import unit_template_path

__all__ = ["Notifier", "WatchdogClock", "install_service", "unit_template", "unit_text"]

_LOG = logging.getLogger(__name__)
UNIT_NAME = "voicebox.service"


class Notifier:
    """Sends sd_notify datagrams to ``$NOTIFY_SOCKET``; does nothing when not run by systemd.

    The protocol is one ``KEY=VALUE`` line per field in a datagram on a unix
    socket (an address starting with ``@`` is in the abstract namespace).
    """

    def __init__(self, address: str | None = None) -> None:
        addr = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self.enabled = bool(addr)
        self._address = "\0" + addr[1:] if addr.startswith("@") else addr
        self._sock: socket.socket | None = None
        if self.enabled:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    def send(self, **fields: str) -> bool:
        """Send ``KEY=VALUE`` fields (``send(READY="1", STATUS="...")``); False when not sent."""
        if self._sock is None:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
        try:
            self._sock.sendto(message, self._address)
        except OSError as err:  # systemd went away or the socket is gone: keep running
            _LOG.debug("sd_notify failed: %s", err)
            return False
        return True

    def ready(self, status: str) -> bool:
        """Models are loaded and audio is flowing."""
        return self.send(READY="1", STATUS=status)

    def status(self, text: str) -> bool:
        """A one-line status shown by ``systemctl status``."""
        return self.send(STATUS=text)

    def watchdog(self) -> bool:
        """Tell systemd the audio loop is alive."""
        return self.send(WATCHDOG="1")

    def stopping(self, status: str = "stopping") -> bool:
        """Shutdown has begun."""
        return self.send(STOPPING="1", STATUS=status)

    def reloading(self) -> bool:
        """A reload (SIGHUP) has begun; ``ready`` ends it."""
        return self.send(RELOADING="1", STATUS="reloading config and skills")

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@dataclass(slots=True)
class WatchdogClock:
    """Decides when the next watchdog ping is due: every third of systemd's interval (clock-free)."""

    interval_s: float
    last_s: float = float("-inf")

    @classmethod
    def from_env(cls) -> WatchdogClock | None:
        """From ``$WATCHDOG_USEC`` (and ``$WATCHDOG_PID``, which must be this process); None when off."""
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
            return None
        return cls(int(usec) / 1e6)

    def due(self, now_s: float) -> bool:
        """True (and the ping counted as sent) when a ping is due at ``now_s``."""
        if now_s - self.last_s >= self.interval_s / 3:
            self.last_s = now_s
            return True
        return False


def unit_template() -> Path:
    """The unit file shipped in ``packaging/`` (or its packaged copy)."""
    return unit_template_path(UNIT_NAME)


def unit_text(exec_start: str, config_path: str | None = None) -> str:
    """The unit with ``ExecStart`` pointing at this installation (and an explicit config, if given)."""
    command = exec_start + (f" --config {config_path}" if config_path else "")
    lines = unit_template().read_text(encoding="utf-8").splitlines()
    return "\n".join(f"ExecStart={command}" if line.startswith("ExecStart=") else line for line in lines) + "\n"


def _this_voicebox() -> str:
    found = shutil.which("voicebox")
    script = Path(sys.executable).parent / "voicebox"
    if script.is_file():
        return f"{script} run"
    if found:
        return f"{found} run"
    return f"{sys.executable} -m voicebox run"


def install_service(unit_dir: Path, *, config_path: str | None, enable: bool) -> list[list[str]]:
    """Write the unit into ``unit_dir``; returns the systemctl commands that enable it."""
    unit_dir.mkdir(parents=True, exist_ok=True)
    target = unit_dir / UNIT_NAME
    try:
        target.write_text(unit_text(_this_voicebox(), config_path), encoding="utf-8")
    except OSError as err:
        raise ServiceError(f"cannot write {target}: {err.strerror or err}", code=CODE_SERVICE_INSTALL) from err
    print(f"wrote {target}", file=sys.stderr)
    commands = [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", "voicebox"]]
    return commands if enable else commands[:1]


def systemctl_usable() -> bool:
    if shutil.which("systemctl") is None or not os.environ.get("XDG_RUNTIME_DIR"):
        return False
    probe = subprocess.run(["systemctl", "--user", "is-system-running"], capture_output=True, text=True, check=False)
    return probe.stdout.strip() not in ("", "offline") and "Failed to connect" not in probe.stderr
