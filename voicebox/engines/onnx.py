"""ONNX Runtime sessions as every adapter here wants them: CPU, a set number of threads, no memory arena, no spinning."""

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

    Its worker threads do not spin waiting for work between operators: Piper
    runs hundreds of small ones per sentence, and on a busy 2-core machine (the
    other thread's core taken by another program) spinning threads wait on each
    other. Measured side by side, first audio of 5 reply sentences x 6 rounds,
    2 threads, with other programs loading both cores: median 387 ms spinning,
    273 ms not; and a thread that does not spin uses no CPU while the voice is idle.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.enable_cpu_mem_arena = False
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
