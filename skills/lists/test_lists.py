"""The lists skill: whole lists (create, delete, rename, enumerate), counting, positions, check off, reading on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from voicebox.testing import SkillHarness

FOLDER = Path(__file__).parent


@pytest.fixture
def lists() -> Iterator[SkillHarness]:
    with SkillHarness(FOLDER) as harness:
        yield harness


def _fill(lists: SkillHarness, name: str, items: list[str]) -> None:
    for item in items:
        lists.say(f"add {item} to my {name} list")


def test_create_rename_enumerate_and_delete(lists: SkillHarness) -> None:
    assert lists.say("what lists do I have").speech == "You don't have any lists yet."
    assert lists.say("create a party list").speech == "Created your party list."
    assert lists.say("make a new list called party").speech == "You already have a party list."
    _fill(lists, "shopping", ["milk", "eggs"])
    assert lists.say("how many lists do I have").speech == \
        "You have 2 lists: party (no items) and shopping (2 items)."
    assert lists.say("rename my party list to birthday").speech == "Renamed your party list to birthday."
    assert lists.say("what are my lists").data["lists"] == ["birthday", "shopping"]
    assert lists.say("delete my birthday list").speech == "Deleted your birthday list."  # empty: no question
    assert lists.say("delete my party list").speech == "You don't have a party list."


def test_deleting_a_list_with_items_asks_first(lists: SkillHarness) -> None:
    _fill(lists, "camping", ["tent", "torch"])
    asked = lists.say("delete my camping list")
    assert (asked.speech, asked.expect_reply) == ("Your camping list has 2 items. Delete it?", True)
    kept = lists.say("no")
    assert (kept.follow_up, kept.speech) == (True, "OK, I kept your camping list.")
    assert lists.store.get("list:camping") == ["tent", "torch"]
    lists.say("get rid of the camping list")
    assert lists.say("yes please").speech == "Deleted your camping list."
    assert lists.store.get("list:camping") is None


def test_clearing_keeps_the_list(lists: SkillHarness) -> None:
    _fill(lists, "shopping", ["milk"])
    lists.say("clear my shopping list")
    assert lists.say("what lists do I have").data["lists"] == ["shopping"]


def test_count_and_remove_by_position(lists: SkillHarness) -> None:
    _fill(lists, "shopping", ["milk", "eggs", "bread", "jam", "tea"])
    assert lists.say("how many items are on my shopping list").speech == "There are 5 items on your shopping list."
    assert lists.say("remove the last item").speech == "Removed tea, the last item, from your shopping list."
    assert lists.say("remove the first item from my shopping list").data["removed"] == "milk"
    assert lists.say("remove the second to last item").data["removed"] == "bread"
    assert lists.say("remove item number 7").speech == "Your shopping list has only 2 items."
    assert lists.say("delete item two from my shopping list").data["items"] == ["eggs"]
    assert lists.say("how many things are on the list").data["count"] == 1


def test_check_off_finds_the_list_the_item_is_on(lists: SkillHarness) -> None:
    _fill(lists, "shopping", ["milk"])
    _fill(lists, "to do", ["call mom", "pay rent"])
    assert lists.say("check off milk").speech == "Checked milk off your shopping list."
    assert lists.say("mark call mom as done").speech == "Checked call mom off your to do list."
    assert lists.say("tick off pay rent and cheese").speech == \
        "Checked pay rent off your to do list. I couldn't find cheese."
    assert lists.say("check off milk").speech == "Milk is not on any of your lists."
    assert lists.store.get("list:to do") == []


def test_a_long_list_is_read_in_parts(lists: SkillHarness) -> None:
    items = ["apples", "bananas", "cherries", "dates", "figs", "grapes", "kiwis", "lemons", "mangoes", "limes",
             "plums", "pears"]
    _fill(lists, "shopping", items)
    first = lists.say("what's on my shopping list")
    assert first.speech == ("Your shopping list has 12 items. The first 5: apples, bananas, cherries, dates, figs. "
                            "There are 7 more; say more to hear them.")
    assert first.expect_reply
    second = lists.say("more")
    assert second.follow_up and second.data["items"] == items[5:10]
    assert second.speech.endswith("There are 2 more; say more to hear them.")
    last = lists.say("more")
    assert (last.speech, last.expect_reply) == ("And last: plums and pears.", False)
    lists.say("read my shopping list")
    assert lists.say("no thanks").speech == "OK."
    assert lists.say("what else is on the list").data["items"] == items[:5]  # reading stopped: from the top


def test_read_at_once_setting_and_lists_survive_a_restart() -> None:
    with SkillHarness(FOLDER, settings={"read_at_once": 2}) as lists:
        _fill(lists, "packing", ["socks", "shirts", "shoes"])
        lists.say("create a party list")
        assert lists.say("read my packing list").data["items"] == ["socks", "shirts"]
        again = lists.restart()
        try:
            assert again.say("what lists do I have").data["lists"] == ["packing", "party"]
            assert again.say("read me the rest of my packing list").data["items"] == ["shoes"]
        finally:
            again.close()


def test_an_item_heard_where_a_list_name_goes_is_removed_not_the_list_cleared(lists: SkillHarness) -> None:
    _fill(lists, "shopping", ["flour", "milk"])
    wiped = lists.say("wipe flour off the shopping list")
    assert wiped.speech == "Removed flour from your shopping list.", wiped
    assert lists.say("what's on my shopping list").data["items"] == ["milk"]
    assert lists.say("throw away everything on my list").speech == "Cleared your shopping list."
    assert lists.say("what's on my shopping list").data["items"] == []


def test_clearing_a_list_that_does_not_exist_says_so_and_makes_none(lists: SkillHarness) -> None:
    assert lists.say("clear the party list").speech == "You don't have a party list."
    assert lists.say("what lists do I have").speech == "You don't have any lists yet."
    assert lists.say("clear my shopping list").speech == "Cleared your shopping list."  # the default list: always


def test_the_grocery_list_is_the_shopping_list_unless_one_was_made_by_that_name(lists: SkillHarness) -> None:
    assert lists.say("add rice to the grocery list").speech == "Added rice to your shopping list."
    assert lists.say("put peanut butter on my groceries").speech == "Added peanut butter to your shopping list."
    assert lists.say("tell me my groceries").speech == "Your shopping list has 2 items: rice and peanut butter."
    assert lists.say("don't let me forget to buy flour").speech == "Added flour to your shopping list."
    assert lists.store.get("list:grocery") is None and lists.store.get("list:groceries") is None
    assert lists.say("create a supermarket list").speech == "Created your supermarket list."
    assert lists.say("add soap to the supermarket list").speech == "Added soap to your supermarket list."
    assert lists.store.get("list:shopping") == ["rice", "peanut butter", "flour"]
