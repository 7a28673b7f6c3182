"""Semantic intent matching: an utterance's sentence embedding against examples sampled from every skill's templates.

What the templates miss ("I'd like to know what hour it is", "speak a bit
softer") is compared, as an embedding, with a few thousand example sentences
sampled from all skills' templates (:mod:`voicebox.understand.sampling`); the
nearest intent wins if it is close enough and clearly ahead of the next
intent. Its score becomes a confidence (0..1) by a logistic curve fitted on
the development sets (with the count of words the skill's sentences do not
know, things named after "the", "my"... apart: "mute the tv" names something
no skill here serves, "ditch the timer" only says "cancel" in other words);
:data:`ACCEPT`, :data:`MIN_MARGIN` and :data:`CONFIRM` split it into
"do it", "ask first" and "not understood". Out-of-scope anchors
(:mod:`voicebox.understand.out_of_scope`) compete as one more intent.
Example embeddings are computed once and cached on disk, keyed by a hash of
the sentences and the model.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voicebox.understand.normalize import normalize_text, strip_fillers
from voicebox.understand.sampling import intent_words, sample_intent_sentences

__all__ = ["ACCEPT", "CONFIRM", "MIN_MARGIN", "OUTSIDE", "SPECULATE", "SemanticGuess", "SemanticMatcher", "SentenceEmbedder",
           "confidence_of", "utterance_form"]

_LOG = logging.getLogger(__name__)

ACCEPT = 0.70  # at or above (with MIN_MARGIN): act on it
CONFIRM = 0.45  # at or above, but not acted on: ask "Did you mean ...?"
SPECULATE = 0.985  # at or above (and at least 3 words): the endpointer may end the command on it early
MIN_MARGIN = 0.03  # closer than this to the next intent (or to the out-of-scope anchors): ask, whatever the confidence
# Logistic fit of "right intent and slots" on the development sets' sentences that no template matches
# (tests/intents_dev.tsv, tests/intents_paraphrases.tsv, tests/intents_tuning.tsv): similarity, margin, unknown
# content words, and unknown things (an unknown word just after a determiner: "the tv", "my calendar").
_W_SCORE, _W_MARGIN, _W_UNKNOWN, _W_THING, _BIAS = 9.163, 8.432, -0.614, -2.671, -5.287
OUTSIDE = ("", "")  # the label of the out-of-scope anchors
RECENT_VECTORS = 64  # embeddings of the last utterances kept (a command's transcripts are looked at more than once)
TOP_K = 3  # an intent's score: the mean of its best TOP_K example similarities (one odd example is not enough)
CUE_WINDOW = 0.05  # intents of the nearest one's skill scoring this close to it: a cue word may decide between them
# Grammar words that never decide between a skill's intents, even where only one intent's templates say them;
# quantifiers and particles ("all", "more", "another", "off", "back") do decide, and stay cues. Time units are what
# durations say, whatever the intent.
_NOT_CUES = frozenset("""
a an the this that these those it its it's i i'm me my we us our you your he she they them is are was were be been am
do does did have has had will would can could shall should may might must to of in on at by for with from into about
as than then so and or but if what what's whats which who how when where why there here there's now please
just like want need know tell say s go get got let up look check minute minutes second seconds hour hours
""".split())  # noqa: SIM905 - a word list reads better as text


class SentenceEmbedder(Protocol):
    """Texts in, unit vectors out (one row per text); ``fingerprint`` names the model for caching."""

    fingerprint: str

    def embed(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        """``(len(texts), dimensions)`` float32 L2-normalized embeddings."""


@dataclass(frozen=True, slots=True)
class SemanticGuess:
    """The nearest intent: similarity ``score`` (cosine), ``margin`` over the next intent, ``confidence`` 0..1."""

    skill: str
    intent: str
    score: float
    margin: float
    confidence: float
    example: str
    decided: bool = False  # of intents about as near, the only one whose own words (cues) the utterance says


def confidence_of(score: float, margin: float, unknown: int = 0, things: int = 0) -> float:
    """The calibrated confidence: best similarity ``score``, its ``margin`` over the runner-up, and the ``unknown``
    words, ``things`` of them named after a determiner."""
    z = _W_SCORE * score + _W_MARGIN * margin + _W_UNKNOWN * min(unknown - things, 3) + _W_THING * min(things, 2) \
        + _BIAS
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


# Words the embedding model reads as something else than the templates' word for the same thing ("countdown" lands
# nearer to "cancel" than to "timer"): embedded as the templates' word.
_SAME_AS = ((re.compile(r"\bcount ?downs\b"), "timers"), (re.compile(r"\bcount ?down\b(?! (?:from|for)\b)"), "timer"))


def utterance_form(text: str) -> str:
    """What gets embedded: the normalized text without politeness and filler, in the templates' words."""
    form = strip_fillers(normalize_text(text)) or normalize_text(text).lower()
    for pattern, word in _SAME_AS:
        form = pattern.sub(word, form)
    return form


class SemanticMatcher:
    """Nearest-intent search over example sentences of ``skills`` (``(skill name, compiled hassil Intents)``)."""

    def __init__(self, skills: Sequence[tuple[str, Any]], embedder: SentenceEmbedder, *,
                 cache_dir: Path | None = None, per_template: int = 12, outside: Sequence[str] = ()) -> None:
        self._embedder = embedder
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()
        words = {skill: intent_words(intents) for skill, intents in skills}
        labels: list[tuple[str, str]] = [OUTSIDE] * len(outside)
        texts: list[str] = [utterance_form(t) for t in outside]
        for skill, intents in skills:
            for intent, examples in sample_intent_sentences(intents, per_template).items():
                for example in examples:
                    labels.append((skill, intent))
                    texts.append(utterance_form(example))
        self.examples = texts
        self._labels = labels
        keys = sorted(set(labels))
        self._keys = keys
        self._label_index = np.array([keys.index(label) for label in labels], dtype=np.int64)
        # Rows grouped by intent (a stable sort keeps each intent's examples in order): one slice per intent.
        order = np.argsort(self._label_index, kind="stable")
        self._vectors = self._embeddings(texts, cache_dir)[order]
        self._label_index = self._label_index[order]
        self.examples = [texts[i] for i in order]
        bounds = np.searchsorted(self._label_index, np.arange(len(keys) + 1))
        self._slices = [(int(bounds[i]), int(bounds[i + 1])) for i in range(len(keys))]
        self._cues = [_cues(words.get(skill, {}), intent) for skill, intent in keys]
        self._skill_rows = {skill: [i for i, k in enumerate(keys) if k[0] == skill] for skill, _ in keys}

    def _embeddings(self, texts: list[str], cache_dir: Path | None) -> np.ndarray:
        digest = hashlib.sha256("\n".join([self._embedder.fingerprint, *texts]).encode()).hexdigest()[:24]
        path = cache_dir / f"semantic-{digest}.npy" if cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                cached = np.load(path)
                if cached.shape[0] == len(texts):
                    return np.asarray(cached, dtype=np.float32)
            except (OSError, ValueError) as err:
                _LOG.warning("semantic cache %s unreadable (%s); computing it again", path, err)
        vectors = self._embedder.embed(texts) if texts else np.zeros((0, 384), np.float32)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, vectors)
                tmp.replace(path)
                for old in path.parent.glob("semantic-*.npy"):  # embeddings of sentences no longer in use
                    if old != path and not old.name.endswith(".tmp.npy"):
                        old.unlink(missing_ok=True)
            except OSError as err:
                _LOG.warning("cannot cache sentence embeddings in %s: %s", path.parent, err)
        return vectors

    def guess(self, text: str) -> SemanticGuess | None:
        """The nearest intent for ``text`` (whatever its confidence).

        ``None`` with no examples or no text, or when the out-of-scope anchors
        are nearer than any intent; the margin is over the next intent or the
        anchors, whichever is nearer.
        """
        return self.guesses([utterance_form(text)])[0]

    def guesses(self, forms: Sequence[str]) -> list[SemanticGuess | None]:
        """:meth:`guess` for several forms already cleaned (:func:`utterance_form`), embedded in one batch."""
        wanted = [i for i, form in enumerate(forms) if form]
        if not wanted or not len(self._vectors):
            return [None] * len(forms)
        # A command's first transcript is looked at again with its retries': the last few vectors are kept.
        with self._recent_lock:  # Wyoming clients' commands may be understood on several threads
            vectors = {forms[i]: self._recent[forms[i]] for i in wanted if forms[i] in self._recent}
        new = list(dict.fromkeys(forms[i] for i in wanted if forms[i] not in vectors))
        vectors.update(zip(new, self._embedder.embed(new) if new else (), strict=True))
        with self._recent_lock:
            self._recent.update(vectors)
            while len(self._recent) > RECENT_VECTORS:
                self._recent.popitem(last=False)
        found: list[SemanticGuess | None] = [None] * len(forms)
        for index in wanted:
            found[index] = self._nearest(self._vectors @ vectors[forms[index]], set(forms[index].split()))
        return found

    def _nearest(self, similarity: np.ndarray, said: set[str]) -> SemanticGuess | None:
        per_intent = np.full(len(self._keys), -1.0, dtype=np.float32)
        for index, (start, end) in enumerate(self._slices):
            if end > start:
                scores = similarity[start:end]
                top = np.partition(scores, -TOP_K)[-TOP_K:] if end - start > TOP_K else scores
                per_intent[index] = float(top.mean())
        order = np.argsort(per_intent)[::-1]
        best = int(order[0])
        if self._keys[best] == OUTSIDE:
            return None
        score = float(per_intent[best])
        runner_up = float(per_intent[order[1]]) if len(order) > 1 else -1.0
        # The embedding tells skills apart better than a skill's own intents ("add two more minutes" lands as near
        # "set a timer for two minutes"): of the skill's intents about as near, one whose own words are said wins.
        close = [i for i in self._skill_rows[self._keys[best][0]] if per_intent[i] >= score - CUE_WINDOW]
        cued = [i for i in close if self._cues[i] & said]
        decided = len(close) > 1 and len(cued) == 1
        if decided:
            best = cued[0]
            rest = np.delete(per_intent, close)
            runner_up = max(float(rest.max()) if len(rest) else -1.0, score - CUE_WINDOW)
        start, end = self._slices[best]
        example = self.examples[start + int(np.argmax(similarity[start:end]))]
        skill, intent = self._keys[best]
        return SemanticGuess(skill, intent, score, score - runner_up, confidence_of(score, score - runner_up),
                             example, decided)


def _cues(words: dict[str, set[str]], intent: str) -> frozenset[str]:
    """The words of ``intent``'s templates that no other intent of its skill says, grammar words left out."""
    others: set[str] = set().union(*(w for name, w in words.items() if name != intent))
    return frozenset(words.get(intent, set()) - others - _NOT_CUES)
