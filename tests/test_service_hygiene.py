"""Service hygiene: a broken config has its own exit status that the units do not restart, and under systemd
the log carries syslog priorities (``journalctl -p warning`` finds warnings) and no second timestamp."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from voicebox.cli.main import EXIT_CONFIG, EXIT_USAGE
from voicebox.core.logs import JournalFormatter, writes_to_journal
from voicebox.core.resources import unit_template_path

_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def _voicebox(*args: str, stderr_to: Path, env: dict[str, str] | None = None) -> int:
    with open(stderr_to, "wb") as err:
        return subprocess.run([sys.executable, "-m", "voicebox", *args], stdout=subprocess.DEVNULL, stderr=err,
                              env={**os.environ, **(env or {})}, cwd=REPO, check=False, timeout=300).returncode


def _journal_env(path: Path) -> dict[str, str]:
    info = path.stat()
    return {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}


def test_a_config_error_exits_78_and_a_usage_error_2(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[audio]\nvolume = 1e9\n")
    assert _voicebox("intent", "what time is it", "--config", str(cfg), stderr_to=tmp_path / "e1") == EXIT_CONFIG
    assert "[audio] volume" in (tmp_path / "e1").read_text()
    assert _voicebox("intent", "--no-such-flag", stderr_to=tmp_path / "e2") == EXIT_USAGE
    assert EXIT_CONFIG not in (0, 1, EXIT_USAGE)


@pytest.mark.parametrize("unit", ["voicebox.service", "voicebox-system.service"])
def test_the_units_do_not_restart_a_broken_config(unit: str) -> None:
    lines = unit_template_path(unit).read_text(encoding="utf-8").splitlines()
    assert "Restart=on-failure" in lines
    assert f"RestartPreventExitStatus={EXIT_CONFIG}" in lines


def test_under_journald_lines_carry_their_priority_and_no_timestamp(tmp_path: Path) -> None:
    skills = tmp_path / "skills"
    skills.mkdir()
    skills.chmod(0o777)  # refused with an error in the log
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{skills}"\n')
    journal = tmp_path / "journal"
    journal.touch()
    rc = _voicebox("intent", "what time is it", "--config", str(cfg), stderr_to=journal, env=_journal_env(journal))
    assert rc == 0
    lines = journal.read_text().splitlines()
    refused = [line for line in lines if "refusing to load skills" in line]
    assert refused and all(line.startswith("<3>") for line in refused), lines
    assert all(re.match(r"<[0-7]>", line) for line in lines), lines
    assert not any(_STAMP.search(line) for line in lines), lines
    bad = tmp_path / "bad.toml"
    bad.write_text("[audio]\nvolume = 1e9\n")
    assert _voicebox("intent", "hi", "--config", str(bad), stderr_to=journal, env=_journal_env(journal)) == EXIT_CONFIG
    assert journal.read_text().startswith("<3>voicebox: config error:"), journal.read_text()


def test_on_a_terminal_or_in_a_file_lines_keep_their_timestamp(tmp_path: Path) -> None:
    skills = tmp_path / "skills"
    skills.mkdir()
    skills.chmod(0o777)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{skills}"\n')
    other = tmp_path / "other"
    other.touch()
    log = tmp_path / "log"
    # JOURNAL_STREAM inherited from a parent whose stderr was the journal, but ours is a file: plain lines
    assert _voicebox("intent", "what time is it", "--config", str(cfg), stderr_to=log, env=_journal_env(other)) == 0
    refused = [line for line in log.read_text().splitlines() if "refusing to load skills" in line]
    assert refused and _STAMP.match(refused[0]) and not refused[0].startswith("<"), refused


def test_journal_formatter_maps_levels_to_syslog_priorities() -> None:
    fmt = JournalFormatter()

    def line(level: int, msg: str = "m") -> str:
        return fmt.format(logging.LogRecord("voicebox.x", level, __file__, 1, msg, None, None))

    assert [line(lv)[:3] for lv in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)] \
        == ["<7>", "<6>", "<4>", "<3>", "<2>"]
    assert line(logging.WARNING, "two\nlines") == "<4>voicebox.x: two\n<4>lines"


def test_only_the_stream_journald_named_counts(tmp_path: Path) -> None:
    path = tmp_path / "f"
    with open(path, "w") as f:
        info = os.fstat(f.fileno())
        assert writes_to_journal(f, {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"})
        assert not writes_to_journal(f, {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino + 1}"})
        assert not writes_to_journal(f, {})
        assert not writes_to_journal(f, {"JOURNAL_STREAM": "junk"})
