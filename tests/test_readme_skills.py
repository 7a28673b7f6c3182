"""Every whole sentence quoted in the README's skill table reaches the skill of its row."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Quotes in the table that are voicebox's words or the answer to a question, not commands.
NOT_COMMANDS = {"For how long?", "Which timer?", "the pizza one", "Your pizza timer is done", "…It finished 4 minutes ago",
                "Delete it?", "more", "about 8.05 kilometers", "cups to grams", "imperial pints", "For what time?",
                "Which alarm?", "It's 6:30 AM. This is your medicine alarm.",
                "While I was off, your 6:30 AM alarm was due at 6:30 AM."}
# Quotes that a row mentions but another skill answers: the timers row says you "stop" a ringing timer.
ELSEWHERE = {("timers", "stop"): "control", ("alarms", "stop"): "control"}


def _table_sentences() -> list[tuple[str, str]]:
    """(skill, sentence) for each quoted sentence of the table: the ones without "/" or "(...)" alternatives."""
    text = (REPO / "README.md").read_text()
    table = text.split("## Built-in skills", 1)[1].split("\n\n", 2)[1]
    found = []
    for row in table.splitlines():
        m = re.match(r"\| \*\*(\w+)\*\* \| (.*) \|$", row)
        if m is None:
            continue
        for quote in re.findall(r'"([^"]+)"', m.group(2)):
            if quote not in NOT_COMMANDS and "/" not in quote and "(" not in quote:
                found.append((ELSEWHERE.get((m.group(1), quote), m.group(1)), quote))
    return found


def test_readme_skill_table_sentences_reach_their_skill(tmp_path: Path) -> None:
    sentences = _table_sentences()
    assert len(sentences) > 100
    config = tmp_path / "config.toml"
    config.write_text(f'[skills]\nuser_dir = "{tmp_path / "skills"}"\n[paths]\nstate_dir = "{tmp_path / "state"}"\n')
    out = subprocess.run([sys.executable, "-m", "voicebox", "intent", "--config", str(config), "--json", "-"],
                         input="".join(s + "\n" for _, s in sentences), capture_output=True, text=True, check=True,
                         timeout=300)
    got = [json.loads(line)["skill"] for line in out.stdout.splitlines()]
    wrong = [(s, skill, g) for (skill, s), g in zip(sentences, got, strict=True) if g != skill]
    assert not wrong, f"README sentences that reach another skill (sentence, row, got): {wrong}"
