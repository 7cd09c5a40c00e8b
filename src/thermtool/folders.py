"""Output folders entered without following symlinks, for runs as root in folders other users can write.

A folder thermtool creates, and every strftime folder of a snapshot template (today's, or a later day's
planted in advance), is opened one level at a time relative to its parent with O_NOFOLLOW: a symlink, a
file, or a folder owned by a third user is refused with one line (exit 2) instead of being written through.
A checked folder stays open while a run writes in it, and writers work relative to that descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from .errors import InputError, ThermtoolError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePathError(InputError):
    """A path that a run would have to follow through a symlink, or a folder of an unexpected owner."""


class OutputError(ThermtoolError):
    """An output could not be written (disk full, permission, read-only file system)."""

    exit_code = 1

    def __init__(self, message: str, os_errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = os_errno


def describe_os_error(exc: OSError, path: Path) -> str:
    """One line for an OSError met while writing at `path`: disk full, cannot write here, or the reason."""
    if exc.errno == errno.ENOSPC:
        return f"{path}: no space left on device"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: cannot write here ({exc.strerror})"
    return f"{path}: {exc.strerror or exc}"


def _is_link(parent_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _enter(parent_fd: int, name: str, path: Path, parent_owner: int) -> int:
    """Open folder `name` under `parent_fd` without following a symlink; check it is ours or its parent's."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.ENOTDIR and _is_link(parent_fd, name)):
            raise UnsafePathError(f"{path}: is a symlink; refusing to write through it "
                                  "(remove it, or point the output at a real folder)") from None
        if exc.errno == errno.ENOTDIR:
            raise InputError(f"{path}: is not a folder") from None
        raise OutputError(describe_os_error(exc, path), exc.errno) from None
    owner = os.fstat(fd).st_uid
    if owner not in (os.geteuid(), parent_owner):
        os.close(fd)
        raise UnsafePathError(f"{path}: owned by uid {owner}, neither this user nor the owner of the folder "
                              "holding it; refusing to write into it")
    return fd


def _walk(base: Path, parts: list[str]) -> int:
    """An open descriptor of base/parts[0]/parts[1]/..., created below the existing folder `base` and
    entered one level at a time, never following a symlink."""
    try:
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise InputError(f"{base}: is not a folder") from None
        raise OutputError(describe_os_error(exc, base), exc.errno) from None
    path = base
    try:
        for name in parts:
            path = path / name
            try:
                os.mkdir(name, 0o777, dir_fd=fd)
            except FileExistsError:
                pass
            except OSError as exc:
                raise OutputError(describe_os_error(exc, path), exc.errno) from None
            child = _enter(fd, name, path, os.fstat(fd).st_uid)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _absolute(folder: Path) -> Path:
    return Path(os.path.abspath(folder))


def _open_made(folder: Path) -> int:
    """An open descriptor of `folder`, created with missing parents (the levels created entered no-follow)."""
    folder = _absolute(folder)
    missing: list[str] = []
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        missing.insert(0, existing.name)
        existing = existing.parent
    return _walk(existing, missing)


def make_folder(folder: Path) -> Path:
    """Create `folder` (and missing parents); the levels created here are entered without following symlinks.

    Existing levels are the user's choice and may be symlinks; a level that appears as a symlink while
    we create it (a planted one) is refused.
    """
    os.close(_open_made(folder))
    return _absolute(folder)


#: Folders checked by `checked_strftime_folder` and held open while its block runs: absolute path -> descriptor.
_HELD: ContextVar[Mapping[Path, int]] = ContextVar("thermtool_held_folders", default=MappingProxyType({}))


@contextlib.contextmanager
def open_folder(folder: Path, create: bool = True) -> Iterator[int]:
    """A descriptor of `folder` for writing in it with dir_fd: the one a checked folder is held by, else
    a fresh one (creating the folder like make_folder when `create`)."""
    held = _HELD.get().get(_absolute(folder))
    if held is not None:
        yield held
        return
    if create:
        fd = _open_made(folder)
    else:
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise OutputError(describe_os_error(exc, folder), exc.errno) from None
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def checked_strftime_folder(template: str, when: datetime, utc: bool = False) -> Iterator[Path]:
    """The folder of `template` filled from `when`, every level from the first strftime field on checked,
    and held open while the block runs: writes into it go through the checked folder itself, so swapping
    it for a symlink after the check changes nothing.

    Those levels change over time, so anyone able to write above them could plant one (a later day's) as a
    symlink or as their own folder: each must be a real folder owned by this user or by the owner of the
    folder holding it. Levels above are created like make_folder does.
    """
    stamp = when if utc else when.astimezone()
    levels = Path(template).expanduser().parent.parts
    first = next((i for i, level in enumerate(levels) if "%" in level), len(levels))
    base = make_folder(Path(*levels[:first]) if first else Path("."))
    parts = [stamp.strftime(level) for level in levels[first:]]
    folder = _absolute(base.joinpath(*parts))
    fd = _walk(base, parts)
    token = _HELD.set({**_HELD.get(), folder: fd})
    try:
        yield folder
    finally:
        _HELD.reset(token)
        os.close(fd)
