"""The ``voicebox`` command: one explicit list of subcommands, common flags, errors as one line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from voicebox import __version__
from voicebox.cli import commands, measuring, satellite, service, skills, wake
from voicebox.cli.command import Command
from voicebox.cli.output import json_channel, print_json_error
from voicebox.core.config import load_config
from voicebox.core.errors import CODE_USAGE, ConfigError, VoiceboxError
from voicebox.core.logs import configure_logging, print_error
from voicebox.core.memory import one_heap

__all__ = ["COMMANDS", "EXIT_CONFIG", "EXIT_ERROR", "EXIT_USAGE", "build_parser", "main"]

EXIT_ERROR = 1
EXIT_USAGE = 2  # argparse's own status for a bad command line
# sysexits.h's EX_CONFIG: the configuration is wrong, so restarting cannot help; the systemd units name it in
# RestartPreventExitStatus= (systemd itself calls status 78 "CONFIG").
EXIT_CONFIG = 78

COMMANDS: tuple[Command, ...] = (
    commands.RUN,
    commands.DEMO,
    commands.TRANSCRIBE,
    commands.SAY,
    commands.INTENT,
    commands.DEVICES,
    commands.MODELS,
    wake.WAKE,
    commands.CONFIG,
    service.SERVE,
    satellite.SATELLITE,
    skills.SKILLS,
    measuring.BENCH,
    measuring.EVAL,
    measuring.SOAK,
    service.INSTALL_SERVICE,
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are a JSON object on stdout when ``--json`` was given."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        """Report a usage error (exit status 2)."""
        if _Parser.json_errors:
            print_json_error(CODE_USAGE, f"{self.prog}: {message}")
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand in ``COMMANDS``."""
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="PATH",
                        help="TOML config file (default: $VOICEBOX_CONFIG or ~/.config/voicebox/config.toml)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    common.add_argument("--json", action="store_true",
                        help="machine-readable output: only JSON on stdout (events as JSON lines for run, serve, "
                        "satellite and demo; one JSON document otherwise), errors as {\"error\", \"message\"} "
                        "objects; logs, progress and anything a skill prints go to stderr")
    parser = _Parser(prog="voicebox", description="An offline voice assistant: wake word, command, answer.")
    # Also accepted before the subcommand; kept apart because the subcommand's defaults would overwrite them.
    parser.add_argument("--config", metavar="PATH", dest="top_config", help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", dest="top_verbose", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", dest="top_json", help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"voicebox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS:
        cmd.arguments(sub.add_parser(cmd.name, parents=[common], help=cmd.help), common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``voicebox`` command."""
    one_heap()
    argv = list(sys.argv[1:] if argv is None else argv)
    _Parser.json_errors = "--json" in argv
    parser = build_parser()
    args = parser.parse_args(argv)
    args.config = getattr(args, "config", None) or args.top_config
    args.verbose = getattr(args, "verbose", False) or args.top_verbose
    args.json = getattr(args, "json", False) or args.top_json
    configure_logging(args.verbose)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handlers = {cmd.name: cmd.run for cmd in COMMANDS}
    with json_channel(args.json):
        try:
            config = load_config(args.config)
            return handlers[args.command](args, config)
        except ConfigError as err:
            return _fail(args, err, "config error", EXIT_CONFIG)
        except VoiceboxError as err:
            return _fail(args, err, "error", EXIT_ERROR)
        except KeyboardInterrupt:
            return 130


def _fail(args: argparse.Namespace, err: VoiceboxError, label: str, status: int) -> int:
    """One line on stderr; under ``--json`` also the error as a JSON object on stdout."""
    if args.json:
        print_json_error(err.code, err.message)
    print_error(f"voicebox: {label}: {err.message}")
    return status
