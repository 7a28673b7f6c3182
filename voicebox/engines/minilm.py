"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX on the CPU): the engine behind semantic intent matching."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voicebox.engines.onnx import cpu_session
from voicebox.engines.onnx_lean import lean_model

__all__ = ["MiniLMEmbedder"]

MAX_TOKENS = 64  # commands are short; longer text is cut (the model was trained on up to 128 word pieces)


class MiniLMEmbedder:
    """Text in, one L2-normalized 384-dimensional vector per text out (mean of the last hidden states).

    ``model.onnx`` and ``tokenizer.json`` come from the model store folder;
    ``fingerprint`` identifies the weights, for caching embeddings on disk.
    """

    def __init__(self, folder: Path, threads: int = 1) -> None:
        from tokenizers import Tokenizer

        self._tokenizer: Any = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a password
        stat = (folder / "model.onnx").stat()
        weights = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}:{folder}".encode()).hexdigest()[:16]
        model = lean_model(folder / "model.onnx", weights)
        self.fingerprint = weights if model.name == "model.onnx" else f"{weights}-{model.stem.rsplit('-', 1)[-1]}"
        self._session: Any = cpu_session(model, threads)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimensions = 384

    def embed(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        """``(len(texts), 384)`` float32 unit vectors."""
        out = [self._embed_batch(list(texts[i:i + batch])) for i in range(0, len(texts), batch)]
        return np.concatenate(out) if out else np.zeros((0, self.dimensions), np.float32)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.maximum(norms, 1e-9)).astype(np.float32)
        return unit

