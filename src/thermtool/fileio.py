"""Crash-safe file output: write to a temporary name in the same folder, fsync, then publish atomically."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import InputError, OutputExistsError, ThermtoolError
from .folders import OutputError, describe_os_error, open_folder

#: Suffix of the temporary files outputs are staged in (`.NAME.XXXXXXXX.part`; hidden, so no reader takes them).
PART_SUFFIX = ".part"
_PART_NAME = re.compile(r"\.(.+)\.[a-z0-9_]{8}" + re.escape(PART_SUFFIX))


def read_regular_file(path: Path) -> bytes:
    """The bytes of `path`; OSError unless it is a regular file (a FIFO or device would block or never end)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # opening a FIFO must not wait for a writer
    with open(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file: a FIFO, socket or device")
        return handle.read()


def check_writable(path: Path, *, force: bool = False) -> None:
    """Fail early (InputError) when `path` exists without force, is a folder, or its parent is not a folder."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file name")
    if path.exists() and not force:
        raise OutputExistsError(f"{path}: exists; use --force to overwrite")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise InputError(f"{parent}: is not a folder")


def _publish(folder: int, tmp: str, path: Path, force: bool) -> None:
    """Move `tmp` to `path` (both in `folder`); without force refuse to replace an existing file, even one
    created meanwhile."""
    name = path.name
    if force:
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
        return
    try:
        os.link(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)  # atomic, fails if `path` exists
    except FileExistsError:
        raise OutputExistsError(f"{path}: exists; use --force to overwrite") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        # File systems without hard links (FAT on a USB stick): check, then rename.
        if _exists(folder, name):
            raise OutputExistsError(f"{path}: exists; use --force to overwrite") from None
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
        return
    os.unlink(tmp, dir_fd=folder)


def _exists(folder: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _discard(folder: int, name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=folder)


def _as_output_error(exc: BaseException, path: Path) -> BaseException:
    """OSErrors of our own writing become one-line OutputErrors; anything else passes unchanged."""
    if isinstance(exc, OSError) and not isinstance(exc, (FileExistsError, ThermtoolError)):
        return OutputError(describe_os_error(exc, path), exc.errno)
    return exc


def _create_temp(folder: int, name: str) -> tuple[int, str]:
    """A new hidden `.NAME.XXXXXXXX.part` in `folder`, created with O_EXCL (so never through a link)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = f".{name}.{secrets.token_hex(4)}{PART_SUFFIX}"
        try:
            return os.open(tmp, flags, 0o600, dir_fd=folder), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name")


@contextlib.contextmanager
def _staged(folder: int, path: Path) -> Iterator[tuple[BinaryIO, str]]:
    """A hidden temporary file beside `path` in `folder`, fsynced; removed if writing it fails."""
    try:
        fd, tmp = _create_temp(folder, path.name)
    except OSError as exc:
        raise OutputError(describe_os_error(exc, path), exc.errno) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle, tmp
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
    except BaseException as exc:
        _discard(folder, tmp)
        raise _as_output_error(exc, path) from exc


def _commit(folder: int, tmp: str, path: Path, force: bool) -> None:
    try:
        _publish(folder, tmp, path, force)
    except BaseException as exc:
        _discard(folder, tmp)
        raise _as_output_error(exc, path) from exc


@contextlib.contextmanager
def atomic_output(path: str | Path, *, force: bool = False, make_parents: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file; on success it appears at `path` complete, on any error nothing appears.

    Everything happens relative to one descriptor of the folder (the checked one, inside
    folders.checked_strftime_folder), so the file lands in the folder that was opened.
    """
    path = Path(path)
    check_writable(path, force=force)
    with open_folder(path.parent, create=make_parents) as folder:
        with _staged(folder, path) as (handle, tmp):
            yield handle
        _commit(folder, tmp, path, force)
        fsync_folder(folder)


#: How publish_bytes creates its temporary file: new (never through a planted link), not inherited.
_PUBLISH_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def publish_bytes(folder: int, path: Path, payload: bytes, *, force: bool = False, fsync: bool = True) -> None:
    """Atomically publish `payload` at `path` (a name in the open folder `folder`) in few system calls.

    For a writer that owns `path`'s name (a capture's sequence-numbered frame): the temporary name is made
    from the process id rather than drawn at random, and the folder is not synced, so a frame costs one
    create, one write, one close and the publish. With `fsync` the data reaches the disk before the name.
    """
    tmp = f".{path.name}.{os.getpid() % 100_000_000:08d}{PART_SUFFIX}"
    try:
        try:
            fd = os.open(tmp, _PUBLISH_FLAGS, 0o666, dir_fd=folder)
        except FileExistsError:  # left by a killed run of the same pid: remove the name, never write through it
            _discard(folder, tmp)
            fd = os.open(tmp, _PUBLISH_FLAGS, 0o666, dir_fd=folder)
    except OSError as exc:
        raise OutputError(describe_os_error(exc, path), exc.errno) from exc
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as exc:
        _discard(folder, tmp)
        raise _as_output_error(exc, path) from exc
    _commit(folder, tmp, path, force)


def write_bytes(path: str | Path, payload: bytes, *, force: bool = False) -> Path:
    """Atomically write `payload` to `path`."""
    with atomic_output(path, force=force) as handle:
        handle.write(payload)
    return Path(path)


def write_with_companion(path: Path, payload: bytes, companion: Path, companion_payload: bytes, *,
                         force: bool = False) -> Path:
    """Write a data file and its companion (a sidecar) in one folder: both are staged in full first, so a
    full disk leaves neither; then the data file is published, then the companion, which never appears alone."""
    check_writable(path, force=force)
    with open_folder(path.parent) as folder:
        with _staged(folder, path) as (handle, tmp):
            handle.write(payload)
        try:
            with _staged(folder, companion) as (handle, companion_tmp):
                handle.write(companion_payload)
        except BaseException:
            _discard(folder, tmp)
            raise
        try:
            _commit(folder, tmp, path, force)
        except BaseException:
            _discard(folder, companion_tmp)
            raise
        try:
            _commit(folder, companion_tmp, companion, True)
        except BaseException:
            _discard(folder, path.name)  # without its sidecar the data would read with the wrong units or time
            raise
        fsync_folder(folder)
    return path


def remove_stale_parts(folder: Path, ours: Callable[[str], bool], before: float) -> list[Path]:
    """Delete our temporary files (`.NAME.XXXXXXXX.part`, `ours(NAME)` true) last changed before `before`.

    They are what a killed run leaves; nothing else in the folder is touched, nor is a symlink followed.
    """
    removed: list[Path] = []
    with open_folder(folder, create=False) as fd, os.scandir(fd) as entries:
        for entry in entries:
            match = _PART_NAME.fullmatch(entry.name)
            if not match or not ours(match.group(1)) or not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime < before:
                _discard(fd, entry.name)
                removed.append(folder / entry.name)
    return removed


def fsync_folder(folder: int) -> None:
    """Make the names created in the open folder `folder` durable (best effort: some file systems refuse)."""
    with contextlib.suppress(OSError):
        os.fsync(folder)


@functools.lru_cache(maxsize=1)
def _libc_syncfs() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).syncfs  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not Linux/glibc
        return None


def sync_filesystem(folder: int) -> bool:
    """Commit everything written to the open folder's file system with one syncfs(2) (Linux); False where
    missing. One call instead of an fsync per file: how a capture makes a second's worth of frames durable."""
    syncfs = _libc_syncfs()
    if syncfs is None:
        return False
    if syncfs(folder) != 0:
        import ctypes

        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
