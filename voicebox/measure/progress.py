"""Progress of a long measurement on stderr: a tqdm bar on a terminal, plain lines (every tenth) otherwise."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, TextIO

__all__ = ["Progress"]


class Progress:
    """``with Progress(total, "voicebox eval", "speech recognition", unit="clips") as bar: bar.update()``.

    On a terminal it draws a tqdm bar; in a log or a pipe it prints a line
    such as ``voicebox eval: speech recognition 12/34 clips (35 %)`` each
    time another tenth is done (and at the end), so a journal is not flooded.
    """

    def __init__(self, total: float, command: str, what: str, *, unit: str = "", stream: TextIO | None = None) -> None:
        self.total = max(float(total), 0.0)
        self.done = 0.0
        self._label = f"{command}: {what}"
        self._unit = unit
        self._stream = stream if stream is not None else sys.stderr
        self._bar: Any = None
        self._shown_tenths = -1
        if _is_terminal(self._stream):
            from tqdm import tqdm

            total = int(self.total) if self.total.is_integer() else self.total
            self._bar = tqdm(total=total, desc=self._label, unit=f" {unit}" if unit else "it",
                             file=self._stream, leave=False, dynamic_ncols=True)
        else:
            self._line()

    def update(self, amount: float = 1) -> None:
        """``amount`` more is done."""
        self.done = min(self.total, self.done + amount) if self.total else self.done + amount
        if self._bar is not None:
            self._bar.update(amount)
        else:
            self._line()

    def close(self) -> None:
        """Finish the bar (the last plain line was printed when the total was reached)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        """The progress itself."""
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        """Close it."""
        self.close()

    def _line(self) -> None:
        tenths = int(self.done * 10 // self.total) if self.total else 10
        if tenths == self._shown_tenths:
            return
        self._shown_tenths = tenths
        percent = round(100 * self.done / self.total) if self.total else 100
        unit = f" {self._unit}" if self._unit else ""
        self._stream.write(f"{self._label} {_amount(self.done)}/{_amount(self.total)}{unit} ({percent} %)\n")
        self._stream.flush()


def _amount(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
