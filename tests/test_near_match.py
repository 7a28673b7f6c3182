"""Near matches: slightly misheard transcripts taken for the closest template sentence, and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from voicebox.core.config import Config
from voicebox.daemon.assistant import load_skill_set
from voicebox.measure.eval import intent_scores
from voicebox.understand.asr import Recognition
from voicebox.understand.intent import IntentRecognizer, compile_sentences
from voicebox.understand.near_match import NearMatch, NearMatcher, TemplateGraph, transcript_words, word_distance
from voicebox.understand.retries import RETRIES, understand

TINY = yaml.safe_load("""
language: en
intents:
  PauseTimer:
    data:
      - sentences:
          - "pause [the] timer"
  GetTime:
    data:
      - sentences:
          - "what time is it"
  StartTimer:
    data:
      - sentences:
          - "set a timer for {minutes} minutes"
  AddItem:
    data:
      - sentences:
          - "add {item} to the list"
lists:
  minutes:
    range:
      from: 1
      to: 100
  item:
    wildcard: true
""")


@pytest.fixture(scope="module")
def tiny() -> TemplateGraph:
    return TemplateGraph(compile_sentences(TINY))


def align(graph: TemplateGraph, text: str) -> NearMatch | None:
    return graph.align(transcript_words(text))


def test_word_distance_is_edits_over_the_longer_word() -> None:
    assert word_distance("timer", "timer") == 0.0
    assert word_distance("time", "timer") == pytest.approx(0.2)
    assert word_distance("timer", "time") == pytest.approx(0.2)
    assert word_distance("in", "and") == pytest.approx(2 / 3)
    assert word_distance("next", "text") == pytest.approx(0.25)


def test_cost_arithmetic_on_tiny_templates(tiny: TemplateGraph) -> None:
    exact = align(tiny, "pause the timer")
    assert exact == NearMatch("pause the timer", 0.0, 3, 3)
    # a word heard slightly wrong costs its distance; the optional "the" is left out for free
    assert align(tiny, "pause time") == NearMatch("pause timer", 0.2, 2, 1)
    # an extra function word costs 0.5, an extra content word 1.0
    assert align(tiny, "pause the the timer") == NearMatch("pause the timer", 0.5, 3, 3)
    assert align(tiny, "pause banana timer") == NearMatch("pause timer", 1.0, 2, 2)
    # a missing function word is put back at 0.5 and counts as a template word
    assert align(tiny, "what time is") == NearMatch("what time is it", 0.5, 4, 3)


def test_acceptance_is_a_quarter_per_template_word_and_one_exact_word() -> None:
    assert NearMatch("pause timer", 0.5, 2, 1).acceptable
    assert not NearMatch("pause timer", 0.51, 2, 1).acceptable
    assert not NearMatch("pause timer", 0.2, 2, 0).acceptable  # nothing heard exactly
    assert NearMatch("pause timer", 0.2, 2, 1).closeness == pytest.approx(0.4)


def test_a_missing_content_word_is_never_made_up(tiny: TemplateGraph) -> None:
    pause = align(tiny, "pause")
    assert pause is None or not pause.acceptable
    what = align(tiny, "what is it")
    assert what is None or not what.acceptable


def test_acceptable_only_drops_exactly_the_matches_out_of_budget(tiny: TemplateGraph) -> None:
    for text in ["pause time", "pause the the timer", "what time is", "set a time for twenty five minutes"]:
        full = align(tiny, text)
        assert full is not None and full.acceptable
        assert tiny.align(transcript_words(text), acceptable_only=True) == full
    assert align(tiny, "pause banana timer") == NearMatch("pause timer", 1.0, 2, 2)  # closest, but over budget
    assert tiny.align(transcript_words("pause banana timer"), acceptable_only=True) is None


def test_pruned_search_finds_what_the_full_search_finds_on_the_builtin_skills() -> None:
    _, intents = load_skill_set(Config())
    graphs = NearMatcher([(s.name, i) for s, i in intents._compiled]).graphs
    texts = [line.split("\t")[0].lower() for name in ("intents_paraphrases.tsv", "intents_dev.tsv")
             for line in (Path(__file__).parent / name).read_text().splitlines() if line and not line.startswith("#")]
    compared = 0
    for text in texts[::3]:
        words = transcript_words(text)
        for _, graph in graphs:
            full = graph.align(words)
            assert graph.align(words, acceptable_only=True) == (full if full is not None and full.acceptable else None)
            compared += full is not None and full.acceptable
    assert compared >= 20  # the comparison saw acceptable matches, not only misses


def test_slots_take_their_words_from_the_transcript(tiny: TemplateGraph) -> None:
    assert align(tiny, "set a time for twenty five minutes") == NearMatch(
        "set a timer for twenty five minutes", 0.2, 6, 4)
    out_of_range = align(tiny, "set a time for five hundred minutes")
    assert out_of_range is None or "five hundred" not in out_of_range.sentence
    # wildcard words are unchecked, so they cost 0.1 each and earn no budget
    assert align(tiny, "add green apples to the lists") == NearMatch("add green apples to the list", 0.4, 4, 3)
    # a wildcard never consists of function words only
    assert align(tiny, "add the to the list") != NearMatch("add the to the list", 0.1, 4, 4)


@pytest.fixture(scope="module")
def builtin() -> IntentRecognizer:
    _, intents = load_skill_set(Config())  # near_match is on by default
    assert intents.recognize_near(["pause time"]) is not None
    return intents


M = lambda h=0, m=0, s=0: {"hours": h, "minutes": m, "seconds": s, "total_seconds": h * 3600 + m * 60 + s}  # noqa: E731

NEAR: list[tuple[str, str, dict[str, Any]]] = [
    ("pause time", "timers.PauseTimer", {}),
    ("resume time", "timers.ResumeTimer", {}),
    ("set time for three hours in ten minutes", "timers.StartTimer", {"duration": M(3, 10)}),
    ("set a time for five minutes", "timers.StartTimer", {"duration": M(m=5)}),
    ("cancel the time", "timers.CancelTimer", {}),
    ("what time is", "time_date.GetTime", {}),
    ("what day it be", "time_date.GetWeekday", {}),
    ("add apples to my shopping lists", "lists.AddItem", {"item": "apples", "list_name": "shopping"}),
]


@pytest.mark.parametrize(("heard", "intent", "slots"), NEAR)
def test_near_misses_of_builtin_sentences_match(builtin: IntentRecognizer, heard: str, intent: str,
                                                slots: dict[str, Any]) -> None:
    assert builtin.recognize(heard, fallback=False) is None, "not a near miss: it matches a template exactly"
    found = builtin.recognize_near([heard])
    assert found is not None
    index, match = found
    assert (index, f"{match.skill}.{match.intent}", match.slots) == (0, intent, slots)
    assert match.heard == heard and match.text != heard
    assert not match.complete  # never ends a command early


def test_exact_sentences_are_their_own_nearest(builtin: IntentRecognizer) -> None:
    found = builtin.recognize_near(["cancel all timer"])
    assert found is not None and (found[1].intent, found[1].text) == ("CancelAllTimers", "cancel all timer")


OUT_OF_DOMAIN = [
    "what's the wedding", "pause", "next", "resume", "record", "lock the front door", "is the front door lock",
    "is the garage door open", "set bed light right is 50%", "so kitchen ice degree", "turn on standing lights",
    "activate lose lighting", "run party time", "skip on TV", "turn off the lights", "turn off lights in the office",
    "turn off all the lights in the office", "what's the temperature", "what's the temperature of the incubi",
    "what is the outdoor humidity", "what's the weather like in New York", "turn on the living room lamp",
    "what is it", "pause the music", "stop the music please", "hell",
]


@pytest.mark.parametrize("heard", OUT_OF_DOMAIN)
def test_out_of_domain_commands_match_nothing(builtin: IntentRecognizer, heard: str) -> None:
    assert builtin.recognize(heard, fallback=False) is None
    assert builtin.recognize_near([heard]) is None
    guessed = builtin.recognize(heard)  # the semantic matcher (when its model is installed) may ask, never act
    assert guessed is None or guessed.confirm, guessed


def test_the_closest_of_several_transcripts_wins(builtin: IntentRecognizer) -> None:
    found = builtin.recognize_near(["pause", "what time is", "what's the times"])
    assert found is not None
    assert (found[0], found[1].intent) == (2, "GetTime")  # 0.2 of 0.75 beats 0.5 of 1.0


def test_near_matching_is_off_when_not_asked_for() -> None:
    skills, _ = load_skill_set(Config())
    assert IntentRecognizer(skills).recognize_near(["pause time"]) is None


def test_a_skill_whose_graph_cannot_be_built_is_left_out() -> None:
    matcher = NearMatcher([("broken", object()), ("tiny", compile_sentences(TINY))])  # type: ignore[list-item]
    assert set(matcher.errors) == {"broken"}
    assert [(skill, m.sentence) for skill, m in matcher.candidates("pause time")] == [("tiny", "pause timer")]


class ScriptedRecognizer:
    """Returns the given transcripts in turn, one per call."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = list(texts)
        self.calls: list[dict[str, bool]] = []

    def transcribe(self, pcm: Any, *, full_window: bool = False, careful: bool = False) -> Recognition:
        self.calls.append({"full_window": full_window, "careful": careful})
        return Recognition(self.texts.pop(0), "full" if full_window else "short", -0.3, 1.0)


def test_understand_takes_a_near_match_only_after_the_retries(builtin: IntentRecognizer) -> None:
    audio = np.zeros(16000, dtype=np.int16)
    asr = ScriptedRecognizer(["pause", "pause time", "pause"])
    understood = understand(asr, builtin, audio)
    assert len(asr.calls) == 1 + len(RETRIES)
    assert understood.match is not None and understood.match.intent == "PauseTimer"
    assert understood.recognition.text == "pause time"
    assert understood.match.heard == "pause time"

    exact = ScriptedRecognizer(["pause the timer"])
    assert understand(exact, builtin, audio).match == builtin.recognize("pause the timer")
    assert len(exact.calls) == 1

    nothing = ScriptedRecognizer(["pause", "pause", "pause"])
    guessed = understand(nothing, builtin, audio).match  # no template, no near match: at most a semantic question
    assert guessed is None or (guessed.matcher == "semantic" and guessed.confirm)
    assert understand(ScriptedRecognizer(["pause"] * 3), builtin, audio, fallback=False).match is None


def test_a_near_match_of_the_first_transcript_needs_no_second_look(builtin: IntentRecognizer) -> None:
    asr = ScriptedRecognizer(["pause time"])  # a second call would fail: the script has one transcript
    understood = understand(asr, builtin, np.zeros(16000, dtype=np.int16))
    assert len(asr.calls) == 1
    assert understood.match is not None and understood.match.intent == "PauseTimer" and understood.match.matcher == "near"


def test_understand_reports_the_full_window_transcript_when_nothing_matched(builtin: IntentRecognizer) -> None:
    asr = ScriptedRecognizer(["what's the wedding", "what's the weeding", "what's the weather"])
    understood = understand(asr, builtin, np.zeros(16000, dtype=np.int16))
    assert understood.match is None
    assert asr.calls[-1]["full_window"] and understood.recognition.text == "what's the weather"


def test_intent_scores_count_false_intents_among_commands_without_one() -> None:
    rows = [
        {"kind": "command", "intent": "timers.PauseTimer {}", "intent_ok": True, "near_match": True},
        {"kind": "command", "intent": None, "intent_ok": False},
        {"kind": "command", "intent": None},
        {"kind": "command", "intent": "control.Stop {}"},
        {"kind": "speech"},
    ]
    assert intent_scores(rows) == {"intent_accuracy": 0.5, "n_intent": 2, "n_false_intents": 1, "n_no_intent": 2,
                                   "n_near_matches": 1}
    assert intent_scores([])["intent_accuracy"] is None
