"""The units skill: conversions said back with three significant figures, and what it can't convert."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicebox.testing import SkillHarness

FOLDER = Path(__file__).parent


@pytest.fixture(scope="module")
def units() -> Iterator[SkillHarness]:
    with SkillHarness(FOLDER) as harness:
        yield harness


# Exact values from the definitions: 1 mile = 1.609344 km, 1 US cup = 236.5882365 ml, 1 oz = 28.349523125 g.
@pytest.mark.parametrize(("said", "value", "speech"), [
    ("how many cups in a litre", 1000 / 236.5882365, "A liter is about 4.23 cups."),
    ("convert 5 miles to kilometres", 5 * 1.609344, "5 miles is about 8.05 kilometers."),
    ("350 Fahrenheit in Celsius", (350 - 32) * 5 / 9, "350 degrees Fahrenheit is about 177 degrees Celsius."),
    ("how many grams is 4 ounces", 4 * 28.349523125, "4 ounces is about 113 grams."),
    ("180 celsius in fahrenheit", 356, "180 degrees Celsius is 356 degrees Fahrenheit."),
    ("convert half a cup to tablespoons", 8, "Half a cup is 8 tablespoons."),
    ("how many minutes in an hour", 60, "An hour is 60 minutes."),
    ("convert two and a half cups to millilitres", 2.5 * 236.5882365, "2.5 cups is about 591 milliliters."),
    ("convert 4 fluid ounces to ml", 4 * 29.5735295625, "4 fluid ounces is about 118 milliliters."),
    ("what is 10 square feet in square metres", 10 * 0.3048 ** 2, "10 square feet is about 0.929 square meters."),
    ("how many feet in a mile", 5280, "A mile is 5,280 feet."),
    ("convert 1 mile to feet", 5280, "1 mile is 5,280 feet."),
    ("how many pounds in a kilo", 1 / 0.45359237, "A kilogram is about 2.2 pounds."),
    ("convert 10000 metres to miles", 10000 / 1609.344, "10,000 meters is about 6.21 miles."),
])
def test_conversions(units: SkillHarness, said: str, value: float, speech: str) -> None:
    reply = units.say(said)
    assert reply.data["value"] == pytest.approx(value)
    assert reply.speech == speech


def test_what_cannot_be_converted_is_explained(units: SkillHarness) -> None:
    assert units.say("convert 2 cups to grams").speech == \
        "I can't convert cups to grams: one measures volume and the other weight."
    assert units.say("convert lots of cups to ml").speech == \
        "Sorry, I didn't catch how many cups: 'lots of' isn't a number I know."


def test_rounding(units: SkillHarness) -> None:
    rounded = sys.modules[type(units.skill).__module__].rounded  # the skill's module, as the harness loaded it
    assert [rounded(v) for v in (8.04672, 176.667, 0.029574, 1609.344, 12345.6, 0.0)] == \
        [8.05, 177, 0.0296, 1609, 12346, 0.0]
