"""How commands print: events as JSON lines or readable log lines, and one JSON document per answer."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from voicebox.core.events import Event, describe, event_to_json

__all__ = ["make_emitter", "print_json"]

_LOG = logging.getLogger("voicebox")


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


def print_json(data: Any) -> None:
    """One JSON document on stdout."""
    print(json.dumps(data, ensure_ascii=False, default=str))
