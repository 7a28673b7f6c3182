"""The one owner of background work: a worker thread per non-thread-safe model, and a TaskGroup of tasks.

* :class:`Worker` runs calls for one model (ASR, TTS, one stream's wake and
  VAD engines, a blocking reader) on one long-lived thread, in order, so a
  model that is not thread-safe is only ever used by one thread, and nothing
  starts a thread per call.
* :class:`Background` owns a set of asyncio tasks through an
  :class:`asyncio.TaskGroup` and ends them with one of two verbs: ``finish``
  (let them run to their end: drain the turn) or ``cancel`` (stop them now).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["Background", "Worker"]

T = TypeVar("T")


class Worker(concurrent.futures.ThreadPoolExecutor):
    """One named thread that runs the calls given to it one at a time, in the order given.

    It is an executor, so ``loop.run_in_executor(worker, ...)`` works too.
    """

    def __init__(self, name: str) -> None:
        super().__init__(1, thread_name_prefix=name)
        self.name = name

    async def run(self, func: Callable[[], T]) -> T:
        """``func()`` on this worker's thread; the caller's event loop keeps running meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(self, func)

    def close(self) -> None:
        """Drop the calls not started yet and let the thread end after the one running (never blocks)."""
        self.shutdown(wait=False, cancel_futures=True)


class Background:
    """Tasks owned by one :class:`asyncio.TaskGroup`, used as ``async with Background() as bg:``.

    Leaving the block cancels what is still running (``cancel``) unless
    ``finish`` was awaited first; a task's own failure cancels the others and
    the block, as a TaskGroup does, and is raised from the block as itself
    (not wrapped in an exception group) when it is the only one.
    """

    def __init__(self) -> None:
        self._group = asyncio.TaskGroup()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __aenter__(self) -> Background:
        await self._group.__aenter__()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, err: BaseException | None,
                        tb: TracebackType | None) -> bool | None:
        self.cancel()
        try:
            await self._group.__aexit__(kind, err, tb)
        except BaseExceptionGroup as group:  # one task failed: its own error, so callers catch it by type
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from group
            raise
        return None

    def start(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Run ``coro`` as a task of this group."""
        task = self._group.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def finish(self) -> None:
        """Wait until every task has ended by itself."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def cancel(self) -> None:
        """Stop every task now (each sees ``CancelledError`` at its next await)."""
        for task in list(self._tasks):
            task.cancel()
