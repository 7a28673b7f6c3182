"""File-system safety: private directories for user data, and which skill directories are safe to import from."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from voicebox.core.errors import CODE_STATE_DIR, CODE_UNSAFE_DIR, StorageError

__all__ = ["private_dir", "private_socket", "unsafe_dir_reason", "unsafe_tree_reason"]


def unsafe_dir_reason(path: Path) -> str:
    """Why importing code from ``path`` is unsafe, or "" when it is safe.

    Safe means: owned by the current user (or root), and writable by nobody
    else: not by "others", and not by a group other than the user's own.
    """
    try:
        info = path.stat()
    except OSError as err:
        return f"cannot inspect it ({err.strerror or err})"
    uid = os.getuid()
    if info.st_uid not in (uid, 0):
        return (f"it is owned by uid {info.st_uid}, not by you (uid {uid}); "
                f"use files and directories you own, e.g. `chown -R {uid} {path}`")
    if info.st_mode & stat.S_IWOTH:
        return f"anyone can write to it (mode {stat.filemode(info.st_mode)}); fix with `chmod o-w {path}`"
    if info.st_mode & stat.S_IWGRP and info.st_gid != os.getgid():
        return (f"group {info.st_gid} can write to it (mode {stat.filemode(info.st_mode)}); "
                f"fix with `chmod g-w {path}`")
    return ""


def unsafe_tree_reason(folder: Path) -> str:
    """Why importing the code in ``folder`` is unsafe ("" when safe): every folder and file in it, symlinks followed.

    Python imports any file in a skill's folder (sub-packages, modules, their
    ``__pycache__``), so each must pass :func:`unsafe_dir_reason`'s rules; a
    symlink is judged by what it points to.
    """
    seen: set[Path] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        real = current.resolve()
        if real in seen:
            continue
        seen.add(real)
        try:
            entries = sorted(current.iterdir())
        except OSError as err:
            return f"{current}: cannot list it ({err.strerror or err})"
        for entry in entries:
            problem = unsafe_dir_reason(entry)
            if problem:
                link = f" (a symlink to {entry.resolve()})" if entry.is_symlink() else ""
                return f"{entry}{link}: {problem}"
            if entry.is_dir():
                pending.append(entry)
    return ""


def _make_dirs(path: Path, what: str) -> None:
    """Create ``path`` and its missing parents, each 0700 (whatever the umask); existing ones are left alone."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError as err:
            raise StorageError(f"cannot create {what} {path}: {err.strerror or err} at {folder}; create it yourself "
                               f"(`mkdir -p -m 0700 {path}`) or choose another folder",
                               code=CODE_STATE_DIR) from err
        else:
            folder.chmod(0o700)  # mkdir's mode is filtered by the umask


def private_dir(path: Path, what: str = "the folder") -> Path:
    """A folder for voicebox's private data: created 0700 when missing (with any missing parents); an existing
    one is used as it is if it is yours and nobody else can write to it, and refused otherwise (never chmod-ed:
    it may be a folder others rely on). A folder voicebox cannot write to is refused in one line.
    """
    path = path.expanduser()
    _make_dirs(path, what)
    try:
        info = path.stat()
    except OSError as err:
        raise StorageError(f"cannot use {what} {path}: {err.strerror or err}", code=CODE_STATE_DIR) from err
    if not stat.S_ISDIR(info.st_mode):
        raise StorageError(f"{what} {path} is not a folder; remove it or choose another path", code=CODE_STATE_DIR)
    if info.st_uid != os.getuid():
        raise StorageError(f"refusing to use {what} {path}: it is owned by uid {info.st_uid}, not by you; "
                           "choose a folder of your own", code=CODE_UNSAFE_DIR)
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise StorageError(f"refusing to use {what} {path}: others can write to it (mode {stat.filemode(info.st_mode)}"
                           f"); choose a folder of your own, or fix it with `chmod go-w {path}`", code=CODE_UNSAFE_DIR)
    if not os.access(path, os.W_OK | os.X_OK):
        raise StorageError(f"cannot write to {what} {path} (read-only); make it writable or choose another folder",
                           code=CODE_STATE_DIR)
    return path


def private_socket(path: str | Path) -> None:
    """Make a listening unix socket connectable by its owner only (mode 0600)."""
    os.chmod(path, 0o600)
