"""`voicebox eval` end to end on a small manifest of real clips (real models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voicebox.core.errors import VoiceboxError
from voicebox.measure.eval_data import clip_stream, mix_at_snr, read_manifest, wake_model_for

pytestmark = [pytest.mark.slow, pytest.mark.shared_audio]

HEADER = "path\tsource_repo\tsource_path\tlicence\tkind\ttranscript\tduration_s\tspeaker_note\tsource_commit\n"


def _small_manifest(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    """Links a few shared clips into tmp_path and writes a manifest for them (paths relative to it)."""
    picks: list[dict[str, str]] = []
    for kind, transcript, n in (("wake", "hey jarvis", 1), ("wake", "jarvis", 2), ("negative", "computer", 2),
                                ("negative", "hey chatterbox", 1), ("command", "what time is it", 1),
                                ("command", "set a timer for 5 minutes", 1), ("speech", None, 1)):
        found = [r for r in rows if r["kind"] == kind and (transcript is None or r["transcript"] == transcript)]
        picks += found[:n]
    lines = [HEADER]
    for i, row in enumerate(picks):
        link = tmp_path / "clips" / f"{i}.wav"
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(row["_abs"])
        lines.append(f"clips/{i}.wav\t\t\t\t{row['kind']}\t{row['transcript']}\t{row['duration_s']}\t\t\n")
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("".join(lines), encoding="utf-8")
    return manifest


@pytest.fixture()
def small_manifest(tmp_path: Path, shared_audio: Path, manifest_rows: list[dict[str, str]]) -> Path:
    rows = [{**r, "_abs": str(shared_audio / r["path"])} for r in manifest_rows]
    return _small_manifest(tmp_path, rows)


def test_eval_end_to_end_writes_summary_report_and_plots(small_manifest: Path, tmp_path: Path,
                                                         model_store: object, cli: object) -> None:
    pytest.importorskip("matplotlib")
    report = tmp_path / "report"
    proc = cli("eval", "--manifest", str(small_manifest), "--report", str(report), "--json",  # type: ignore[operator]
               "--workers", "1", timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    # progress on stderr (plain lines: stderr is no terminal here)
    assert "voicebox eval: wake-word scoring 0/" in proc.stderr and "blocks (100 %)" in proc.stderr
    assert "voicebox eval: speech recognition 3/3 clips (100 %)" in proc.stderr
    assert (summary["n_wake"], summary["n_negative"], summary["n_command"], summary["n_speech"]) == (3, 3, 2, 1)
    assert set(summary["wake"]) == {"hey_jarvis"}
    jarvis = summary["wake"]["hey_jarvis"]
    assert jarvis["n_positives"] == 3
    assert jarvis["threshold"] == 0.5
    assert 0.0 <= jarvis["miss_rate"] <= 1.0
    assert jarvis["false_wakes_per_hour"] == pytest.approx(jarvis["false_wakes"] * 3600 / summary["negative_s"], rel=0.01)
    assert set(summary["wer"]) == {"command", "speech", "all"}
    assert all(0.0 <= v <= 1.5 for v in summary["wer"].values())
    # "what time is it" has a built-in intent (time_date); its transcript is judged end to end.
    assert summary["n_intent"] >= 1
    assert 0.0 <= summary["intent_accuracy"] <= 1.0
    for name in ("report.md", "summary.json", "det_hey_jarvis.png"):
        assert (report / name).stat().st_size > 0
    assert json.loads((report / "summary.json").read_text())["n_clips"] == 9


def test_manifest_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(VoiceboxError, match="no such manifest"):
        read_manifest(tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("path\tkind\ttranscript\nx.wav\twake\talexa\n", encoding="utf-8")
    with pytest.raises(VoiceboxError, match=r"bad.tsv:2: .*x.wav not found"):
        read_manifest(bad)
    (tmp_path / "x.wav").write_bytes(b"")
    bad.write_text("path\tkind\ttranscript\nx.wav\tnoise\t\n", encoding="utf-8")
    with pytest.raises(VoiceboxError, match="kind 'noise' is not one of"):
        read_manifest(bad)


def test_wake_labels_and_streams() -> None:
    import numpy as np

    assert [wake_model_for(t) for t in ("alexa", "jarvis", "hey jarvis", "hey mycroft turn on the lamp", "computer")] == [
        "alexa", "hey_jarvis", "hey_jarvis", "hey_mycroft", None]
    clips = [np.full(2000, 1000, np.int16), np.full(1280, -1000, np.int16)]
    stream = clip_stream(clips, gap_s=0.16)
    assert stream.spans == ((2, 6), (6, 7))  # 2-block gaps; the first clip's span runs to the second clip's start
    assert stream.blocks == 7
    noise = np.random.default_rng(1).normal(0, 3000, 50_000).astype(np.int16)
    noisy = mix_at_snr(stream, noise, 0.0)
    assert stream.samples == ((2 * 1280, 2 * 1280 + 2000), (6 * 1280, 7 * 1280))
    added = noisy.pcm[2 * 1280 : 2 * 1280 + 2000].astype(np.float64) - stream.pcm[2 * 1280 : 2 * 1280 + 2000]
    clip = stream.pcm[2 * 1280 : 2 * 1280 + 2000].astype(np.float64)
    assert np.mean(added**2) == pytest.approx(np.mean(clip**2), rel=0.15)
