"""Retention: delete the oldest files that thermtool itself wrote, matched by the naming it used."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Collection, Iterable
from datetime import datetime, timezone
from pathlib import Path

from .errors import InputError
from .folders import OutputError, open_folder

#: Regular expressions for the strftime fields a snapshot template may use.
_FIELDS = {
    "Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{2}", "d": r"\d{2}", "H": r"\d{2}", "M": r"\d{2}", "S": r"\d{2}",
    "f": r"\d{6}", "j": r"\d{3}", "I": r"\d{2}", "p": r"[AP]M", "z": r"[+-]\d{4}", "s": r"\d+",
    "b": r"[A-Za-z]{3}", "a": r"[A-Za-z]{3}", "Z": r"[A-Za-z]*", "U": r"\d{2}", "W": r"\d{2}", "u": r"\d",
    "w": r"\d", "V": r"\d{2}", "G": r"\d{4}", "%": "%",
}


def template_pattern(name_template: str) -> re.Pattern[str]:
    """A regex matching file names made from a strftime template, with the optional `-N` collision suffix."""
    stem, dot, suffix = name_template.rpartition(".")
    if not dot:
        stem, suffix = name_template, ""
    parts: list[str] = []
    i = 0
    while i < len(stem):
        if stem[i] == "%" and i + 1 < len(stem):
            code = stem[i + 1]
            if code not in _FIELDS:
                raise InputError(f"unsupported strftime field %{code} in {name_template!r}")
            parts.append(_FIELDS[code])
            i += 2
        else:
            parts.append(re.escape(stem[i]))
            i += 1
    tail = re.escape("." + suffix) if suffix else ""
    return re.compile("".join(parts) + r"(?:-(?P<collision>\d+))?" + tail)


def parse_age(text: str) -> float:
    """'30d', '12h', '45m', '90s' or plain seconds -> seconds; InputError otherwise."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"malformed age {text!r}; expected e.g. 30d, 12h, 45m")
    return float(match.group(1)) * units[match.group(2) or "s"]


def parse_size(text: str) -> int:
    """'500M', '2G', '750k' or plain bytes -> bytes (powers of 1024); InputError otherwise."""
    units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"malformed size {text!r}; expected e.g. 500M, 2G")
    return int(float(match.group(1)) * units[match.group(2)])


def _has_full_date(name_template: str) -> bool:
    """True when names made from the template carry a whole date (not just a time of day)."""
    def has(*codes: str) -> bool:
        return any(f"%{code}" in name_template for code in codes)

    return has("s") or (has("Y", "y", "G") and (has("j") or (has("m", "b") and has("d"))))


def name_time(name: str, name_template: str, utc: bool) -> float | None:
    """Epoch seconds a file name made from `name_template` records (local time unless utc), None if unreadable.

    `name` is without its collision suffix. File names, unlike modification times, cannot be moved to the
    future by a clock jump or `touch`.
    """
    try:
        stamp = datetime.strptime(name, name_template)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc) if utc else stamp.astimezone()
    try:
        return stamp.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def select_expired(files: Iterable[tuple[Path, float, int]], keep: int | None, max_age: float | None,
                   now: float, protected: Collection[Path] = ()) -> list[Path]:
    """Of (path, time, collision number) triples, those to delete: beyond the newest `keep`, or older than
    `max_age` seconds. `protected` paths (what this run wrote) are never selected, though they count
    towards `keep`; within one time, `-2` is newer than `-1`.
    """
    newest_first = sorted(files, key=lambda item: (item[1], item[2], item[0].name), reverse=True)
    doomed: list[Path] = []
    for rank, (path, when, _) in enumerate(newest_first):
        if path in protected:
            continue
        if (keep is not None and rank >= keep) or (max_age is not None and now - when > max_age):
            doomed.append(path)
    return doomed


def prune(folder: Path, name_template: str, keep: int | None, max_age: float | None, now: float, *,
          utc: bool = False, protected: Collection[Path] = ()) -> list[Path]:
    """Delete files in `folder` whose names `name_template` makes and that retention expires.

    Files are ordered and aged by the time in their names when the names hold a whole date; otherwise by
    modification time, a future one counting as now. Nothing in `protected` (what this run wrote) is
    deleted. A data file's JSON sidecar goes with it. Returns the deleted data files.
    """
    pattern = template_pattern(name_template)
    dated = _has_full_date(name_template)
    with contextlib.ExitStack() as stack:
        try:
            fd = stack.enter_context(open_folder(folder, create=False))
        except OutputError:
            return []  # no folder, nothing to prune
        files: list[tuple[Path, float, int]] = []
        for entry in stack.enter_context(os.scandir(fd)):
            match = pattern.fullmatch(entry.name)
            if not match or not entry.is_file(follow_symlinks=False):
                continue
            start, end = match.span("collision")
            core = entry.name if start < 0 else entry.name[:start - 1] + entry.name[end:]
            when = name_time(core, name_template, utc) if dated else None
            if when is None:
                when = min(entry.stat(follow_symlinks=False).st_mtime, now)
            files.append((folder / entry.name, when, int(match.group("collision") or 0)))
        doomed = select_expired(files, keep, max_age, now, protected)
        for path in doomed:
            _unlink(fd, path.name)
            sidecar = path.with_suffix(".json").name
            if sidecar != path.name and not pattern.fullmatch(sidecar):
                _unlink(fd, sidecar)
    return doomed


def _unlink(folder: int, name: str) -> None:
    """Remove `name` from `folder` if it is a plain file (a link there is not ours to delete)."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode):
            os.unlink(name, dir_fd=folder)
