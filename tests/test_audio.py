import wave
from pathlib import Path

import numpy as np
import pytest

from voicebox.core.audio import BLOCK_SAMPLES, SAMPLE_RATE, blocks_of, read_wav, write_wav
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
