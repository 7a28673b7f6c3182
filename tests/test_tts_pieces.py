"""How replies are cut into pieces for the voice: sentences, the first clause, and long sentences in parts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from voicebox.speak.sentences import MAX_PIECE_WORDS, SentenceBuffer, speech_pieces, split_sentences


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


@pytest.mark.parametrize(("text", "sentences"), [
    ("One. Two! Three?", ["One.", "Two!", "Three?"]),
    ("It costs 3.50 today. Really", ["It costs 3.50 today.", "Really"]),
    ('He said "hi." (Then left.) Bye', ['He said "hi."', "(Then left.)", "Bye"]),
    ("Wait... what?! Oh\u2026 fine.\nNext line", ["Wait...", "what?!", "Oh\u2026", "fine.", "Next line"]),
    ("  no stop at all  ", ["no stop at all"]),
    ("", []),
])
def test_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


@pytest.mark.parametrize("text", ["One. Two! Three?", 'He said "hi." Then left.', "A... b?! c\u2026 d. e", "x"])
@pytest.mark.parametrize("step", [1, 2, 5, 100])
def test_streamed_text_is_cut_where_whole_text_is(text: str, step: int) -> None:
    buf = SentenceBuffer(max_chars=1000)
    streamed = [s for i in range(0, len(text), step) for s in buf.add(text[i : i + step])]
    rest = buf.finish()
    assert [*streamed, *([rest] if rest else [])] == split_sentences(text)


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


@pytest.mark.slow
def test_a_common_opening_is_said_from_audio_kept_from_its_first_time(model_store: Any) -> None:
    from voicebox.core.config import Config
    from voicebox.daemon.assistant import load_tts

    voice = load_tts(Config(), model_store)
    first = next(iter(voice.synthesize("Sorry, that timer is gone.")))
    again = next(iter(voice.synthesize("Sorry, I didn't understand that.")))
    assert np.array_equal(first, again)  # the voice's random draws make two syntheses of one text differ
    other = [next(iter(voice.synthesize("That timer is gone."))) for _ in range(2)]
    assert not np.array_equal(*other)  # only the openings are kept
    voice.set_volume(0.5)
    quieter = next(iter(voice.synthesize("Sorry, no.")))
    assert np.abs(quieter).max() < 0.75 * np.abs(first).max()  # made again at the new volume
