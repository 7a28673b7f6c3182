"""Skill callbacks at a time, persisted in the skill database so they survive a restart or a crash.

A job names a handler method of its skill and carries JSON data. Jobs that
came due while voicebox was down fire as soon as it starts. A *ringing* job
repeats its announcement every ``repeat_s`` until it is silenced (``stop``),
cancelled, or ``ring_until_s`` passes. The bookkeeping is clock-free (every
method takes ``now_s``); only :meth:`Scheduler.run` reads the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from voicebox.core.conversation import origin as conversation_origin
from voicebox.core.storage import Storage
from voicebox.skill import Job

__all__ = ["Scheduler"]

_LOG = logging.getLogger(__name__)
_COLUMNS = "id, skill, handler, due_s, data, ring_until_s, repeat_s, rings, origin"


def _job(row: tuple[Any, ...]) -> Job:
    return Job(id=row[0], skill=row[1], handler=row[2], due_s=row[3], data=json.loads(row[4]),
               ring_until_s=row[5], repeat_s=row[6], rings=row[7], origin=row[8])


class Scheduler:
    """Persistent timed callbacks over :class:`Storage` (thread-safe; wakes its loop on every change)."""

    def __init__(self, storage: Storage, *, clock: Callable[[], float] = time.time) -> None:
        self._storage = storage
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._watchers: list[Callable[[str, Job], None]] = []

    def watch(self, watcher: Callable[[str, Job], None]) -> None:
        """Call ``watcher(change, job)`` on the event loop for every job "scheduled", "cancelled" or "fired"."""
        self._watchers.append(watcher)

    def unwatch(self, watcher: Callable[[str, Job], None]) -> None:
        """Stop calling ``watcher``."""
        with contextlib.suppress(ValueError):
            self._watchers.remove(watcher)

    def _tell(self, change: str, job: Job) -> None:
        for watcher in list(self._watchers):
            if self._loop is None:
                watcher(change, job)
            else:
                with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is left to tell
                    self._loop.call_soon_threadsafe(watcher, change, job)

    def now_s(self) -> float:
        """Wall-clock seconds since the epoch (what ``due_s`` is measured in)."""
        return self._clock()

    def schedule(self, skill: str, handler: str, due_s: float, data: dict[str, Any] | None = None, *,
                 ring_until_s: float = 0.0, repeat_s: float = 0.0, origin: str = "") -> int:
        """Store a job; returns its id. ``origin`` is the conversation it rings in (see conversation.py)."""
        with self._storage.transaction() as db:
            cur = db.execute("INSERT INTO jobs (skill, handler, due_s, data, ring_until_s, repeat_s, origin) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (skill, handler, float(due_s), json.dumps(data or {}), float(ring_until_s), float(repeat_s),
                              origin))
            job_id = int(cur.lastrowid or 0)
        self._notify()
        if self._watchers:
            self._tell("scheduled", Job(id=job_id, skill=skill, handler=handler, due_s=float(due_s), data=data or {},
                                        ring_until_s=float(ring_until_s), repeat_s=float(repeat_s), rings=0,
                                        origin=origin))
        return job_id

    def cancel(self, skill: str, job_id: int) -> bool:
        """Remove one of ``skill``'s jobs; True if it existed."""
        with self._storage.transaction() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id=? AND skill=?", (job_id, skill)).fetchall()
            gone = db.execute("DELETE FROM jobs WHERE id=? AND skill=?", (job_id, skill)).rowcount > 0
        self._notify()
        if rows:
            self._tell("cancelled", _job(rows[0]))
        return gone

    def jobs(self, skill: str | None = None) -> list[Job]:
        """Pending jobs (of one skill, or all), soonest first."""
        if skill is None:
            rows = self._storage.query(f"SELECT {_COLUMNS} FROM jobs ORDER BY due_s, id")
        else:
            rows = self._storage.query(f"SELECT {_COLUMNS} FROM jobs WHERE skill=? ORDER BY due_s, id", (skill,))
        return [_job(r) for r in rows]

    def due(self, now_s: float) -> list[Job]:
        """Jobs whose time has come."""
        return [_job(r) for r in self._storage.query(f"SELECT {_COLUMNS} FROM jobs WHERE due_s <= ? ORDER BY due_s, id",
                                                     (now_s,))]

    def next_due_s(self) -> float | None:
        """When the soonest job is due, or None when there are none."""
        rows = self._storage.query("SELECT MIN(due_s) FROM jobs")
        return rows[0][0] if rows and rows[0][0] is not None else None

    def fired(self, job: Job, now_s: float) -> None:
        """After a job ran: a ringing job is re-armed ``repeat_s`` later until its limit; others are removed.

        The ringing window counts from the first ring, so a job that came due
        while voicebox was down still rings for its whole window.
        """
        next_s = now_s + job.repeat_s
        until_s = job.ring_until_s
        if job.rings == 1 and until_s > 0:
            until_s = now_s + (job.ring_until_s - job.due_s)
        with self._storage.transaction() as db:
            if job.repeat_s > 0 and next_s <= until_s:
                db.execute("UPDATE jobs SET due_s=?, ring_until_s=? WHERE id=?", (next_s, until_s, job.id))
            else:
                db.execute("DELETE FROM jobs WHERE id=?", (job.id,))

    def silence(self) -> int:
        """Stop every job that is ringing now (has rung at least once); returns how many."""
        with self._storage.transaction() as db:
            count = db.execute("DELETE FROM jobs WHERE rings > 0").rowcount
        self._notify()
        return count

    def _notify(self) -> None:
        if self._loop is not None and self._changed is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nothing left to wake
                self._loop.call_soon_threadsafe(self._changed.set)

    async def fire_due(self, fire: Callable[[Job], Awaitable[None]]) -> int:
        """Fire the jobs due now, once each, in their conversation (one step of :meth:`run`); returns how many."""
        due = self.due(self.now_s())
        for job in due:
            with self._storage.transaction() as db:  # ringing from now on: "stop" can silence it
                db.execute("UPDATE jobs SET rings=rings+1 WHERE id=?", (job.id,))
            ringing = dataclasses.replace(job, rings=job.rings + 1)
            try:
                with conversation_origin(job.origin):
                    await fire(ringing)
            except Exception:  # a failing callback must not stop the others
                _LOG.exception("scheduled callback %s.%s failed", job.skill, job.handler)
            self.fired(ringing, self.now_s())
            self._tell("fired", ringing)
        return len(due)

    async def run(self, fire: Callable[[Job], Awaitable[None]]) -> None:
        """Fire jobs as they come due (overdue ones at once), until cancelled."""
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        while True:
            self._changed.clear()
            await self.fire_due(fire)
            soonest = self.next_due_s()
            timeout = None if soonest is None else max(0.0, soonest - self.now_s())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)

    async def wait_idle(self) -> None:
        """Return once no job is pending (used by ``voicebox run --wait-timers``)."""
        while self.next_due_s() is not None:
            if self._changed is None:
                await asyncio.sleep(0.1)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.5)
