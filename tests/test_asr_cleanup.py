"""Transcript clean-up of the recognizer (pure): decoder loops cut to one copy, unreliable results flagged."""

from __future__ import annotations

import pytest

from voicebox.understand.asr import Recognition, collapse_repeats, looks_unreliable


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("cancel timer cancel timer cancel timer", "cancel timer"),
        ("cancel timer cancel timer ca", "cancel timer"),  # the token budget ended mid-word
        ("What's the date today? What's the d", "What's the date today?"),
        ("set a timer for five minutes five minutes five minutes", "set a timer for five minutes"),
        ("next next next next", "next"),
        ("cancel timer cancel timer cancel timer cancel timer cancel timer timer timer", "cancel timer"),
        ("seven time after 30 seconds seven time after 30 seconds seven seconds", "seven time after 30 seconds"),
        ("set the timer for five five five", "set the timer for five"),
        ("cancel timer cancel timer cancel timer timer cancel timer cancel timer cancel timer", "cancel timer"),
    ],
)
def test_decoder_loops_are_cut_to_one_copy(raw: str, expected: str) -> None:
    assert collapse_repeats(raw) == (expected, True)


@pytest.mark.parametrize("text", ["what time is it", "turn on the living room lamp", "set a timer for 5 minutes",
                                  "stop.", "is the front door locked",
                                  "turn off all of the lights in the office", "bye bye"])
def test_ordinary_commands_are_left_alone(text: str) -> None:
    assert collapse_repeats(text) == (text, False)


def test_unreliable_results() -> None:
    assert looks_unreliable(Recognition("", "short", -0.1, 1.0))
    assert looks_unreliable(Recognition("...", "short", -0.1, 1.0))
    assert looks_unreliable(Recognition("follows", "short", -4.7, 1.0), min_logprob=-2.0)
    assert not looks_unreliable(Recognition("record", "short", -1.5, 1.0), min_logprob=-2.0)
