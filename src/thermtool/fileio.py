"""Crash-safe file output: write to a temporary name in the same folder, fsync, then publish atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import InputError, OutputExistsError, ThermtoolError
from .folders import OutputError, describe_os_error, make_folder


def check_writable(path: Path, *, force: bool = False) -> None:
    """Fail early (InputError) when `path` exists without force, is a folder, or its parent is not a folder."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file name")
    if path.exists() and not force:
        raise OutputExistsError(f"{path}: exists; use --force to overwrite")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise InputError(f"{parent}: is not a folder")


def _publish(tmp: Path, path: Path, force: bool) -> None:
    """Move `tmp` to `path`; without force refuse to replace an existing file, even one created meanwhile."""
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic and fails if `path` exists: no window for a clobber
    except FileExistsError:
        raise OutputExistsError(f"{path}: exists; use --force to overwrite") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        # File systems without hard links (FAT on a USB stick): check, then rename.
        if path.exists():
            raise OutputExistsError(f"{path}: exists; use --force to overwrite") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_output(path: str | Path, *, force: bool = False, make_parents: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file; on success it appears at `path` complete, on any error nothing appears."""
    path = Path(path)
    check_writable(path, force=force)
    try:
        if make_parents:
            make_folder(path.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise OutputError(describe_os_error(exc, path)) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        _publish(tmp, path, force)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, (FileExistsError, ThermtoolError)):
            raise OutputError(describe_os_error(exc, path)) from exc
        raise
    _fsync_dir(path.parent)


def write_bytes(path: str | Path, payload: bytes, *, force: bool = False) -> Path:
    """Atomically write `payload` to `path`."""
    with atomic_output(path, force=force) as handle:
        handle.write(payload)
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
