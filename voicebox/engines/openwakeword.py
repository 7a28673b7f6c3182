"""openWakeWord adapter: ONNX wake-word models from the model store, no downloads."""

from __future__ import annotations

import copy
import functools
import logging
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES, Pcm
from voicebox.core.deferred import defer_import
from voicebox.core.errors import CODE_WAKE_BLOCK, CODE_WAKE_ENGINE, WakeError
from voicebox.engines.onnx import cpu_session
from voicebox.hear.wake import GainControl, SilenceGate, block_dbfs

__all__ = ["OpenWakeWordDetector"]

_LOG = logging.getLogger(__name__)
_RAW_KEEP = BLOCK_SAMPLES * 4  # raw samples kept for the mel front end (it needs one block + 480)
_MEL_WINDOW, _MEL_HOP = 76, 8  # mel frames per embedding, mel frames per 80 ms block


def _run(session: Any, input_name: str, x: np.ndarray) -> Any:
    return session.run(None, {input_name: x})


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
        silence_dbfs: float | None = None,
    ) -> None:
        defer_import("requests")  # a no-op once it is imported
        try:
            import openwakeword.model as oww_model
        except ImportError as err:  # pragma: no cover - dependency declared
            raise WakeError("openwakeword is not installed; run: pip install openwakeword", code=CODE_WAKE_ENGINE) from err
        if noise_suppression:
            try:
                import speexdsp_ns  # noqa: F401
            except ImportError as err:
                raise WakeError("[wake] noise_suppression needs speexdsp-ns; run: pip install speexdsp-ns "
                                "(or set noise_suppression = false)", code=CODE_WAKE_ENGINE) from err
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
            self._own_sessions(models, melspec_path, embedding_path, threads)
        except Exception as err:
            raise WakeError(f"could not load wake-word models: {err}", code=CODE_WAKE_ENGINE) from err
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
        self._zeros = {name: 0.0 for name in models}
        # Skipping the networks on silence is exact only when nothing else keeps per-block state.
        n_features = max(self._model.model_inputs.values())
        self._gate: SilenceGate | None = None
        if silence_dbfs is not None and not noise_suppression and not (vad_threshold > 0 and vad_path):
            # A score sees n_features embeddings, each made from 76 mel frames (9.5 blocks) ending at its block.
            self._gate = SilenceGate(silence_dbfs, n_features + -(-_MEL_WINDOW // _MEL_HOP) + 1)
        self._n_features = n_features
        # Gated blocks (after gain), newest last: replayed through the mel front end when the gate opens.
        self._skipped: deque[Pcm] = deque(maxlen=self._gate.hold_blocks if self._gate else 0)
        self._n_skipped = 0

    def _own_sessions(self, models: dict[str, Path], melspec_path: Path, embedding_path: Path, threads: int) -> None:
        """Swap openWakeWord's ONNX sessions for ones without a memory arena (see :func:`cpu_session`).

        Its Model builds its sessions itself, so they are replaced after the fact: same files, same threads.
        """
        pp = self._model.preprocessor
        pp.melspec_model = cpu_session(melspec_path, threads)
        pp.embedding_model = cpu_session(embedding_path, threads)  # the predict lambdas look these up per call
        for key in list(self._model.models):
            path = next(p for p in models.values() if p.stem == key)
            session = cpu_session(path)
            self._model.models[key] = session
            self._model.model_prediction_function[key] = functools.partial(_run, session, session.get_inputs()[0].name)

    def process(self, block: Pcm) -> dict[str, float]:
        """Scores for each model (names as configured, e.g. ``hey_jarvis``)."""
        if len(block) != BLOCK_SAMPLES:
            raise WakeError(f"wake detector needs {BLOCK_SAMPLES}-sample blocks, got {len(block)}", code=CODE_WAKE_BLOCK)
        if self._gate is not None and self._gate.gated(block_dbfs(block)):
            if self._gain is not None:
                block = self._gain.apply(block)
            self._skipped.append(block)
            self._n_skipped += 1
            return dict(self._zeros)
        if self._gain is not None:
            block = self._gain.apply(block)
        if self._n_skipped:
            self._catch_up()
        raw = self._model.predict(block)
        return {self._names.get(k, k): float(v) for k, v in raw.items()}

    def _catch_up(self) -> None:
        """Run the skipped blocks' features now, as far back as the models will look.

        The kept blocks go through the mel front end one by one, exactly as
        openWakeWord's streaming path would have (the oldest only supplies the
        context of the next), then the embeddings the models still need are
        made in one batch: every score after the gate opens equals the one an
        ungated detector gives.
        """
        pp = self._model.preprocessor
        for block in self._skipped:
            pp._buffer_raw_data(block)
            pp._streaming_melspectrogram(BLOCK_SAMPLES)
        n = min(self._n_skipped, self._n_features)
        mel = pp.melspectrogram_buffer
        ends = [len(mel) - _MEL_HOP * k for k in range(n - 1, -1, -1)]
        if ends[0] >= _MEL_WINDOW:
            windows = np.stack([mel[e - _MEL_WINDOW : e] for e in ends]).astype(np.float32)[..., None]
            embeddings = pp.embedding_model_predict(windows).reshape(n, -1)
            pp.feature_buffer = np.vstack((pp.feature_buffer, embeddings))[-pp.feature_buffer_max_len :]
        self._skipped.clear()
        self._n_skipped = 0

    def stream(self) -> OpenWakeWordDetector:
        """A detector for another audio stream over the same loaded models (their sessions are thread-safe).

        Only the per-stream state is new: feature buffers, score history, the
        silence gate, gain, and the VAD's and noise suppressor's state.
        """
        twin = copy.copy(self)
        model = twin._model = copy.copy(self._model)
        model.preprocessor = copy.copy(self._model.preprocessor)
        if getattr(model, "speex_ns", None) is not None:
            from speexdsp_ns import NoiseSuppression

            model.speex_ns = NoiseSuppression.create(160, 16000)
        if getattr(model, "vad", None) is not None:
            model.vad = copy.copy(self._model.vad)
            model.vad.prediction_buffer = deque(maxlen=model.vad.prediction_buffer.maxlen)
            model.vad.reset_states()
        model.preprocessor.raw_data_buffer = deque(maxlen=_RAW_KEEP)
        twin._gate = copy.deepcopy(self._gate)
        twin._gain = copy.deepcopy(self._gain)
        twin._skipped = deque(maxlen=self._skipped.maxlen)
        twin.reset()
        return twin

    def reset(self) -> None:
        """Clear the model's score history and feature buffers."""
        self._model.reset()
        self._skipped.clear()
        self._n_skipped = 0
        if self._gate is not None:
            self._gate.reset()
        if self._gain is not None:
            self._gain.reset()
