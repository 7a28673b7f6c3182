"""openWakeWord adapter: ONNX wake-word models from the model store, no downloads."""

from __future__ import annotations

import copy
import functools
import logging
from collections import deque
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES, Pcm
from voicebox.core.deferred import defer_import
from voicebox.core.errors import CODE_WAKE_BLOCK, CODE_WAKE_ENGINE, WakeError
from voicebox.engines.onnx import cpu_session
from voicebox.hear.personal import PersonalMatcher, score_of
from voicebox.hear.wake import GainControl, SilenceGate, block_dbfs

__all__ = ["OpenWakeWordDetector"]

_LOG = logging.getLogger(__name__)
_RAW_KEEP = BLOCK_SAMPLES * 4  # raw samples kept for the mel front end (it needs one block + 480)
_MEL_WINDOW, _MEL_HOP = 76, 8  # mel frames per embedding, mel frames per 80 ms block


def _run(session: Any, input_name: str, x: np.ndarray) -> Any:
    return session.run(None, {input_name: x})


class SpeechGate(Protocol):
    """A speech detector with its own state, and the probability under which a block counts as quiet."""

    threshold: float

    def probability(self, block: Pcm) -> float:
        """Speech probability of an 80 ms block."""
        ...

    def reset(self) -> None:
        """Forget state."""
        ...


class OpenWakeWordDetector:
    """Scores 80 ms blocks with openWakeWord's ONNX models (one shared feature front-end).

    ``personal`` wake words (name -> enrolled templates and threshold
    distance, see :mod:`voicebox.hear.personal`) are matched on the same
    front end's embeddings, alongside or without pre-trained models; the
    VAD gate and noise suppression apply to the pre-trained models.

    With ``silence_dbfs`` the networks skip blocks while everything the models
    would look at stayed quieter than that; with ``speech`` too, a louder block
    whose speech probability is under ``speech.threshold`` counts as quiet (a
    fan, a hum). Skipped blocks are replayed when the gate opens, so scores
    are unchanged once speech starts; the speech detector runs only on blocks
    above the level floor (about 0.4 ms of CPU a block, the networks 1.7 ms).
    """

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
        personal: dict[str, tuple[tuple[np.ndarray, ...], float]] | None = None,
        speech: SpeechGate | None = None,
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
        personal = personal or {}
        if not models and not personal:
            raise WakeError("no wake-word model to load: set [wake] models", code=CODE_WAKE_ENGINE)
        try:
            # openWakeWord's Model, given no models, loads every pre-trained one: the front end alone then.
            self._model = oww_model.Model(
                wakeword_models=[str(p) for p in models.values()],
                inference_framework="onnx",
                melspec_model_path=str(melspec_path),
                embedding_model_path=str(embedding_path),
                enable_speex_noise_suppression=noise_suppression,
                ncpu=threads,
            ) if models else None
            from openwakeword.utils import AudioFeatures

            self._pp = self._model.preprocessor if self._model is not None else AudioFeatures(
                str(melspec_path), str(embedding_path), ncpu=threads, inference_framework="onnx")
            self._own_sessions(models, melspec_path, embedding_path, threads)
        except Exception as err:
            raise WakeError(f"could not load wake-word models: {err}", code=CODE_WAKE_ENGINE) from err
        self._personal = {name: (PersonalMatcher(t), threshold) for name, (t, threshold) in personal.items()}
        if self._model is not None and vad_threshold > 0 and vad_path is not None:
            # Set up after construction: openWakeWord would look for its own copy of the VAD model.
            from openwakeword.vad import VAD

            self._model.vad = VAD(model_path=str(vad_path), n_threads=1)
            self._model.vad_threshold = vad_threshold
        # openWakeWord keeps 10 s of raw audio in a deque and copies all of it to a list every block, although
        # the mel front end reads only the newest block plus 480 samples: a short buffer gives the same scores
        # at about three quarters of the CPU time.
        self._pp.raw_data_buffer = deque(maxlen=_RAW_KEEP)
        self._names = {Path(p).stem: name for name, p in models.items()}
        self._zeros = {name: 0.0 for name in [*models, *personal]}
        # Skipping the networks on silence is exact only when nothing else keeps per-block state.
        n_features = max([*(self._model.model_inputs.values() if self._model else ()),
                          *(len(t) for templates, _ in personal.values() for t in templates)])
        self._gate: SilenceGate | None = None
        if silence_dbfs is not None and not noise_suppression and not (vad_threshold > 0 and vad_path):
            # A score sees n_features embeddings, each made from 76 mel frames (9.5 blocks) ending at its block.
            self._gate = SilenceGate(silence_dbfs, n_features + -(-_MEL_WINDOW // _MEL_HOP) + 1)
        self._n_features = n_features
        self._speech = speech if self._gate is not None else None
        # Gated blocks (after gain), newest last: replayed through the mel front end when the gate opens.
        self._skipped: deque[Pcm] = deque(maxlen=self._gate.hold_blocks if self._gate else 0)
        self._n_skipped = 0

    def _own_sessions(self, models: dict[str, Path], melspec_path: Path, embedding_path: Path, threads: int) -> None:
        """Swap openWakeWord's ONNX sessions for ones without a memory arena (see :func:`cpu_session`).

        Its Model builds its sessions itself, so they are replaced after the fact: same files, same threads.
        """
        pp = self._pp
        pp.melspec_model = cpu_session(melspec_path, threads)
        pp.embedding_model = cpu_session(embedding_path, threads)  # the predict lambdas look these up per call
        model = self._model
        if model is None:
            return
        for key in list(model.models):
            path = next(p for p in models.values() if p.stem == key)
            session = cpu_session(path)
            model.models[key] = session
            model.model_prediction_function[key] = functools.partial(_run, session, session.get_inputs()[0].name)

    def process(self, block: Pcm) -> dict[str, float]:
        """Scores for each model (names as configured, e.g. ``hey_jarvis``)."""
        if len(block) != BLOCK_SAMPLES:
            raise WakeError(f"wake detector needs {BLOCK_SAMPLES}-sample blocks, got {len(block)}", code=CODE_WAKE_BLOCK)
        if self._gate is not None and self._gate.gated_quiet(self._quiet(block)):
            if self._gain is not None:
                block = self._gain.apply(block)
            self._skipped.append(block)
            self._n_skipped += 1
            return dict(self._zeros)
        if self._gain is not None:
            block = self._gain.apply(block)
        caught_up = self._catch_up() if self._n_skipped else 0
        if self._model is not None:
            raw = self._model.predict(block)
        else:
            raw = {}
            self._pp(block)
        scores = {self._names.get(k, k): float(v) for k, v in raw.items()}
        if self._personal:
            rows = self._pp.feature_buffer[-(caught_up + 1):]
            for name, (matcher, threshold) in self._personal.items():
                distance = float("inf")
                if caught_up:
                    matcher.reset()
                for row in rows:
                    distance = matcher.feed(np.asarray(row, np.float32))
                scores[name] = score_of(distance, threshold)
        return scores

    def _quiet(self, block: Pcm) -> bool:
        """Below the level floor, or (with a speech gate) above it without speech."""
        assert self._gate is not None
        if block_dbfs(block) < self._gate.floor_dbfs:
            return True
        return self._speech is not None and self._speech.probability(block) < self._speech.threshold

    def _catch_up(self) -> int:
        """Run the skipped blocks' features now, as far back as the models will look.

        The kept blocks go through the mel front end one by one, exactly as
        openWakeWord's streaming path would have (the oldest only supplies the
        context of the next), then the embeddings the models still need are
        made in one batch: every score after the gate opens equals the one an
        ungated detector gives. Returns how many feature rows it added.
        """
        pp = self._pp
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
        else:
            n = 0
        self._skipped.clear()
        self._n_skipped = 0
        return int(n)

    def stream(self) -> OpenWakeWordDetector:
        """A detector for another audio stream over the same loaded models (their sessions are thread-safe).

        Only the per-stream state is new: feature buffers, score history, the
        silence gate, gain, and the VAD's and noise suppressor's state.
        """
        twin = copy.copy(self)
        if self._model is not None:
            model = twin._model = copy.copy(self._model)
            model.preprocessor = copy.copy(self._model.preprocessor)
            if getattr(model, "speex_ns", None) is not None:
                from speexdsp_ns import NoiseSuppression

                model.speex_ns = NoiseSuppression.create(160, 16000)
            if getattr(model, "vad", None) is not None:
                model.vad = copy.copy(self._model.vad)
                model.vad.prediction_buffer = deque(maxlen=model.vad.prediction_buffer.maxlen)
                model.vad.reset_states()
            twin._pp = model.preprocessor
        else:
            twin._pp = copy.copy(self._pp)
        twin._pp.raw_data_buffer = deque(maxlen=_RAW_KEEP)
        twin._personal = {name: (copy.deepcopy(matcher), threshold) for name, (matcher, threshold)
                          in self._personal.items()}
        twin._gate = copy.deepcopy(self._gate)
        twin._speech = copy.copy(self._speech)  # the same session, its own recurrent state (reset below)
        twin._gain = copy.deepcopy(self._gain)
        twin._skipped = deque(maxlen=self._skipped.maxlen)
        twin.reset()
        return twin

    def reset(self) -> None:
        """Clear the model's score history and feature buffers."""
        if self._model is not None:
            self._model.reset()
        else:
            self._pp.reset()
        for matcher, _ in self._personal.values():
            matcher.reset()
        self._skipped.clear()
        self._n_skipped = 0
        if self._gate is not None:
            self._gate.reset()
        if self._speech is not None:
            self._speech.reset()
        if self._gain is not None:
            self._gain.reset()
