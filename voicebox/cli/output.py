"""How commands print: events as JSON lines or readable log lines, one JSON document per answer, errors as JSON.

With ``--json`` stdout carries JSON only (:func:`json_channel`): the JSON
writers here get the real stdout, and whatever else would reach it (a
skill's ``print()``, a library writing to file descriptor 1) goes to the log
on stderr instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from voicebox.core.events import Event, describe, event_to_json

__all__ = ["json_channel", "make_emitter", "print_json", "print_json_error"]

_LOG = logging.getLogger("voicebox")
_STRAY = logging.getLogger("voicebox.stdout")
_JSON_OUT: list[TextIO] = []  # the reserved stream while a json_channel is open


def _json_out() -> TextIO:
    return _JSON_OUT[-1] if _JSON_OUT else sys.stdout


def make_emitter(as_json: bool, *, stream: Any = None) -> Callable[[Event], None]:
    """Events as JSON lines on stdout (``--json``) or readable log lines on stderr."""

    def emit(event: Event) -> None:
        if as_json:
            out = stream or _json_out()
            out.write(event_to_json(event) + "\n")
            out.flush()
        else:
            _LOG.info("%s", describe(event))

    return emit


def print_json(data: Any) -> None:
    """One JSON document on stdout."""
    out = _json_out()
    out.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    out.flush()


def print_json_error(code: str, message: str) -> None:
    """A failed command under ``--json``: ``{"error": CODE, "message": TEXT}`` on stdout."""
    print_json({"error": code, "message": message})


class _ToLog(io.TextIOBase):
    """A text stream that logs each line written to it (what reaches stdout besides the JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        """It is written to."""
        return True

    def write(self, text: str) -> int:
        """Log every complete line; keep the rest until its newline (or :meth:`flush`)."""
        with self._lock:
            *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            _STRAY.info("stdout: %s", line)
        return len(text)

    def flush(self) -> None:
        """Log what is left of the last line."""
        with self._lock:
            rest, self._pending = self._pending, ""
        if rest:
            _STRAY.info("stdout: %s", rest)


@contextlib.contextmanager
def json_channel(enabled: bool) -> Iterator[None]:
    """While open (and ``enabled``), stdout is JSON only: everything else written to it goes to the log (stderr)."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved_fd = os.dup(1)
    reserved = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # what C code or child processes write to fd 1 lands in the log stream
    saved, sys.stdout = sys.stdout, _ToLog()
    _JSON_OUT.append(reserved)
    try:
        yield
    finally:
        _JSON_OUT.remove(reserved)
        sys.stdout.flush()
        sys.stdout = saved
        reserved.close()
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
