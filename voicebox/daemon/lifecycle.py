"""The daemon's life: readiness and watchdog for systemd, SIGTERM (stop now), SIGHUP (reload config and skills)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from voicebox.act.dispatch import Dispatcher
from voicebox.audio_io.recorder import DebugRecorder
from voicebox.audio_io.supervise import BlockSource, SupervisedSource
from voicebox.core.audio import AudioBlock
from voicebox.core.config import Config, load_config
from voicebox.core.errors import VoiceboxError
from voicebox.daemon.assistant import Assistant, load_skill_set
from voicebox.daemon.systemd import Notifier, WatchdogClock

__all__ = ["Heartbeat", "reload", "serve"]

_LOG = logging.getLogger(__name__)
# Sections whose changes need the engines or devices rebuilt: a reload reports them instead.
_RESTART_ONLY = ("wake", "asr", "tts", "paths")


class Heartbeat:
    """Pings the systemd watchdog from the audio loop (at most every third of its interval)."""

    def __init__(self, notifier: Notifier, clock: WatchdogClock | None) -> None:
        self._notifier = notifier
        self._clock = clock
        self.pings = 0

    def __call__(self) -> None:
        """Called for every audio block and while waiting for a lost device."""
        if self._clock is not None and self._clock.due(time.monotonic()):
            self._notifier.watchdog()
            self.pings += 1


def reload(assistant: Assistant, config_path: str | Path | None) -> Config | None:
    """Re-read the config and reload the skills in place; running timers and the audio loop are untouched.

    A config that no longer validates is reported and the running one kept.
    """
    old = assistant.config
    try:
        new = load_config(config_path)
        recorder = DebugRecorder.from_config(new)  # an unsafe record_dir refuses the reload, like a bad key
    except VoiceboxError as err:
        _LOG.error("reload refused, keeping the running config: %s", err.message)
        return None
    changed = [name for name in _RESTART_ONLY if getattr(new, name) != getattr(old, name)]
    if new.audio.input_device != old.audio.input_device or new.audio.output_device != old.audio.output_device:
        changed.append("audio devices")
    if changed:
        _LOG.warning("reload: changes to %s take effect after a restart", ", ".join(changed))
    try:
        skills, intents = load_skill_set(new, assistant.pipeline.say, services=assistant.services)
    except VoiceboxError as err:  # e.g. a [skill.NAME] setting the skill does not accept
        _LOG.error("reload refused, keeping the running config and skills: %s", err.message)
        return None
    engines = assistant.engines
    previous = engines.dispatcher
    engines.intents = intents
    engines.dispatcher = Dispatcher(skills, timeout_s=new.skills.timeout_s, workers=assistant.services.workers)
    previous.close()  # workers are shared: running handlers finish, work a skill put on its own loop survives
    assistant.config = new
    assistant.pipeline.reconfigure(new)
    assistant.pipeline.recorder = recorder
    loaded = [s.name for s in skills if s.ok]
    _LOG.info("reloaded %s and %d skill(s): %s", new.source, len(loaded), ", ".join(loaded))
    return new


async def _watched(source: BlockSource, heartbeat: Callable[[], None]) -> AsyncIterator[AudioBlock]:
    async for block in source.blocks():
        heartbeat()
        yield block


async def serve(assistant: Assistant, source: BlockSource, *, config_path: str | Path | None = None,
                notifier: Notifier | None = None, heartbeat: Heartbeat | None = None) -> bool:
    """Run the assistant until the audio ends (True) or SIGTERM/SIGINT arrives (False).

    SIGTERM stops the reply being spoken and ends the run at once; the
    assistant's own ``finally`` releases the engines and skill workers.
    """
    notifier = notifier or Notifier()
    beat = heartbeat or Heartbeat(notifier, WatchdogClock.from_env())
    loop = asyncio.get_running_loop()
    assistant.pipeline.recorder = DebugRecorder.from_config(assistant.config)
    if isinstance(source, SupervisedSource):
        source.heartbeat = beat
    run = asyncio.create_task(assistant.run(_watched(source, beat)), name="assistant")
    stopping: list[str] = []

    def stop(signame: str) -> None:
        if stopping:
            return
        stopping.append(signame)
        _LOG.info("%s: stopping", signame)
        notifier.stopping(f"stopping ({signame})")
        assistant.pipeline.stop_speaking()
        run.cancel()

    def hup() -> None:
        notifier.reloading()
        try:
            reload(assistant, config_path)
        except Exception:  # a reload must never take the daemon down
            _LOG.exception("reload failed; the running config and skills are kept")
        notifier.send(READY="1", STATUS=_status(assistant))

    handlers: dict[int, Callable[[], Any]] = {signal.SIGTERM: lambda: stop("SIGTERM"),
                                              signal.SIGINT: lambda: stop("SIGINT"), signal.SIGHUP: hup}
    for signum, handler in handlers.items():
        loop.add_signal_handler(signum, handler)
    notifier.ready(_status(assistant))
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await run
        if not stopping and run.cancelled():
            raise asyncio.CancelledError
    finally:
        for signum in handlers:
            loop.remove_signal_handler(signum)
        notifier.close()
    return not stopping


def _status(assistant: Assistant) -> str:
    models = ", ".join(assistant.engines.wake_models) or "no wake word"
    return f"listening for {models}"
