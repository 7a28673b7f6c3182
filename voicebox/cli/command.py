"""What a command is (name, help, its flags, its handler) and the flag groups several commands share."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from voicebox.core.config import Config

__all__ = ["Command", "Handler", "add_audio_arguments"]

Handler = Callable[[argparse.Namespace, Config], int]
Arguments = Callable[[argparse.ArgumentParser, argparse.ArgumentParser], None]


def _no_arguments(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """A command with only the common flags."""


@dataclass(frozen=True, slots=True)
class Command:
    """One ``voicebox`` subcommand: ``arguments(parser, common)`` defines its flags, ``run(args, config)`` runs it."""

    name: str
    help: str
    run: Handler
    arguments: Arguments = _no_arguments


def add_audio_arguments(parser: argparse.ArgumentParser) -> None:
    """The audio in/out flags of every command that listens and speaks (``run``, ``satellite``)."""
    parser.add_argument("--input", default="mic", help="mic (default), a WAV file, or - for raw 16 kHz s16le on stdin")
    parser.add_argument("--output", default="speaker", help="speaker (default), a WAV file path, or none")
    parser.add_argument("--input-device", metavar="NAME|INDEX", help="microphone (overrides [audio] input_device)")
    parser.add_argument("--output-device", metavar="NAME|INDEX", help="speaker (overrides [audio] output_device)")
    parser.add_argument("--realtime", action="store_true", help="pace file input at real time (default: fast)")
