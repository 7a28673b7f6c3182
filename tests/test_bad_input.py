"""Bad input never crashes voicebox: other formats are converted, broken files get one clear line, absurd
config values are refused by name, and the daemon keeps answering after garbage on its input."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from spoken import events_of

from voicebox.cli.main import EXIT_CONFIG
from voicebox.core.audio import SAMPLE_RATE, read_wav, resample

WAKE = "wyoming-openwakeword/hey_jarvis.wav"
COMMAND = "speech-to-phrase/en/what time is it.wav"


def _spoken_command(shared_audio: Path) -> np.ndarray:
    return np.concatenate([np.zeros(8000, np.int16), read_wav(shared_audio / WAKE),
                           read_wav(shared_audio / COMMAND), np.zeros(24000, np.int16)])


def _write(path: Path, pcm: np.ndarray, rate: int, width: int, channels: int) -> Path:
    audio = resample(pcm, SAMPLE_RATE, rate).astype(np.int32)
    if width == 1:
        raw = ((audio >> 8) + 128).astype(np.uint8).tobytes()
    elif width == 3:
        wide = (audio << 8).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
        raw = wide.tobytes()
    else:
        raw = audio.astype("<i2").tobytes()
    frame = len(raw) // len(audio)
    raw = b"".join(raw[i:i + frame] * channels for i in range(0, len(raw), frame)) if channels > 1 else raw
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("rate", "width", "channels"), [(44100, 3, 2), (8000, 1, 1)])
def test_other_rates_widths_and_channels_are_converted_and_answered(
        tmp_path: Path, shared_audio: Path, model_store: object, rate: int, width: int, channels: int) -> None:
    path = _write(tmp_path / "odd.wav", _spoken_command(shared_audio), rate, width, channels)
    proc = run_cli("run", "--input", str(path), "--output", "none", "--json")
    assert proc.returncode == 0, proc.stderr
    intents = [e for e in events_of(proc.stdout) if e["event"] == "intent"]
    assert [e["intent"] for e in intents] == ["GetTime"]


@pytest.mark.parametrize(("content", "needle"), [
    (b"", "empty"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not a readable WAV file"),  # header cut short
    (b"%PDF-1.4 not audio at all" * 20, "not a readable WAV file"),
])
def test_broken_files_get_one_line_and_a_non_zero_exit(tmp_path: Path, content: bytes, needle: str) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(content)
    for command in (["run", "--input", str(bad), "--output", "none"], ["transcribe", str(bad)]):
        proc = run_cli(*command)
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("voicebox: error:"), proc.stderr
        assert "broken.wav" in lines[0] and needle in lines[0]


def test_truncated_data_is_read_up_to_where_it_ends(tmp_path: Path) -> None:
    full = _write(tmp_path / "full.wav", (np.sin(np.arange(16000) / 5) * 8000).astype(np.int16), 16000, 2, 1)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: 44 + 2 * 6000 + 1])  # header promises 16000 frames; 6000 and a half remain
    assert len(read_wav(cut)) == 6000


@pytest.mark.parametrize(("toml", "named"), [
    ("[audio]\nvolume = 1e9\n", "[audio] volume"),
    ("[audio]\nqueue_blocks = 0\n", "[audio] queue_blocks"),
    ("[audio]\nretry_max_s = -1\n", "[audio] retry_max_s"),
    ("[debug]\nrecord_max_mb = 0\n", "[debug] record_max_mb"),
    ("[listen]\nmax_command_s = 100000\n", "[listen] max_command_s"),
    ("[skills]\ntimeout_s = \"forever\"\n", "[skills] timeout_s"),
])
def test_absurd_config_values_are_refused_by_name(tmp_path: Path, toml: str, named: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(toml)
    proc = run_cli("run", "--config", str(cfg), "--input", "-", "--output", "none", input=b"")
    assert proc.returncode == EXIT_CONFIG
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and str(cfg) in lines[0], proc.stderr


@pytest.mark.slow
def test_daemon_survives_garbage_on_its_input_and_answers_afterwards(shared_audio: Path, model_store: object) -> None:
    rng = np.random.default_rng(7)
    garbage = rng.integers(0, 256, 16000 * 3, dtype=np.uint8).tobytes()  # 1.5 s of full-scale noise
    clipped = np.full(16000, 32767, np.int16).tobytes()  # 1 s stuck at full scale
    odd = b"\x01" * 1281  # the stream ends on half a sample (raw PCM has no framing, so only at the end)
    good = _spoken_command(shared_audio).astype("<i2").tobytes()
    proc = run_cli("run", "--input", "-", "--output", "none", "--json", input=garbage + clipped + good + odd)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    intents = [e["intent"] for e in events_of(proc.stdout) if e["event"] == "intent"]
    assert intents[-1:] == ["GetTime"]
