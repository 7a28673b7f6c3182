"""A live ``voicebox run --input -`` process for tests: feed it audio, wait for its events, signal it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from conftest import REPO


class DaemonProc:
    """The daemon on raw 16 kHz PCM stdin; its JSON events are collected in the background."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
                 cwd: Path = REPO) -> None:
        self.proc = subprocess.Popen([*prefix, sys.executable, "-m", "voicebox", "run", "--input", "-", "--output", "none",
                                      "--json", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=cwd, env={**os.environ, **(env or {})})
        self.events: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(b"{"):
                self.events.append(json.loads(line))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def feed(self, pcm: np.ndarray) -> None:
        """Write audio (int16 mono 16 kHz)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(np.ascontiguousarray(pcm, "<i2").tobytes())
        self.proc.stdin.flush()

    def wait_for(self, check: Callable[[dict[str, Any]], bool], timeout_s: float = 120, *, after: int = 0,
                 silence: bool = True) -> dict[str, Any]:
        """The first event from index ``after`` on that passes ``check``; feeds silence meanwhile."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for event in self.events[after:]:
                if check(event):
                    return event
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}): {''.join(self.stderr[-10:])}")
            if silence:
                self.feed(np.zeros(1280 * 2, np.int16))
            time.sleep(0.1)
        raise AssertionError(f"no matching event in {timeout_s} s; events: {[e['event'] for e in self.events]}; "
                             f"stderr: {''.join(self.stderr[-10:])}")

    def wait_for_log(self, text: str, timeout_s: float = 120, *, after: int = 0) -> str:
        """The first stderr line from index ``after`` on that contains ``text``; feeds silence meanwhile."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.stderr[after:]:
                if text in line:
                    return line
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}): {''.join(self.stderr[-10:])}")
            self.feed(np.zeros(1280 * 2, np.int16))
            time.sleep(0.1)
        raise AssertionError(f"no log line with {text!r} in {timeout_s} s; stderr: {''.join(self.stderr[-10:])}")

    def close(self) -> int:
        """Close stdin and wait for the exit code (kill after 60 s)."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def skill_folder(root: Path, name: str, intent: str, sentence: str, body: str) -> Path:
    """Write a one-intent skill whose handler has ``body`` (indented code that returns the answer)."""
    folder = root / name
    (folder / "sentences").mkdir(parents=True)
    cls = "".join(part.title() for part in name.split("_"))
    (folder / "__init__.py").write_text(
        "import asyncio\nfrom voicebox.skill import Skill, intent\n\n"
        f"class {cls}(Skill):\n    @intent({intent!r})\n    async def handle(self, ctx):\n{body}")
    (folder / "sentences" / "en.yaml").write_text(
        f"language: en\nintents:\n  {intent}:\n    data:\n      - sentences:\n          - \"{sentence}\"\n")
    return folder
