"""Personal wake words: enrolling recordings into a model in the store, and scoring recordings against one."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, Pcm, resample
from voicebox.core.config import Config
from voicebox.core.errors import CODE_WAKE_ENGINE, WakeError
from voicebox.hear.personal import (
    MAX_WORD_S,
    MIN_WORD_S,
    Enrolment,
    EnrolmentRejected,
    Frames,
    calibrate,
    distances,
    score_of,
    speech_span,
    template_rows,
)
from voicebox.models import personal as stored
from voicebox.models.personal import LICENCE, PersonalModel, check_name, is_personal, read_personal, write_personal
from voicebox.models.store import ModelStore

__all__ = ["NEGATIVE_SENTENCES", "Enroller", "clip_digest", "is_personal", "load_personal"]

_LOG = logging.getLogger(__name__)
_CONTEXT_S = 0.8  # audio kept before the word: the first template row's embedding looks this far back

# Built-in negative audio: ordinary speech in the configured Piper voice (written for this purpose), then noise.
NEGATIVE_SENTENCES = (
    "Good morning, the kettle is on and the bread is in the toaster.",
    "Could you tell me whether the library opens early on Saturdays?",
    "My neighbour planted tomatoes, lettuce and a row of sunflowers along the fence.",
    "Please remember to water the plants and feed the cat before you leave.",
    "The train to the city was delayed by twenty minutes this evening.",
    "We watched a documentary about volcanoes, glaciers and deep ocean currents.",
    "I think the blue jacket looks better than the yellow one.",
    "Turn left at the bakery, then walk straight on until you reach the bridge.",
    "Her sister plays the violin in an orchestra every other weekend.",
    "Add two cups of flour, a pinch of salt and a spoonful of honey.",
    "The meeting has been moved to Thursday afternoon at half past three.",
    "Alex, Alice, Alan and Anna are coming over for dinner with Amelia.",
    "Is it going to rain tomorrow, or will the weather stay dry and sunny?",
    "Jasper, Jenny and Marvin took the ferry across the harbour.",
    "Computers, cameras and telephones are sold on the second floor.",
    "A lexicon is a list of the words of a language.",
    "Athena and Electra were characters in the play we saw last winter.",
    "Hey, can you hear me? Hello there! Okay, that sounds fine.",
    "Set the oven to one hundred and eighty degrees and wait ten minutes.",
    "The children counted the stars: one, two, three, four, five, six, seven.",
)


def clip_digest(pcm: Pcm) -> str:
    """SHA-256 of a recording's samples: tells an evaluation which clips a model was enrolled from."""
    return hashlib.sha256(np.ascontiguousarray(pcm, np.int16).tobytes()).hexdigest()


def load_personal(store: ModelStore, name: str) -> PersonalModel:
    """The stored personal wake word ``name`` (checked intact first)."""
    store.require([name])
    return read_personal(store.dir(name))


@dataclass(frozen=True, slots=True)
class Trimmed:
    """One enrolment recording cut to its word: the word's span in seconds and its feature rows."""

    span_s: tuple[float, float]
    frames: Frames


class Enroller:
    """Trims recordings with the VAD, turns them into feature templates, calibrates and stores the model."""

    def __init__(self, config: Config, store: ModelStore, *, log: Callable[[str], None] | None = None) -> None:
        from voicebox.daemon.assistant import load_vad
        from voicebox.engines.wake_features import WakeFeatures

        store.require(["wake_features", "silero_vad"])
        self.config, self.store = config, store
        self._log = log or _LOG.info
        self._vad = load_vad(store)
        self._features = WakeFeatures(store.file("wake_features", "melspectrogram.onnx"),
                                      store.file("wake_features", "embedding_model.onnx"))

    def trim(self, pcm: Pcm, label: str) -> Trimmed:
        """The word in one recording; EnrolmentRejected when there is none, or it is too short or too long."""
        self._vad.reset()
        steps = [self._vad.probability(pcm[i : i + 640]) for i in range(0, len(pcm) - 639, 640)]
        span = speech_span(steps)
        if span is None:
            raise EnrolmentRejected(f"{label}: no speech found; record the wake word again, closer to the microphone")
        length = span[1] - span[0]
        if length < MIN_WORD_S:
            raise EnrolmentRejected(f"{label}: the word is too short ({length:.2f} s of speech, at least {MIN_WORD_S} s "
                                    "needed); say the whole wake word clearly")
        if length > MAX_WORD_S:
            raise EnrolmentRejected(f"{label}: {length:.2f} s of speech, more than a wake word ({MAX_WORD_S} s at "
                                    "most); record only the word, with a moment of quiet before and after")
        return Trimmed(span, self.word_frames(pcm, span))

    def word_frames(self, pcm: Pcm, span: tuple[float, float]) -> Frames:
        """The feature rows that stand for the word at ``span``, with the audio just before it as context."""
        start = max(0, int((span[0] - _CONTEXT_S) * SAMPLE_RATE) // BLOCK_SAMPLES * BLOCK_SAMPLES)
        end = min(len(pcm), int((span[1] + 0.3) * SAMPLE_RATE))
        offset = start / SAMPLE_RATE
        pad = np.zeros(BLOCK_SAMPLES - (end - start) % BLOCK_SAMPLES, np.int16)
        rows = self._features.embed(np.concatenate([pcm[start:end], pad]))
        first, stop = template_rows((span[0] - offset, span[1] - offset), len(rows))
        return rows[first:stop]

    def negatives(self) -> list[Frames]:
        """Feature rows of the built-in negative audio: speech in the configured voice, noise and near-silence.

        Kept in the store (``.personal_negatives.npz``) for the next enrolment with the same voice and sentences.
        """
        key = hashlib.sha256("\n".join([self.config.tts.voice, *NEGATIVE_SENTENCES]).encode()).hexdigest()[:16]
        cached = self.store.root / ".personal_negatives.npz"
        try:
            with np.load(cached) as data:
                if str(data["key"]) == key:
                    return [np.asarray(data[f"arr_{i}"], np.float32) for i in range(len(data.files) - 1)]
        except (OSError, KeyError, ValueError):
            pass
        frames = self._synthesize_negatives()
        try:
            np.savez(cached, *frames, key=np.array(key))
        except OSError as err:
            _LOG.warning("could not keep the negative audio's features in %s: %s", cached, err)
        return frames

    def _synthesize_negatives(self) -> list[Frames]:
        import onnxruntime

        from voicebox.daemon.assistant import load_tts

        self.store.require([self.config.tts.voice])
        # Piper draws random noise inside its model: a fixed seed makes the negatives, and so the threshold, the
        # same on every machine.
        onnxruntime.set_seed(0)
        tts = load_tts(self.config, self.store)
        speech = [resample(np.concatenate(list(tts.synthesize(s))), tts.sample_rate) for s in NEGATIVE_SENTENCES]
        rng = np.random.default_rng(0)
        noise = [
            (rng.standard_normal(SAMPLE_RATE * 8) * 1000).astype(np.int16),  # white noise at about -30 dBFS
            np.cumsum(rng.standard_normal(SAMPLE_RATE * 8) * 30).astype(np.int16) // 4,  # rumble
            rng.integers(-3, 4, SAMPLE_RATE * 4).astype(np.int16),  # a quiet room
        ]
        gap = rng.integers(-20, 21, SAMPLE_RATE // 2).astype(np.int16)
        stream = np.concatenate([x for s in speech for x in (s, gap)])
        return [self._features.embed(stream), *(self._features.embed(n) for n in noise)]

    def enrol(self, name: str, clips: Sequence[tuple[str, Pcm]], *, word: str = "",
              negatives: Sequence[Frames] | None = None) -> tuple[PersonalModel, Enrolment]:
        """Check, calibrate and store the recordings as personal wake word ``name``; EnrolmentRejected says why not."""
        check_name(name)
        existing = self.store.catalogue.get(name)
        if existing is not None and existing.licence != LICENCE:
            raise EnrolmentRejected(f"{name!r} is a pre-trained model's name; choose another name for your wake word")
        trimmed = [self.trim(pcm, label) for label, pcm in clips]
        for (label, _), t in zip(clips, trimmed, strict=True):
            self._log(f"{label}: word at {t.span_s[0]:.2f}-{t.span_s[1]:.2f} s")
        self._log("calibrating against built-in negative audio (synthesized speech and noise)")
        enrolment = calibrate([t.frames for t in trimmed], negatives if negatives is not None else self.negatives())
        meta = {"n_recordings": len(clips), "closest_negative": enrolment.closest_negative,
                "worst_own": enrolment.worst_own, "clips": [clip_digest(pcm) for _, pcm in clips],
                "spans_s": [list(t.span_s) for t in trimmed]}
        model = PersonalModel(name, word or name.replace("_", " "), enrolment.templates, enrolment.threshold, meta)
        write_personal(self.store.root, model)
        self.store.catalogue[name] = stored.personal_infos(self.store.root)[name]
        return model, enrolment

    def scores(self, model: PersonalModel, pcm: Pcm) -> float:
        """The best score ``model`` gives anywhere in a recording."""
        if len(pcm) < BLOCK_SAMPLES:
            raise WakeError("the recording is shorter than one 80 ms block", code=CODE_WAKE_ENGINE)
        d = distances(self._features.embed(pcm), model.templates)
        return score_of(float(np.min(d)), model.threshold)
