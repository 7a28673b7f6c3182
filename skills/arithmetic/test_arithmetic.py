"""The arithmetic skill's spoken forms: divide X by Y, the sum of, by, powers, percent, half of."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from voicebox.testing import SkillHarness

FOLDER = Path(__file__).parent


@pytest.fixture(scope="module")
def calc() -> Iterator[SkillHarness]:
    with SkillHarness(FOLDER) as harness:
        yield harness


@pytest.mark.parametrize(("said", "result", "speech"), [
    ("divide 200 by 4", 50, "200 divided by 4 is 50."),
    ("divide two hundred by four", 50, "200 divided by 4 is 50."),
    ("nine plus two", 11, "9 plus 2 is 11."),
    ("what's the sum of four and six", 10, "4 plus 6 is 10."),
    ("two by two", 4, "2 times 2 is 4."),
    ("subtract 3 from 10", 7, "10 minus 3 is 7."),
    ("what's the difference between 20 and 8", 12, "20 minus 8 is 12."),
    ("3 to the power of 4", 81, "3 to the power of 4 is 81."),
    ("2 to the 10th power", 1024, "2 to the power of 10 is 1,024."),
    ("what's five squared", 25, "5 to the power of 2 is 25."),
    ("15 % of 80", 12, "15 percent of 80 is 12."),
    ("what is half of 90", 45, "Half of 90 is 45."),
    ("a third of 100", 100 / 3, "A third of 100 is 33.33."),
    ("double 45", 90, "Double 45 is 90."),
    ("what is 12 multiplied by 12", 144, "12 times 12 is 144."),
])
def test_spoken_forms(calc: SkillHarness, said: str, result: float, speech: str) -> None:
    reply = calc.say(said)
    assert reply.data["result"] == pytest.approx(result)
    assert reply.speech == speech


def test_impossible_powers_are_explained(calc: SkillHarness) -> None:
    assert calc.say("10 to the power of 100").speech == "10 to the power of 100 is too big to say."
    assert calc.say("0 to the power of minus 1").speech == "Zero to a negative power is undefined."
    assert calc.say("divide 5 by 0").speech == "You can't divide by zero."
