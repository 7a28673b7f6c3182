"""`voicebox bench`: the summary arithmetic (pure) and a quick smoke run with the real models."""

from __future__ import annotations

import json
from typing import Any

import pytest

from voicebox.measure.bench import summarize

KEYS = ("machine_factor", "n_commands", "e2e_ms", "e2e_ms_p90", "endpoint_ms",
        "asr_ms", "asr_full_window_ms", "wer", "wer_full_window",
        "intent_ms", "tts_first_audio_ms", "wake_cpu_percent", "rss_mb", "startup_s", "e2e_ms_intent", "e2e_ms_silence")


def turn(reason: str, e2e: float, heard: str = "what time is it", woke: bool = True) -> dict[str, Any]:
    return {"reference": "what time is it", "woke": woke, "reason": reason, "heard": heard, "e2e_ms": e2e,
            "endpoint_ms": e2e - 100, "asr_ms": 90.0, "intent_ms": 1.0, "tts_first_audio_ms": 80.0}


def asr_row(text: str, ms: float, full_text: str, full_ms: float) -> dict[str, Any]:
    return {"reference": "set a timer for 5 minutes", "text": text, "ms": ms, "full_text": full_text, "full_ms": full_ms}


def test_summary_splits_latency_by_how_the_command_ended() -> None:
    turns = [turn("intent", 400), turn("intent", 500), turn("intent", 450), turn("silence", 1100), turn("silence", 900)]
    rows = [asr_row("set a timer for five minutes", 100, "set a timer for 5 minutes", 600),
            asr_row("set the timer for five minutes", 140, "set a timer for five minutes", 700)]
    s = summarize(turns, rows)
    assert (s["n_commands"], s["n_intent"], s["n_silence"]) == (5, 3, 2)
    assert s["e2e_ms"] == 500 and s["e2e_ms_intent"] == 450 and s["e2e_ms_silence"] == 1000
    assert s["asr_ms"] == 120 and s["asr_full_window_ms"] == 650
    assert s["wer"] == pytest.approx(100 * 1 / 12, abs=0.1)  # "the" for "a" once, numbers normalised
    assert s["wer_full_window"] == 0.0


def test_summary_of_commands_that_never_woke() -> None:
    s = summarize([{"reference": "what time is it", "woke": False}], [])
    s_keys = {k for k, v in s.items() if v is not None}
    assert s["n_woke"] == 0 and "e2e_ms_intent" not in s_keys and s["wer_turns"] is None


@pytest.mark.slow
def test_quick_bench_prints_sane_numbers(cli: Any, model_store: object) -> None:
    proc = cli("bench", "--quick", "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    steps = 4 + 2 * result["n_commands"]  # progress on stderr: start-up, each turn, each recognition, two CPU runs, barge-in
    assert f"voicebox bench: measuring {steps}/{steps} steps (100 %)" in proc.stderr
    for key in KEYS:
        assert key in result, key
    assert result["n_commands"] >= 1 and result["n_woke"] >= 1
    for key in ("machine_factor", "e2e_ms", "endpoint_ms", "asr_ms", "asr_full_window_ms", "tts_first_audio_ms"):
        assert result[key] is not None and 0 < result[key] < 60_000, (key, result[key])
    assert 0 <= result["wer"] <= 200 and 0 <= result["wer_full_window"] <= 200
    assert 0 < result["wake_cpu_percent"] < 200 and 0 < result["wake_cpu_percent_noisy"] < 200
    assert 50 < result["rss_mb"] < 8000 and 0 < result["startup_s"] < 120
    assert len(result["clips"]) == result["n_commands"]


def test_peak_memory_is_this_process_own() -> None:
    """A child's peak as it reports it: not inflated by its big parent (ru_maxrss of children would be)."""
    import subprocess
    import sys

    import numpy as np

    from voicebox.core.memory import peak_rss_mb

    ballast = np.ones(300 * 2**20 // 8)  # 300 MB in this process
    assert peak_rss_mb() >= 300
    child = subprocess.run([sys.executable, "-c", "from voicebox.core.memory import peak_rss_mb; print(peak_rss_mb())"],
                           capture_output=True, text=True, check=True)
    assert 5 < float(child.stdout) < 200, child.stdout
    del ballast


def _write_run(path: Any, **figures: Any) -> Any:
    path.write_text(json.dumps({"quick": False, "notes": [], "clips": [], **figures}), encoding="utf-8")
    return path


def test_compare_prints_the_ratios_of_two_runs(cli: Any, tmp_path: Any) -> None:
    old = _write_run(tmp_path / "old.json", machine_factor=400.0, e2e_ms_intent=600.0, asr_ms=170.0, rss_mb=380.0,
                     wer=12.0, wake_cpu_percent=0.0, e2e_ms_silence=None, only_old=1.0)
    new = _write_run(tmp_path / "new.json", machine_factor=300.0, e2e_ms_intent=450.0, asr_ms=85.0, rss_mb=380.0,
                     wer=12.0, wake_cpu_percent=0.5, e2e_ms_silence=900.0)
    proc = cli("bench", "--compare", str(old), str(new), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["machine_factor"] == {"old": 400.0, "new": 300.0, "ratio": 0.75}
    keys = out["keys"]
    assert keys["e2e_ms_intent"] == {"old": 600.0, "new": 450.0, "ratio": 0.75, "normalised": 1.0}  # the machine
    assert keys["asr_ms"]["ratio"] == 0.5 and keys["asr_ms"]["normalised"] == pytest.approx(0.667, abs=0.001)
    assert keys["rss_mb"]["ratio"] == 1.0 and keys["rss_mb"]["normalised"] is None  # not a time
    assert keys["wake_cpu_percent"]["ratio"] is None  # from 0: no ratio
    assert keys["e2e_ms_silence"] == {"old": None, "new": 900.0, "ratio": None, "normalised": None}
    assert "only_old" not in keys and "clips" not in keys and "quick" not in keys

    table = cli("bench", "--compare", str(old), str(new))
    assert table.returncode == 0, table.stderr
    assert "new/old 0.75" in table.stdout  # the machine factors' ratio
    row = next(line for line in table.stdout.splitlines() if line.split()[:1] == ["asr_ms"])
    assert row.split() == ["asr_ms", "170", "85", "0.5", "0.667"]


def test_compare_refuses_what_is_not_a_bench_result(cli: Any, tmp_path: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    good = _write_run(tmp_path / "good.json", machine_factor=1.0)
    proc = cli("bench", "--compare", str(bad), str(good), "--json")
    assert proc.returncode != 0 and "bench_compare" in proc.stdout + proc.stderr
    three = cli("bench", "--compare", str(good), str(good), str(good))
    assert three.returncode != 0 and "one or two files" in three.stdout + three.stderr


@pytest.mark.slow
def test_peers_side_by_side_measures_both_servers(cli: Any, model_store: object) -> None:
    """`bench --peers --quick`: wyoming-faster-whisper and wyoming-piper (from PyPI) beside `voicebox serve`."""
    import os
    import tempfile
    from pathlib import Path

    peers = Path(os.environ.get("VOICEBOX_TEST_PEERS", Path(tempfile.gettempdir()) / "voicebox-test-peers"))
    proc = cli("bench", "--peers", "--quick", "--json", "--peers-dir", str(peers), timeout=1200)
    if proc.returncode != 0 and "could not install" in proc.stdout + proc.stderr:
        pytest.skip(f"the peers could not be installed from PyPI: {(proc.stdout + proc.stderr)[-300:]}")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["machine_factor"] > 0 and result["n_clips"] >= 1
    for side in ("voicebox", "peer"):
        for key in ("asr_ms", "tts_first_audio_ms"):
            assert 0 < result[f"{side}_{key}"] < 60_000, (side, key, result)
        assert 0 <= result[f"{side}_wer"] <= 100  # both heard the clips: the same model, so both about right
    assert result["asr_speedup"] == pytest.approx(result["peer_asr_ms"] / result["voicebox_asr_ms"], abs=0.01)
