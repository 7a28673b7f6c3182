"""openWakeWord's feature front end over whole recordings: one speech embedding per 80 ms block."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from voicebox.core.audio import BLOCK_SAMPLES, Pcm
from voicebox.core.errors import CODE_WAKE_ENGINE, WakeError
from voicebox.engines.onnx import cpu_session

__all__ = ["EMBEDDING_DIM", "WakeFeatures"]

EMBEDDING_DIM = 96
_MEL_WINDOW, _MEL_HOP = 76, 8  # mel frames per embedding, mel frames per block (as openWakeWord streams them)
_LEAD_BLOCKS = 10  # blocks of context before the first one, so that block 0 has a whole mel window
_CHUNK_BLOCKS = 750  # one minute per melspectrogram run: bounded memory for long recordings
_BATCH = 256


class WakeFeatures:
    """The Apache-2.0 melspectrogram and speech-embedding models, run in batches.

    Row ``i`` of :meth:`embed` is the embedding of the 76 mel frames that end
    with block ``i`` (0.775 s of audio), as openWakeWord's streaming front end
    computes it when that block arrives; blocks before the recording's start
    are faint noise.
    """

    def __init__(self, melspec_path: Path, embedding_path: Path, *, threads: int = 1) -> None:
        try:
            self._mel = cpu_session(melspec_path, threads)
            self._emb = cpu_session(embedding_path, threads)
        except Exception as err:
            raise WakeError(f"could not load the wake-word feature models: {err}", code=CODE_WAKE_ENGINE) from err

    def embed(self, pcm: Pcm) -> npt.NDArray[np.float32]:
        """One ``EMBEDDING_DIM`` row per whole 80 ms block of ``pcm`` (a short tail is not used)."""
        n_blocks = len(pcm) // BLOCK_SAMPLES
        if n_blocks == 0:
            return np.zeros((0, EMBEDDING_DIM), np.float32)
        lead = np.random.default_rng(0).integers(-2, 3, _LEAD_BLOCKS * BLOCK_SAMPLES).astype(np.int16)
        audio = np.concatenate([lead, pcm[: n_blocks * BLOCK_SAMPLES]])
        rows = []
        for first in range(0, n_blocks, _CHUNK_BLOCKS):
            last = min(n_blocks, first + _CHUNK_BLOCKS)
            # This chunk's blocks, with the lead's worth of context before them.
            piece = audio[first * BLOCK_SAMPLES : (last + _LEAD_BLOCKS) * BLOCK_SAMPLES].astype(np.float32)
            mel = np.squeeze(self._mel.run(None, {"input": piece[None]})[0]) / 10 + 2
            ends = [min(len(mel), _MEL_HOP * (k + _LEAD_BLOCKS + 1) - 2) for k in range(last - first)]
            windows = np.stack([mel[e - _MEL_WINDOW : e] for e in ends]).astype(np.float32)[..., None]
            for b in range(0, len(windows), _BATCH):
                out = self._emb.run(None, {"input_1": windows[b : b + _BATCH]})[0]
                rows.append(out.reshape(-1, EMBEDDING_DIM))
        return np.concatenate(rows).astype(np.float32)
