"""The ``voicebox`` command: one explicit list of subcommands, common flags, errors as one line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from voicebox import __version__
from voicebox.cli import commands, measuring, satellite, service, skills
from voicebox.cli.command import Command
from voicebox.core.config import load_config
from voicebox.core.errors import ConfigError, VoiceboxError
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
    commands.CONFIG,
    service.SERVE,
    satellite.SATELLITE,
    skills.SKILLS,
    measuring.BENCH,
    measuring.EVAL,
    measuring.SOAK,
    service.INSTALL_SERVICE,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand in ``COMMANDS``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH",
                        help="TOML config file (default: $VOICEBOX_CONFIG or ~/.config/voicebox/config.toml)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser = argparse.ArgumentParser(prog="voicebox",
                                     description="An offline voice assistant: wake word, command, answer.")
    # Also accepted before the subcommand; kept apart because the subcommand's defaults would overwrite them.
    parser.add_argument("--config", metavar="PATH", dest="top_config", help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", dest="top_verbose", help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"voicebox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS:
        cmd.arguments(sub.add_parser(cmd.name, parents=[common], help=cmd.help), common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``voicebox`` command."""
    one_heap()
    parser = build_parser()
    args = parser.parse_args(argv)
    args.config = getattr(args, "config", None) or args.top_config
    args.verbose = getattr(args, "verbose", False) or args.top_verbose
    configure_logging(args.verbose)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handlers = {cmd.name: cmd.run for cmd in COMMANDS}
    try:
        config = load_config(args.config)
        return handlers[args.command](args, config)
    except ConfigError as err:
        print_error(f"voicebox: config error: {err.message}")
        return EXIT_CONFIG
    except VoiceboxError as err:
        print_error(f"voicebox: error: {err.message}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
