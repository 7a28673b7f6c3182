"""wyoming-satellite 1.0.0 as a test peer: its microphone, speaker and detection programs, its event service.

The package itself is installed by the ``wyoming_satellite_path`` fixture
(tests/conftest.py) into a folder of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from wyoming.event import Event
from wyoming.server import AsyncEventHandler

__all__ = ["MARK", "MIC", "PEER", "SPEAKER", "Recorder", "raw", "run_showing_logs", "start_hub", "start_satellite", "stop",
           "until"]

PEER = "wyoming-satellite==1.0.0"
MIC = '''
import pathlib, sys, time
control, block = pathlib.Path(sys.argv[1]), 2048
start, sent, played = time.monotonic(), 0, set()
while True:
    ready = sorted(p for p in control.glob("*.raw") if p.name not in played)
    data = bytes(block)
    if ready:
        played.add(ready[0].name)
        data = ready[0].read_bytes()
    for i in range(0, len(data), block):
        piece = data[i:i + block].ljust(block, b"\\0")
        sent += len(piece) // 2
        time.sleep(max(0.0, start + sent / 16000 - time.monotonic()))
        sys.stdout.buffer.write(piece)
        sys.stdout.buffer.flush()
'''
MARK = '''
import pathlib, sys, time
(pathlib.Path(sys.argv[1]) / str(time.monotonic_ns())).touch()
'''
# One process per stream played (the satellite closes its stdin after audio-stop); the stream is named .raw only
# once it has all been written, so a test waits for the file rather than for the satellite's events.
SPEAKER = '''
import pathlib, sys, time
out = pathlib.Path(sys.argv[1]) / f"{time.monotonic_ns()}.part"
with open(out, "wb") as f:
    while chunk := sys.stdin.buffer.read(4096):
        f.write(chunk)
out.rename(out.with_suffix(".raw"))
'''


class Recorder(AsyncEventHandler):
    """The satellite's event service: every event the satellite forwards (all the hub sent it, and its own)."""

    def __init__(self, seen: list[Event], changed: asyncio.Event, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen = seen
        self._changed = changed

    async def handle_event(self, event: Event) -> bool:
        self._seen.append(event)
        self._changed.set()
        return True


async def until(seen: list[Event], changed: asyncio.Event, check: Any, what: str, procs: list[Any]) -> None:
    while not check([e.type for e in seen]):
        for proc in procs:
            if proc.returncode is not None:
                raise AssertionError(f"a process exited ({proc.returncode}) while waiting for {what}; "
                                     f"events: {[e.type for e in seen]}")
        changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), 1.0)


async def stop(procs: list[Any]) -> None:
    """Terminate the processes, then kill what has not ended 30 s later."""
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
    for proc in procs:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 30)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def run_showing_logs(scenario: Any, limit_s: float, tmp_path: Path) -> None:
    """Run ``scenario``; on any failure print the ends of the hub's and the satellite's logs first."""
    try:
        asyncio.run(asyncio.wait_for(scenario, limit_s))
    except BaseException:
        for log in ("hub.log", "satellite.log"):
            print(f"---- {log}\n" + (tmp_path / log).read_text(errors="replace")[-3000:])
        print("---- hub.jsonl (what the hub heard and did)")
        for line in (tmp_path / "hub.jsonl").read_text(errors="replace").splitlines():
            if any(f'"event": "{name}"' in line for name in _TOLD):
                print(line[:300])
        raise


# The hub's events worth seeing when a peer test fails: what it woke on, heard, matched and answered.
_TOLD = ("ready", "wake", "transcript", "intent", "intent_not_matched", "intent_confirm", "response", "error",
         "hub_transcript", "hub_reply", "hub_timer", "reply_played", "turn_finished")


def raw(pcm: np.ndarray, out: Path) -> None:
    """Give the microphone ``pcm`` to play next (it picks up new files in name order)."""
    partial = out.with_suffix(".part")
    partial.write_bytes(np.ascontiguousarray(pcm, "<i2").tobytes())
    partial.rename(out)  # whole or not at all: the microphone never reads half a file


async def start_satellite(package: Path, tmp_path: Path, uri: str, events_uri: str,
                          *extra: str) -> asyncio.subprocess.Process:
    """``python -m wyoming_satellite`` serving ``uri``: microphone ``tmp_path/mic.py`` reading ``tmp_path/mic``,
    speaker ``tmp_path/speaker.py`` writing ``tmp_path/played``, events to ``events_uri``, log in satellite.log."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wyoming_satellite", "--uri", uri, *extra,
        "--mic-command", f"{sys.executable} {tmp_path / 'mic.py'} {tmp_path / 'mic'}",
        "--snd-command", f"{sys.executable} {tmp_path / 'speaker.py'} {tmp_path / 'played'}", "--snd-command-rate",
        "16000", "--event-uri", events_uri, env={**os.environ, "PYTHONPATH": str(package)},
        stdout=(tmp_path / "satellite.log").open("wb"), stderr=subprocess.STDOUT)


async def start_hub(tmp_path: Path, *extra: str) -> asyncio.subprocess.Process:
    """``voicebox run`` with ``tmp_path/voicebox.toml``, no sound devices; events in hub.jsonl, log in hub.log."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicebox", "run", "--config", str(tmp_path / "voicebox.toml"), "--input", "none",
        "--output", "none", *extra, "--json", stdout=(tmp_path / "hub.jsonl").open("wb"),
        stderr=(tmp_path / "hub.log").open("wb"))
