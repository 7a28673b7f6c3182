"""``voicebox skills list|new|check``: see what is installed, start a new skill, find template problems."""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path
from typing import Any

from hassil import WildcardSlotList

from voicebox.act.loader import LoadedSkill, user_skills_dir
from voicebox.cli.command import Command
from voicebox.cli.output import print_json
from voicebox.core.config import Config
from voicebox.core.errors import CODE_SKILL_EXISTS, CODE_SKILL_NAME, SkillError
from voicebox.understand.intent import compile_sentences

__all__ = ["SKILLS", "check_skills", "new_skill"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")

_INIT = '''"""{title}: a voicebox skill (edit me)."""

from __future__ import annotations

from voicebox.skill import Context, Response, Skill, intent


class {cls}(Skill):
    """Answers "{name} hello"; add intents here and sentences in sentences/en.yaml."""

    examples = ("{spoken} hello",)

    @intent("{cls}Hello")
    def hello(self, ctx: Context) -> Response:
        """Say hello; ``ctx.settings`` holds the [skill.{name}] table of the config file."""
        greeting = ctx.settings.get("greeting", "Hello from the {spoken} skill.")
        return Response(greeting)
'''

_SENTENCES = '''language: en
intents:
  {cls}Hello:
    data:
      - sentences:
          - "{spoken} hello"
          - "(say|tell me) hello [from] [the] {spoken} [skill]"
'''

_TEST = '''"""Tests of the {name} skill: run with `pytest {folder}`."""

from pathlib import Path

from voicebox.testing import SkillHarness

FOLDER = Path(__file__).parent


def test_hello_matches_and_answers():
    with SkillHarness(FOLDER) as skill:
        reply = skill.say("{spoken} hello")
        assert (reply.skill, reply.intent) == ("{name}", "{cls}Hello")
        assert reply.speech == "Hello from the {spoken} skill."


def test_the_greeting_is_a_setting():
    with SkillHarness(FOLDER, settings={{"greeting": "Hi there."}}) as skill:
        assert skill.say("tell me hello from the {spoken} skill").speech == "Hi there."
'''


def new_skill(config: Config, name: str) -> Path:
    """Create a working skill folder ``name`` in the user skills directory; returns it."""
    if not _NAME.match(name):
        raise SkillError(f"skill name {name!r} is not allowed: use lowercase letters, digits and _ "
                         "(2-41 characters, starting with a letter)", code=CODE_SKILL_NAME)
    folder = user_skills_dir(config) / name
    if folder.exists():
        raise SkillError(f"{folder} already exists: pick another name or edit that skill", code=CODE_SKILL_EXISTS)
    fields = {"name": name, "cls": "".join(p.capitalize() for p in name.split("_")), "spoken": name.replace("_", " "),
              "title": name.replace("_", " ").capitalize(), "folder": folder}
    (folder / "sentences").mkdir(parents=True)
    (folder / "__init__.py").write_text(_INIT.format(**fields), encoding="utf-8")
    (folder / "sentences" / "en.yaml").write_text(_SENTENCES.format(**fields), encoding="utf-8")
    (folder / f"test_{name}.py").write_text(_TEST.format(**fields), encoding="utf-8")
    return folder


def _samples(intents: Any, per_template: int) -> list[str]:
    """A few sentences from every template without wildcards (ranges as one number each)."""
    from hassil.sample import sample_sentence

    out: list[str] = []
    for intent in intents.intents.values():
        for data in intent.data:
            rules = {**intents.expansion_rules, **data.expansion_rules}
            lists = {**intents.slot_lists, **data.slot_lists}  # an intent block may define its own lists
            for template in data.sentences:
                if any(n in data.wildcard_list_names or isinstance(lists.get(n), WildcardSlotList)
                       for n in template.list_names(rules)):
                    continue
                texts = itertools.islice(sample_sentence(template, lists, rules, language=intents.language,
                                                         expand_ranges=False), per_template)
                out += [re.sub(r"\{[^}]*\}", "5", t).strip() for t in texts]
    return out


def check_skills(skills: list[LoadedSkill], *, per_template: int = 8) -> list[str]:
    """Problems: skills that fail to load, templates that fail to parse, handlers without sentences and the
    reverse, and sentences that more than one skill would match."""
    from hassil import recognize_best

    problems: list[str] = []
    compiled: dict[str, Any] = {}
    for skill in skills:
        if not skill.ok:
            problems.append(f"{skill.name}: failed to load: {skill.error}")
            continue
        try:
            compiled[skill.name] = compile_sentences(skill.sentences)
        except Exception as err:
            problems.append(f"{skill.name}: sentence templates fail to parse: {err}")
            continue
        for name in sorted(set(skill.handlers) - set(skill.intents)):
            problems.append(f"{skill.name}: handler for intent {name} has no sentences")
        for name in sorted(set(skill.intents) - set(skill.handlers)):
            problems.append(f"{skill.name}: intent {name} has sentences but no handler")
    for name, intents in compiled.items():
        reported: set[str] = set()
        for sentence in _samples(intents, per_template):
            for other, other_intents in compiled.items():
                if other == name or other in reported:
                    continue
                if recognize_best(sentence, other_intents, language=other_intents.language) is not None:
                    problems.append(f"{name} and {other} both match {sentence!r}")
                    reported.add(other)
    return problems


def _arguments(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    ssub = p.add_subparsers(dest="skills_command", metavar="ACTION", required=True)
    ssub.add_parser("list", parents=[common], help="every skill with its source, intents and status")
    new = ssub.add_parser("new", parents=[common], help="create a working skill in the user skills directory")
    new.add_argument("name")
    ssub.add_parser("check", parents=[common], help="report overlapping or broken templates and handlers")


def cmd_skills(args: argparse.Namespace, config: Config) -> int:
    """``skills list``, ``skills new NAME``, ``skills check``."""
    from voicebox.daemon.assistant import load_skill_set

    if args.skills_command == "new":
        folder = new_skill(config, args.name)
        if args.json:
            print_json({"name": args.name, "created": str(folder)})
            return 0
        print(f"created {folder}\n  edit {folder / 'sentences' / 'en.yaml'} and {folder / '__init__.py'}; "
              f"it loads on the next start (try: voicebox intent \"{args.name.replace('_', ' ')} hello\")")
        return 0
    skills, _ = load_skill_set(config)
    if args.skills_command == "check":
        problems = check_skills(skills)
        if args.json:
            print_json({"skills": len(skills), "problems": problems})
            return 1 if problems else 0
        for line in problems:
            print(line)
        print(f"{len(skills)} skill(s) checked, {len(problems)} problem(s)", file=sys.stderr)
        return 1 if problems else 0
    rows = [{"name": s.name, "source": s.source, "path": str(s.path or ""), "intents": s.intents,
             "status": "ok" if s.ok else f"error: {s.error}"} for s in skills]
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        print(f"{r['name']:<16} {r['source']:<12} {r['status']:<8} {', '.join(r['intents'])}")
    print(f"\nuser skills directory: {user_skills_dir(config)}")
    return 0


SKILLS = Command("skills", "list, create or check skills", cmd_skills, _arguments)
