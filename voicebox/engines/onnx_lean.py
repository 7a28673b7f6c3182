"""Int8 ONNX models that stay int8 in memory: rewrites of the graph, made once and kept in the cache folder.

Models quantized "weights only" (the int8 MiniLM) keep each weight as int8
plus a float scale and dequantize it inside the graph (``Cast``, ``Mul``).
ONNX Runtime folds those constants when it loads the model, so every weight
lives in memory as float32: four times its size, and briefly more while
loading. Two rewrites keep them int8:

- :func:`gather_then_dequantize`: a lookup table (``Gather``) gathers the
  int8 rows first and dequantizes only those. Exact: the same numbers.
- :func:`int8_matmuls`: a ``MatMul`` by a dequantized weight becomes ONNX
  Runtime's ``MatMulNBits`` with 8-bit blocks holding the same weights, which
  also computes in int8 (``accuracy_level`` 4). Not bit-exact: the inputs
  are quantized per block as they come.

For the MiniLM (measured on a 2-core machine, the session alone): resident
145 -> 83 MB, load peak 261 -> 92 MB, one short embedding 5.3 -> 2.2 ms (one run,
side by side, on a loaded machine). On the development sets the intents chosen
are the same, except one more question among the 124 tuning sentences.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LEAN_VERSION", "gather_then_dequantize", "int8_matmuls", "lean_model"]

LEAN_VERSION = "lean2"  # in the cached file's name: a changed rewrite makes a new file (and new embeddings)
BLOCK = 128  # MatMulNBits block along the inner dimension (it must divide it; 384 and 1536 here)
_LOG = logging.getLogger(__name__)


def lean_model(path: Path, fingerprint: str, cache_dir: Path | None = None) -> Path:
    """``path``, or its lean copy (both rewrites), made once into ``cache_dir`` (voicebox's cache folder).

    Without the ``onnx`` package, with a graph neither rewrite applies to, or
    without a writable cache, the model is used as it is (more memory, the
    same answers).
    """
    if cache_dir is None:
        import platformdirs

        cache_dir = Path(platformdirs.user_cache_dir("voicebox")) / "models"
    lean = cache_dir / f"{path.stem}-{fingerprint}-{LEAN_VERSION}.onnx"
    if lean.is_file():
        return lean
    try:
        import onnx

        model = onnx.load(str(path))
        if not gather_then_dequantize(model.graph) + int8_matmuls(model):
            return path
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = lean.with_suffix(f".{os.getpid()}.partial")
        onnx.save(model, str(partial))
        partial.replace(lean)  # whole or not at all
    except Exception as err:  # noqa: BLE001 - any failure here only costs memory
        _LOG.warning("%s is used as it is, not made lean (%s: %s)", path, type(err).__name__, err)
        return path
    return lean


class _Users:
    """Which nodes read each value of a graph."""

    def __init__(self, graph: Any) -> None:
        self.of: dict[str, list[Any]] = {}
        for node in graph.node:
            for name in node.input:
                self.of.setdefault(name, []).append(node)

    def only(self, name: str, op: str) -> Any:
        """The one node that reads ``name``, if it is an ``op``; else None."""
        found = self.of.get(name, [])
        return found[0] if len(found) == 1 and found[0].op_type == op else None

    def dequantized(self, table: str, then: str) -> tuple[Any, Any, Any, str] | None:
        """``(cast, mul, user, scale)`` where ``table`` is dequantized (Cast, Mul by a constant scale read nowhere
        else) and the result is read by one ``then`` node; None where the graph is otherwise."""
        cast = self.only(table, "Cast")
        mul = self.only(cast.output[0], "Mul") if cast is not None else None
        user = self.only(mul.output[0], then) if mul is not None else None
        if cast is None or mul is None or user is None:
            return None
        scale = next((name for name in mul.input if name != cast.output[0]), None)
        if scale is None or len(self.of.get(scale, [])) > 1:
            return None
        return cast, mul, user, scale


def _int8_initializers(graph: Any) -> dict[str, Any]:
    from onnx import TensorProto

    return {i.name: i for i in graph.initializer if i.data_type == TensorProto.INT8}


def _replace(graph: Any, old: tuple[Any, ...], last: Any, new: list[Any]) -> None:
    """Put ``new`` where ``last`` (the latest of ``old``, which read only constants before it) was."""
    for node in old:
        if node is not last:
            graph.node.remove(node)
    at = list(graph.node).index(last)
    graph.node.remove(last)
    for offset, node in enumerate(new):
        graph.node.insert(at + offset, node)


def gather_then_dequantize(graph: Any) -> int:
    """Rewrite ``Gather(Cast(table_int8) * scale, ids)`` as ``Cast(Gather(table_int8, ids)) * Gather(scale, ids)``
    (row-wise scales, lookups along the rows); the number of tables rewritten.

    The int8 MiniLM's 30522-word table otherwise lives in memory as 47 MB of float32.
    """
    from onnx import TensorProto, helper

    users = _Users(graph)
    rewritten = 0
    for table in sorted(_int8_initializers(graph)):
        found = users.dequantized(table, "Gather")
        if found is None:
            continue
        cast, mul, gather, scale = found
        if gather.input[0] != mul.output[0] or any(a.name == "axis" and a.i != 0 for a in gather.attribute):
            continue
        ids, out = gather.input[1], gather.output[0]
        _replace(graph, (cast, mul, gather), gather, [
            helper.make_node("Gather", [table, ids], [f"{out}_rows_q"], axis=0),
            helper.make_node("Gather", [scale, ids], [f"{out}_rows_scale"], axis=0),
            helper.make_node("Cast", [f"{out}_rows_q"], [f"{out}_rows_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{out}_rows_f", f"{out}_rows_scale"], [out])])
        rewritten += 1
    return rewritten


def int8_matmuls(model: Any) -> int:
    """Rewrite ``MatMul(x, Cast(w_int8) * scale)`` (``w`` of shape K x N, one scale per column) as ``MatMulNBits``
    with 8-bit blocks of :data:`BLOCK` holding the same weights; the number rewritten."""
    from onnx import helper, numpy_helper

    graph = model.graph
    weights, users = _int8_initializers(graph), _Users(graph)
    initializers = {i.name: i for i in graph.initializer}
    rewritten = 0
    for name in sorted(weights):
        found = users.dequantized(name, "MatMul")
        if found is None or len(weights[name].dims) != 2:
            continue
        cast, mul, matmul, scale_name = found
        q = numpy_helper.to_array(weights[name]).astype(np.int16)
        k, n = q.shape
        scale = numpy_helper.to_array(initializers[scale_name]).astype(np.float32)
        if matmul.input[1] != mul.output[0] or k % BLOCK or scale.size != n:
            continue
        blocks = k // BLOCK
        packed = numpy_helper.from_array((q.T + 128).astype(np.uint8).reshape(n, blocks, BLOCK), f"{name}_nbits")
        scales = numpy_helper.from_array(np.repeat(scale.reshape(n, 1), blocks, axis=1).reshape(-1), f"{name}_nscale")
        zeros = numpy_helper.from_array(np.full(n * blocks, 128, np.uint8), f"{name}_nzero")
        graph.initializer.extend([packed, scales, zeros])
        _replace(graph, (cast, mul, matmul), matmul, [helper.make_node(
            "MatMulNBits", [matmul.input[0], packed.name, scales.name, zeros.name], list(matmul.output),
            domain="com.microsoft", K=k, N=n, bits=8, block_size=BLOCK, accuracy_level=4)])
        for old in (weights[name], initializers[scale_name]):
            graph.initializer.remove(old)
        rewritten += 1
    if rewritten and not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return rewritten
