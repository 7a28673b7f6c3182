"""How replies are cut into pieces for the voice: sentences, the first clause, and long sentences in parts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from voicebox.speak.tts import MAX_PIECE_WORDS, speech_pieces


@pytest.mark.parametrize(("text", "pieces"), [
    ("It is 12:45.", ["It is 12:45."]),
    ("One. Two! Three?", ["One.", "Two!", "Three?"]),
    ("Hello there, general Kenobi", ["Hello there,", "general Kenobi"]),
    ('He said "hi." Then left.', ['He said "hi."', "Then left."]),
    ('Sorry, I didn\'t understand that. Say "what can you do" to hear some things I can help with.',
     ["Sorry,", "I didn't understand that.", 'Say "what can you do"', "to hear some things I can help with."]),
    ("  ", []),
])
def test_pieces(text: str, pieces: list[str]) -> None:
    assert speech_pieces(text) == pieces


def test_only_the_first_sentence_gives_its_first_clause_alone() -> None:
    assert speech_pieces("Done. Well, that was quick.") == ["Done.", "Well, that was quick."]


def test_long_sentences_are_bounded_and_keep_every_word_in_order() -> None:
    text = ("You have apples, bananas, milk, bread, eggs, cheese, butter and a very long list of things on your "
            "shopping list for the party at the weekend with your friends from work.")
    pieces = speech_pieces(text)
    assert all(len(p.split()) <= MAX_PIECE_WORDS for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert len(pieces) >= 3
    unbroken = " ".join(f"word{i}" for i in range(25))  # no clause, no joining word: cut in the middle
    assert [len(p.split()) for p in speech_pieces(unbroken)] == [6, 6, 6, 7]


def test_a_long_reply_is_spoken_in_pieces_by_the_real_voice(engines: Any) -> None:
    text = 'Say "what can you do" to hear some things I can help with.'
    chunks = list(engines.tts.synthesize(text))
    assert len(chunks) == len(speech_pieces(text)) == 2
    assert all(len(c) > 0.3 * engines.tts.sample_rate and np.abs(c).max() > 1000 for c in chunks)
