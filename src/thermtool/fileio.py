"""Crash-safe file output: write to a temporary name in the same folder, fsync, then publish atomically."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import InputError, OutputExistsError, ThermtoolError


class OutputError(ThermtoolError):
    """An output could not be written (disk full, permission, read-only file system)."""

    exit_code = 1


def describe_error(exc: OSError, path: Path) -> str:
    """One line saying why writing `path` failed (disk full, permission, read-only), for an OutputError."""
    if exc.errno == errno.ENOSPC:
        return f"{path}: no space left on device"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: cannot write here ({exc.strerror})"
    return f"{path}: {exc.strerror or exc}"


def check_writable(path: Path, *, force: bool = False) -> None:
    """Fail early (InputError) when `path` exists without force, is a folder, or its parent is not a folder."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file name")
    if path.exists() and not force:
        raise OutputExistsError(f"{path}: exists; use --force to overwrite")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise InputError(f"{parent}: is not a folder")


def _publish(tmp: str | Path, path: Path, force: bool) -> None:
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


@functools.lru_cache(maxsize=1)
def _libc_syncfs() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).syncfs  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not Linux/glibc
        return None


def sync_filesystem(folder: Path) -> bool:
    """Commit everything written to `folder`'s file system with one syncfs(2) (Linux); False where missing.

    One call instead of an fsync per file: how a capture makes a second's worth of frames durable at once.
    """
    syncfs = _libc_syncfs()
    if syncfs is None:
        return False
    fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if syncfs(fd) != 0:
            import ctypes

            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
    finally:
        os.close(fd)
    return True


def fsync_folder(folder: Path) -> None:
    """Make the names created in `folder` durable (best effort: some file systems refuse)."""
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
            path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise OutputError(describe_error(exc, path)) from exc
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
            raise OutputError(describe_error(exc, path)) from exc
        raise
    fsync_folder(path.parent)


#: How publish_bytes opens its temporary file (a symlink planted under that name is refused).
_PUBLISH_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


def publish_bytes(path: Path, payload: bytes, *, force: bool = False, fsync: bool = True) -> None:
    """Atomically publish `payload` at `path` in few system calls.

    For a writer that owns `path`'s name (a capture's sequence-numbered frame): the temporary file is named
    after `path` rather than made unique, and the folder is not synced, so a frame costs one create, one
    write, one close and the publish. With `fsync` the data reaches the disk before the name appears.
    """
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.part")
    try:
        fd = os.open(tmp, _PUBLISH_FLAGS, 0o666)
    except OSError as exc:
        raise OutputError(describe_error(exc, path)) from exc
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        if fsync:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        _publish(tmp, path, force)
    except BaseException as exc:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, (FileExistsError, ThermtoolError)):
            raise OutputError(describe_error(exc, path)) from exc
        raise


def write_bytes(path: str | Path, payload: bytes, *, force: bool = False) -> Path:
    """Atomically write `payload` to `path`."""
    with atomic_output(path, force=force) as handle:
        handle.write(payload)
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
