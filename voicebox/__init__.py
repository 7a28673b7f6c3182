"""voicebox: an always-on, fully offline voice assistant daemon."""

__version__ = "0.1.0"
