"""Shared fixtures: the real model store, the shared recordings, and running the CLI as a subprocess."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# Importing voicebox sets this too; set here first so that nothing a test imports ahead of voicebox lets ONNX
# Runtime phone home (tests/test_privacy_process.py checks voicebox's own setting with it removed).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def _isolate_user_dirs() -> None:
    """Keep tests away from the user's config, state (timers, lists) and skills; share only the models."""
    from voicebox.models.store import default_models_dir

    os.environ.setdefault("VOICEBOX_MODELS_DIR", str(default_models_dir()))
    home = Path(tempfile.mkdtemp(prefix="voicebox-test-home-"))
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = str(home / var.lower())
        (home / var.lower()).mkdir(mode=0o700)
    os.environ.pop("VOICEBOX_CONFIG", None)


_isolate_user_dirs()


def shared_audio_dir() -> Path | None:
    """The recordings folder, found the way voicebox's bench and soak find it; None when absent."""
    from voicebox.core.resources import shared_audio_dir as find

    return find()


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    """The folder of real recordings; skips with a reason where there is none (a fresh clone)."""
    found = shared_audio_dir()
    if found is None:
        pytest.skip("real recordings not found: this test needs ../shared/audio beside the repository "
                    "(or VOICEBOX_SHARED_AUDIO pointing at a folder with manifest.tsv)")
    return found


@pytest.fixture(scope="session")
def manifest_rows(shared_audio: Path) -> list[dict[str, str]]:
    """Rows of the shared recordings' manifest.tsv."""
    with open(shared_audio / "manifest.tsv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture(scope="session")
def model_store() -> object:
    """The default model store with the default models present.

    Missing models fail the test under CI (the Makefile pulls them first) and skip
    elsewhere with the command that fixes it.
    """
    from voicebox.core.config import Config
    from voicebox.core.errors import ModelError
    from voicebox.daemon.assistant import required_models
    from voicebox.models.store import ModelStore, default_models_dir

    store = ModelStore(default_models_dir())
    try:
        store.require(required_models(Config()))
    except ModelError as err:
        if os.environ.get("CI"):
            pytest.fail(f"default models missing in CI: {err}")
        pytest.skip(f"default models missing: {err}")
    return store


@pytest.fixture(scope="session")
def engines(model_store: object) -> Iterator[object]:
    """All default engines loaded once for the session (real models)."""
    from voicebox.core.config import Config
    from voicebox.daemon.assistant import build_engines

    built = build_engines(Config(), model_store)  # type: ignore[arg-type]
    yield built
    built.close()


@pytest.fixture(scope="session")
def wyoming_satellite_path() -> Path:
    """A folder holding wyoming-satellite and its own pinned wyoming; installed from PyPI on first use."""
    from satellite_peer import PEER

    target = Path(os.environ.get("VOICEBOX_TEST_PEERS", Path(tempfile.gettempdir()) / "voicebox-test-peers"))
    folder = target / PEER.replace("==", "-")
    if not (folder / "wyoming_satellite" / "__main__.py").exists():
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               "--target", str(folder), PEER], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.skip(f"could not install {PEER} from PyPI (pip install --target {folder} {PEER}): "
                        f"{done.stderr.strip()[-300:]}")
    return folder


@pytest.fixture(scope="session")
def mdns() -> None:
    """Multicast DNS works here (an announcement made here is heard here), or the test skips saying what is missing."""
    from mdns import mdns_missing

    reason = mdns_missing()
    if reason:
        pytest.skip(f"needs multicast DNS (zeroconf): {reason}")


def run_cli(*args: str, env: dict[str, str] | None = None, input: bytes | None = None,
            timeout: float = 300, cwd: Path | None = None,
            prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run ``python -m voicebox ARGS`` (optionally behind ``prefix``, e.g. ``unshare -n``); output as text."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([*prefix, sys.executable, "-m", "voicebox", *args], capture_output=True, input=input,
                          env=full_env, timeout=timeout, cwd=cwd, check=False)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def say(text: str, out: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``voicebox say TEXT -o OUT`` with Piper's noise off: the same words give the same audio on every run, so
    what the recognizer hears of them does not change from one test run to the next."""
    return run_cli("say", text, "-o", str(out), "--noise-scale", "0", "--noise-w-scale", "0", **kwargs)


@pytest.fixture()
def cli() -> object:
    """The :func:`run_cli` helper as a fixture."""
    return run_cli
