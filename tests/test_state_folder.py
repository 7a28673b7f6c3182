"""The state folder and its database under a second program, a second daemon, a missing or read-only folder:
a lock is waited for and refused (never "corrupt"), a second daemon is refused, folders are created private,
and a folder voicebox cannot use is one line of error."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from daemon_proc import DaemonProc

from voicebox.core.errors import CODE_STATE_IN_USE, CODE_STORAGE_LOCKED, StorageError
from voicebox.core.state import StateLock
from voicebox.core.storage import Storage

_HOLD_DB = ("import sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "db.execute(\"INSERT OR REPLACE INTO kv VALUES ('other', 'k', '1')\")\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n")

_HOLD_FOLDER = ("import sys\n"
                "from pathlib import Path\n"
                "from voicebox.core.state import StateLock\n"
                "lock = StateLock(Path(sys.argv[1]))\n"
                "print('locked', flush=True)\n"
                "sys.stdin.read()\n")


def _holding(code: str, path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=os.environ.copy())
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


@pytest.fixture()
def held_db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "voicebox.db"
    db = Storage(path)
    db.namespace("timers").set("timer:1", {"label": "tea"})
    db.close()
    proc = _holding(_HOLD_DB, path)
    try:
        yield path
    finally:
        proc.communicate("")


def test_a_database_locked_by_another_program_is_refused_not_moved_aside(held_db: Path) -> None:
    with pytest.raises(StorageError) as caught:
        Storage(held_db, busy_timeout_s=0.5)
    assert caught.value.code == CODE_STORAGE_LOCKED
    assert str(held_db) in caught.value.message and "locked by another program" in caught.value.message
    assert list(held_db.parent.glob("*.corrupt-*")) == []


def test_after_the_lock_the_data_is_all_there(tmp_path: Path) -> None:
    path = tmp_path / "voicebox.db"
    db = Storage(path)
    db.namespace("timers").set("timer:1", {"label": "tea"})
    db.close()
    proc = _holding(_HOLD_DB, path)
    with pytest.raises(StorageError):
        Storage(path, busy_timeout_s=0.2)
    proc.communicate("")
    again = Storage(path)
    assert again.namespace("timers").get("timer:1") == {"label": "tea"}
    assert list(tmp_path.glob("*.corrupt-*")) == []


def _state_config(tmp_path: Path, folder: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[paths]\nstate_dir = "{folder}"\n')
    return cfg


def test_the_daemon_on_a_locked_database_says_so_in_one_line(tmp_path: Path, held_db: Path) -> None:
    proc = run_cli("run", "--config", str(_state_config(tmp_path, held_db.parent)), "--input", "-", "--output",
                   "none", input=b"")
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("voicebox:")]
    assert len(lines) == 1 and "locked by another program" in lines[0] and str(held_db) in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(held_db.parent.glob("*.corrupt-*")) == []


def test_a_second_holder_of_the_state_folder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    first = _holding(_HOLD_FOLDER, folder)
    try:
        with pytest.raises(StorageError) as caught:
            StateLock(folder)
        assert caught.value.code == CODE_STATE_IN_USE
        assert f"pid {first.pid}" in caught.value.message and str(folder) in caught.value.message
    finally:
        first.communicate("")
    StateLock(folder).release()  # free again once the first has gone


def test_a_killed_daemon_leaves_no_stale_lock(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    first = _holding(_HOLD_FOLDER, folder)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert (folder / "voicebox.lock").exists()
    StateLock(folder).release()


@pytest.mark.slow
def test_a_second_daemon_on_the_same_state_folder_is_refused(tmp_path: Path, model_store: object) -> None:
    folder = tmp_path / "state"
    cfg = _state_config(tmp_path, folder)
    daemon = DaemonProc("--config", str(cfg))
    try:
        daemon.wait_for(lambda e: e["event"] == "ready", 300)
        second = run_cli("run", "--config", str(cfg), "--input", "-", "--output", "none", input=b"")
        assert second.returncode == 1
        lines = [line for line in second.stderr.splitlines() if line.startswith("voicebox:")]
        assert len(lines) == 1 and "already running on the state folder" in lines[0], second.stderr
        assert f"pid {daemon.proc.pid}" in lines[0]
        assert daemon.proc.poll() is None  # the first goes on
    finally:
        assert daemon.close() == 0, "".join(daemon.stderr[-10:])


def test_a_missing_state_folder_is_created_private_whatever_the_umask(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b" / "state"
    old = os.umask(0o022)
    try:
        StateLock(folder).release()
    finally:
        os.umask(old)
    for made in (tmp_path / "a", tmp_path / "a" / "b", folder):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
    assert stat.S_IMODE((folder / "voicebox.lock").stat().st_mode) == 0o600


def test_an_existing_state_folder_keeps_its_mode_and_an_unsafe_one_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    StateLock(folder).release()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    folder.chmod(0o777)
    with pytest.raises(StorageError, match="others can write to it"):
        StateLock(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777


def _can_mount_read_only() -> bool:
    if os.getuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode == 0


def _read_only_run(folder: Path, cfg: Path) -> subprocess.CompletedProcess[str]:
    """``voicebox run`` with ``folder`` read-only: a read-only bind mount as root, else mode 0500."""
    argv = [sys.executable, "-m", "voicebox", "run", "--config", str(cfg), "--input", "-", "--output", "none"]
    if _can_mount_read_only():
        script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
        argv = ["unshare", "-m", "sh", "-c", script, str(folder), *argv]
    elif os.getuid() != 0:
        folder.chmod(0o500)
    else:
        pytest.skip("root here, and no mount namespace to make a folder read-only")
    return subprocess.run(argv, capture_output=True, text=True, input="", timeout=300, check=False)


@pytest.mark.parametrize("where", ["state", "parent"])
def test_a_read_only_state_folder_is_one_line_of_error(tmp_path: Path, where: str) -> None:
    parent = tmp_path / "ro"
    parent.mkdir(mode=0o700)
    folder = parent / "state"
    if where == "state":
        folder.mkdir(mode=0o700)
    proc = _read_only_run(folder if where == "state" else parent, _state_config(tmp_path, folder))
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("voicebox: error:") and str(folder) in lines[0], proc.stderr
    assert ("read-only" in lines[0].lower() or "Read-only" in lines[0]), lines[0]


@pytest.mark.slow
def test_the_demo_runs_beside_a_daemon_that_holds_the_state_folder(tmp_path: Path, model_store: object) -> None:
    folder = tmp_path / "state"
    holder = _holding(_HOLD_FOLDER, folder)
    try:
        proc = run_cli("demo", "-o", str(tmp_path / "reply.wav"), "--config", str(_state_config(tmp_path, folder)))
    finally:
        holder.communicate("")
    assert proc.returncode == 0, proc.stderr
    assert not (folder / "voicebox.db").exists()  # the demo kept its skill data in memory
