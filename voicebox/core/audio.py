"""The one internal audio format (16 kHz, 16-bit, mono, 80 ms blocks) and conversions at the edges (files too)."""

from __future__ import annotations

import io
import wave
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

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
    "audio_chunks",
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


# A header outside these is refused, not believed: a "1 Hz" file of 89 KB would expand to 12 hours of audio.
MIN_FILE_RATE = 4_000
MAX_FILE_RATE = 768_000
MAX_FILE_CHANNELS = 64
READ_BLOCK_S = 1.0  # how much of a file is decoded at a time: memory stays bounded whatever its length


def _file_name(source: str | Path | BinaryIO) -> str:
    return str(source) if isinstance(source, (str, Path)) else getattr(source, "name", "<stream>")


def _check_path(source: str | Path | BinaryIO, name: str) -> None:
    if not isinstance(source, (str, Path)):
        return
    path = Path(source)
    if not path.exists():
        raise AudioError(f"{name}: no such file", code=CODE_AUDIO_MISSING)
    if path.is_dir():
        raise AudioError(f"{name}: is a directory, expected a .wav file", code=CODE_AUDIO_MISSING)
    if path.stat().st_size == 0:
        raise AudioError(f"{name}: the file is empty", code=CODE_AUDIO_EMPTY)


def _open_audio(source: str | Path | BinaryIO) -> Any:
    """An open ``soundfile.SoundFile`` whose header is plausible; :class:`AudioError` otherwise."""
    import soundfile

    name = _file_name(source)
    _check_path(source, name)
    try:
        f = soundfile.SoundFile(str(source) if isinstance(source, Path) else source)
    except soundfile.LibsndfileError as err:
        raise AudioError(f"{name}: not a readable WAV file ({err.error_string}); convert it, e.g. "
                         "`ffmpeg -i INPUT -ar 16000 -ac 1 out.wav`", code=CODE_AUDIO_FORMAT) from err
    except (RuntimeError, TypeError, ValueError) as err:
        raise AudioError(f"{name}: not a readable WAV file ({err}); convert it, e.g. "
                         "`ffmpeg -i INPUT -ar 16000 -ac 1 out.wav`", code=CODE_AUDIO_FORMAT) from err
    except OSError as err:
        raise AudioError(f"{name}: cannot read ({err.strerror or err})", code=CODE_AUDIO_MISSING) from err
    rate, channels = f.samplerate, f.channels
    problem = ""
    if not MIN_FILE_RATE <= rate <= MAX_FILE_RATE:
        problem = f"a sample rate of {rate} Hz (accepted: {MIN_FILE_RATE} to {MAX_FILE_RATE} Hz)"
    elif not 1 <= channels <= MAX_FILE_CHANNELS:
        problem = f"{channels} channels (accepted: 1 to {MAX_FILE_CHANNELS})"
    if problem:
        f.close()
        raise AudioError(f"{name}: refusing an implausible header that claims {problem}; if the audio is real, "
                         "convert it, e.g. `sox INPUT -r 16000 -c 1 out.wav`", code=CODE_AUDIO_FORMAT)
    return f


def _float_to_pcm(audio: npt.NDArray[np.float32]) -> Pcm:
    # x 32768, not 32767: 16-bit input read as float comes back sample for sample
    out: Pcm = np.clip(np.rint(audio * 32768.0), -32768, 32767).astype(np.int16)
    return out


def audio_chunks(source: str | Path | BinaryIO, *, block_s: float = READ_BLOCK_S) -> Generator[Pcm, None, None]:
    """A sound file (WAV of any rate, width, channel count or float format; also FLAC, Ogg) as internal-format
    chunks of about ``block_s``, decoded and resampled a block at a time: memory does not grow with its length.

    Raises :class:`AudioError` naming the file for a missing, empty, non-audio or implausible file, and for
    one with no audio frames at all. A file cut short is read up to where its data ends.
    """
    name = _file_name(source)
    with _open_audio(source) as f:
        import soxr

        rate = f.samplerate
        resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32") if rate != SAMPLE_RATE else None
        frames = max(1, round(rate * block_s))
        total = 0
        try:
            for block in f.blocks(blocksize=frames, dtype="float32", always_2d=True):
                total += len(block)
                mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
                if resampler is not None:
                    mono = resampler.resample_chunk(np.ascontiguousarray(mono))
                if len(mono):
                    yield _float_to_pcm(mono)
        except RuntimeError as err:  # libsndfile's error mid-file: keep what was read, say so
            if total == 0:
                raise AudioError(f"{name}: not a readable WAV file ({err})", code=CODE_AUDIO_FORMAT) from err
        if total == 0:
            raise AudioError(f"{name}: contains no audio frames", code=CODE_AUDIO_EMPTY)
        if resampler is not None:
            tail = resampler.resample_chunk(np.zeros(0, np.float32), last=True)
            if len(tail):
                yield _float_to_pcm(tail)


def read_wav(source: str | Path | BinaryIO) -> Pcm:
    """A whole sound file as internal-format PCM (see :func:`audio_chunks` for the formats and errors)."""
    chunks = list(audio_chunks(source))
    return np.concatenate(chunks) if len(chunks) != 1 else chunks[0]


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
