"""Refresh the generated parts of README.md (the configuration reference)."""

from __future__ import annotations

import re
from pathlib import Path

from voicebox.core.config import render_defaults

README = Path(__file__).resolve().parent.parent / "README.md"


def config_block() -> str:
    """The README's configuration block: ``voicebox config`` in a TOML fence."""
    return f"<!-- config:start -->\n```toml\n{render_defaults()}```\n<!-- config:end -->"


def main() -> None:
    """Rewrite the block between the config markers."""
    text = README.read_text(encoding="utf-8")
    text = re.sub(r"<!-- config:start -->.*?<!-- config:end -->", lambda _: config_block(), text, flags=re.S)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
