"""Sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX on the CPU): the engine behind semantic intent matching."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voicebox.engines.onnx import cpu_session

__all__ = ["MiniLMEmbedder", "gather_then_dequantize", "lean_model"]

_LOG = logging.getLogger(__name__)

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
        self.fingerprint = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}:{folder}".encode()).hexdigest()[:16]
        self._session: Any = cpu_session(lean_model(folder / "model.onnx", self.fingerprint), threads)
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


def lean_model(path: Path, fingerprint: str, cache_dir: Path | None = None) -> Path:
    """``path``, or a copy of it whose embedding tables stay int8 in memory (see :func:`gather_then_dequantize`).

    The copy is made once, into voicebox's cache folder, and used from then on; without the ``onnx`` package or
    a writable cache the model is used as it is (the same vectors, about 35 MB more memory).
    """
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("voicebox")) / "models"
    lean = cache_dir / f"{path.stem}-{fingerprint}-lean.onnx"
    if lean.is_file():
        return lean
    try:
        import onnx

        model = onnx.load(str(path))
        if not gather_then_dequantize(model.graph):
            return path
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = lean.with_suffix(f".{os.getpid()}.partial")
        onnx.save(model, str(partial))
        partial.replace(lean)  # whole or not at all
    except Exception as err:  # noqa: BLE001 - any failure here only costs memory
        _LOG.warning("sentence embeddings: using %s as it is (%s: %s)", path, type(err).__name__, err)
        return path
    return lean


def gather_then_dequantize(graph: Any) -> int:
    """Rewrite ``Gather(Cast(table_int8) * scale, ids)`` as ``Cast(Gather(table_int8, ids)) * Gather(scale, ids)``.

    The int8 MiniLM stores its weights as int8 with a float scale per row and
    dequantizes them in the graph; ONNX Runtime folds those constants at load
    time, so the 30522-word table lives in memory as 47 MB of float32 (and
    briefly twice). Gathering the int8 rows first and dequantizing only the rows
    looked up gives the same numbers with the table kept as int8. Returns the
    number of tables rewritten.
    """
    from onnx import TensorProto, helper

    tables = {i.name for i in graph.initializer if i.data_type == TensorProto.INT8}
    users: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)

    def only_user(name: str, op: str) -> Any:
        found = users.get(name, [])
        return found[0] if len(found) == 1 and found[0].op_type == op else None

    rewritten = 0
    for table in sorted(tables):
        cast = only_user(table, "Cast")
        mul = only_user(cast.output[0], "Mul") if cast is not None else None
        gather = only_user(mul.output[0], "Gather") if mul is not None else None
        if cast is None or mul is None or gather is None or gather.input[0] != mul.output[0]:
            continue
        if any(a.name == "axis" and a.i != 0 for a in gather.attribute):
            continue
        scale = next((name for name in mul.input if name != cast.output[0]), None)
        if scale is None or len(users.get(scale, [])) > 1:
            continue
        ids, out = gather.input[1], gather.output[0]
        graph.node.remove(cast)
        graph.node.remove(mul)
        at = list(graph.node).index(gather)  # where the ids are known: the new nodes go there
        graph.node.remove(gather)
        new = [helper.make_node("Gather", [table, ids], [f"{out}_rows_q"], axis=0),
               helper.make_node("Gather", [scale, ids], [f"{out}_rows_scale"], axis=0),
               helper.make_node("Cast", [f"{out}_rows_q"], [f"{out}_rows_f"], to=TensorProto.FLOAT),
               helper.make_node("Mul", [f"{out}_rows_f", f"{out}_rows_scale"], [out])]
        for offset, node in enumerate(new):
            graph.node.insert(at + offset, node)
        rewritten += 1
    return rewritten
