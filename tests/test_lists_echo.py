"""A command heard twice ("...shopping list and milk to my shopping list") is a recognition echo: the item lands on
the list the last complete command names, not on a list named after the echo."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicebox.testing import SkillHarness

LISTS = Path(__file__).resolve().parent.parent / "skills" / "lists"


@pytest.mark.parametrize("heard", [
    "add milk to my shopping list and milk to my shopping list",
    "Add milk to my shopping list. Add milk to my shopping list.",
    "put milk on my shopping list and milk on my shopping list",
    "Hey Jarvis. Add milk to my shopping list and milk to my shopping list.",
])
def test_an_echoed_add_puts_the_item_on_the_named_list(heard: str) -> None:
    with SkillHarness(LISTS) as lists:
        assert lists.say(heard).speech == "Added milk to your shopping list."
        assert lists.store.items("list:") == {"list:shopping": ["milk"]}


def test_an_echoed_remove_takes_the_item_off_the_named_list() -> None:
    with SkillHarness(LISTS) as lists:
        lists.say("add milk and eggs to my shopping list")
        assert lists.say("remove milk from my shopping list and milk from my shopping list").speech == \
            "Removed milk from your shopping list."
        assert lists.store.items("list:") == {"list:shopping": ["eggs"]}


@pytest.mark.parametrize(("said", "key", "items"), [
    ("add a gift for grandma to my christmas list", "list:christmas", ["a gift for grandma"]),
    ("add milk and eggs to my shopping list", "list:shopping", ["milk", "eggs"]),
    ("add salt to the to do list", "list:to do", ["salt"]),
])
def test_single_commands_are_unchanged(said: str, key: str, items: list[str]) -> None:
    with SkillHarness(LISTS) as lists:
        lists.say(said)
        assert lists.store.items("list:") == {key: items}
