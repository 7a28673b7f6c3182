import asyncio
import io
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicebox.audio_io.sources import StdinSource, file_blocks
from voicebox.core.audio import BLOCK_MS, BLOCK_SAMPLES, SAMPLE_RATE, BlockFramer, blocks_of, read_wav, write_wav
from voicebox.core.errors import AudioError


def _tone(rate: int, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return 0.5 * np.sin(2 * np.pi * freq * t)


def _write(path: Path, data: np.ndarray, rate: int, width: int, channels: int) -> None:
    frames = np.repeat(data[:, None], channels, axis=1)
    if width == 1:
        raw = (frames * 127 + 128).astype(np.uint8).tobytes()
    elif width == 2:
        raw = (frames * 32767).astype("<i2").tobytes()
    elif width == 3:
        ints = (frames * (2**23 - 1)).astype("<i4").reshape(-1)
        raw = b"".join(int(v).to_bytes(4, "little", signed=True)[:3] for v in ints)
    else:
        raw = (frames * (2**31 - 1)).astype("<i4").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)


@pytest.mark.parametrize(("rate", "width", "channels"), [(16000, 2, 1), (44100, 2, 2), (8000, 1, 1),
                                                          (48000, 3, 2), (22050, 4, 1)])
def test_read_wav_converts_any_format_to_16k_mono(tmp_path: Path, rate: int, width: int, channels: int) -> None:
    path = tmp_path / "x.wav"
    _write(path, _tone(rate), rate, width, channels)
    pcm = read_wav(path)
    assert pcm.dtype == np.int16
    assert abs(len(pcm) - SAMPLE_RATE // 2) <= 2
    # The tone survives: RMS of a 0.5 amplitude sine is ~0.354 of full scale.
    rms = float(np.sqrt(np.mean((pcm[200:-200].astype(np.float64) / 32768) ** 2)))
    assert 0.30 < rms < 0.40
    spectrum = np.abs(np.fft.rfft(pcm))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(pcm)
    assert abs(peak_hz - 440) < 5


def test_missing_empty_and_non_audio_files_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file") as missing:
        read_wav(tmp_path / "nope.wav")
    assert missing.value.code == "audio_missing"
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        read_wav(empty)
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 20)
    with pytest.raises(AudioError, match="not a readable WAV file"):
        read_wav(text)


def test_truncated_wav_is_read_up_to_its_end_or_refused(tmp_path: Path) -> None:
    whole = tmp_path / "whole.wav"
    write_wav(whole, (np.ones(16000) * 1000).astype(np.int16))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:30])  # header cut mid-way
    with pytest.raises(AudioError):
        read_wav(cut)
    partial = tmp_path / "partial.wav"
    partial.write_bytes(whole.read_bytes()[:44 + 8000])  # data cut short: keep what is there
    assert len(read_wav(partial)) == 4000


def test_blocks_are_80ms_with_positions() -> None:
    pcm = np.arange(BLOCK_SAMPLES * 2 + 5, dtype=np.int16)
    blocks = blocks_of(pcm, start_ms=160)
    assert [b.start_ms for b in blocks] == [160, 240, 320]
    assert all(len(b.samples) == BLOCK_SAMPLES for b in blocks)
    assert blocks[2].samples[5] == 0 and blocks[2].samples[4] == BLOCK_SAMPLES * 2 + 4


def _pieces(pcm: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """``pcm`` cut at the given lengths (cycled), the last piece whatever is left."""
    out, at, i = [], 0, 0
    while at < len(pcm):
        n = sizes[i % len(sizes)] if sizes else len(pcm)
        out.append(pcm[at : at + n])
        at, i = at + n, i + 1
    return out


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, BLOCK_SAMPLES * 5 + 7),
       sizes=st.lists(st.integers(0, BLOCK_SAMPLES * 3), min_size=1, max_size=8).filter(any))
def test_the_framer_gives_the_same_blocks_whatever_the_chunk_sizes(total: int, sizes: list[int]) -> None:
    pcm = (np.arange(total) % 30000 + 1).astype(np.int16)  # no zeros: padding is told apart from audio
    framer = BlockFramer(start_ms=400)
    streamed = [b for piece in _pieces(pcm, sizes) for b in framer.feed(piece)]
    whole = total // BLOCK_SAMPLES
    assert [b.start_ms for b in streamed] == [400 + i * BLOCK_MS for i in range(whole)]
    assert all(len(b.samples) == BLOCK_SAMPLES and b.samples.dtype == np.int16 for b in streamed)
    assert framer.pending == total % BLOCK_SAMPLES and framer.position_ms == 400 + whole * BLOCK_MS
    tail = framer.flush()
    assert np.array_equal(np.concatenate([b.samples for b in streamed + tail] or [np.zeros(0, np.int16)]),
                          np.concatenate([b.samples for b in blocks_of(pcm, start_ms=400)] or [np.zeros(0, np.int16)]))
    assert [b.start_ms for b in streamed + tail] == [b.start_ms for b in blocks_of(pcm, start_ms=400)]
    assert framer.pending == 0 and framer.flush() == []


def test_flush_pads_the_tail_with_silence_and_take_rest_does_not() -> None:
    framer = BlockFramer()
    assert framer.flush() == [] and framer.feed(np.zeros(0, np.int16)) == []
    assert framer.feed(np.full(BLOCK_SAMPLES + 100, 7, np.int16))[0].start_ms == 0
    (last,) = framer.flush()
    assert last.start_ms == BLOCK_MS and len(last.samples) == BLOCK_SAMPLES
    assert (last.samples[:100] == 7).all() and (last.samples[100:] == 0).all()
    assert framer.feed(np.full(300, 5, np.int16)) == []
    rest = framer.take_rest()
    assert len(rest) == 300 and (rest == 5).all() and framer.pending == 0 and framer.position_ms == 2 * BLOCK_MS
    assert framer.flush() == []


def test_fed_arrays_are_not_aliased_by_the_remainder() -> None:
    framer = BlockFramer()
    chunk = np.full(BLOCK_SAMPLES // 2, 3, np.int16)
    framer.feed(chunk)
    chunk[:] = 9  # the caller reuses its buffer
    (block,) = framer.feed(np.full(BLOCK_SAMPLES // 2, 4, np.int16))
    assert (block.samples[: BLOCK_SAMPLES // 2] == 3).all() and (block.samples[BLOCK_SAMPLES // 2 :] == 4).all()


class _TrickleStream(io.RawIOBase):
    """Bytes handed out a few at a time (odd counts included), as a pipe might."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self._data, self._sizes, self._n = data, sizes, 0

    def read(self, n: int = -1) -> bytes:
        size = min(n, self._sizes[self._n % len(self._sizes)])
        self._n += 1
        out, self._data = self._data[:size], self._data[size:]
        return out

    def fileno(self) -> int:
        raise io.UnsupportedOperation


@pytest.mark.parametrize("sizes", [[2560], [1], [333, 7, 1000], [5000]])
def test_stdin_blocks_are_those_of_the_whole_recording_with_its_tail_silence(sizes: list[int]) -> None:
    pcm = (np.arange(BLOCK_SAMPLES * 3 + 411) % 1000 + 1).astype(np.int16)
    data = pcm.astype("<i2").tobytes() + b"\x01"  # a stray last byte (half a sample) is dropped

    async def collect() -> list[tuple[int, np.ndarray]]:
        return [(b.start_ms, b.samples) async for b in StdinSource(_TrickleStream(data, sizes)).blocks()]  # type: ignore[arg-type]

    got = asyncio.run(collect())
    want = file_blocks(pcm)
    assert [ms for ms, _ in got] == [b.start_ms for b in want]
    assert all(np.array_equal(samples, b.samples) for (_, samples), b in zip(got, want, strict=True))
