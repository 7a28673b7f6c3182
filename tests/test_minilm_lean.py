"""The sentence-embedding model kept int8 in memory: each rewrite where the graph is as expected, and the vectors
of the lean model as near as makes no difference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from test_semantic import model_dir  # noqa: F401, F811 - the installed semantic model's folder (skips without it)

from voicebox.engines.minilm import MiniLMEmbedder
from voicebox.engines.onnx_lean import LEAN_VERSION, gather_then_dequantize, int8_matmuls, lean_model


def _table_graph(axis: int = 0) -> onnx.ModelProto:
    """ids -> Gather(Cast(int8 table) * per-row scale, ids): the int8 MiniLM's embedding lookup, in small."""
    rng = np.random.default_rng(7)
    table = numpy_helper.from_array(rng.integers(-127, 128, (10, 4), dtype=np.int8), "table")
    scale = numpy_helper.from_array(rng.random((10, 1), dtype=np.float32), "scale")
    nodes = [helper.make_node("Cast", ["table"], ["table_f"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["table_f", "scale"], ["table_x"]),
             helper.make_node("Gather", ["table_x", "ids"], ["rows"], axis=axis),
             helper.make_node("Relu", ["rows"], ["out"])]
    graph = helper.make_graph(nodes, "lookup", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 3])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 4])], [table, scale])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto, ids: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"ids": ids})[0])


def test_the_lookup_is_rewritten_to_gather_int8_rows_with_the_same_result() -> None:
    model, ids = _table_graph(), np.array([[3, 0, 9]], dtype=np.int64)
    before = _run(model, ids)
    assert gather_then_dequantize(model.graph) == 1
    assert [n.op_type for n in model.graph.node] == ["Gather", "Gather", "Cast", "Mul", "Relu"]
    onnx.checker.check_model(model)
    assert np.array_equal(_run(model, ids), before)


def test_a_lookup_along_another_axis_is_left_alone() -> None:
    model = _table_graph(axis=1)
    assert gather_then_dequantize(model.graph) == 0
    assert [n.op_type for n in model.graph.node] == ["Cast", "Mul", "Gather", "Relu"]


def _matmul_graph(k: int = 256, n: int = 8) -> onnx.ModelProto:
    """x -> MatMul(x, Cast(int8 weights) * per-column scale): the int8 MiniLM's dense layers, in small."""
    rng = np.random.default_rng(7)
    weights = numpy_helper.from_array(rng.integers(-127, 128, (k, n), dtype=np.int8), "w")
    scale = numpy_helper.from_array((rng.random((1, n), dtype=np.float32) + 0.5) / 127, "scale")
    nodes = [helper.make_node("Cast", ["w"], ["w_f"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["w_f", "scale"], ["w_x"]),
             helper.make_node("MatMul", ["x", "w_x"], ["out"])]
    graph = helper.make_graph(nodes, "dense", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, k])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, n])], [weights, scale])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_dense_layer_becomes_an_8_bit_matmulnbits_with_the_same_weights() -> None:
    model = _matmul_graph()
    x = np.random.default_rng(1).standard_normal((2, 256)).astype(np.float32)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    before = np.asarray(session.run(None, {"x": x})[0])
    assert int8_matmuls(model) == 1
    assert [n.op_type for n in model.graph.node] == ["MatMulNBits"]
    assert {i.name for i in model.graph.initializer} == {"w_nbits", "w_nscale", "w_nzero"}  # no float copy
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    after = np.asarray(session.run(None, {"x": x})[0])
    assert np.allclose(after, before, rtol=0.05, atol=0.05 * float(np.abs(before).max())), (after, before)


def test_a_dense_layer_the_blocks_do_not_divide_is_left_alone() -> None:
    model = _matmul_graph(k=200)
    assert int8_matmuls(model) == 0
    assert [n.op_type for n in model.graph.node] == ["Cast", "Mul", "MatMul"]


def test_a_model_it_cannot_read_is_used_as_it_is(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not a model")
    assert lean_model(broken, "x", tmp_path / "cache") == broken


def test_the_lean_minilm_gives_nearly_the_same_vectors(model_dir: Path, tmp_path: Path,  # noqa: F811 - fixture
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from voicebox.engines import minilm

    lean = lean_model(model_dir / "model.onnx", "test", tmp_path)
    assert lean == tmp_path / f"model-test-{LEAN_VERSION}.onnx" and lean.is_file()
    assert lean_model(model_dir / "model.onnx", "test", tmp_path) == lean  # made once
    kinds = [n.op_type for n in onnx.load(str(lean)).graph.node]
    assert kinds.count("MatMulNBits") == 6 * 6  # every dense layer of the 6 transformer blocks
    texts = ["what time is it", "add milk and eggs to my shopping list please", "turn it down a bit",
             "set a timer for ten minutes", "what's the weather like"]
    monkeypatch.setattr(minilm, "lean_model", lambda path, fingerprint: lean)
    lean_embedder = MiniLMEmbedder(model_dir)
    monkeypatch.setattr(minilm, "lean_model", lambda path, fingerprint: path)
    plain_embedder = MiniLMEmbedder(model_dir)
    assert lean_embedder.fingerprint != plain_embedder.fingerprint  # cached example vectors are not mixed up
    lean_vectors, plain = lean_embedder.embed(texts), plain_embedder.embed(texts)
    assert np.all(np.sum(lean_vectors * plain, axis=1) > 0.98)  # cosine of unit vectors
    # each sentence is still nearest to itself and its neighbours keep their order
    assert np.array_equal(np.argsort(lean_vectors @ lean_vectors.T), np.argsort(plain @ plain.T))
