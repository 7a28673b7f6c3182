"""Which conversation (room, satellite, client) the code running now belongs to, as a context variable.

The hub runs each satellite's turns with its origin set; skill handlers, and
anything they schedule from inside a handler, inherit it (asyncio copies
context variables into tasks and callbacks; the dispatcher copies them into
its worker threads). A component that stores work for later (a scheduler
writing timers to disk) records :func:`current_origin` with the work and runs
it again under :func:`origin`, so a timer rings where it was set.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["LOCAL", "current_origin", "origin"]

LOCAL = ""
"""The origin of the daemon's own microphone and speaker."""

_ORIGIN: contextvars.ContextVar[str] = contextvars.ContextVar("voicebox_origin", default=LOCAL)


def current_origin() -> str:
    """The origin of the conversation being served now ("" = the local microphone)."""
    return _ORIGIN.get()


@contextlib.contextmanager
def origin(name: str) -> Iterator[None]:
    """Run the body as part of conversation ``name``."""
    token = _ORIGIN.set(name)
    try:
        yield
    finally:
        _ORIGIN.reset(token)
