"""Skills cannot take the daemon down: any BaseException a handler raises is that skill's error; a handler that runs
over its time is fenced off (its skill quarantined) without freezing the daemon's loop."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from voicebox.act.dispatch import Dispatcher
from voicebox.act.loader import LoadedSkill
from voicebox.skill import Response, Skill
from voicebox.understand.intent import IntentMatch

GATE = threading.Event()  # what the blocking handlers wait for; set at the end of each test
SPINNING = threading.Event()


class Probe(Skill):
    """Handlers that misbehave on purpose (methods are attached per test)."""


def _skill(name: str, **handlers: Callable[..., Any]) -> LoadedSkill:
    cls = type(f"Probe_{name}", (Probe,), dict(handlers))
    return LoadedSkill(name=name, source="test", path=None, instance=cls(None),  # type: ignore[arg-type]
                       handlers={intent: intent for intent in handlers})


def _match(skill: str, intent: str) -> IntentMatch:
    return IntentMatch(skill=skill, intent=intent, slots={}, text=intent, complete=True)


@pytest.fixture(autouse=True)
def _release() -> Iterator[None]:
    GATE.clear()
    SPINNING.clear()
    yield
    GATE.set()  # lets a handler the old code left running finish


def _raiser(error: BaseException, *, is_async: bool) -> Callable[..., Any]:
    if is_async:
        async def handler(self: Skill, ctx: Any) -> Response:
            raise error
        return handler

    def sync_handler(self: Skill, ctx: Any) -> Response:
        raise error
    return sync_handler


async def _ok(self: Skill, ctx: Any) -> Response:
    return Response("fine")


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("error", [SystemExit(0), SystemExit(3), KeyboardInterrupt(), GeneratorExit()],
                         ids=["exit0", "exit3", "keyboard-interrupt", "generator-exit"])
def test_a_base_exception_in_a_handler_is_that_skills_error(error: BaseException, is_async: bool,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = Dispatcher([_skill("quitter", Quit=_raiser(error, is_async=is_async), Fine=_ok)], timeout_s=30)

    async def turns() -> tuple[Any, Any]:
        return await dispatcher.handle(_match("quitter", "Quit")), await dispatcher.handle(_match("quitter", "Fine"))

    try:
        bad, good = asyncio.run(turns())
    finally:
        dispatcher.close()
    assert (bad.status, bad.response.speech) == ("error", "Sorry, something went wrong in the quitter skill.")
    assert type(error).__name__ in caplog.text and "Traceback" in caplog.text
    assert (good.status, good.response.speech) == ("ok", "fine")


def test_the_daemons_own_cancellation_still_cancels() -> None:
    async def waits(self: Skill, ctx: Any) -> Response:
        await asyncio.sleep(30)
        return Response("late")

    dispatcher = Dispatcher([_skill("waiter", Wait=waits)], timeout_s=60)

    async def cancel_mid_handler() -> None:
        task = asyncio.create_task(dispatcher.handle(_match("waiter", "Wait")))
        await asyncio.sleep(0.05)
        task.cancel()
        await task

    try:
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(cancel_mid_handler())
    finally:
        dispatcher.close()


def test_a_blocking_async_handler_does_not_freeze_the_loop_and_is_quarantined(
        caplog: pytest.LogCaptureFixture) -> None:
    async def blocks(self: Skill, ctx: Any) -> Response:
        GATE.wait(20)  # blocks whatever loop runs it, as time.sleep would
        return Response("too late")

    dispatcher = Dispatcher([_skill("blocker", Block=blocks, Fine=_ok), _skill("other", Fine=_ok)], timeout_s=0.5)

    async def turns() -> list[Any]:
        first = await dispatcher.handle(_match("blocker", "Block"))
        still_blocked = not GATE.is_set()
        return [first, still_blocked, await dispatcher.handle(_match("blocker", "Fine")),
                await dispatcher.handle(_match("other", "Fine"))]

    try:
        first, still_blocked, again, other = asyncio.run(turns())
    finally:
        dispatcher.close()
    # The daemon's loop timed the handler out while the handler was still blocked.
    assert (first.status, first.response.speech) == ("timeout", "Sorry, the blocker skill took too long.")
    assert still_blocked
    assert "quarantined" in caplog.text and "ran over 0.5 s and was abandoned" in caplog.text
    assert again.status == "quarantined" and "blocker skill is switched off" in again.response.speech
    assert (other.status, other.response.speech) == ("ok", "fine")


def test_a_spinning_sync_handler_is_ended_after_its_timeout() -> None:
    def spins(self: Skill, ctx: Any) -> Response:
        SPINNING.set()
        while not GATE.is_set():  # pure-Python busy loop: burns a core
            pass
        return Response("done")

    dispatcher = Dispatcher([_skill("spinner", Spin=spins)], timeout_s=0.5)
    try:
        result = asyncio.run(dispatcher.handle(_match("spinner", "Spin")))
        assert SPINNING.is_set() and result.status == "timeout"
        spinner = [t for t in threading.enumerate() if t.name == "skill-spinner"]
        for thread in spinner:
            thread.join(timeout=30)
        assert not any(t.is_alive() for t in spinner), "the timed-out handler still runs"
    finally:
        dispatcher.close()


def test_work_after_the_workers_stopped_is_an_error_reply_not_a_hang() -> None:
    from voicebox.act.workers import SkillWorkers

    workers = SkillWorkers()
    dispatcher = Dispatcher([_skill("late", Fine=_ok)], timeout_s=60, workers=workers)
    assert asyncio.run(dispatcher.handle(_match("late", "Fine"))).status == "ok"
    workers.close()
    assert asyncio.run(dispatcher.handle(_match("late", "Fine"))).status == "error"


def test_sys_exit_in_a_handler_does_not_end_the_command(tmp_path: Path) -> None:
    folder = tmp_path / "extra" / "quitter"
    (folder / "sentences").mkdir(parents=True)
    (folder / "__init__.py").write_text(
        '"""Exits."""\nimport sys\nfrom voicebox.skill import Skill, intent\n\n\nclass Q(Skill):\n'
        "    @intent('Quit')\n    def quit(self, ctx):\n        sys.exit(0)\n")
    (folder / "sentences" / "en.yaml").write_text(
        'language: en\nintents:\n  Quit:\n    data:\n      - sentences:\n          - "quitter quit"\n')
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{tmp_path / "user"}"\ndirs = ["{tmp_path / "extra"}"]\n')
    proc = subprocess.run([sys.executable, "-m", "voicebox", "intent", "--config", str(cfg), "--json", "-"],
                          input="quitter quit\nwhat is seven times eight\n", capture_output=True, text=True,
                          timeout=120)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0, proc.stderr
    assert [r["speech"] for r in rows] == ["Sorry, something went wrong in the quitter skill.", "7 times 8 is 56."]
    assert "SystemExit" in proc.stderr


def _two_turns_through_run(tmp_path: Path, shared_audio: Path, body: str, skills_extra: str = "") -> tuple[Any, list]:
    """``voicebox run`` on a WAV of two "what time is it" turns answered by a test skill whose handler has ``body``."""
    import numpy as np
    from daemon_proc import skill_folder

    from voicebox.core.audio import read_wav, write_wav

    skill_folder(tmp_path / "skills", "quitter", "Quit", "what time is it", body)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[skills]\nuser_dir = "{tmp_path / "skills"}"\ndisabled = ["time_date"]\n{skills_extra}'
                   f'[asr]\nvocabulary_prompt = false\n[paths]\nstate_dir = "{tmp_path / "state"}"\n')
    turn = [np.zeros(8000, np.int16), read_wav(shared_audio / "wyoming-openwakeword/hey_jarvis.wav"),
            read_wav(shared_audio / "speech-to-phrase/en/what time is it.wav"), np.zeros(32000, np.int16)]
    wav = tmp_path / "two-turns.wav"
    write_wav(wav, np.concatenate(turn + turn))
    proc = subprocess.run([sys.executable, "-m", "voicebox", "run", "--config", str(cfg), "--input", str(wav),
                           "--output", "none", "--json"], capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    return proc, [e["speech"] for e in events if e["event"] == "response"]


@pytest.mark.slow
@pytest.mark.parametrize("body", ["        raise SystemExit(0)\n", "        raise KeyboardInterrupt\n"],
                         ids=["sys-exit", "keyboard-interrupt"])
def test_voicebox_run_answers_every_turn_when_a_handler_exits(body: str, tmp_path: Path, shared_audio: Path,
                                                              model_store: object) -> None:
    proc, said = _two_turns_through_run(tmp_path, shared_audio, body)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert said == ["Sorry, something went wrong in the quitter skill."] * 2, proc.stderr[-2000:]


@pytest.mark.slow
def test_voicebox_run_times_out_a_blocking_async_handler_and_quarantines_its_skill(
        tmp_path: Path, shared_audio: Path, model_store: object) -> None:
    blocking = "        import time\n        time.sleep(20)\n        return 'too late'\n"
    proc, said = _two_turns_through_run(tmp_path, shared_audio, blocking, "timeout_s = 1.0\n")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert said == ["Sorry, the quitter skill took too long.",
                    "Sorry, the quitter skill is switched off: it stopped answering."], proc.stderr[-2000:]
    assert "the quitter skill is quarantined" in proc.stderr
