"""Debug recordings (off by default): each turn's command audio as a WAV in a private, size-capped folder."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from voicebox.core.audio import Pcm, wav_bytes
from voicebox.core.config import Config
from voicebox.core.permissions import private_dir

__all__ = ["DebugRecorder"]

_LOG = logging.getLogger(__name__)


class DebugRecorder:
    """Writes ``<time>-turn.wav`` files (mode 0600) into a private folder; the oldest go when over ``max_bytes``.

    A missing folder is created 0700; an existing one must be yours and writable by nobody else (it is refused,
    never chmod-ed).
    """

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = private_dir(directory, "the debug recordings folder")
        self.max_bytes = max_bytes
        self.saved = 0

    @classmethod
    def from_config(cls, config: Config) -> DebugRecorder | None:
        """A recorder when ``[debug] record_dir`` is set, else None (nothing is ever written)."""
        if not config.debug.record_dir:
            return None
        return cls(Path(config.debug.record_dir).expanduser(), int(config.debug.record_max_mb * 1024 * 1024))

    def __call__(self, pcm: Pcm) -> Path | None:
        """Save one turn's audio; failures are logged, never raised into the turn."""
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() // 1_000_000 % 1000:03d}"
        path = self.directory / f"{stamp}-{self.saved:05d}-turn.wav"
        data = wav_bytes(pcm)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as err:
            _LOG.error("debug recording %s not written: %s", path, err.strerror or err)
            return None
        self.saved += 1
        self.prune()
        return path

    def prune(self) -> int:
        """Delete the oldest recordings until the folder is within the cap; returns how many went."""
        files = sorted(self.directory.glob("*-turn.wav"), key=lambda p: p.name)
        sizes = [p.stat().st_size for p in files]
        total = sum(sizes)
        removed = 0
        for path, size in zip(files, sizes, strict=True):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        return removed
