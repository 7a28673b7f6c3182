"""openWakeWord adapter: ONNX wake-word models from the model store, no downloads."""

from __future__ import annotations

import logging
from pathlib import Path

from ..audio import BLOCK_SAMPLES, Pcm
from ..errors import WakeError

__all__ = ["OpenWakeWordDetector"]

_LOG = logging.getLogger(__name__)


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
    ) -> None:
        try:
            import openwakeword.model as oww_model
        except ImportError as err:  # pragma: no cover - dependency declared
            raise WakeError("openwakeword is not installed; run: pip install openwakeword", code="wake_engine") from err
        kwargs: dict[str, object] = {}
        if vad_threshold > 0 and vad_path is not None:
            kwargs["vad_threshold"] = vad_threshold
        try:
            self._model = oww_model.Model(
                wakeword_models=[str(p) for p in models.values()],
                inference_framework="onnx",
                melspec_model_path=str(melspec_path),
                embedding_model_path=str(embedding_path),
                enable_speex_noise_suppression=noise_suppression,
                ncpu=threads,
                **kwargs,
            )
        except Exception as err:
            raise WakeError(f"could not load wake-word models: {err}", code="wake_engine") from err
        if vad_threshold > 0 and vad_path is not None:
            from openwakeword.vad import VAD

            self._model.vad = VAD(model_path=str(vad_path), n_threads=1)
        self._names = {Path(p).stem: name for name, p in models.items()}

    def process(self, block: Pcm) -> dict[str, float]:
        """Scores for each model (names as configured, e.g. ``hey_jarvis``)."""
        if len(block) != BLOCK_SAMPLES:
            raise WakeError(f"wake detector needs {BLOCK_SAMPLES}-sample blocks, got {len(block)}", code="wake_block")
        raw = self._model.predict(block)
        return {self._names.get(k, k): float(v) for k, v in raw.items()}

    def reset(self) -> None:
        """Clear the model's score history and feature buffers."""
        self._model.reset()
