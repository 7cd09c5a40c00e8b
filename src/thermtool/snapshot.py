"""One-shot snapshots for cron and timers: retries, collision-free names, a `latest` link, retention."""

from __future__ import annotations

import errno
import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import InputError, OutputExistsError, SensorError
from .fileio import remove_stale_parts, write_bytes
from .folders import OutputError, describe_os_error, open_folder
from .formats import save_frame
from .frame import Frame
from .retention import prune, template_pattern
from .sensors.base import Sensor

#: Most collision suffixes tried before giving up (-1 .. -999).
MAX_SUFFIX = 999
#: Age beyond which a run without --timeout takes a temporary `.part` file of its own naming as a killed run's.
STALE_PART_AGE = 3600.0


def expand_template(template: str, when: datetime, utc: bool = False) -> Path:
    """Fill strftime fields (%Y%m%d-%H%M%S) of `template` from `when` (local time unless utc)."""
    stamp = when if utc else when.astimezone()
    return Path(stamp.strftime(template)).expanduser()


def candidates(path: Path) -> list[Path]:
    """`path`, then `stem-1.ext`, `stem-2.ext`, ...: the names tried so no snapshot overwrites another."""
    return [path] + [path.with_name(f"{path.stem}-{i}{path.suffix}") for i in range(1, MAX_SUFFIX + 1)]


def save_unique(frame: Frame, path: Path, fmt: str | None, **options: Any) -> Path:
    """Save `frame` at `path`, or at the first free collision-suffixed name; never overwrites."""
    for candidate in candidates(path):
        try:
            return save_frame(frame, candidate, fmt, **options)
        except OutputExistsError:
            continue
    raise InputError(f"{path}: {MAX_SUFFIX} snapshots with this name already exist")


def read_with_retries(sensor: Sensor, retries: int, backoff: float = 1.0,
                      sleep: Callable[[float], None] = time.sleep) -> tuple[Frame, int]:
    """(frame, attempts used): open the sensor and read one frame; a failure closes it and tries again."""
    for attempt in range(retries + 1):
        try:
            with sensor:
                return sensor.read(), attempt + 1
        except SensorError:
            if attempt == retries:
                raise
            sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def point_latest(link: Path, target: Path) -> Path:
    """Make `link` show `target`, replaced atomically: a relative symlink, or a copy where links fail."""
    if link.is_dir() and not link.is_symlink():
        raise InputError(f"{link}: is a folder, expected the name of a link")
    relative = os.path.relpath(target.resolve(), link.parent.resolve())
    tmp = f".{link.name}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        with open_folder(link.parent) as folder:
            try:
                os.symlink(relative, tmp, dir_fd=folder)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                write_bytes(link, target.read_bytes(), force=True)  # no symlinks here (FAT): a copy
                return link
            try:
                os.replace(tmp, link.name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                os.unlink(tmp, dir_fd=folder)
                raise
    except OSError as exc:
        raise OutputError(describe_os_error(exc, link), exc.errno) from None
    return link


def apply_retention(template: str, saved: Path, keep: int | None, max_age: float | None, now: float, *,
                    utc: bool = False) -> list[Path]:
    """Prune the folder of `saved`: only names made from the template's file-name part, newest `keep` kept.

    `saved` (this run's file, or the one it is about to write) and its sidecar are never deleted.
    """
    if keep is None and max_age is None:
        return []
    return prune(saved.parent, Path(template).name, keep, max_age, now, utc=utc,
                 protected={saved, saved.with_suffix(".json")})


def remove_stale_parts_of(template: str, folder: Path, before: float) -> list[Path]:
    """Delete temporary files that killed runs of this template left in `folder` (changed before `before`)."""
    name = Path(template).name
    patterns = (template_pattern(name), template_pattern(Path(name).stem + ".json"))  # data files, sidecars
    return remove_stale_parts(folder, lambda part: any(p.fullmatch(part) for p in patterns), before)


def save_snapshot(frame: Frame, template: str, fmt: str | None, *, utc: bool = False, force: bool = False,
                  keep: int | None = None, max_age: float | None = None, **options: Any) -> tuple[Path, list[Path]]:
    """(path, deleted): save `frame` under `template`, then apply retention, never to the new file.

    On a full disk, retention runs first (keeping `keep` - 1, room for the new one) and the save is tried
    once more, so a full disk does not stay full.
    """
    target = expand_template(template, frame.timestamp, utc)

    def save() -> Path:
        if force:
            return save_frame(frame, target, fmt, force=True, **options)
        return save_unique(frame, target, fmt, **options)

    made_room: list[Path] = []
    try:
        path = save()
    except OutputError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        made_room = apply_retention(template, target, keep - 1 if keep else None, max_age, time.time(), utc=utc)
        if not made_room:
            raise
        path = save()
    return path, made_room + apply_retention(template, path, keep, max_age, time.time(), utc=utc)
