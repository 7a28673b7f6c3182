"""Logging set-up: a timestamped line on a terminal or in a file; under systemd, syslog priorities and no timestamp.

journald stamps every line itself and reads a leading ``<N>`` as the line's
priority (``SyslogLevelPrefix=``, on by default), so ``journalctl -p warning``
can filter voicebox's warnings and errors.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

__all__ = ["JournalFormatter", "configure_logging", "print_error", "syslog_priority", "writes_to_journal"]

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(name)s: %(message)s"


def syslog_priority(levelno: int) -> int:
    """The syslog priority (0 emerg .. 7 debug) of a logging level."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


class JournalFormatter(logging.Formatter):
    """``<N>name: message``; each line of a multi-line message (a traceback) carries the same priority."""

    def __init__(self) -> None:
        super().__init__(JOURNAL_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """The record with its syslog priority prefixed to every line."""
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def writes_to_journal(stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """Whether ``stream`` is the journal's stream: ``$JOURNAL_STREAM`` names its device and inode.

    Comparing the two (rather than only seeing the variable) keeps a child whose
    stderr was redirected elsewhere from writing priority prefixes into a file.
    """
    value = (environ if environ is not None else os.environ).get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        info = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (info.st_dev, info.st_ino) == (int(device), int(inode))


def configure_logging(verbose: bool, stream: TextIO | None = None) -> None:
    """Log to ``stream`` (stderr): debug with ``verbose``, else info, with the quiet libraries at warning."""
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)
    handler.setFormatter(JournalFormatter() if writes_to_journal(out) else logging.Formatter(PLAIN_FORMAT))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    if not verbose:
        for noisy in ("faster_whisper", "piper", "onnxruntime"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def print_error(line: str, stream: TextIO | None = None) -> None:
    """One error line on stderr (with the journal's error priority when that is where it goes)."""
    out = stream if stream is not None else sys.stderr
    prefix = f"<{syslog_priority(logging.ERROR)}>" if writes_to_journal(out) else ""
    print(prefix + line, file=out)
