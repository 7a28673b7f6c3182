"""`voicebox serve` keeps the daemon's state: a timer set through Wyoming survives a restart and rings.

The same state folder is served first by `voicebox serve` (no speaker: the
answer says nobody will hear the timer), then by `voicebox run --serve-uri`
with a speaker (a WAV file): the timer that came due meanwhile rings there at
start-up, and a new one set over Wyoming is said to ring on that speaker, and does.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from test_home_assistant_replay import Proc
from wyoming.asr import Transcript
from wyoming.client import AsyncClient
from wyoming.event import Event

pytestmark = pytest.mark.slow


def _handle(uri: str, text: str) -> Event:
    async def ask() -> Event:
        async with AsyncClient.from_uri(uri) as client:
            await client.write_event(Transcript(text=text).event())  # a plain Wyoming handle client: no context
            while (event := await client.read_event()) is not None:
                if event.type in ("handled", "not-handled", "error"):
                    return event
        raise AssertionError("no answer")

    return asyncio.run(asyncio.wait_for(ask(), 120))


def _rang(proc: Proc, after: int = 0) -> bool:
    return any(e["event"] == "response" and "timer is done" in str(e.get("speech")) for e in proc.events[after:])


def test_a_timer_set_through_serve_survives_a_restart_and_rings(tmp_path: Path, model_store: Any) -> None:
    config = tmp_path / "voicebox.toml"
    config.write_text(f'[paths]\nstate_dir = "{tmp_path / "state"}"\n')
    uri = f"unix://{tmp_path}/wy.sock"
    serve = Proc("serve", "--config", str(config), "--uri", uri)
    try:
        serve.wait_for(lambda p: any(e["event"] == "ready" for e in p.events), "ready event")
        answer = _handle(uri, "set a timer for 2 seconds")
    finally:
        serve.stop()  # before it could ring
    assert answer.type == "handled", answer
    assert answer.data["text"].startswith("OK, timer for 2 seconds") and "won't hear it" in answer.data["text"]
    assert not _rang(serve)

    run = Proc("run", "--config", str(config), "--input", "none", "--output", str(tmp_path / "speaker.wav"),
               "--serve-uri", uri)
    try:
        run.wait_for(_rang, "the timer set before the restart ringing", 240)
        seen = len(run.events)
        again = _handle(uri, "set a timer for 1 second")
        assert again.type == "handled" and again.data["text"].endswith("It will ring on voicebox's own speaker."), again
        run.wait_for(lambda p: _rang(p, seen), "the new timer ringing on the speaker", 120)
        assert any(e["event"] == "audio_started" for e in run.events[seen:])  # spoken, not only answered
    finally:
        run.stop()
