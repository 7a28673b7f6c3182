"""The context handed to each skill: settings, storage, scheduling, and the assistant's voice and volume.

The assistant side sits behind a small :class:`Host` (the running pipeline,
or :class:`LocalHost` for ``voicebox intent`` and tests), so skills see the
same :class:`~voicebox.skill.Context` everywhere.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from voicebox.act.scheduler import Scheduler
from voicebox.act.workers import SkillWorkers, on_home_loop
from voicebox.core.config import Config
from voicebox.core.conversation import current_origin
from voicebox.core.storage import SkillStore, Storage
from voicebox.skill import Job

__all__ = ["Host", "LocalHost", "PipelineHost", "SkillContext", "SkillServices"]


class Host(Protocol):
    """What the assistant offers skills: its voice, stopping, volume, and what it said last."""

    volume: float
    last_reply: str

    async def say(self, text: str) -> Any:
        """Speak ``text`` now."""
        ...

    def stop_speaking(self) -> None:
        """Cut off current speech (called from any thread)."""
        ...


class LocalHost:
    """A host without audio of its own: remembers what was said and the volume (``voicebox intent``, tests)."""

    def __init__(self, volume: float = 1.0, speak: Callable[[str], Awaitable[Any]] | None = None) -> None:
        self.volume = volume
        self.last_reply = ""
        self.said: list[str] = []
        self._speak = speak

    async def say(self, text: str) -> None:
        """Record ``text`` as said (and pass it on to ``speak`` when given)."""
        self.said.append(text)
        self.last_reply = text
        if self._speak is not None:
            await self._speak(text)

    def stop_speaking(self) -> None:
        """Nothing is playing."""


class PipelineHost:
    """Forwards to a running pipeline; safe to call from handler threads."""

    def __init__(self, speak: Callable[[str], Awaitable[Any]] | None = None) -> None:
        self.pipeline: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fallback = LocalHost()
        self._speak = speak

    def attach(self, pipeline: Any, loop: asyncio.AbstractEventLoop) -> None:
        """Start forwarding to ``pipeline`` (whose tasks run on ``loop``)."""
        self.pipeline = pipeline
        self._loop = loop

    @property
    def _target(self) -> Any:
        return self.pipeline if self.pipeline is not None else self._fallback

    @property
    def volume(self) -> float:
        """The pipeline's output volume."""
        return float(self._target.volume)

    @volume.setter
    def volume(self, value: float) -> None:
        self._target.volume = value

    @property
    def last_reply(self) -> str:
        """The pipeline's last spoken text."""
        return str(self._target.last_reply)

    @last_reply.setter
    def last_reply(self, value: str) -> None:
        self._target.last_reply = value

    async def say(self, text: str) -> Any:
        """Speak through ``speak`` (which may route to a satellite), else the pipeline."""
        if self._speak is not None:
            return await self._speak(text)
        return await self._target.say(text)

    def stop_speaking(self) -> None:
        """Cancel the reply on the pipeline's own loop."""
        if self.pipeline is None or self._loop is None:
            return
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self.pipeline.stop_speaking()
        else:
            self._loop.call_soon_threadsafe(self.pipeline.stop_speaking)


class SkillContext:
    """One skill's :class:`~voicebox.skill.Context`."""

    def __init__(self, skill_name: str, settings: Mapping[str, Any], storage: Storage, scheduler: Scheduler,
                 host: Host, examples: Callable[[], dict[str, tuple[str, ...]]]) -> None:
        self._name = skill_name
        self._settings = dict(settings)
        self._store = storage.namespace(skill_name)
        self._scheduler = scheduler
        self._host = host
        self._examples = examples

    @property
    def skill_name(self) -> str:
        """The skill's name."""
        return self._name

    @property
    def settings(self) -> Mapping[str, Any]:
        """The skill's ``[skill.NAME]`` config table."""
        return self._settings

    @property
    def store(self) -> SkillStore:
        """The skill's persistent data."""
        return self._store

    def now(self) -> dt.datetime:
        """Local time, timezone-aware."""
        return dt.datetime.fromtimestamp(self._scheduler.now_s()).astimezone()

    async def speak(self, text: str) -> None:
        """Say ``text`` now (on the daemon's loop, also when called from the skill's own worker)."""
        await on_home_loop(lambda: self._host.say(text))

    def schedule(self, at: dt.datetime | float, handler: str, data: dict[str, Any] | None = None, *,
                 ring_for_s: float = 0.0, repeat_s: float = 0.0) -> int:
        """Schedule ``handler(ctx, job)``; see :meth:`voicebox.skill.Context.schedule`."""
        due_s = at.timestamp() if isinstance(at, dt.datetime) else self._scheduler.now_s() + float(at)
        ring_until = due_s + ring_for_s if ring_for_s > 0 else 0.0
        return self._scheduler.schedule(self._name, handler, due_s, data, ring_until_s=ring_until,
                                        repeat_s=repeat_s if ring_for_s > 0 else 0.0, origin=current_origin())

    def cancel(self, job_id: int) -> bool:
        """Cancel one of this skill's jobs."""
        return self._scheduler.cancel(self._name, job_id)

    def scheduled(self) -> list[Job]:
        """This skill's pending jobs."""
        return self._scheduler.jobs(self._name)

    def stop(self) -> None:
        """Stop speech and silence ringing alarms."""
        self._scheduler.silence()
        self._host.stop_speaking()

    @property
    def volume(self) -> float:
        """Current output volume."""
        return float(self._host.volume)

    def set_volume(self, volume: float) -> float:
        """Set the output volume, clamped to 0.0-2.0."""
        value = round(min(2.0, max(0.0, float(volume))), 2)
        self._host.volume = value
        return value

    @property
    def last_reply(self) -> str:
        """What voicebox said last."""
        return self._host.last_reply

    def examples(self) -> dict[str, tuple[str, ...]]:
        """Example sentences of every loaded skill."""
        return self._examples()


@dataclass(slots=True)
class SkillServices:
    """What every skill context shares: the database, the scheduler, the host, the example sentences, and the
    worker threads the skills' handlers run on."""

    storage: Storage
    scheduler: Scheduler
    host: Host
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    workers: SkillWorkers = field(default_factory=SkillWorkers)

    @classmethod
    def in_memory(cls, speak: Callable[[str], Awaitable[Any]] | None = None) -> SkillServices:
        """A throwaway database and an audio-less host (``voicebox intent``, recognition-only uses, tests)."""
        storage = Storage(":memory:")
        return cls(storage, Scheduler(storage), LocalHost(speak=speak))

    @classmethod
    def for_config(cls, config: Config, host: Host) -> SkillServices:
        """The persistent database in the state directory (the daemon)."""
        storage = Storage.for_config(config)
        return cls(storage, Scheduler(storage), host)

    def context(self, name: str, settings: Mapping[str, Any]) -> SkillContext:
        """The context of skill ``name`` with its checked ``[skill.NAME]`` settings."""
        return SkillContext(name, settings, self.storage, self.scheduler, self.host, lambda: dict(self.examples))

    def close(self) -> None:
        """Stop the skills' workers, then close the database."""
        self.workers.close()
        self.storage.close()
