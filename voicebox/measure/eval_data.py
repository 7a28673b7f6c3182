"""Evaluation data: the clip manifest, wake-word labels, and continuous test streams built from clips."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, Pcm, blocks_of, read_wav
from voicebox.core.errors import CODE_EVAL_MANIFEST, MeasureError

__all__ = ["Clip", "Stream", "clip_stream", "mix_at_snr", "read_manifest", "wake_model_for"]

KINDS = ("wake", "command", "speech", "negative")
_WAKE_PHRASES = ((re.compile(r"\balexa\b"), "alexa"), (re.compile(r"\bhey mycroft\b"), "hey_mycroft"),
                 (re.compile(r"\bjarvis\b"), "hey_jarvis"))
GAP_S = 0.5  # quiet between positive clips, so each starts from a calm model


@dataclass(frozen=True, slots=True)
class Clip:
    """One manifest row: an absolute path, its kind and its true transcript."""

    path: Path
    kind: str
    transcript: str


def wake_model_for(transcript: str) -> str | None:
    """The wake-word model a positive clip's transcript calls (``"hey jarvis"`` and ``"jarvis"`` -> hey_jarvis)."""
    text = transcript.lower()
    for pattern, model in _WAKE_PHRASES:
        if pattern.search(text):
            return model
    return None


def read_manifest(path: Path) -> list[Clip]:
    """Rows of a manifest.tsv (columns path, kind, transcript; paths relative to its folder)."""
    if not path.is_file():
        raise MeasureError(f"{path}: no such manifest; pass --manifest PATH/manifest.tsv", code=CODE_EVAL_MANIFEST)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise MeasureError(f"{path}:{line}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start}); "
                           f"save the manifest as UTF-8, e.g. `iconv -f latin1 -t utf-8 {path.name} > manifest.tsv`",
                           code=CODE_EVAL_MANIFEST) from err
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    missing = {"path", "kind", "transcript"} - set(reader.fieldnames or ())
    if missing:
        raise MeasureError(f"{path}: missing column(s) {', '.join(sorted(missing))}; a manifest is tab-separated "
                           "with a header row naming at least path, kind and transcript", code=CODE_EVAL_MANIFEST)
    clips = []
    for line, row in enumerate(reader, 2):
        kind = (row["kind"] or "").strip()
        if kind not in KINDS:
            raise MeasureError(f"{path}:{line}: kind {kind!r} is not one of {', '.join(KINDS)}", code=CODE_EVAL_MANIFEST)
        clip_path = path.parent / (row["path"] or "")
        if not clip_path.is_file():
            raise MeasureError(f"{path}:{line}: {clip_path} not found (paths are relative to the manifest's folder)",
                               code=CODE_EVAL_MANIFEST)
        clips.append(Clip(clip_path, kind, (row["transcript"] or "").strip()))
    if not clips:
        raise MeasureError(f"{path}: the manifest lists no clips", code=CODE_EVAL_MANIFEST)
    return clips


@dataclass(frozen=True, slots=True)
class Stream:
    """Clips joined into one continuous stream.

    ``spans`` are the (first, end) blocks in which a detection counts for each
    clip; ``samples`` the (start, end) sample range of each clip's own audio.
    """

    pcm: Pcm
    spans: tuple[tuple[int, int], ...]
    samples: tuple[tuple[int, int], ...]

    @property
    def blocks(self) -> int:
        """Whole 80 ms blocks in the stream."""
        return len(self.pcm) // BLOCK_SAMPLES


def _padded(pcm: Pcm) -> Pcm:
    blocks = blocks_of(pcm)  # the last one zero-padded
    return np.concatenate([b.samples for b in blocks]) if blocks else np.zeros(0, np.int16)


def clip_stream(clips: Sequence[Pcm], gap_s: float = GAP_S, seed: int = 0) -> Stream:
    """Clips back to back, each after ``gap_s`` of faint noise, block-aligned.

    A clip's span runs to the start of the next clip (its gap included), so a
    detection just after the word still counts for it.
    """
    rng = np.random.default_rng(seed)
    gap_blocks = int(round(gap_s * SAMPLE_RATE / BLOCK_SAMPLES))
    parts: list[Pcm] = []
    starts: list[int] = []
    ranges: list[tuple[int, int]] = []
    at = 0
    for pcm in clips:
        if gap_blocks:
            parts.append(rng.integers(-2, 3, gap_blocks * BLOCK_SAMPLES).astype(np.int16))
            at += gap_blocks
        starts.append(at)
        ranges.append((at * BLOCK_SAMPLES, at * BLOCK_SAMPLES + len(pcm)))
        body = _padded(pcm)
        parts.append(body)
        at += len(body) // BLOCK_SAMPLES
    spans = tuple(zip(starts, [*starts[1:], at], strict=True))
    return Stream(np.concatenate(parts) if parts else np.zeros(0, np.int16), spans, tuple(ranges))


def _power(pcm: Pcm) -> float:
    return float(np.mean(np.square(pcm, dtype=np.float64))) if len(pcm) else 0.0


def mix_at_snr(stream: Stream, noise: Pcm, snr_db: float, *, min_noise_rms: float = 100.0) -> Stream:
    """The stream with ``noise`` added so each clip's power is ``snr_db`` above the noise under it.

    Noise is taken in order (looping) from ``noise``, skipping near-silent
    stretches; each clip's gap before it gets the same noise level.
    """
    if len(noise) == 0:
        raise MeasureError("noise mixing needs negative audio; the manifest has none", code=CODE_EVAL_MANIFEST)
    out = stream.pcm.astype(np.float64)
    offset = 0
    previous_end = 0
    for (_, end), (start, stop) in zip(stream.spans, stream.samples, strict=True):
        lo, hi = previous_end * BLOCK_SAMPLES, end * BLOCK_SAMPLES
        previous_end = end
        clip_power = _power(stream.pcm[start:stop])
        for _ in range(max(1, len(noise) // max(hi - lo, 1))):
            piece = noise[(offset + np.arange(hi - lo)) % len(noise)]
            offset = (offset + hi - lo) % len(noise)
            if _power(piece) >= min_noise_rms**2:
                break
        noise_power = max(_power(piece), 1.0)
        out[lo:hi] += piece * np.sqrt(clip_power / noise_power / 10 ** (snr_db / 10))
    return Stream(np.clip(out, -32768, 32767).astype(np.int16), stream.spans, stream.samples)


def load_pcm(clips: Sequence[Clip]) -> list[Pcm]:
    """Each clip's audio in the internal format."""
    return [read_wav(c.path) for c in clips]
