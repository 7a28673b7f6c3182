"""Persistent skill data: one SQLite database (WAL, transactions), each skill in its own namespace.

Values are stored as JSON. Writes are atomic: each call is one transaction,
and ``with store.transaction():`` groups several (the scheduler shares the
same connection, so a skill can update its data and its scheduled callbacks
together). Only a database that is damaged (not a database, or failing
SQLite's integrity check) is moved aside, with a logged message naming both
files, and a fresh one started; one that another program holds locked is
waited for (the busy timeout) and then refused with a message, never touched.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voicebox.core.config import Config
from voicebox.core.errors import CODE_STORAGE_LOCKED, CODE_STORAGE_OPEN, CODE_STORAGE_VALUE, SkillError, StorageError
from voicebox.core.state import StateLock

__all__ = ["SkillStore", "Storage", "default_state_dir"]

_LOG = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (skill TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                               PRIMARY KEY (skill, key));
CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, skill TEXT NOT NULL, handler TEXT NOT NULL,
                                 due_s REAL NOT NULL, data TEXT NOT NULL, ring_until_s REAL NOT NULL DEFAULT 0,
                                 repeat_s REAL NOT NULL DEFAULT 0, rings INTEGER NOT NULL DEFAULT 0,
                                 origin TEXT NOT NULL DEFAULT '');
"""


def default_state_dir(config: Config) -> Path:
    """``[paths] state_dir`` or <XDG state dir>/voicebox."""
    if config.paths.state_dir:
        return Path(config.paths.state_dir).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("voicebox"))


_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class DamagedDatabase(sqlite3.DatabaseError):
    """The file is not a database, or fails SQLite's integrity check: the one case that is moved aside."""


def _primary_code(err: sqlite3.Error) -> int:
    return (getattr(err, "sqlite_errorcode", 0) or 0) & 0xFF


def _is_busy(err: sqlite3.Error) -> bool:
    return _primary_code(err) in _BUSY or "locked" in str(err)


class Storage:
    """The one database; thread-safe (handlers run in worker threads), one connection behind a lock.

    ``busy_timeout_s`` is how long a call waits for another program's lock
    on the file before it fails with :class:`StorageError`. ``lock``, when
    given, is the state folder's lock, released by :meth:`close`.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 10.0, lock: StateLock | None = None) -> None:
        self.path = str(path)
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.RLock()
        self._depth = 0
        self._state_lock = lock
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open_or_move_aside()
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    def _open_or_move_aside(self) -> sqlite3.Connection:
        try:
            return self._open()
        except DamagedDatabase as err:
            moved = f"{self.path}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
            Path(self.path).rename(moved)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(self.path + suffix).rename(moved + suffix)
            _LOG.error("skill database %s is damaged (%s); moved it to %s and started a new one",
                       self.path, err, moved)
            return self._open()

    @classmethod
    def for_config(cls, config: Config) -> Storage:
        """The database at <state dir>/voicebox.db, the state folder created (0700) and locked for this process."""
        folder = default_state_dir(config)
        return cls(folder / "voicebox.db", lock=StateLock(folder))

    def _refuse(self, err: sqlite3.Error) -> StorageError:
        if _is_busy(err):
            return StorageError(
                f"the skill database {self.path} is locked by another program (waited {self.busy_timeout_s:g} s): "
                f"close it (`fuser {self.path}` shows who holds it) and start voicebox again; the file is untouched",
                code=CODE_STORAGE_LOCKED)
        return StorageError(f"cannot open the skill database {self.path}: {err}", code=CODE_STORAGE_OPEN)

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                 timeout=self.busy_timeout_s)
        except sqlite3.Error as err:
            raise self._refuse(err) from err
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            row = db.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise DamagedDatabase(f"integrity check failed: {row[0] if row else 'no answer'}")
            db.executescript(_SCHEMA)
        except DamagedDatabase:
            db.close()
            raise
        except sqlite3.Error as err:
            db.close()
            if _primary_code(err) in _DAMAGED and not _is_busy(err):
                raise DamagedDatabase(str(err)) from err
            raise self._refuse(err) from err
        return db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside happen together or not at all (nested use joins the outer transaction)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                raise self._refuse(err) from err
            self._depth = 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def namespace(self, skill: str) -> SkillStore:
        """The key-value store of one skill."""
        return SkillStore(self, skill)

    def close(self) -> None:
        """Close the connection (checkpoints the WAL), then give up the state folder."""
        with self._lock:
            self._db.close()
            if self._state_lock is not None:
                self._state_lock.release()


class SkillStore:
    """One skill's persistent key-value data; values are anything JSON can hold."""

    def __init__(self, storage: Storage, skill: str) -> None:
        self._storage = storage
        self._skill = skill

    def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""
        rows = self._storage.query("SELECT value FROM kv WHERE skill=? AND key=?", (self._skill, key))
        return json.loads(rows[0][0]) if rows else default

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serializable) under ``key``."""
        try:
            text = json.dumps(value)
        except (TypeError, ValueError) as err:
            raise SkillError(f"skill {self._skill}: value for {key!r} is not JSON-serializable: {err}",
                             code=CODE_STORAGE_VALUE) from err
        with self._storage.transaction() as db:
            db.execute("INSERT OR REPLACE INTO kv (skill, key, value) VALUES (?, ?, ?)", (self._skill, key, text))

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it existed."""
        with self._storage.transaction() as db:
            return db.execute("DELETE FROM kv WHERE skill=? AND key=?", (self._skill, key)).rowcount > 0

    def items(self, prefix: str = "") -> dict[str, Any]:
        """Every key (starting with ``prefix``) and its value, in key order."""
        rows = self._storage.query("SELECT key, value FROM kv WHERE skill=? AND substr(key, 1, ?) = ? ORDER BY key",
                                   (self._skill, len(prefix), prefix))
        return {k: json.loads(v) for k, v in rows}

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """Group several writes (including scheduling) into one atomic change."""
        return self._storage.transaction()
