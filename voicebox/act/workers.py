"""One long-lived worker thread per skill: where its handlers run, fenced off from the daemon's event loop.

Each skill gets a thread running its own event loop. Synchronous handlers
run on that thread, ``async`` ones as tasks of that loop, so a handler that
blocks (``time.sleep`` in an ``async def``, a busy loop) stalls only its own
skill: the daemon's loop keeps hearing, timing and answering. Whatever a
handler raises, ``SystemExit``, ``KeyboardInterrupt`` and ``GeneratorExit``
included, comes back as a :class:`Failure` value, never as an exception in
the daemon.

The dispatcher times each call on its own loop. After a timeout it calls
:meth:`SkillWorker.quarantine`: the skill gets no more work, its running
``async`` handler is cancelled and a synchronous one is interrupted (an
exception raised in the worker thread, which ends pure-Python code such as
a busy loop; code blocked inside C ends when that call returns, and its
thread is left fenced off).

``ctx.speak`` from a handler is carried over to the daemon's loop (the
"home" loop the dispatcher awaited on), see :func:`on_home_loop`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import ctypes
import inspect
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Failure", "SkillWorker", "SkillWorkers", "on_home_loop"]

_LOG = logging.getLogger(__name__)
T = TypeVar("T")

_HOME: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar("voicebox_home_loop",
                                                                                        default=None)


class _Abandoned(BaseException):
    """Raised inside a worker thread whose skill was quarantined, to end the handler running there."""


@dataclass(frozen=True, slots=True)
class Failure:
    """What a handler raised (any :class:`BaseException`), handed back as a value."""

    error: BaseException


async def on_home_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Await ``make()`` on the daemon's loop when called from a skill worker's loop; else right here.

    Handlers and what they schedule inherit the home loop (a context variable),
    so a reminder set with ``loop.call_later`` inside a handler still speaks
    through the daemon.
    """
    home = _HOME.get()
    try:
        here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        here = None
    if home is None or home is here or home.is_closed():
        return await make()

    async def call() -> T:
        return await make()

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call(), home))


class SkillWorker:
    """The thread (and event loop) one skill's handlers run on."""

    def __init__(self, skill: str, *, start: bool = True) -> None:
        self.skill = skill
        self.quarantined = False
        self._closed = not start
        self._loop = asyncio.new_event_loop()
        self._running: concurrent.futures.Future[Any] | None = None
        self._task: asyncio.Task[Any] | None = None
        self._thread = threading.Thread(target=self._main, name=f"skill-{skill}", daemon=True)
        if start:
            self._thread.start()
        else:
            self._loop.close()

    @property
    def alive(self) -> bool:
        """The worker thread is still running (a quarantined one ends once its handler is interrupted)."""
        return self._thread.is_alive()

    def submit(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
        """Run ``method(*args, **kwargs)`` on this worker; the future's result is its return value or a Failure.

        Call from the daemon's loop; the caller's context variables (which
        conversation this is) go with the call.
        """
        home = asyncio.get_running_loop()
        if self._closed:
            stopped: asyncio.Future[Any] = home.create_future()
            stopped.set_result(Failure(RuntimeError(f"the {self.skill} skill's worker has stopped")))
            return stopped
        context = contextvars.copy_context()
        context.run(_HOME.set, home)
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if inspect.iscoroutinefunction(method):
            self._loop.call_soon_threadsafe(self._start_task, done, method, args, kwargs, context)
        else:
            self._loop.call_soon_threadsafe(self._run_sync, done, method, args, kwargs, context)
        return asyncio.wrap_future(done, loop=home)

    def quarantine(self) -> None:
        """Send no more work here and interrupt what is running (see the module docstring)."""
        self.quarantined = True
        with contextlib.suppress(RuntimeError):  # its loop is already closed: nothing runs there
            self._loop.call_soon_threadsafe(self._cancel_task)
        if self._running is not None and self._running.running():
            _raise_in_thread(self._thread, _Abandoned)
        self.close()

    def close(self) -> None:
        """Stop the worker's loop once the handler running now returns (pending callbacks are dropped)."""
        self._closed = True
        with contextlib.suppress(RuntimeError):  # already closed
            self._loop.call_soon_threadsafe(self._loop.stop)

    # --- on the worker thread ------------------------------------------------------------------------
    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        except _Abandoned:
            pass
        finally:
            with contextlib.suppress(BaseException):  # the thread's last act; nothing may escape it
                _close_loop(self._loop)

    def _run_sync(self, done: concurrent.futures.Future[Any], method: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any], context: contextvars.Context) -> None:
        if not done.set_running_or_notify_cancel():
            return
        self._running = done
        try:
            result: Any = context.run(method, *args, **kwargs)
        except _Abandoned:
            self._loop.stop()
            result = Failure(TimeoutError("abandoned after the timeout"))
        except BaseException as err:  # noqa: BLE001 - a skill's SystemExit or KeyboardInterrupt is its own failure
            result = Failure(err)
        finally:
            self._running = None
        done.set_result(result)

    def _start_task(self, done: concurrent.futures.Future[Any], method: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any], context: contextvars.Context) -> None:
        if not done.set_running_or_notify_cancel():
            return
        self._running = done

        async def guarded() -> Any:
            try:
                return await method(*args, **kwargs)
            except _Abandoned:
                self._loop.stop()
                return Failure(TimeoutError("abandoned after the timeout"))
            except BaseException as err:  # noqa: BLE001 - the skill's own exceptions, cancellation included
                return Failure(err)
            finally:
                self._running = None

        coro: Coroutine[Any, Any, Any] = guarded()
        task = self._loop.create_task(coro, name=f"skill-{self.skill}", context=context)
        self._task = task
        task.add_done_callback(lambda t: done.set_result(t.result() if not t.cancelled() else
                                                         Failure(TimeoutError("cancelled"))))

    def _cancel_task(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


class SkillWorkers:
    """Every skill's worker, by skill name: the one owner of the threads handlers run on.

    Shared across reloads (SIGHUP), so work a skill scheduled on its own
    loop (``loop.call_later``) survives a reload; a quarantined skill gets a
    fresh worker when it is loaded again.
    """

    def __init__(self) -> None:
        self._workers: dict[str, SkillWorker] = {}
        self._lock = threading.Lock()
        self._closed = False

    def get(self, skill: str) -> SkillWorker:
        """The skill's worker (started on first use; once these workers are closed, a stopped one)."""
        with self._lock:
            worker = self._workers.get(skill)
            if worker is None:
                worker = self._workers[skill] = SkillWorker(skill, start=not self._closed)
            return worker

    def renew(self, skills: list[str]) -> None:
        """Give each of ``skills`` that was quarantined a fresh worker (it was just loaded again)."""
        with self._lock:
            for name in skills:
                if name in self._workers and self._workers[name].quarantined:
                    del self._workers[name]

    def close(self) -> None:
        """Stop every worker (without waiting for handlers still running); later work gets an error reply."""
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
        for worker in workers:
            worker.close()


def _raise_in_thread(thread: threading.Thread, error: type[BaseException]) -> None:
    """Raise ``error`` in ``thread`` at its next Python instruction (CPython only; elsewhere it stays fenced off)."""
    if thread.ident is None or sys.implementation.name != "cpython":
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(error))


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the skill left running on its loop, let it unwind, close the loop."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.wait(tasks, timeout=1.0))
    loop.close()
