"""ONNX Runtime sessions as every adapter here wants them: CPU, a set number of threads, no memory arena."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["cpu_session"]


def cpu_session(path: Path | str, threads: int = 1) -> Any:
    """An ``InferenceSession`` for ``path`` on the CPU.

    ONNX Runtime's CPU arena keeps the largest activations a model ever needed
    (Piper's for its longest sentence, openWakeWord's for its 4 s warm-up
    batch) for the life of the process: about 130 MB for the default models.
    Without it, buffers go back to the heap after each run, and the
    pipeline's ``malloc_trim`` after a turn returns them to the system. Speed
    is the same within noise for these small models.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.enable_cpu_mem_arena = False
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
