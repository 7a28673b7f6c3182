"""Units: kitchen and everyday conversions ("how many cups in a litre", "350 Fahrenheit in Celsius"), with pint.

The sentences name the units (their ``out`` values are pint unit
expressions); pint does the arithmetic. Answers keep three significant
figures ("about 8.05 kilometers"), said as "about" when rounded.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from voicebox.skill import Context, Response, Skill, intent, parse_number, spoken_number

_ARTICLES = {"a": 1.0, "an": 1.0, "one": 1.0, "per": 1.0, "half a": 0.5, "half an": 0.5, "a half": 0.5,
             "a quarter of a": 0.25, "a quarter of an": 0.25, "quarter of a": 0.25, "three quarters of a": 0.75,
             "a third of a": 1 / 3, "two thirds of a": 2 / 3}
# Words said before a unit name that change the unit: "4 fluid ounces", "10 square feet", "2 imperial pints".
_MODIFIERS = {("fluid", "ounce"): "fluid_ounce", ("imperial", "pint"): "imperial_pint",
              ("imperial", "gallon"): "imperial_gallon", ("uk", "pint"): "imperial_pint",
              ("uk", "gallon"): "imperial_gallon"}
_POWERS = {"square": 2, "sq": 2, "cubic": 3}
_IRREGULAR = {"foot": "feet", "inch": "inches", "metric_ton": "tonnes", "kilocalorie": "calories",
              "degree_Fahrenheit": "degrees Fahrenheit", "degree_Celsius": "degrees Celsius", "kelvin": "kelvin",
              "stone": "stone", "imperial_pint": "imperial pints", "imperial_gallon": "imperial gallons",
              "fluid_ounce": "fluid ounces", "mile/hour": "miles per hour", "kilometer/hour": "kilometers per hour",
              "meter/second": "meters per second"}
_SINGULAR = {"metric_ton": "tonne", "kilocalorie": "calorie", "degree_Fahrenheit": "degree Fahrenheit",
             "degree_Celsius": "degree Celsius", "imperial_pint": "imperial pint", "imperial_gallon": "imperial gallon",
             "fluid_ounce": "fluid ounce", "mile/hour": "mile per hour", "kilometer/hour": "kilometer per hour",
             "meter/second": "meter per second"}
_KINDS = {"[length]": "length", "[mass]": "weight", "[length] ** 3": "volume", "[temperature]": "temperature",
          "[length] / [time]": "speed", "[length] ** 2": "area", "[time]": "time",
          "[length] ** 2 * [mass] / [time] ** 2": "energy"}


@functools.cache
def _registry() -> Any:
    """pint's unit registry (built once: it parses its definitions file)."""
    import pint

    return pint.UnitRegistry()


def unit_name(unit: str, amount: float) -> str:
    """How to say a unit for an amount: "1 cup", "2 cups", "3 feet", "10 square meters"."""
    power = re.fullmatch(r"(\w+)\*\*([23])", unit)
    if power:
        return f"{'square' if power.group(2) == '2' else 'cubic'} {unit_name(power.group(1), amount)}"
    if amount == 1:
        return _SINGULAR.get(unit, unit.replace("_", " "))
    return _IRREGULAR.get(unit, unit.replace("_", " ") + "s")


def rounded(value: float, figures: int = 3) -> float:
    """``value`` to ``figures`` significant figures (whole numbers from 1000 up keep their units digit)."""
    if value == 0 or not math.isfinite(value):
        return value
    if abs(value) >= 10 ** figures:
        return float(round(value))
    return round(value, figures - 1 - math.floor(math.log10(abs(value))))


def _amount(said: str, unit: str) -> tuple[float, str, str] | None:
    """("4 fluid", "ounce") -> (4.0, "fluid_ounce", ""); ("half a", "cup") -> (0.5, "cup", "half a")."""
    words = said.lower().split()
    for cut in range(len(words), 0, -1):
        head, rest = " ".join(words[:cut]), words[cut:]
        number = _ARTICLES.get(head)
        article = head if number is not None and head != "per" else ""
        if number is None:
            number = parse_number(head)
        if number is None:
            continue
        for word in reversed(rest):
            if (word, unit) in _MODIFIERS:
                unit = _MODIFIERS[(word, unit)]
            elif word in _POWERS and "*" not in unit and "/" not in unit:
                unit = f"{unit}**{_POWERS[word]}"
            else:
                return None
        return number, unit, article
    return None


def _kind(quantity: Any) -> str:
    return _KINDS.get(str(quantity.dimensionality), "something else")


class Units(Skill):
    """Converts lengths, weights, volumes, temperatures, speeds, areas, times and food energy."""

    examples = ("how many cups in a litre", "convert 5 miles to kilometres", "350 Fahrenheit in Celsius",
                "how many grams is 4 ounces")

    @intent("Convert")
    def convert(self, ctx: Context, amount: str, from_unit: str, to_unit: str) -> Response:
        """amount from_unit -> to_unit, rounded to three significant figures."""
        parsed = _amount(str(amount), from_unit)
        if parsed is None:
            return Response(f"Sorry, I didn't catch how many {unit_name(from_unit, 2)}: {amount!r} isn't a number "
                            "I know.")
        number, from_unit, article = parsed
        import pint

        ureg = _registry()
        try:
            result = float(ureg.Quantity(number, from_unit).to(to_unit).magnitude)
        except pint.DimensionalityError:
            source, target = ureg.Quantity(1, from_unit), ureg.Quantity(1, to_unit)
            return Response(f"I can't convert {unit_name(from_unit, 2)} to {unit_name(to_unit, 2)}: one measures "
                            f"{_kind(source)} and the other {_kind(target)}.")
        near = rounded(result)
        said_from = f"{article} {unit_name(from_unit, 1)}" if article else \
            f"{spoken_number(number)} {unit_name(from_unit, number)}"
        about = "" if math.isclose(near, result, rel_tol=1e-9, abs_tol=1e-12) else "about "
        speech = f"{said_from} is {about}{spoken_number(near, digits=6)} {unit_name(to_unit, near)}."
        return Response(speech[0].upper() + speech[1:], data={"value": result, "rounded": near, "from": from_unit,
                                                              "to": to_unit, "amount": number})
