"""The ``voicebox`` command: one explicit list of subcommands, common flags, errors as one line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from voicebox import __version__
from voicebox.cli import commands, measuring, satellite, service, skills, wake
from voicebox.cli.command import Command
from voicebox.core.config import load_config
from voicebox.core.errors import ConfigError, VoiceboxError
from voicebox.core.memory import one_heap

__all__ = ["COMMANDS", "build_parser", "main"]

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
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not args.verbose:
        for noisy in ("faster_whisper", "piper", "onnxruntime"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command is None:
        parser.print_help()
        return 2
    handlers = {cmd.name: cmd.run for cmd in COMMANDS}
    try:
        config = load_config(args.config)
        return handlers[args.command](args, config)
    except ConfigError as err:
        print(f"voicebox: config error: {err.message}", file=sys.stderr)
        return 2
    except VoiceboxError as err:
        print(f"voicebox: error: {err.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
