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

__all__ = ["Notifier", "WatchdogClock", "hidden_from_system_unit", "install_service", "unit_template", "unit_text"]

_LOG = logging.getLogger(__name__)
UNIT_NAME = "voicebox.service"
SYSTEM_TEMPLATE = "voicebox-system.service"  # installed as voicebox.service in /etc/systemd/system
SYSTEM_USER = "voicebox"
# ProtectHome=yes in the system unit: nothing under these is visible to the service
_HIDDEN_ROOTS = (Path("/home"), Path("/root"), Path("/run/user"))


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


def unit_template(*, system: bool = False) -> Path:
    """The user unit (or with ``system`` the system unit) shipped in ``packaging/`` (or its packaged copy)."""
    return unit_template_path(SYSTEM_TEMPLATE if system else UNIT_NAME)


def unit_text(exec_start: str, config_path: str | None = None, *, system: bool = False) -> str:
    """The unit with ``ExecStart`` pointing at this installation (and an explicit config, if given)."""
    command = exec_start + (f" --config {config_path}" if config_path else "")
    lines = unit_template(system=system).read_text(encoding="utf-8").splitlines()
    return "\n".join(f"ExecStart={command}" if line.startswith("ExecStart=") else line for line in lines) + "\n"


def _this_voicebox() -> str:
    found = shutil.which("voicebox")
    script = Path(sys.executable).parent / "voicebox"
    if script.is_file():
        return f"{script} run"
    if found:
        return f"{found} run"
    return f"{sys.executable} -m voicebox run"


def hidden_from_system_unit(path: str | Path) -> bool:
    """Whether the system unit's ``ProtectHome=yes`` hides ``path`` (a home folder, root's, a user runtime dir)."""
    resolved = Path(path).resolve()
    return any(resolved == root or root in resolved.parents for root in _HIDDEN_ROOTS)


def _system_user_exists() -> bool:
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        return False
    return True


def install_service(unit_dir: Path, *, config_path: str | None, enable: bool,
                    system: bool = False) -> list[list[str]]:
    """Write the unit into ``unit_dir``; returns the commands (user creation, systemctl) that enable it."""
    exec_start = _this_voicebox()
    if system:
        for what, path in (("voicebox", exec_start.split()[0]), ("the config", config_path or "")):
            if path and hidden_from_system_unit(path):
                raise ServiceError(
                    f"{what} is at {path}, inside a home folder, which the system unit cannot see (ProtectHome=yes): "
                    "install voicebox outside /home and /root (e.g. `python3 -m venv /opt/voicebox && "
                    "/opt/voicebox/bin/pip install .`) and keep its config in /etc/voicebox/config.toml",
                    code=CODE_SERVICE_INSTALL)
    try:
        unit_dir.mkdir(parents=True, exist_ok=True)
        target = unit_dir / UNIT_NAME
        target.write_text(unit_text(exec_start, config_path, system=system), encoding="utf-8")
    except OSError as err:
        raise ServiceError(f"cannot write {unit_dir / UNIT_NAME}: {err.strerror or err}",
                           code=CODE_SERVICE_INSTALL) from err
    print(f"wrote {target}", file=sys.stderr)
    if not system:
        commands = [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", "voicebox"]]
        return commands if enable else commands[:1]
    commands = [] if _system_user_exists() else [
        ["useradd", "--system", "--user-group", "--groups", "audio", "--home-dir", f"/var/lib/{SYSTEM_USER}",
         "--shell", "/usr/sbin/nologin", SYSTEM_USER]]
    commands.append(["systemctl", "daemon-reload"])
    if enable:
        commands.append(["systemctl", "enable", "--now", "voicebox"])
    return commands


def systemctl_usable(*, system: bool = False) -> bool:
    """Whether ``systemctl`` (``--user`` unless ``system``) can talk to a running manager here."""
    if shutil.which("systemctl") is None or (not system and not os.environ.get("XDG_RUNTIME_DIR")):
        return False
    scope = [] if system else ["--user"]
    probe = subprocess.run(["systemctl", *scope, "is-system-running"], capture_output=True, text=True, check=False)
    return probe.stdout.strip() not in ("", "offline") and "Failed to connect" not in probe.stderr
