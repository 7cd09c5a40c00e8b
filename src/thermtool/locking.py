"""An exclusive, non-blocking lock file (fcntl.flock) so overlapping cron runs do not pile up."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, ThermtoolError
from .folders import OutputError, UnsafePathError, describe_os_error, open_folder

#: Exit code of a run that found the lock taken (sysexits' EX_TEMPFAIL: "try again later").
EXIT_LOCKED = 75


class LockedError(ThermtoolError):
    """Another run holds the lock."""

    exit_code = EXIT_LOCKED


def open_lock_file(path: Path) -> int:
    """Open (or create) the lock file without following a symlink; refuse anything but a plain file.

    Run as root in a folder others can write, a planted symlink or hard link would otherwise make root
    create or truncate the file it points at; a FIFO would block the open.
    """
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        with open_folder(path.parent) as folder:
            try:
                fd = os.open(path.name, flags | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=folder)
            except FileExistsError:
                fd = os.open(path.name, flags, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(f"{path}: the lock file is a symlink; refusing to follow it "
                                  "(remove it, or give --lock a plain file)") from None
        if exc.errno == errno.EISDIR:
            raise InputError(f"{path}: is a folder, expected a lock file name") from None
        raise OutputError(describe_os_error(exc, path), exc.errno) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        what = "has other hard links" if stat.S_ISREG(info.st_mode) else "is not a regular file"
        raise UnsafePathError(f"{path}: the lock file {what}; refusing to use it (remove it)")
    return fd


@contextlib.contextmanager
def exclusive_lock(path: Path, wait: float = 0.0) -> Iterator[Path]:
    """Hold an flock on `path` (created if missing); LockedError at once (or after `wait` s) if it is taken.

    The lock dies with the process, so a killed run never leaves a stale lock behind.
    """
    import time

    fd = open_lock_file(path)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockedError(f"another thermtool run holds {path}; this run exits without "
                                      "doing anything (use --lock-wait S to wait)") from None
                time.sleep(0.05)
        with contextlib.suppress(OSError):  # the PID is for people; a full disk must not stop the run
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)
