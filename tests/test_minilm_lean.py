"""The sentence-embedding model with its lookup tables kept int8: same vectors, the rewrite only where it is exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from voicebox.core.config import Config
from voicebox.daemon.assistant import SEMANTIC_MODEL, model_store
from voicebox.engines.minilm import MiniLMEmbedder, gather_then_dequantize, lean_model


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


def test_a_model_it_cannot_read_is_used_as_it_is(tmp_path: Path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not a model")
    assert lean_model(broken, "x", tmp_path / "cache") == broken


@pytest.fixture(scope="module")
def model_dir() -> Path:
    store = model_store(Config())
    if store.status(SEMANTIC_MODEL) != "installed":
        pytest.skip(f"model {SEMANTIC_MODEL} is not installed; run: voicebox models pull {SEMANTIC_MODEL}")
    return store.dir(SEMANTIC_MODEL)


def test_the_lean_minilm_gives_the_same_vectors(model_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from voicebox.engines import minilm

    lean = lean_model(model_dir / "model.onnx", "test", tmp_path)
    assert lean.parent == tmp_path and lean.is_file()
    assert lean_model(model_dir / "model.onnx", "test", tmp_path) == lean  # made once
    tables = {i.name for i in onnx.load(str(lean)).graph.initializer if i.data_type == TensorProto.INT8}
    assert "inner.embeddings.word_embeddings.weight_q" in tables
    texts = ["what time is it", "add milk and eggs to my shopping list please", "turn it down a bit"]
    monkeypatch.setattr(minilm, "lean_model", lambda path, fingerprint: lean)
    lean_vectors = MiniLMEmbedder(model_dir).embed(texts)
    monkeypatch.setattr(minilm, "lean_model", lambda path, fingerprint: path)
    assert np.array_equal(lean_vectors, MiniLMEmbedder(model_dir).embed(texts))
