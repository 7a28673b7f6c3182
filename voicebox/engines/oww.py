"""openWakeWord adapter: ONNX wake-word models from the model store, no downloads."""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path

from ..audio import BLOCK_SAMPLES, Pcm
from ..errors import WakeError
from ..wake import GainControl

__all__ = ["OpenWakeWordDetector"]

_LOG = logging.getLogger(__name__)
_RAW_KEEP = BLOCK_SAMPLES * 4  # raw samples kept for the mel front end (it needs one block + 480)


class OpenWakeWordDetector:
    """Scores 80 ms blocks with openWakeWord's ONNX models (one shared feature front-end)."""

    def __init__(
        self,
        models: dict[str, Path],
        melspec_path: Path,
        embedding_path: Path,
        *,
        threads: int = 1,
        vad_threshold: float = 0.0,
        noise_suppression: bool = False,
        vad_path: Path | None = None,
        gain: GainControl | None = None,
    ) -> None:
        try:
            import openwakeword.model as oww_model
        except ImportError as err:  # pragma: no cover - dependency declared
            raise WakeError("openwakeword is not installed; run: pip install openwakeword", code="wake_engine") from err
        if noise_suppression:
            try:
                import speexdsp_ns  # noqa: F401
            except ImportError as err:
                raise WakeError("[wake] noise_suppression needs speexdsp-ns; run: pip install speexdsp-ns "
                                "(or set noise_suppression = false)", code="wake_engine") from err
        self._gain = gain
        try:
            self._model = oww_model.Model(
                wakeword_models=[str(p) for p in models.values()],
                inference_framework="onnx",
                melspec_model_path=str(melspec_path),
                embedding_model_path=str(embedding_path),
                enable_speex_noise_suppression=noise_suppression,
                ncpu=threads,
            )
        except Exception as err:
            raise WakeError(f"could not load wake-word models: {err}", code="wake_engine") from err
        if vad_threshold > 0 and vad_path is not None:
            # Set up after construction: openWakeWord would look for its own copy of the VAD model.
            from openwakeword.vad import VAD

            self._model.vad = VAD(model_path=str(vad_path), n_threads=1)
            self._model.vad_threshold = vad_threshold
        # openWakeWord keeps 10 s of raw audio in a deque and copies all of it to a list every block, although
        # the mel front end reads only the newest block plus 480 samples: a short buffer gives the same scores
        # at about three quarters of the CPU time.
        self._model.preprocessor.raw_data_buffer = deque(maxlen=_RAW_KEEP)
        self._names = {Path(p).stem: name for name, p in models.items()}

    def process(self, block: Pcm) -> dict[str, float]:
        """Scores for each model (names as configured, e.g. ``hey_jarvis``)."""
        if len(block) != BLOCK_SAMPLES:
            raise WakeError(f"wake detector needs {BLOCK_SAMPLES}-sample blocks, got {len(block)}", code="wake_block")
        if self._gain is not None:
            block = self._gain.apply(block)
        raw = self._model.predict(block)
        return {self._names.get(k, k): float(v) for k, v in raw.items()}

    def reset(self) -> None:
        """Clear the model's score history and feature buffers."""
        self._model.reset()
        if self._gain is not None:
            self._gain.reset()
