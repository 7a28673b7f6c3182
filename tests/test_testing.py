"""voicebox.testing: the skill harness for skill authors (and the test `voicebox skills new` writes with it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from voicebox.cli.skills import new_skill
from voicebox.core.config import config_from_dict
from voicebox.testing import ManualClock, SkillFailed, SkillHarness

CODE = '''
from voicebox.skill import Context, Job, Response, Skill, intent


class Probe(Skill):
    examples = ("probe hello",)

    @intent("ProbeHello")
    def hello(self, ctx: Context, name: str = "") -> Response:
        return Response(ctx.settings.get("greeting", "hello") + (" " + name if name else ""))

    @intent("ProbeAsk")
    def ask(self, ctx: Context) -> Response:
        return Response("Which colour?", expect_reply=True, reply_handler="colour")

    def colour(self, ctx: Context, text: str) -> Response:
        ctx.store.set("colour", text)
        return Response(f"{text} it is")

    @intent("ProbeLater")
    def later(self, ctx: Context) -> Response:
        ctx.schedule(60, "ring", {"at": ctx.now().timestamp()}, ring_for_s=20, repeat_s=10)
        return Response("later")

    async def ring(self, ctx: Context, job: Job) -> Response:
        await ctx.speak("ding")
        return Response(f"ring {job.rings}", sound="alarm")

    @intent("ProbeBreak")
    def broken(self, ctx: Context) -> Response:
        raise RuntimeError("handler bug")
'''

SENTENCES = '''
language: en
lists:
  name: {wildcard: true}
intents:
  ProbeHello:
    data: [{sentences: ["probe hello", "probe hello {name}"]}]
  ProbeAsk:
    data: [{sentences: ["probe ask"]}]
  ProbeLater:
    data: [{sentences: ["probe later"]}]
  ProbeBreak:
    data: [{sentences: ["probe break"]}]
'''


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    folder = tmp_path / "probe"
    (folder / "sentences").mkdir(parents=True)
    (folder / "__init__.py").write_text(CODE)
    (folder / "sentences" / "en.yaml").write_text(SENTENCES)
    return folder


def test_say_match_settings_follow_up_and_isolated_state(probe: Path) -> None:
    with SkillHarness(probe, settings={"greeting": "hi"}) as skill:
        reply = skill.say("probe hello bob")
        assert (reply.kind, reply.skill, reply.intent, reply.slots, reply.speech) == (
            "intent", "probe", "ProbeHello", {"name": "bob"}, "hi bob")
        assert skill.match("probe ask") is not None and skill.match("nothing like it") is None
        nothing = skill.say("nothing like it")
        assert (nothing.kind, nothing.status, nothing.intent) == ("none", "not_understood", "")
        assert skill.say("probe ask").expect_reply and skill.awaiting_reply == "colour"
        answer = skill.say("blue")
        assert answer.follow_up and (answer.intent, answer.speech) == ("colour", "blue it is")
        assert skill.store.get("colour") == "blue" and skill.awaiting_reply is None
        assert skill.context.last_reply == "blue it is" and skill.problems() == []
        state = skill.state_dir
        assert (state / "voicebox.db").is_file()
    assert not state.exists()


def test_callbacks_run_at_their_time_on_the_manual_clock(probe: Path) -> None:
    with SkillHarness(probe, clock=ManualClock(1_000.0)) as skill:
        skill.say("probe later")
        assert [j.due_s for j in skill.scheduled()] == [1_060.0]
        assert skill.advance(59) == [] and skill.clock() == 1_059.0
        rang = skill.advance(100)
        assert [(r.kind, r.intent, r.speech, r.sound) for r in rang] == [("job", "ring", f"ring {n}", "alarm")
                                                                        for n in (1, 2, 3)]
        assert [r.job.due_s for r in rang if r.job] == [1_060.0, 1_070.0, 1_080.0]
        assert skill.spoken == ["ding"] * 3 and skill.scheduled() == [] and skill.clock() == 1_159.0


def test_restart_keeps_data_and_runs_overdue_callbacks(probe: Path) -> None:
    skill = SkillHarness(probe)
    skill.say("probe ask")
    skill.say("red")
    skill.say("probe later")
    skill.clock.advance(3600)
    again = skill.restart()
    try:
        assert again.store.get("colour") == "red"
        assert [r.speech for r in again.run_due()] == ["ring 1"]
    finally:
        again.close()
    assert not again.state_dir.exists()


def test_a_failing_handler_fails_the_test_unless_not_strict(probe: Path) -> None:
    with SkillHarness(probe) as skill, pytest.raises(SkillFailed, match="ProbeBreak") as failed:
        skill.say("probe break")
    assert isinstance(failed.value.__cause__, RuntimeError)
    with SkillHarness(probe, strict=False) as skill:
        reply = skill.say("probe break")
        assert (reply.status, reply.speech) == ("error", "Sorry, something went wrong in the probe skill.")


def test_broken_skills_fail_to_load(probe: Path) -> None:
    (probe / "sentences" / "en.yaml").write_text("language: en\nintents:\n  ProbeHello:\n    data:\n"
                                                 "      - sentences: ['probe (hello']\n")
    with pytest.raises(SkillFailed, match="failed to parse"):
        SkillHarness(probe)
    (probe / "__init__.py").write_text("import this_module_does_not_exist\n")
    with pytest.raises(ImportError):
        SkillHarness(probe)


def test_the_scaffolded_skill_test_passes(tmp_path: Path) -> None:
    config = config_from_dict({"skills": {"user_dir": str(tmp_path / "skills")}})
    folder = new_skill(config, "greeter")
    assert "from voicebox.testing import SkillHarness" in (folder / "test_greeter.py").read_text()
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ran.returncode == 0, textwrap.shorten(ran.stdout + ran.stderr, 4000)
    assert "2 passed" in ran.stdout
