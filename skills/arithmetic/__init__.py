"""Arithmetic: "what is seven times eight", "what's 15 percent of 80", square roots; sensibly rounded."""

from __future__ import annotations

import math

from voicebox.skill import Context, Response, Skill, intent, parse_number, spoken_number

_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}


class Arithmetic(Skill):
    """Adds, subtracts, multiplies, divides, percentages and square roots of spoken numbers."""

    examples = ("what is seven times eight", "what's 15 percent of 80", "what is the square root of 144")

    def _numbers(self, *texts: str) -> list[float] | Response:
        values = [parse_number(t) for t in texts]
        bad = [t for t, v in zip(texts, values, strict=True) if v is None]
        if bad:
            return Response(f"Sorry, I can only calculate with numbers, and {bad[0]!r} isn't one I know.")
        return [v for v in values if v is not None]

    @intent("Calculate")
    def calculate(self, ctx: Context, a: str, operator: str, b: str) -> Response:
        """a + - * / b."""
        nums = self._numbers(a, b)
        if isinstance(nums, Response):
            return nums
        x, y = nums
        if operator == "/" and y == 0:
            return Response("You can't divide by zero.")
        result = {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else math.nan}[operator]
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
