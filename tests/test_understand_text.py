"""Text-level understanding without models: normalisation, slots from free text, yes/no, the eval TSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from voicebox.act.confirm import answer_of, question
from voicebox.core.config import Config
from voicebox.core.errors import MeasureError
from voicebox.daemon.assistant import load_skill_set
from voicebox.measure.eval_intents import IntentCase, read_intent_cases, score_intents, slots_agree
from voicebox.understand.intent import IntentMatch, IntentRecognizer
from voicebox.understand.normalize import expand_contractions, normalize_text, strip_fillers, variants
from voicebox.understand.sampling import slot_names
from voicebox.understand.slot_fill import fill_slots, number_runs

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize(("said", "stripped"), [
    ("please set a timer for six minutes", "set a timer for six minutes"),
    ("could you set a timer for ninety seconds", "set a timer for ninety seconds"),
    ("hey, can you tell me the time please", "the time"),
    ("I'd like to know what time it is", "what time it is"),
    ("add milk to my list for me", "add milk to my list"),
    ("what time is it right now", "what time is it"),
    ("turn it down a little bit", "turn it down"),
    ("okay so um please stop", "stop"),
    ("what's 2.5 times 4 please", "what's 2.5 times 4"),
])
def test_fillers_go_anywhere(said: str, stripped: str) -> None:
    assert strip_fillers(normalize_text(said)) == stripped


@pytest.mark.parametrize(("said", "clean"), [
    ("set a timer for 1/2 an hour", "set a timer for half an hour"),
    ("set a timer for ½ an hour", "set a timer for half an hour"),
    ("a 1/4 hour timer", "a a quarter hour timer"),
    ("what is 10/2", "what is 10 divided by 2"),
    ("Hey Jarvis, set a 10-minute timer.", "set a 10 minute timer"),
    ("what's 15% of 80?", "what's 15 percent of 80"),
    ("what\u2019s 3 + 4", "what's 3 plus 4"),
])
def test_symbols_and_fractions_are_spelled_out(said: str, clean: str) -> None:
    assert normalize_text(said) == clean


def test_contractions_and_variants() -> None:
    assert expand_contractions("what's on it, i'd say") == "what is on it, i would say"
    assert variants("Could you tell me what's the time please?") == [
        "Could you tell me what's the time please", "what's the time", "what is the time"]
    assert variants("  ") == []


@pytest.fixture(scope="module")
def templates() -> IntentRecognizer:
    _, recognizer = load_skill_set(Config().replace("skills", semantic=False))
    assert recognizer.fallback is None
    return recognizer


M = lambda h=0, m=0, s=0: {"hours": h, "minutes": m, "seconds": s, "total_seconds": h * 3600 + m * 60 + s}  # noqa: E731


@pytest.mark.parametrize(("said", "intent", "slots"), [
    ("please set a timer for six minutes", "timers.StartTimer", {"duration": M(m=6)}),
    ("set a timer for 1/2 an hour", "timers.StartTimer", {"duration": M(m=30)}),
    ("can you set a timer for a quarter of an hour", "timers.StartTimer", {"duration": M(m=15)}),
    ("could you start a timer for one and a half hours", "timers.StartTimer", {"duration": M(h=1, m=30)}),
    ("start a 5 minute timer named pizza", "timers.StartTimer", {"duration": M(m=5), "name": "pizza"}),
    ("set a timer named pizza for 5 minutes", "timers.StartTimer", {"duration": M(m=5), "name": "pizza"}),
    ("start a timer for pasta for 8 minutes", "timers.StartTimer", {"duration": M(m=8), "name": "pasta"}),
    ("pause timer in kitchen", "timers.PauseTimer", {"name": "kitchen"}),
    ("how much time is left on my timers", "timers.TimeLeft", {}),
    ("check off apples from my shopping list", "lists.RemoveItem", {"item": "apples", "list_name": "shopping"}),
    ("which day of the week is it", "time_date.GetWeekday", {}),
    ("that's all", "control.Stop", {}),
    ("divide two hundred by four", "arithmetic.Calculate", {"a": "two hundred", "operator": "/", "b": "four"}),
    ("subtract 8 from 20", "arithmetic.Calculate", {"a": "20", "operator": "-", "b": "8"}),
])
def test_templates_take_natural_phrasings(templates: IntentRecognizer, said: str, intent: str,
                                          slots: dict[str, Any]) -> None:
    match = templates.recognize(said)
    assert match is not None, said
    assert (f"{match.skill}.{match.intent}", match.matcher) == (intent, "template")
    assert match.slots == slots


def test_number_wildcards_take_only_numbers(templates: IntentRecognizer) -> None:
    assert templates.recognize("what's my ip address") is None  # once read as "my ip" + "ress"
    assert templates.recognize("add lunch with sarah to my calendar on tuesday") is None
    match = templates.recognize("what's 7 times 8")
    assert match is not None and match.slots == {"a": "7", "operator": "*", "b": "8"}


def test_number_runs() -> None:
    assert number_runs("what's seventeen and twenty five together") == [(1, 17.0), (3, 25.0)]
    assert number_runs("two hundred and four divided by 4") == [(0, 204.0), (6, 4.0)]
    assert number_runs("add 15 27") == [(1, 15.0), (2, 27.0)]
    assert number_runs("a hundred minus 2.5") == [(0, 100.0), (3, 2.5)]
    assert number_runs("no numbers here") == []


def _fill(skill: str, intent: str, text: str) -> dict[str, Any] | None:
    skills, _ = load_skill_set(Config().replace("skills", semantic=False))
    sentences = next(s for s in skills if s.name == skill).sentences
    used, required = slot_names(sentences, intent)
    filled = fill_slots(text, used, required, sentences.get("lists") or {})
    return None if filled is None else filled[0]


@pytest.mark.parametrize(("skill", "intent", "text", "slots"), [
    ("timers", "StartTimer", "ring me after 10 minutes", {"duration": M(m=10)}),
    ("timers", "StartTimer", "timer for the rice eighteen minutes", {"duration": M(m=18), "name": "rice"}),
    ("timers", "StartTimer", "start timing 8 minutes for the cookies", {"duration": M(m=8), "name": "cookies"}),
    ("timers", "StartTimer", "get a quarter of an hour going", {"duration": M(m=15)}),
    ("timers", "AddTime", "i need two more minutes on the timer", {"duration": M(m=2)}),
    ("timers", "AddTime", "stretch it out", None),  # the duration it needs is not there
    ("timers", "CancelTimer", "ditch the pasta timer", {"name": "pasta"}),
    ("timers", "CancelTimer", "scrap the timer", {}),
    ("lists", "AddItem", "we need more sugar put it on the list", {"item": "sugar"}),
    ("lists", "AddItem", "don't let me forget to buy flour", {"item": "flour"}),
    ("lists", "AddItem", "could you jot lemons on the grocery list", {"item": "lemons", "list_name": "grocery"}),
    ("lists", "AddItem", "add peanut butter to my groceries", {"item": "peanut butter", "list_name": "grocery"}),
    ("lists", "RemoveItem", "strike flour off the shopping list", {"item": "flour", "list_name": "shopping"}),
    ("lists", "ReadList", "what's written on the grocery list", {"list_name": "grocery"}),
    ("lists", "ClearList", "throw away the whole shopping list", {"list_name": "shopping"}),
    ("control", "VolumeSet", "volume at half", {"percent": 50}),
    ("control", "VolumeSet", "change volume level to fifteen", {"percent": 15}),
    ("control", "VolumeSet", "make it nicer", None),
    ("arithmetic", "Calculate", "what's seventeen and twenty five together", {"a": "17", "operator": "+", "b": "25"}),
    ("arithmetic", "Calculate", "take 9 away from 30", {"a": "30", "operator": "-", "b": "9"}),
    ("arithmetic", "Calculate", "what's 144 split by 12", {"a": "144", "operator": "/", "b": "12"}),
    ("arithmetic", "Calculate", "what's the weather like", None),
    ("arithmetic", "Percent", "how much would 15 percent of 80 be", {"a": "15", "b": "80"}),
    ("arithmetic", "SquareRoot", "root of nine please", {"a": "9"}),
])
def test_slots_from_paraphrases(skill: str, intent: str, text: str, slots: dict[str, Any] | None) -> None:
    assert _fill(skill, intent, text) == slots


@pytest.mark.parametrize(("said", "answer"), [
    ("Yes.", True), ("yeah", True), ("yes please", True), ("that's right", True), ("sure", True), ("go ahead", True),
    ("No.", False), ("nope", False), ("no thanks", False), ("that's wrong", False), ("never mind", False),
    ("what time is it", None), ("yes and no", None), ("", None),
])
def test_yes_or_no(said: str, answer: bool | None) -> None:
    assert answer_of(said) is answer


def test_the_question_says_what_was_understood() -> None:
    match = IntentMatch("lists", "AddItem", {"item": "sugar"}, "we need sugar", False, matcher="semantic",
                        confidence=0.6, confirm=True, meaning="add sugar to the list")
    assert question(match) == "Did you mean: add sugar to the list?"


def test_eval_tsv_is_read_and_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.tsv"
    good.write_text("# a comment\nwhat time is it\ttime_date.GetTime\t{}\nplay jazz\t\t\n"
                    'add milk to the list\tlists.AddItem\t{"item": "milk"}\n', encoding="utf-8")
    cases = read_intent_cases(good)
    assert cases == [IntentCase("what time is it", "time_date.GetTime", {}, 2), IntentCase("play jazz", "", {}, 3),
                     IntentCase("add milk to the list", "lists.AddItem", {"item": "milk"}, 4)]
    for text, message in (("a\tb\t{}\n", "is not skill.intent"), ("a\tx.Y\t{oops\n", "not JSON"),
                          ("a\tx.Y\t[1]\n", "JSON object"), ("\n", "no sentences")):
        bad = tmp_path / "bad.tsv"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(MeasureError, match=message):
            read_intent_cases(bad)
    with pytest.raises(MeasureError, match="no such file"):
        read_intent_cases(tmp_path / "missing.tsv")


def test_slots_agree() -> None:
    assert slots_agree({"a": 200}, {"a": "two hundred", "b": "4"})
    assert slots_agree({"duration": {"total_seconds": 90}}, {"duration": {"minutes": 1, "total_seconds": 90}})
    assert slots_agree({"item": "Paper  Towels"}, {"item": "paper towels"})
    assert not slots_agree({"item": "milk"}, {})
    assert not slots_agree({"a": 3}, {"a": "three and a half"})


def test_scores_count_asks_apart_from_false_intents(templates: IntentRecognizer) -> None:
    class Asks:
        def recognize(self, text: str) -> IntentMatch | None:
            if "jazz" in text:
                return IntentMatch("control", "VolumeUp", {}, text, False, matcher="semantic", confidence=0.5,
                                   confirm=True)
            return templates.recognize(text)

    cases = [IntentCase("what time is it", "time_date.GetTime"), IntentCase("what's my ip address", ""),
             IntentCase("play jazz", ""), IntentCase("set a timer for 2 minutes", "timers.StartTimer",
                                                     {"duration": {"total_seconds": 180}})]
    summary = score_intents(cases, Asks())
    assert (summary["accuracy"], summary["intent_accuracy"]) == (0.5, 1.0)
    assert (summary["false_intent_rate"], summary["asked_out_of_scope_rate"]) == (0.0, 0.5)
    assert {"expected": "(none)", "got": "(asked) control.VolumeUp", "n": 1} in summary["confusion"]


def test_the_development_sets_are_big_enough() -> None:
    for name, in_scope, out_of_scope in (("intents_dev.tsv", 300, 200), ("intents_paraphrases.tsv", 150, 30)):
        cases = read_intent_cases(TESTS / name)
        assert sum(bool(c.intent) for c in cases) >= in_scope and sum(not c.intent for c in cases) >= out_of_scope
        assert len({c.sentence.lower() for c in cases}) == len(cases), f"{name} repeats a sentence"
