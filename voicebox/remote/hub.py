"""The hub: ``voicebox run`` accepts room satellites; each gets its own pipeline, conversation and voice.

A satellite connects, presents its name (and the shared token), and after
each local wake word streams the command audio here. The hub captures the
command with its own VAD state for that satellite, answers with the shared
recognizer, skills and synthesizer, and sends the reply audio back. Skills
that speak later (a timer ringing) speak on the satellite whose conversation
set them (see :mod:`voicebox.core.conversation`).
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from wyoming.event import Event
from wyoming.info import Info
from wyoming.satellite import RunSatellite
from wyoming.server import AsyncServer

from voicebox.core.audio import AudioBlock
from voicebox.core.errors import CODE_HELLO, CODE_UNAUTHORIZED
from voicebox.core.events import EventSink
from voicebox.daemon.assistant import Assistant, load_vad
from voicebox.hear.capture import SpeechDetector
from voicebox.remote.connection import GuardedHandler, Limits, ProtocolError, check_uri, is_loopback, read_event, start_server
from voicebox.remote.session import RemoteSink, SatelliteSession
from voicebox.turn.pipeline import Pipeline

__all__ = ["Hub", "IdleSource", "RemoteSink", "with_hub"]

_LOG = logging.getLogger(__name__)
T = TypeVar("T")
_HELLO_TIMEOUT_S = 10.0


class SatelliteHandler(GuardedHandler):
    """One satellite that dialled in: hello and token, then its :class:`SatelliteSession`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hub: Hub) -> None:
        super().__init__(reader, writer, limits=hub.limits, active=hub.active)
        self.hub = hub
        self.name = ""
        self.session: SatelliteSession | None = None

    async def run(self) -> None:
        """Say hello first (within 10 s), then the usual guarded loop."""
        try:
            first = await asyncio.wait_for(self._hello(), _HELLO_TIMEOUT_S)
        except TimeoutError:
            first = "no hello within 10 s"
        except ProtocolError as err:
            first = err.message
        if first:
            _LOG.warning("satellite %s refused: %s", self.peer, first)
            await self.send_error(first, CODE_UNAUTHORIZED if "token" in first else CODE_HELLO)
            self.writer.close()
            return
        await super().run()

    async def _hello(self) -> str:
        event = await read_event(self.reader, self.limits.max_event_bytes)
        if event is None or not Info.is_type(event.type):
            return "a satellite must first send `info` with its name"
        token = event.data.get("token", "")
        if self.hub.token and not (isinstance(token, str) and hmac.compare_digest(token, self.hub.token)):
            return "wrong or missing token: set [hub] token on the satellite to the hub's"
        info = Info.from_event(event)
        name = info.satellite.name if info.satellite is not None and info.satellite.name else self.peer
        if len(self.hub.sessions) >= self.hub.max_satellites and name not in self.hub.sessions:
            return f"hub full: {self.hub.max_satellites} satellites already connected"
        self.name = str(name)[:100]
        hub = self.hub
        previous = hub.sessions.get(self.name)
        if previous is not None:
            await previous.stop()  # the same room reconnected: the new connection wins
        self.session = SatelliteSession(hub.assistant, self.name, self.write_event, make_vad=hub.make_vad,
                                        emit=hub.emit)
        await self.session.open()
        hub.sessions[self.name] = self
        await self.write_event(RunSatellite().event())
        _LOG.info("satellite %r connected from %s", self.name, self.peer)
        return ""

    @property
    def pipeline(self) -> Pipeline | None:
        """This satellite's pipeline (its own VAD, the shared engines)."""
        return self.session.pipeline if self.session is not None else None

    async def handle_event(self, event: Event) -> bool:
        """``describe`` is answered here; everything else goes to the session."""
        if event.type == "describe":
            await self.write_event(self.hub.info.event())
        elif self.session is not None:
            await self.session.feed(event)
        return True

    async def disconnect(self) -> None:
        """Forget this satellite; its skills' later speech goes to the hub's own speaker."""
        if self.session is not None:
            await self.session.close()
        if self.hub.sessions.get(self.name) is self:
            del self.hub.sessions[self.name]
            _LOG.info("satellite %r disconnected", self.name)


class Hub:
    """Accepts satellites at ``uri`` for an :class:`Assistant` (its engines, skills and speak routes)."""

    def __init__(self, assistant: Assistant, *, token: str = "", max_satellites: int = 8,
                 limits: Limits | None = None, emit: EventSink | None = None,
                 make_vad: Callable[[], SpeechDetector] | None = None) -> None:
        from voicebox.daemon.assistant import model_store
        from voicebox.remote.info import build_info

        self.assistant = assistant
        self.token = token
        self.max_satellites = max_satellites
        self.limits = limits or Limits(max_clients=max_satellites + 4)
        self.emit = emit or assistant.emit
        self.make_vad = make_vad or (lambda: load_vad(model_store(assistant.config)))
        self.info = build_info(assistant.config, wake_models=assistant.engines.wake_models,
                               skills=assistant.engines.dispatcher.skill_names)
        self.sessions: dict[str, SatelliteHandler] = {}
        self.active: set[GuardedHandler] = set()
        self._server: AsyncServer | None = None

    async def start(self, uri: str) -> None:
        """Listen for satellites."""
        self._server = await start_server(uri, lambda r, w: SatelliteHandler(r, w, self))
        _LOG.info("hub listening for satellites on %s", uri)

    async def stop(self) -> None:
        """Disconnect every satellite and stop listening."""
        if self._server is not None:
            await self._server.stop()


class IdleSource:
    """No local microphone (``voicebox run --input none``): a hub that only serves satellites."""

    name = "none"

    async def blocks(self) -> AsyncIterator[AudioBlock]:
        """Never yields; ends only when cancelled."""
        await asyncio.Event().wait()
        yield  # type: ignore[misc]  # pragma: no cover - unreachable, makes this an async generator


async def with_hub(assistant: Assistant, uri: str, main: Awaitable[T]) -> T:
    """Run ``main`` (the daemon) while accepting satellites at ``uri`` ([hub] token, max_satellites)."""
    config = assistant.config
    hub = Hub(assistant, token=config.hub.token, max_satellites=config.hub.max_satellites,
              limits=Limits(max_event_bytes=config.wyoming.max_event_bytes, max_clients=config.hub.max_satellites + 4))
    if not config.hub.token and not is_loopback(uri):
        _LOG.warning("hub on %s has no [hub] token: anyone on the network can connect a satellite", uri)
    try:
        await hub.start(check_uri(uri, what="[hub] uri"))
    except BaseException:
        if inspect.iscoroutine(main):
            main.close()  # never started: close it so it is not reported as never awaited
        raise
    try:
        return await main
    finally:
        await hub.stop()
