"""The one internal audio format (16 kHz, 16-bit, mono, 80 ms blocks) and conversions at the edges."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from voicebox.core.errors import AudioError

__all__ = [
    "BLOCK_MS",
    "BLOCK_SAMPLES",
    "SAMPLE_RATE",
    "AudioBlock",
    "Pcm",
    "blocks_of",
    "read_wav",
    "resample",
    "to_float",
    "to_int16",
    "wav_bytes",
    "write_wav",
]

SAMPLE_RATE = 16_000
BLOCK_SAMPLES = 1280
BLOCK_MS = BLOCK_SAMPLES * 1000 // SAMPLE_RATE

Pcm = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class AudioBlock:
    """80 ms of internal-format audio; ``start_ms`` is its position in the stream."""

    samples: Pcm
    start_ms: int

    @property
    def end_ms(self) -> int:
        """Stream position just after the last sample of this block."""
        return self.start_ms + len(self.samples) * 1000 // SAMPLE_RATE


def to_float(pcm: Pcm) -> npt.NDArray[np.float32]:
    """int16 PCM -> float32 in [-1, 1)."""
    return pcm.astype(np.float32) / 32768.0


def to_int16(audio: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> Pcm:
    """float audio in [-1, 1] (or int16 already) -> int16 PCM, clipped."""
    if audio.dtype == np.int16:
        return np.asarray(audio, np.int16)
    out: Pcm = np.clip(np.asarray(audio, np.float32) * 32767.0, -32768, 32767).astype(np.int16)
    return out


def resample(pcm: Pcm, rate_in: int, rate_out: int = SAMPLE_RATE) -> Pcm:
    """Resample int16 mono PCM with soxr (high quality, streaming-safe for whole buffers)."""
    if rate_in == rate_out or len(pcm) == 0:
        return pcm
    import soxr

    out = soxr.resample(pcm, rate_in, rate_out)
    return np.asarray(out, dtype=np.int16)


def _decode_frames(raw: bytes, width: int, channels: int) -> Pcm:
    raw = raw[: len(raw) - len(raw) % (width * channels)]  # a file cut mid-frame: keep the whole frames
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        data = np.frombuffer(raw, "<i2")
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        data = (b[:, 2].astype(np.int8).astype(np.int16) << 8) | b[:, 1].astype(np.int16)
    elif width == 4:
        data = (np.frombuffer(raw, "<i4") >> 16).astype(np.int16)
    else:
        raise AudioError(f"unsupported sample width {width * 8} bits", code="audio_format")
    usable = len(data) - len(data) % channels
    data = data[:usable]
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return np.ascontiguousarray(data, dtype=np.int16)


def read_wav(source: str | Path | BinaryIO) -> Pcm:
    """Read a WAV file of any rate, width and channel count into internal-format PCM.

    Raises :class:`AudioError` naming the file and the problem for a missing,
    empty, truncated or non-WAV file.
    """
    name = str(source) if isinstance(source, (str, Path)) else getattr(source, "name", "<stream>")
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise AudioError(f"{name}: no such file", code="audio_missing")
        if path.is_dir():
            raise AudioError(f"{name}: is a directory, expected a .wav file", code="audio_missing")
        if path.stat().st_size == 0:
            raise AudioError(f"{name}: the file is empty", code="audio_empty")
    try:
        with wave.open(source if not isinstance(source, Path) else str(source), "rb") as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            expected = wav.getnframes()
            raw = wav.readframes(expected)
    except (wave.Error, EOFError) as err:
        raise AudioError(
            f"{name}: not a readable WAV file ({err}); convert it, e.g. "
            "`ffmpeg -i INPUT -ar 16000 -ac 1 out.wav`",
            code="audio_format",
        ) from err
    except OSError as err:
        raise AudioError(f"{name}: cannot read ({err.strerror or err})", code="audio_missing") from err
    if rate <= 0 or channels <= 0:
        raise AudioError(f"{name}: invalid WAV header (rate {rate}, channels {channels})", code="audio_format")
    pcm = _decode_frames(raw, width, channels)
    if len(pcm) == 0:
        raise AudioError(f"{name}: contains no audio frames", code="audio_empty")
    return resample(pcm, rate)


def write_wav(path: str | Path, pcm: Pcm, rate: int = SAMPLE_RATE) -> None:
    """Write mono int16 PCM to a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())


def wav_bytes(pcm: Pcm, rate: int = SAMPLE_RATE) -> bytes:
    """Mono int16 PCM as the bytes of a WAV file."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
    return buf.getvalue()


def blocks_of(pcm: Pcm, start_ms: int = 0) -> list[AudioBlock]:
    """Split PCM into 80 ms blocks, zero-padding the last one."""
    n = -(-len(pcm) // BLOCK_SAMPLES)
    padded = np.zeros(n * BLOCK_SAMPLES, np.int16)
    padded[: len(pcm)] = pcm
    return [
        AudioBlock(padded[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES], start_ms + i * BLOCK_MS)
        for i in range(n)
    ]
