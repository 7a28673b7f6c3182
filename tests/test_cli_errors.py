"""Bad input to the CLI: one clear line on stderr, a non-zero exit, never a traceback."""

import os
from pathlib import Path

import pytest
from conftest import REPO, run_cli


def _one_line_error(proc: object, *needles: str) -> str:
    out = proc.stderr.strip()  # type: ignore[attr-defined]
    assert proc.returncode != 0, out  # type: ignore[attr-defined]
    assert "Traceback" not in out, out
    lines = [line for line in out.splitlines() if line.startswith("voicebox:")]
    assert len(lines) == 1, out
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_missing_input_file(tmp_path: Path) -> None:
    proc = run_cli("run", "--input", str(tmp_path / "nope.wav"), "--output", str(tmp_path / "r.wav"))
    _one_line_error(proc, "nope.wav", "no such file")


def test_file_that_is_not_audio(tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("shopping: milk, eggs\n" * 10)
    proc = run_cli("transcribe", str(bad))
    _one_line_error(proc, "notes.wav", "not a readable WAV file")


def _portaudio_installed() -> bool:
    import ctypes.util

    return ctypes.util.find_library("portaudio") is not None


def test_unknown_device(tmp_path: Path, model_store: object) -> None:
    proc = run_cli("run", "--input", "mic", "--input-device", "no-such-microphone-xyz", "--output", "none")
    line = _one_line_error(proc, "no-such-microphone-xyz")
    if not _portaudio_installed():  # a fresh machine: the device is named, and so is what is really missing
        assert "PortAudio library is missing" in line and "apt install libportaudio2" in line, line


def test_a_device_asked_for_without_portaudio_names_both(tmp_path: Path, model_store: object) -> None:
    without = str(REPO / "tests" / "noportaudio")
    env = {"PYTHONPATH": os.pathsep.join(p for p in (without, os.environ.get("PYTHONPATH", "")) if p)}
    proc = run_cli("run", "--input", "mic", "--input-device", "no-such-microphone-xyz", "--output", "none", env=env)
    _one_line_error(proc, "no-such-microphone-xyz", "PortAudio library is missing", "sudo apt install libportaudio2")
    listed = run_cli("devices", env=env)
    _one_line_error(listed, "PortAudio library is missing", "sudo apt install libportaudio2")


def test_bad_config_key(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[wake]\nthreshhold = 0.4\n")
    proc = run_cli("intent", "what time is it", "--config", str(cfg))
    _one_line_error(proc, str(cfg), "threshhold", "threshold")


def test_missing_model_names_the_fix(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[paths]\nmodels_dir = "{tmp_path / "empty-models"}"\n')
    speech = tmp_path / "a.wav"
    import numpy as np

    from voicebox.core.audio import write_wav

    write_wav(speech, np.zeros(16000, np.int16))
    proc = run_cli("transcribe", str(speech), "--config", str(cfg))
    _one_line_error(proc, "tiny.en", "voicebox models pull")


@pytest.mark.parametrize("command", [["say", "", "-o", "x.wav"], ["run", "--input", "/"]])
def test_other_bad_arguments(tmp_path: Path, command: list[str]) -> None:
    proc = run_cli(*command, cwd=tmp_path)
    _one_line_error(proc)
