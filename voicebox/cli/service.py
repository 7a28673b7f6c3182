"""``voicebox serve`` (Wyoming, for Home Assistant) and ``voicebox install-service`` (the systemd user unit)."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

from voicebox.cli.command import Command
from voicebox.cli.output import make_emitter, print_json
from voicebox.core.config import Config
from voicebox.core.errors import CODE_SERVICE_INSTALL, ServiceError

__all__ = ["INSTALL_SERVICE", "SERVE"]


def _serve_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    p.add_argument("--uri", help="tcp://HOST:PORT or unix://PATH (default: [wyoming] uri, tcp://127.0.0.1:10700)")


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    """Run the Wyoming server until interrupted, with the daemon's skills, persistent state and timers."""
    from voicebox.audio_io.sinks import NullSink
    from voicebox.daemon.assistant import Assistant
    from voicebox.daemon.lifecycle import serve
    from voicebox.remote.connection import check_uri, is_loopback
    from voicebox.remote.hub import IdleSource
    from voicebox.remote.server import with_server

    uri = check_uri(args.uri or config.wyoming.uri, what="--uri")
    if not is_loopback(uri):
        print(f"voicebox: serving on {uri}: reachable from the network (anyone there can use it)", file=sys.stderr)
    assistant = Assistant(config, sink=NullSink(), emit=make_emitter(args.json))
    asyncio.run(with_server(assistant, uri, serve(assistant, IdleSource(), config_path=args.config)))
    return 0


def _install_arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    p.add_argument("--unit-dir", metavar="DIR",
                   help="where to write the unit (default: ~/.config/systemd/user; with --system /etc/systemd/system)")
    p.add_argument("--system", action="store_true",
                   help="the system unit instead: a dedicated 'voicebox' user, enforced sandboxing (run as root)")
    p.add_argument("--no-enable", action="store_true", help="only write the unit; do not enable or start it")
    p.add_argument("--print-only", action="store_true", help="write the unit but only print the systemctl commands")


def _make_user_folders() -> None:
    """Create the folders the user unit may write to: under its read-only home the service cannot create them."""
    import platformdirs

    from voicebox.core.permissions import private_dir

    for folder in (platformdirs.user_data_dir("voicebox"), platformdirs.user_state_dir("voicebox"),
                   platformdirs.user_config_dir("voicebox"), platformdirs.user_cache_dir("voicebox")):
        private_dir(Path(folder), "voicebox's folder")


def cmd_install_service(args: argparse.Namespace, config: Config) -> int:
    """Write the user unit and enable it with systemctl (or print the commands when systemctl cannot run)."""
    from voicebox.daemon.systemd import UNIT_NAME, install_service, systemctl_usable

    if args.system:
        default_dir = Path("/etc/systemd/system")
    else:
        default_dir = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"
    unit_dir = Path(args.unit_dir).expanduser() if args.unit_dir else default_dir
    config_path = str(Path(args.config).expanduser().resolve()) if args.config else None
    commands = install_service(unit_dir, config_path=config_path, enable=not args.no_enable, system=args.system)
    if not args.system:
        _make_user_folders()
    result = {"unit": str(unit_dir / UNIT_NAME), "commands": [" ".join(cmd) for cmd in commands], "ran": False}
    if args.print_only or not systemctl_usable(system=args.system):
        if args.json:
            print_json(result)
            return 0
        print("run these to enable it:" if not args.print_only else "commands:")
        for cmd in commands:
            print("  " + " ".join(cmd))
        return 0
    for cmd in commands:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ServiceError(f"`{' '.join(cmd)}` failed: {done.stderr.strip() or done.returncode}",
                               code=CODE_SERVICE_INSTALL)
    if args.json:
        print_json({**result, "ran": True})
        return 0
    scope = "" if args.system else "--user "
    print(f"voicebox is enabled and running; follow it with `journalctl {scope}-u voicebox -f`")
    return 0


SERVE = Command("serve", "serve speech, wake word and skills over Wyoming (Home Assistant)", cmd_serve, _serve_arguments)
INSTALL_SERVICE = Command("install-service",
                          "install the systemd user unit (~/.config/systemd/user/voicebox.service) and enable it; "
                          "--system: the sandboxed system unit with a dedicated user",
                          cmd_install_service, _install_arguments)
