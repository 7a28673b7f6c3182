"""Long measurements show progress on stderr: a tqdm bar on a terminal, a line per tenth otherwise."""

from __future__ import annotations

import io

from voicebox.measure.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_only_every_tenth() -> None:
    out = io.StringIO()
    with Progress(1000, "voicebox eval", "speech recognition", unit="clips", stream=out) as bar:
        for _ in range(1000):
            bar.update()
    lines = out.getvalue().splitlines()
    assert lines[0] == "voicebox eval: speech recognition 0/1000 clips (0 %)"
    assert lines[-1] == "voicebox eval: speech recognition 1000/1000 clips (100 %)"
    assert len(lines) == 11


def test_fractional_amounts() -> None:
    out = io.StringIO()
    with Progress(60, "voicebox soak", "audio streamed", unit="s", stream=out) as bar:
        for _ in range(48):
            bar.update(1.25)
    assert out.getvalue().splitlines()[-1] == "voicebox soak: audio streamed 60/60 s (100 %)"


def test_a_bar_on_a_terminal() -> None:
    out = _Terminal()
    with Progress(40, "voicebox bench", "measuring", unit="steps", stream=out) as bar:
        for _ in range(40):
            bar.update()
    drawn = out.getvalue()
    assert "voicebox bench: measuring:   0%|" in drawn and "| 0/40 " in drawn
    assert "(100 %)" not in drawn  # no plain lines on a terminal
