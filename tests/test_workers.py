"""The one owner of background work: model workers and the TaskGroup of tasks."""

from __future__ import annotations

import asyncio
import os
import threading

import numpy as np
import pytest

from voicebox.audio_io.sources import StdinSource
from voicebox.core.audio import BLOCK_SAMPLES
from voicebox.core.workers import Background, Worker


def test_a_worker_runs_every_call_on_its_one_thread_in_order() -> None:
    worker = Worker("model")
    seen: list[tuple[int, str]] = []

    async def main() -> None:
        for n in range(20):
            await worker.run(lambda n=n: seen.append((n, threading.current_thread().name)))

    asyncio.run(main())
    worker.close()
    assert [n for n, _ in seen] == list(range(20))
    assert len({name for _, name in seen}) == 1 and seen[0][1].startswith("model")
    assert seen[0][1] != threading.main_thread().name


def test_a_closed_worker_drops_what_has_not_started() -> None:
    worker = Worker("model")
    gate = threading.Event()
    started = threading.Event()

    def blocked() -> None:
        started.set()
        gate.wait(60)

    worker.submit(blocked)
    later = worker.submit(lambda: "ran")
    assert started.wait(60)
    worker.close()
    gate.set()
    assert later.cancelled()
    with pytest.raises(RuntimeError):
        worker.submit(lambda: None)


def test_background_finish_waits_and_cancel_stops() -> None:
    done: list[str] = []

    async def main() -> None:
        forever = asyncio.Event()
        async with Background() as bg:
            bg.start(asyncio.sleep(0.01), name="short")
            await bg.finish()
            assert not bg._tasks
            task = bg.start(forever.wait(), name="forever")
            bg.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            done.append("left")

    asyncio.run(main())
    assert done == ["left"]


def test_a_failed_background_task_is_raised_as_itself_and_cancels_the_block() -> None:
    async def fail() -> None:
        raise ValueError("disk on fire")

    async def main() -> None:
        async with Background() as bg:
            bg.start(fail(), name="failing")
            await asyncio.Event().wait()  # the failure cancels this wait

    with pytest.raises(ValueError, match="disk on fire"):
        asyncio.run(main())


def test_stdin_is_read_by_one_thread_for_the_whole_stream() -> None:
    read_fd, write_fd = os.pipe()
    chunks = 40
    payload = np.arange(BLOCK_SAMPLES, dtype=np.int16).tobytes()

    def writer() -> None:
        with os.fdopen(write_fd, "wb", buffering=0) as out:
            for _ in range(chunks):
                out.write(payload)

    readers: set[threading.Thread] = set()
    earlier = set(threading.enumerate())  # other tests' readers may still be blocked on their own pipes

    async def main() -> int:
        n = 0
        with os.fdopen(read_fd, "rb", buffering=0) as stream:
            async for _ in StdinSource(stream).blocks():
                readers.update(t for t in threading.enumerate() if t.name == "stdin-read" and t not in earlier)
                n += 1
        return n

    thread = threading.Thread(target=writer)
    thread.start()
    blocks = asyncio.run(main())
    thread.join(60)
    assert blocks >= chunks
    assert len(readers) == 1, readers
