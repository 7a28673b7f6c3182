"""The skill database: namespaces, atomic transactions, persistence, and a corrupt file moved aside."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from voicebox.core.errors import SkillError
from voicebox.core.storage import Storage


def test_namespaces_are_separate(tmp_path: Path) -> None:
    db = Storage(tmp_path / "v.db")
    a, b = db.namespace("a"), db.namespace("b")
    a.set("k", {"x": [1, 2]})
    b.set("k", "other")
    assert a.get("k") == {"x": [1, 2]} and b.get("k") == "other"
    assert a.items() == {"k": {"x": [1, 2]}}
    assert a.delete("k") and not a.delete("k")
    assert a.get("k", 7) == 7 and b.get("k") == "other"


def test_items_by_prefix(tmp_path: Path) -> None:
    store = Storage(tmp_path / "v.db").namespace("s")
    for key in ("timer:2", "timer:1", "next_id", "timer_x"):
        store.set(key, key)
    assert list(store.items("timer:")) == ["timer:1", "timer:2"]


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    store = Storage(tmp_path / "v.db").namespace("s")
    store.set("a", 1)
    with pytest.raises(RuntimeError), store.transaction():
        store.set("a", 2)
        store.set("b", 3)
        raise RuntimeError("boom")
    assert store.get("a") == 1 and store.get("b") is None


def test_survives_reopen_and_uses_wal(tmp_path: Path) -> None:
    db = Storage(tmp_path / "v.db")
    db.namespace("s").set("a", [1])
    assert db.query("PRAGMA journal_mode")[0][0] == "wal"
    db.close()
    assert Storage(tmp_path / "v.db").namespace("s").get("a") == [1]


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SkillError, match="not JSON-serializable"):
        Storage(tmp_path / "v.db").namespace("s").set("a", object())


def test_corrupt_database_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "v.db"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.ERROR):
        db = Storage(path)
    moved = list(tmp_path.glob("v.db.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes().startswith(b"this is not")
    assert "moved it to" in caplog.text and str(moved[0]) in caplog.text
    db.namespace("s").set("a", 1)
    assert db.namespace("s").get("a") == 1
