"""`voicebox say --noise-scale 0 --noise-w-scale 0`: the real Piper voice gives the same audio on every run."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli, say


def test_noise_off_says_the_same_every_time(tmp_path: Path, model_store: object) -> None:
    first, second = tmp_path / "1.wav", tmp_path / "2.wav"
    for out in (first, second):
        proc = say("Set a timer for five minutes.", out)
        assert proc.returncode == 0, proc.stderr
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_bytes()) > 22050  # half a second of speech or more at 22.05 kHz, not an empty file


def test_a_noise_scale_out_of_range_is_refused_with_the_range(tmp_path: Path) -> None:
    proc = run_cli("say", "hi", "-o", str(tmp_path / "x.wav"), "--noise-scale", "5")
    assert proc.returncode == 2 and "'5' is not a number from 0 to 2" in proc.stderr, proc.stderr
    assert not (tmp_path / "x.wav").exists()
