"""The state folder (timers, lists: the database) is one daemon's: created private at start-up, and held with an
exclusive lock for as long as that daemon runs, so a second one on the same folder is refused, not run twice."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from voicebox.core.errors import CODE_STATE_IN_USE, StorageError
from voicebox.core.permissions import private_dir

__all__ = ["LOCK_NAME", "StateLock"]

LOCK_NAME = "voicebox.lock"


class StateLock:
    """An exclusive ``flock`` on ``<state folder>/voicebox.lock``, which holds the owner's pid (for the message).

    The kernel drops the lock when its holder exits, however it exits (SIGKILL included), so a stale lock file
    never blocks the next start.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = private_dir(folder, "the state folder")
        self.path = self.folder / LOCK_NAME
        try:
            self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as err:
            raise StorageError(f"cannot create the lock file {self.path}: {err.strerror or err}",
                               code=CODE_STATE_IN_USE) from err
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder()
            os.close(self._fd)
            self._fd = None
            raise StorageError(
                f"another voicebox{f' (pid {holder})' if holder else ''} is already running on the state folder "
                f"{self.folder}: stop it first (e.g. `systemctl --user stop voicebox`), or give this one its own "
                "folder with [paths] state_dir", code=CODE_STATE_IN_USE) from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def _holder(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            return str(int(os.pread(self._fd or -1, 32, 0).decode().strip()))
        return ""

    def release(self) -> None:
        """Give the folder up (closing the file drops the lock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
