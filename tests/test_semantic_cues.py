"""The semantic matcher's pieces that need no model: cue words between near siblings, unknown things, the words
embedded for "countdown", and how they move the confidence. A fake embedder stands in for the model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voicebox.understand.intent import compile_sentences
from voicebox.understand.sampling import intent_words
from voicebox.understand.semantic import SemanticMatcher, confidence_of, utterance_form
from voicebox.understand.semantic_intents import unknown_things

SENTENCES = {"language": "en", "intents": {
    "StartTimer": {"data": [{"sentences": ["set a timer", "start the timer"]}]},
    "AddTime": {"data": [{"sentences": ["add more time to the timer", "another minute on the timer"]}]},
    "Weather": {"data": [{"sentences": ["what's the weather"]}]},
}}


class TimerOrNot:
    """Two dimensions: says "timer" or "weather", and nothing else (so the verbs cannot tell intents apart)."""

    fingerprint = "fake"

    def embed(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        rows = [[float("timer" in t), float("weather" in t), 0.1] for t in texts]
        vectors = np.array(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _matcher() -> SemanticMatcher:
    return SemanticMatcher([("timers", compile_sentences(SENTENCES))], TimerOrNot(), per_template=2)


def test_intent_words_are_the_templates_own_words() -> None:
    words = intent_words(compile_sentences(SENTENCES))
    assert {"add", "more", "another", "timer"} <= words["AddTime"]
    assert {"set", "start", "timer"} <= words["StartTimer"] and "add" not in words["StartTimer"]


def test_a_cue_word_decides_between_siblings_the_embedding_cannot_tell_apart() -> None:
    matcher = _matcher()
    more = matcher.guess("two more minutes on the timer")
    assert more is not None and (more.intent, more.decided) == ("AddTime", True), more
    start = matcher.guess("start the timer please")
    assert start is not None and (start.intent, start.decided) == ("StartTimer", True), start
    neither = matcher.guess("the timer")  # no intent's own word: a tie, not decided, no margin
    assert neither is not None and not neither.decided and neither.margin < 0.01, neither
    both = matcher.guess("add a new timer and set it")  # a cue of each: nothing decided
    assert both is not None and not both.decided


def test_unknown_things_are_the_unknown_words_after_a_determiner() -> None:
    assert unknown_things("mute the tv", ["tv"]) == 1
    assert unknown_things("what's on my big calendar", ["calendar"]) == 1
    assert unknown_things("ditch the timer", ["ditch"]) == 0
    assert unknown_things("turn the music down", []) == 0


def test_an_unknown_thing_costs_more_confidence_than_an_unknown_verb() -> None:
    plain = confidence_of(0.8, 0.08)
    verb = confidence_of(0.8, 0.08, unknown=1)
    thing = confidence_of(0.8, 0.08, unknown=1, things=1)
    assert plain > verb > thing
    assert confidence_of(0.9, 0.1) > confidence_of(0.8, 0.1) > confidence_of(0.8, 0.0)


def test_countdown_is_embedded_as_timer() -> None:
    assert utterance_form("Please pause the countdown.") == "pause the timer"
    assert utterance_form("stop all the countdowns") == "stop all the timers"
    assert utterance_form("count down from ten minutes") == "count down from ten minutes"  # the verb stays


class Counting(TimerOrNot):
    """The fake embedder, keeping every text it is given."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        self.seen += list(texts)
        return super().embed(texts, batch)


def test_an_utterance_looked_at_again_is_not_embedded_again() -> None:
    embedder = Counting()
    matcher = SemanticMatcher([("timers", compile_sentences(SENTENCES))], embedder, per_template=2)
    embedder.seen.clear()  # the examples
    first = matcher.guesses(["set a timer please", "what's the weather"])
    again = matcher.guesses(["what's the weather", "set a timer please", "set a timer please", "the timer"])
    assert embedder.seen == ["set a timer please", "what's the weather", "the timer"]
    assert again[:2] == first[::-1] and again[2] == first[0]  # the same answers as the first time
