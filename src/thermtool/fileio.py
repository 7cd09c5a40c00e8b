"""Crash-safe file output: write to a temporary name in the same folder, fsync, then publish atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import InputError, OutputExistsError, ThermtoolError
from .folders import OutputError, describe_os_error, make_folder

#: Suffix of the temporary files outputs are staged in (`.NAME.XXXXXXXX.part`; hidden, so no reader takes them).
PART_SUFFIX = ".part"
_PART_NAME = re.compile(r"\.(.+)\.[a-z0-9_]{8}" + re.escape(PART_SUFFIX))


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


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _as_output_error(exc: BaseException, path: Path) -> BaseException:
    """OSErrors of our own writing become one-line OutputErrors; anything else passes unchanged."""
    if isinstance(exc, OSError) and not isinstance(exc, (FileExistsError, ThermtoolError)):
        return OutputError(describe_os_error(exc, path), exc.errno)
    return exc


@contextlib.contextmanager
def _staged(path: Path, make_parents: bool) -> Iterator[tuple[BinaryIO, Path]]:
    """A hidden temporary file `.NAME.XXXXXXXX.part` beside `path`, fsynced; removed if writing it fails."""
    try:
        if make_parents:
            make_folder(path.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise OutputError(describe_os_error(exc, path), exc.errno) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle, tmp
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
    except BaseException as exc:
        _discard(tmp)
        raise _as_output_error(exc, path) from exc


def _commit(tmp: Path, path: Path, force: bool) -> None:
    try:
        _publish(tmp, path, force)
    except BaseException as exc:
        _discard(tmp)
        raise _as_output_error(exc, path) from exc


@contextlib.contextmanager
def atomic_output(path: str | Path, *, force: bool = False, make_parents: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file; on success it appears at `path` complete, on any error nothing appears."""
    path = Path(path)
    check_writable(path, force=force)
    with _staged(path, make_parents) as (handle, tmp):
        yield handle
    _commit(tmp, path, force)
    _fsync_dir(path.parent)


def write_bytes(path: str | Path, payload: bytes, *, force: bool = False) -> Path:
    """Atomically write `payload` to `path`."""
    with atomic_output(path, force=force) as handle:
        handle.write(payload)
    return Path(path)


def write_with_companion(path: Path, payload: bytes, companion: Path, companion_payload: bytes, *,
                         force: bool = False) -> Path:
    """Write a data file and its companion (a sidecar): both are staged in full first, so a full disk
    leaves neither; then the data file is published, then the companion, which never appears alone."""
    check_writable(path, force=force)
    with _staged(path, True) as (handle, tmp):
        handle.write(payload)
    try:
        with _staged(companion, False) as (handle, companion_tmp):
            handle.write(companion_payload)
    except BaseException:
        _discard(tmp)
        raise
    try:
        _commit(tmp, path, force)
    except BaseException:
        _discard(companion_tmp)
        raise
    try:
        _commit(companion_tmp, companion, True)
    except BaseException:
        _discard(path)  # without its sidecar the data would read with the wrong units or time
        raise
    _fsync_dir(path.parent)
    return path


def remove_stale_parts(folder: Path, ours: Callable[[str], bool], before: float) -> list[Path]:
    """Delete our temporary files (`.NAME.XXXXXXXX.part`, `ours(NAME)` true) last changed before `before`.

    They are what a killed run leaves; nothing else in the folder is touched, nor is a symlink followed.
    """
    removed: list[Path] = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _PART_NAME.fullmatch(entry.name)
            if not match or not ours(match.group(1)) or not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime < before:
                _discard(Path(entry.path))
                removed.append(Path(entry.path))
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
