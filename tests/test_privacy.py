"""Privacy, verified: no network beyond loopback at run time, audio kept only when asked (0700, capped),
private control sockets, and skills only from directories that are the user's own."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, run_cli
from spoken import concat_wavs, events_of

from voicebox.act.loader import discover
from voicebox.audio_io.recorder import DebugRecorder
from voicebox.core.audio import read_wav
from voicebox.core.config import config_from_dict
from voicebox.core.errors import StorageError

GUARD = REPO / "tests" / "netguard"
WAKE = "wyoming-openwakeword/hey_jarvis.wav"
COMMAND = "speech-to-phrase/en/what time is it.wav"


def _guard_env(log: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(GUARD), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "NETGUARD_LOG": str(log)}


def test_the_guard_catches_a_non_loopback_connection(tmp_path: Path) -> None:
    # the control: the same guard that watches voicebox below does record and refuse real attempts
    log = tmp_path / "net.log"
    code = ("import socket\n"
            "for target in [('192.0.2.1', 80), ('example.org', 443)]:\n"
            "    try: socket.create_connection(target, timeout=1)\n"
            "    except OSError: pass\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "try: s.sendto(b'x', ('198.51.100.7', 53))\n"
            "except OSError: pass\n"
            "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))\n")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **_guard_env(log)}, check=False,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = log.read_text().splitlines()
    assert len(lines) == 3, lines  # two lookups and one datagram; loopback is allowed
    assert "192.0.2.1" in lines[0] and "example.org" in lines[1] and "198.51.100.7" in lines[2]


@pytest.fixture()
def spoken_command(tmp_path: Path, shared_audio: Path) -> Path:
    return concat_wavs(tmp_path / "command.wav", 0.5, shared_audio / WAKE, shared_audio / COMMAND, 1.5)


def _answered(stdout: str) -> bool:
    return any(e["event"] == "intent" and e["intent"] == "GetTime" for e in events_of(stdout))


@pytest.mark.slow
def test_pipeline_opens_no_network_connection(tmp_path: Path, spoken_command: Path, model_store: object) -> None:
    log = tmp_path / "net.log"
    proc = run_cli("run", "--input", str(spoken_command), "--output", str(tmp_path / "reply.wav"), "--json",
                   env=_guard_env(log))
    assert proc.returncode == 0, proc.stderr
    assert _answered(proc.stdout), proc.stdout
    assert not log.exists() or log.read_text() == "", log.read_text()
    assert len(read_wav(tmp_path / "reply.wav")) > 8000  # and it spoke


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _can_unshare(), reason="`unshare -n` is not permitted here (needs root or user namespaces)")
def test_pipeline_answers_without_any_network(tmp_path: Path, spoken_command: Path, model_store: object) -> None:
    log = tmp_path / "net.log"
    proc = run_cli("run", "--input", str(spoken_command), "--output", "none", "--json", env=_guard_env(log),
                   prefix=("unshare", "-n"))
    assert proc.returncode == 0, proc.stderr
    assert _answered(proc.stdout), proc.stdout
    assert not log.exists() or log.read_text() == "", log.read_text()


def test_debug_recordings_are_off_by_default() -> None:
    assert DebugRecorder.from_config(config_from_dict({})) is None


def test_debug_recordings_are_private_and_capped(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "rec"  # created by voicebox: private
    config = config_from_dict({"debug": {"record_dir": str(folder), "record_max_mb": 1.0}})
    recorder = DebugRecorder.from_config(config)
    assert recorder is not None
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    turn = (np.sin(np.arange(16000 * 10) / 7) * 3000).astype(np.int16)  # 10 s = 320 kB per file
    paths = [recorder(turn) for _ in range(5)]
    kept = sorted(folder.iterdir())
    assert sum(p.stat().st_size for p in kept) <= 1024 * 1024
    assert len(kept) == 3 and kept == sorted(p for p in paths[-3:] if p)  # the oldest went first
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
    assert np.array_equal(read_wav(kept[-1]), turn)


def test_an_existing_record_dir_of_yours_is_used_and_its_mode_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    folder.chmod(0o755)
    recorder = DebugRecorder.from_config(config_from_dict({"debug": {"record_dir": str(folder)}}))
    assert recorder is not None
    saved = recorder(np.zeros(1600, np.int16))
    assert saved is not None and stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # not voicebox's to change


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o775])
def test_a_shared_record_dir_is_refused_and_left_as_it_is(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(mode)
    with pytest.raises(StorageError) as caught:
        DebugRecorder.from_config(config_from_dict({"debug": {"record_dir": str(folder)}}))
    assert str(folder) in caught.value.message and "others can write to it" in caught.value.message
    assert stat.S_IMODE(folder.stat().st_mode) == mode and list(folder.iterdir()) == []


def test_a_shared_record_dir_stops_the_daemon_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[debug]\nrecord_dir = "{folder}"\n')
    proc = run_cli("run", "--config", str(cfg), "--input", "-", "--output", "none", input=b"")
    lines = [line for line in proc.stderr.splitlines() if line.startswith("voicebox:")]
    assert proc.returncode == 1 and len(lines) == 1 and "refusing to use the debug recordings folder" in lines[0], \
        proc.stderr
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777


@pytest.mark.slow
def test_daemon_records_turns_only_when_configured(tmp_path: Path, spoken_command: Path, model_store: object) -> None:
    folder = tmp_path / "debug"
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[debug]\nrecord_dir = "{folder}"\n')
    proc = run_cli("run", "--config", str(cfg), "--input", str(spoken_command), "--output", "none", "--json")
    assert proc.returncode == 0, proc.stderr
    files = list(folder.iterdir())
    assert len(files) == 1 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert 0.5 < len(read_wav(files[0])) / 16000 < 4  # the command, not the whole stream


def test_unix_control_socket_is_owner_only(tmp_path: Path) -> None:
    from voicebox.remote.connection import start_server

    path = tmp_path / "voicebox.sock"

    async def listen() -> int:
        server = await start_server(f"unix://{path}", lambda r, w: None)
        try:
            return stat.S_IMODE(path.stat().st_mode)
        finally:
            await server.stop()

    assert asyncio.run(listen()) == 0o600


def _make_skill(root: Path) -> Path:
    folder = root / "hello"
    (folder / "sentences").mkdir(parents=True)
    (folder / "__init__.py").write_text(
        "from voicebox.skill import Skill, intent\n\n"
        "class Hello(Skill):\n"
        "    @intent('SayHello')\n"
        "    def hello(self, ctx):\n"
        "        return 'hello there'\n")
    (folder / "sentences" / "en.yaml").write_text(
        "language: en\nintents:\n  SayHello:\n    data:\n      - sentences:\n          - say hello\n")
    return folder


@pytest.mark.parametrize("mode", [0o777, 0o757])
def test_world_writable_skills_dir_is_refused_with_a_message(tmp_path: Path, mode: int,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "skills"
    _make_skill(root)
    config = config_from_dict({"skills": {"user_dir": str(root)}})
    assert [n for n, s, _ in discover(config) if s == "user"] == ["hello"]  # a safe folder loads
    root.chmod(mode)
    with caplog.at_level(logging.ERROR):
        found = [n for n, s, _ in discover(config) if s == "user"]
    assert found == []
    message = " ".join(r.getMessage() for r in caplog.records)
    assert str(root) in message and "anyone can write" in message and "chmod o-w" in message


def test_skill_folder_writable_by_others_is_refused_end_to_end(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    folder = _make_skill(root)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{root}"\n')
    ok = run_cli("intent", "say hello", "--json", "--config", str(cfg))
    assert '"hello there"' in ok.stdout, ok.stderr
    folder.chmod(0o777)
    refused = run_cli("intent", "say hello", "--json", "--config", str(cfg))
    assert '"hello there"' not in refused.stdout
    assert "refusing to load skills from" in refused.stderr and str(folder) in refused.stderr


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to create a folder owned by another user")
def test_skills_dir_owned_by_someone_else_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "skills"
    _make_skill(root)
    os.chown(root, 12345, 12345)
    config = config_from_dict({"skills": {"user_dir": str(root)}})
    with caplog.at_level(logging.ERROR):
        assert [n for n, s, _ in discover(config) if s == "user"] == []
    assert "owned by uid 12345" in caplog.text
