"""Arithmetic: "what is seven times eight", "divide 200 by 4", "3 to the power of 4", "half of 90"; sensibly rounded."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from voicebox.skill import Context, Response, Skill, intent, parse_number, spoken_number

_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by", "^": "to the power of"}
_FRACTIONS = {"1/2": "half", "1/3": "a third", "2/3": "two thirds", "1/4": "a quarter", "3/4": "three quarters",
              "1/5": "a fifth", "1/10": "a tenth", "2": "double", "3": "three times"}
_MAX_POWER = 1e15  # beyond this a spoken answer is no use (and 10 to the power of a million would hang)


class Arithmetic(Skill):
    """Adds, subtracts, multiplies, divides, percentages and square roots of spoken numbers."""

    examples = ("what is seven times eight", "what's 15 percent of 80", "what is the square root of 144",
                "divide 200 by 4", "3 to the power of 4", "what is half of 90")

    def _numbers(self, *said: str | float) -> list[float] | Response:
        # "the 10th power": a digit ordinal is its number; whole numbers may arrive as numbers already
        texts = [re.sub(r"(?<=\d)(st|nd|rd|th)$", "", str(t).strip()) for t in said]
        values = [parse_number(t) for t in texts]
        bad = [t for t, v in zip(texts, values, strict=True) if v is None]
        if bad:
            return Response(f"Sorry, I can only calculate with numbers, and {bad[0]!r} isn't one I know.")
        return [v for v in values if v is not None]

    @intent("Calculate")
    def calculate(self, ctx: Context, a: str | float, operator: str, b: str | float) -> Response:
        """a + - * / b."""
        nums = self._numbers(a, b)
        if isinstance(nums, Response):
            return nums
        x, y = nums
        if operator == "/" and y == 0:
            return Response("You can't divide by zero.")
        if operator == "^":
            if x == 0 and y < 0:
                return Response("Zero to a negative power is undefined.")
            if x < 0 and not float(y).is_integer():
                return Response("A negative number to a fractional power has no real answer.")
            if abs(y) * math.log10(abs(x) or 1) > math.log10(_MAX_POWER):
                return Response(f"{spoken_number(x)} to the power of {spoken_number(y)} is too big to say.")
        result = {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else math.nan,
                  "^": x ** y if operator == "^" else math.nan}[operator]
        said = f"{spoken_number(x)} {_WORDS[operator]} {spoken_number(y)}"
        return Response(f"{said} is {spoken_number(result)}.", data={"result": result})

    @intent("Percent")
    def percent(self, ctx: Context, a: str, b: str) -> Response:
        """a percent of b."""
        nums = self._numbers(a, b)
        if isinstance(nums, Response):
            return nums
        x, y = nums
        result = x * y / 100
        return Response(f"{spoken_number(x)} percent of {spoken_number(y)} is {spoken_number(result)}.",
                        data={"result": result})

    @intent("SquareRoot")
    def square_root(self, ctx: Context, a: str) -> Response:
        """Square root of a."""
        nums = self._numbers(a)
        if isinstance(nums, Response):
            return nums
        if nums[0] < 0:
            return Response("Negative numbers have no real square root.")
        result = math.sqrt(nums[0])
        return Response(f"The square root of {spoken_number(nums[0])} is {spoken_number(result)}.",
                        data={"result": result})

    @intent("FractionOf")
    def fraction_of(self, ctx: Context, a: str | float, fraction: str = "", multiple: str = "") -> Response:
        """Half, a third, three quarters... of a; double or triple a."""
        nums = self._numbers(a)
        if isinstance(nums, Response):
            return nums
        part = fraction or multiple or "1"
        result = float(Fraction(part) * Fraction(nums[0]))
        word = _FRACTIONS.get(part, part)
        said = f"{word} {spoken_number(nums[0])}" if multiple else f"{word} of {spoken_number(nums[0])}"
        return Response(f"{said[0].upper()}{said[1:]} is {spoken_number(result)}.", data={"result": result})
