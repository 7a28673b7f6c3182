"""The persistent scheduler: due jobs, ringing repeats and limits, silence, and jobs surviving a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from voicebox.act.scheduler import Scheduler
from voicebox.core.storage import Storage
from voicebox.skill import Job


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_due_and_one_shot(tmp_path: Path) -> None:
    clock = Clock()
    s = Scheduler(Storage(tmp_path / "v.db"), clock=clock)
    first = s.schedule("timers", "ring", 1010.0, {"timer": 1})
    s.schedule("timers", "ring", 1020.0, {"timer": 2})
    assert s.next_due_s() == 1010.0
    assert s.due(1005.0) == []
    [job] = s.due(1010.0)
    assert (job.id, job.data) == (first, {"timer": 1})
    s.fired(job, 1010.0)
    assert [j.data["timer"] for j in s.jobs()] == [2]


def test_ringing_repeats_until_limit(tmp_path: Path) -> None:
    s = Scheduler(Storage(tmp_path / "v.db"), clock=Clock())
    s.schedule("timers", "ring", 1000.0, ring_until_s=1030.0, repeat_s=10.0)
    times = []
    now = 1000.0
    while (due := s.due(now)):
        times.append(now)
        s.fired(due[0], now)
        now = s.next_due_s() or 1e9
    assert times == [1000.0, 1010.0, 1020.0, 1030.0]
    assert s.jobs() == []


def test_cancel_only_own_skill(tmp_path: Path) -> None:
    s = Scheduler(Storage(tmp_path / "v.db"), clock=Clock())
    job = s.schedule("timers", "ring", 1000.0)
    assert not s.cancel("lists", job)
    assert s.cancel("timers", job)
    assert s.jobs() == []


def test_jobs_survive_restart_and_overdue_fire_at_start(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "v.db")
    Scheduler(storage, clock=Clock()).schedule("timers", "ring", 1005.0, {"timer": 9}, origin="kitchen")
    storage.close()  # the daemon goes away

    fired: list[Job] = []
    later = Scheduler(Storage(tmp_path / "v.db"), clock=Clock(2000.0))

    async def run_briefly() -> None:
        done = asyncio.Event()

        async def fire(job: Job) -> None:
            fired.append(job)
            done.set()

        task = asyncio.create_task(later.run(fire))
        await done.wait()
        task.cancel()

    asyncio.run(run_briefly())
    assert [(j.data, j.rings, j.origin) for j in fired] == [({"timer": 9}, 1, "kitchen")]
    assert later.jobs() == []


def test_silence_stops_only_ringing_jobs(tmp_path: Path) -> None:
    s = Scheduler(Storage(tmp_path / "v.db"), clock=Clock())
    s.schedule("timers", "ring", 1000.0, ring_until_s=1100.0, repeat_s=10.0)
    waiting = s.schedule("timers", "ring", 1500.0, ring_until_s=1600.0, repeat_s=10.0)
    [job] = s.due(1000.0)
    with s._storage.transaction() as db:  # what run() does before firing: it is ringing now
        db.execute("UPDATE jobs SET rings=rings+1 WHERE id=?", (job.id,))
    s.fired(job, 1000.0)
    assert s.silence() == 1
    assert [j.id for j in s.jobs()] == [waiting]
