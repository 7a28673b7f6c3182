"""Persistent skill data: one SQLite database (WAL, transactions), each skill in its own namespace.

Values are stored as JSON. Writes are atomic: each call is one transaction,
and ``with store.transaction():`` groups several (the scheduler shares the
same connection, so a skill can update its data and its scheduled callbacks
together). A database that cannot be read is moved aside, with a logged
message naming both files, and a fresh one is started.
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
from voicebox.core.errors import CODE_STORAGE_VALUE, SkillError

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


class Storage:
    """The one database; thread-safe (handlers run in worker threads), one connection behind a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as err:
            moved = f"{self.path}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
            Path(self.path).rename(moved)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(self.path + suffix).rename(moved + suffix)
            _LOG.error("skill database %s is unreadable (%s); moved it to %s and started a new one",
                       self.path, err, moved)
            self._db = self._open()

    @classmethod
    def for_config(cls, config: Config) -> Storage:
        """The database at <state dir>/voicebox.db."""
        return cls(default_state_dir(config) / "voicebox.db")

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10.0)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            row = db.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {row[0] if row else 'no answer'}")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
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
            self._db.execute("BEGIN IMMEDIATE")
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
        """Close the connection (checkpoints the WAL)."""
        with self._lock:
            self._db.close()


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
