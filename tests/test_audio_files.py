"""Sound files as recorders, sox and soundfile write them (float, 24-bit, WAVE_FORMAT_EXTENSIBLE, many channels),
read with bounded memory; absurd headers refused; long recordings transcribed to the end; a manifest that is not
UTF-8 is one line of error."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import REPO, run_cli, say

from voicebox.core.audio import SAMPLE_RATE, audio_chunks, read_wav, write_wav
from voicebox.core.errors import AudioError, MeasureError
from voicebox.measure.eval_data import read_manifest
from voicebox.understand.windows import WindowCutter, is_silent


def _tone(rate: int, seconds: float = 0.5, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono


def _assert_tone(pcm: np.ndarray, seconds: float = 0.5) -> None:
    assert pcm.dtype == np.int16
    assert abs(len(pcm) - int(SAMPLE_RATE * seconds)) <= 2, len(pcm)
    rms = float(np.sqrt(np.mean((pcm[200:-200].astype(np.float64) / 32768) ** 2)))
    assert 0.33 < rms < 0.38, rms  # a 0.5-amplitude sine: 0.354
    peak_hz = np.argmax(np.abs(np.fft.rfft(pcm))) * SAMPLE_RATE / len(pcm)
    assert abs(peak_hz - 440) < 5, peak_hz


def _format_tag(path: Path) -> int:
    data = path.read_bytes()
    at = data.index(b"fmt ")
    return int(struct.unpack_from("<H", data, at + 8)[0])


@pytest.mark.parametrize(("rate", "channels", "fmt", "subtype", "tag"), [
    (48000, 1, "WAV", "FLOAT", 3),  # 32-bit float (IEEE)
    (44100, 2, "WAV", "DOUBLE", 3),
    (48000, 2, "WAVEX", "PCM_24", 0xFFFE),  # 24-bit stereo, WAVE_FORMAT_EXTENSIBLE
    (96000, 6, "WAVEX", "PCM_32", 0xFFFE),  # 5.1 at 96 kHz
    (16000, 4, "WAVEX", "PCM_16", 0xFFFE),
    (22050, 2, "WAVEX", "FLOAT", 0xFFFE),
    (8000, 1, "WAV", "PCM_U8", 1),
    (44100, 2, "FLAC", "PCM_16", -1),
])
def test_formats_recorders_and_soundfile_write_are_read(tmp_path: Path, rate: int, channels: int, fmt: str,
                                                        subtype: str, tag: int) -> None:
    path = tmp_path / ("x.flac" if fmt == "FLAC" else "x.wav")
    soundfile.write(path, _tone(rate, channels=channels), rate, subtype=subtype, format=fmt)
    if tag >= 0:
        assert _format_tag(path) == tag  # the header really is the kind named
    _assert_tone(read_wav(path))


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed (Debian: `sudo apt-get install sox`)")
@pytest.mark.parametrize("sox_args", [["-b", "24", "-c", "2"], ["-b", "32", "-e", "floating-point"],
                                      ["-b", "16", "-c", "3"], ["-b", "32", "-e", "signed-integer", "-c", "2"]])
def test_files_as_sox_writes_them_are_read(tmp_path: Path, sox_args: list[str]) -> None:
    source = tmp_path / "tone16.wav"
    soundfile.write(source, _tone(44100), 44100, subtype="PCM_16")
    out = tmp_path / "sox.wav"
    subprocess.run(["sox", str(source), *sox_args, str(out)], check=True, capture_output=True)
    _assert_tone(read_wav(out))


def test_16_bit_mono_at_16k_comes_back_sample_for_sample(tmp_path: Path) -> None:
    pcm = (np.random.default_rng(3).integers(-32768, 32767, 20000)).astype(np.int16)
    write_wav(tmp_path / "x.wav", pcm)
    assert np.array_equal(read_wav(tmp_path / "x.wav"), pcm)


def _with_header(path: Path, *, rate: int | None = None, channels: int | None = None) -> Path:
    data = bytearray(path.read_bytes())
    at = data.index(b"fmt ") + 8
    if channels is not None:
        struct.pack_into("<H", data, at + 2, channels)
    if rate is not None:
        struct.pack_into("<I", data, at + 4, rate)
        struct.pack_into("<I", data, at + 8, rate * 2 * (channels or 1))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(("rate", "needle"), [(1, "1 Hz"), (50, "50 Hz"), (5_000_000, "5000000 Hz")])
def test_an_absurd_sample_rate_is_refused_not_expanded(tmp_path: Path, rate: int, needle: str) -> None:
    path = tmp_path / "odd.wav"
    write_wav(path, np.zeros(44_000, np.int16))  # at "1 Hz" these 88 KB would be 12 hours of audio
    _with_header(path, rate=rate)
    with pytest.raises(AudioError, match="implausible header") as caught:
        read_wav(path)
    assert needle in caught.value.message
    proc = run_cli("run", "--input", str(path), "--output", "none")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and "implausible header" in lines[0], proc.stderr


def _peak_growth_mb(code: str) -> float:
    probe = ("import resource, sys\n"
             "from voicebox.core.audio import audio_chunks\n"
             "from voicebox.audio_io.sources import WavFileSource\n"
             "import numpy, soxr, soundfile, asyncio\n"
             "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
             f"{code}\n"
             "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True,
                          timeout=600)
    return float(done.stdout.split()[-1])


@pytest.fixture(scope="module")
def long_stereo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten minutes of 48 kHz 16-bit stereo (115 MB, a plain WAV header), written a block at a time."""
    path = tmp_path_factory.mktemp("long") / "long.wav"
    rng = np.random.default_rng(5)
    with soundfile.SoundFile(path, "w", 48000, 2, subtype="PCM_16", format="WAV") as f:
        for _ in range(600):
            f.write((rng.standard_normal((48000, 2)) * 0.1).astype(np.float32))
    return path


def test_a_long_file_plays_with_bounded_memory(long_stereo: Path) -> None:
    code = ("async def main():\n"
            "    n = 0\n"
            f"    async for block in WavFileSource({str(long_stereo)!r}).blocks():\n"
            "        n += len(block.samples)\n"
            "    assert n >= 600 * 16000, n\n"
            "asyncio.run(main())")
    grew = _peak_growth_mb(code)
    # the whole file as 16 kHz mono is 19 MB, its samples 115 MB: a stream holds about a second
    assert grew < 40, f"peak memory grew by {grew:.0f} MB while streaming a 10-minute file"


def test_reading_chunks_holds_about_a_second(long_stereo: Path) -> None:
    grew = _peak_growth_mb(f"for chunk in audio_chunks({str(long_stereo)!r}):\n    assert len(chunk) <= 17000")
    assert grew < 40, grew


def test_windows_are_cut_where_it_is_quiet_and_nothing_is_lost() -> None:
    rng = np.random.default_rng(1)
    loud = lambda s: (rng.standard_normal(int(s * SAMPLE_RATE)) * 3000).astype(np.int16)  # noqa: E731
    quiet = lambda s: np.zeros(int(s * SAMPLE_RATE), np.int16)  # noqa: E731
    pcm = np.concatenate([loud(23.0), quiet(0.5), loud(30.0), quiet(0.3), loud(10.0)])
    cutter = WindowCutter(max_s=28.0, search_s=8.0)
    windows: list[np.ndarray] = []
    for start in range(0, len(pcm), 7777):  # odd feed sizes
        windows += cutter.feed(pcm[start:start + 7777])
    windows += cutter.flush()
    assert np.array_equal(np.concatenate(windows), pcm)  # nothing lost, nothing doubled
    assert all(len(w) <= 28 * SAMPLE_RATE for w in windows)
    assert 23.0 <= len(windows[0]) / SAMPLE_RATE <= 23.5  # inside the pause, not mid-"word"
    assert is_silent(quiet(1.0)) and not is_silent(loud(1.0))


@pytest.mark.slow
def test_transcribe_hears_a_long_recording_to_the_end(tmp_path: Path, model_store: object) -> None:
    first, last = tmp_path / "first.wav", tmp_path / "last.wav"
    for path, text in ((first, "The red balloon floats over the river."),
                       (last, "Seven green apples are on the kitchen table.")):
        said = say(text, path)
        assert said.returncode == 0, said.stderr
    gap = np.zeros(SAMPLE_RATE * 33, np.int16)
    whole = np.concatenate([read_wav(first), gap, read_wav(last), np.zeros(SAMPLE_RATE, np.int16)])
    long_wav = tmp_path / "long.wav"
    write_wav(long_wav, whole)
    assert len(whole) / SAMPLE_RATE > 38
    proc = run_cli("transcribe", str(long_wav), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    text = out["text"].lower()
    assert "balloon" in text and "apples" in text, out
    assert out["audio_ms"] == len(whole) * 1000 // SAMPLE_RATE and out["windows"] >= 2


def test_a_manifest_that_is_not_utf8_is_one_line_of_error(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", np.zeros(1600, np.int16))
    manifest = tmp_path / "manifest.tsv"
    manifest.write_bytes("path\tkind\ttranscript\na.wav\tcommand\tturn on the café lights\n".encode("latin-1"))
    with pytest.raises(MeasureError, match="not UTF-8") as caught:
        read_manifest(manifest)
    assert f"{manifest}:2" in caught.value.message and "iconv" in caught.value.message
    proc = run_cli("eval", "--manifest", str(manifest))
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and "not UTF-8" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_utf8_manifest_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", np.zeros(1600, np.int16))
    manifest = tmp_path / "manifest.tsv"
    manifest.write_bytes("path\tkind\ttranscript\na.wav\tcommand\tturn on the café lights\n".encode("utf-8-sig"))
    assert [c.transcript for c in read_manifest(manifest)] == ["turn on the café lights"]


def test_chunks_of_a_file_with_no_frames_say_so(tmp_path: Path) -> None:
    path = tmp_path / "none.wav"
    soundfile.write(path, np.zeros((0, 1), np.float32), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="no audio frames"):
        list(audio_chunks(path))


@pytest.mark.parametrize(("channels", "needle"), [(200, "implausible header that claims 200 channels"),
                                                  (0, "not a readable WAV file")])
def test_an_absurd_channel_count_is_refused(tmp_path: Path, channels: int, needle: str) -> None:
    path = tmp_path / "odd.wav"
    write_wav(path, np.zeros(44_000, np.int16))
    _with_header(path, channels=channels)
    with pytest.raises(AudioError, match=needle):
        read_wav(path)
