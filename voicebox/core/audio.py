"""The one internal audio format (16 kHz, 16-bit, mono, 80 ms blocks) and conversions at the edges."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from voicebox.core.errors import CODE_AUDIO_EMPTY, CODE_AUDIO_FORMAT, CODE_AUDIO_MISSING, AudioError

__all__ = [
    "BLOCK_MS",
    "BLOCK_SAMPLES",
    "SAMPLE_RATE",
    "AudioBlock",
    "BlockFramer",
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
        raise AudioError(f"unsupported sample width {width * 8} bits", code=CODE_AUDIO_FORMAT)
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
            raise AudioError(f"{name}: no such file", code=CODE_AUDIO_MISSING)
        if path.is_dir():
            raise AudioError(f"{name}: is a directory, expected a .wav file", code=CODE_AUDIO_MISSING)
        if path.stat().st_size == 0:
            raise AudioError(f"{name}: the file is empty", code=CODE_AUDIO_EMPTY)
    try:
        with wave.open(source if not isinstance(source, Path) else str(source), "rb") as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            expected = wav.getnframes()
            raw = wav.readframes(expected)
    except (wave.Error, EOFError) as err:
        raise AudioError(
            f"{name}: not a readable WAV file ({err}); convert it, e.g. "
            "`ffmpeg -i INPUT -ar 16000 -ac 1 out.wav`",
            code=CODE_AUDIO_FORMAT,
        ) from err
    except OSError as err:
        raise AudioError(f"{name}: cannot read ({err.strerror or err})", code=CODE_AUDIO_MISSING) from err
    if rate <= 0 or channels <= 0:
        raise AudioError(f"{name}: invalid WAV header (rate {rate}, channels {channels})", code=CODE_AUDIO_FORMAT)
    pcm = _decode_frames(raw, width, channels)
    if len(pcm) == 0:
        raise AudioError(f"{name}: contains no audio frames", code=CODE_AUDIO_EMPTY)
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


class BlockFramer:
    """The one cutter of PCM into 80 ms blocks: any lengths in, whole blocks out, the remainder kept.

    ``feed`` returns the whole blocks completed so far (``start_ms`` counts on
    from ``start_ms`` given here); what is left waits for the next call. At
    the end of a stream, ``flush`` pads the remainder with silence into one
    last block, ``take_rest`` hands it over as it is, and dropping the framer
    drops it.
    """

    def __init__(self, start_ms: int = 0) -> None:
        self.position_ms = start_ms
        self._rest: Pcm = np.zeros(0, np.int16)

    @property
    def pending(self) -> int:
        """Samples held back, short of a whole block."""
        return len(self._rest)

    def _emit(self, samples: Pcm) -> AudioBlock:
        block = AudioBlock(samples, self.position_ms)
        self.position_ms += BLOCK_MS
        return block

    def feed(self, pcm: Pcm) -> list[AudioBlock]:
        """Append ``pcm``; returns the whole blocks it completes, in order."""
        pcm = np.asarray(pcm, np.int16)
        out: list[AudioBlock] = []
        if len(self._rest):
            need = BLOCK_SAMPLES - len(self._rest)
            if len(pcm) < need:
                self._rest = np.concatenate([self._rest, pcm])
                return out
            out.append(self._emit(np.concatenate([self._rest, pcm[:need]])))
            pcm = pcm[need:]
        whole = len(pcm) // BLOCK_SAMPLES
        out += [self._emit(pcm[i * BLOCK_SAMPLES : (i + 1) * BLOCK_SAMPLES]) for i in range(whole)]
        self._rest = pcm[whole * BLOCK_SAMPLES :].copy()
        return out

    def flush(self) -> list[AudioBlock]:
        """The remainder zero-padded into one last block (none if nothing is held), then forgotten."""
        if not len(self._rest):
            return []
        padded = np.zeros(BLOCK_SAMPLES, np.int16)
        padded[: len(self._rest)] = self._rest
        self._rest = np.zeros(0, np.int16)
        return [self._emit(padded)]

    def take_rest(self) -> Pcm:
        """The remainder as it is, unpadded (and forget it); the position does not move."""
        rest, self._rest = self._rest, np.zeros(0, np.int16)
        return rest


def blocks_of(pcm: Pcm, start_ms: int = 0) -> list[AudioBlock]:
    """A whole recording as 80 ms blocks, the last one zero-padded (:class:`BlockFramer` fed once, then flushed)."""
    framer = BlockFramer(start_ms)
    return framer.feed(pcm) + framer.flush()
