"""A capture folder's per-frame metadata: one JSON line per frame in `frames.jsonl`, and the sync policy.

A capture writes one data file per frame and appends the frame's record (the sidecar's fields plus
`file`, the data file's name) to the folder's manifest, instead of a sidecar per frame: one file created
per frame, not two. The line is appended before the data file is published, so after a crash every data
file has its line; a line whose file is missing (or a torn last line after a power cut) is ignored.
Readers look up a data file's record here when it has no sidecar, so old sidecar folders read as before.

Durability (`--sync`): `frame` fsyncs each file, the manifest and the folder before the next frame;
`interval` (default) does that for everything written at most once a second and at exit; `never`
leaves it to the operating system. Process crashes (SIGKILL) lose nothing published under any policy.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..fileio import fsync_folder, publish_bytes, sync_filesystem
from ..folders import OutputError, describe_os_error
from .sidecar import dumps, frame_record, jsonable, sidecar_path

MANIFEST_NAME = "frames.jsonl"
SYNC_POLICIES = ("frame", "interval", "never")
#: Longest time (seconds) the `interval` policy leaves written frames unsynced.
SYNC_INTERVAL = 1.0


def manifest_line(frame: Any, name: str, **extra: Any) -> bytes:
    """One compact JSON line: the frame's sidecar record plus `file`.

    Plain records serialise directly (numpy scalars and the like through `default`); only one holding a
    non-finite float or a non-string key takes the slower walk through `jsonable`.
    """
    record = frame_record(frame, file=name, **extra)
    try:
        text = json.dumps(record, sort_keys=True, allow_nan=False, separators=(",", ":"), default=jsonable)
    except (ValueError, TypeError):
        text = json.dumps(jsonable(record), sort_keys=True, allow_nan=False, separators=(",", ":"))
    return (text + "\n").encode()


def parse_manifest(text: str) -> dict[str, dict[str, Any]]:
    """File name -> record from a manifest's text; lines that are not a complete record are skipped."""
    records: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line after a power cut, or foreign text
        if isinstance(record, dict) and isinstance(record.get("file"), str) and "units" in record:
            records[record["file"]] = record
    return records


@lru_cache(maxsize=4)
def _read_manifest(path: Path, size: int, mtime_ns: int) -> dict[str, dict[str, Any]]:
    """The parsed manifest, cached while its size and time stay the same."""
    try:
        return parse_manifest(path.read_bytes().decode("utf-8", errors="replace"))
    except OSError:
        return {}


def manifest_record(path: Path) -> dict[str, Any] | None:
    """The manifest record of data file `path` (from `frames.jsonl` beside it), None when there is none."""
    manifest = path.parent / MANIFEST_NAME
    try:
        info = manifest.stat()
    except OSError:
        return None
    return _read_manifest(manifest, info.st_size, info.st_mtime_ns).get(path.name)


class FrameStore:
    """Publishes a capture's frame files into one folder with their metadata, durable per a sync policy.

    Metadata goes to the folder's manifest, or to a sidecar per frame with `sidecars` (for captures that
    delete old frames, whose manifest would otherwise grow without end). Format writers call `publish`.
    Everything happens relative to one descriptor of the folder, opened on the first frame.
    """

    def __init__(self, folder: Path, sync: str = "interval", *, sidecars: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if sync not in SYNC_POLICIES:
            raise ValueError(f"sync policy must be one of {SYNC_POLICIES}, got {sync!r}")
        self.folder, self.sync, self.sidecars, self._clock = folder, sync, sidecars, clock
        self._dir: int | None = None  # the folder, opened on the first frame, again after close()
        self._manifest: int | None = None
        self._unsynced: list[str] = []  # names written since the last sync
        self._last_sync = clock()

    def _folder(self) -> int:
        if self._dir is None:
            try:
                self._dir = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError as exc:
                raise OutputError(describe_os_error(exc, self.folder), exc.errno) from exc
        return self._dir

    def publish(self, frame: Any, path: Path, payload: bytes, *, force: bool = False, **extra: Any) -> Path:
        """Record `frame`'s metadata, then publish `payload` at `path` atomically; sync as the policy says."""
        per_frame = self.sync == "frame"
        folder = self._folder()
        if not self.sidecars:
            try:
                if self._manifest is None:
                    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
                    self._manifest = os.open(MANIFEST_NAME, flags, 0o666, dir_fd=folder)
                os.write(self._manifest, manifest_line(frame, path.name, **extra))  # O_APPEND: one whole line
                if per_frame:
                    os.fsync(self._manifest)
            except OSError as exc:
                raise OutputError(describe_os_error(exc, self.folder / MANIFEST_NAME), exc.errno) from exc
        publish_bytes(folder, path, payload, force=force, fsync=per_frame)
        self._written(path.name)
        if self.sidecars:  # after the data file, as for single files: a sidecar never stands alone
            side = sidecar_path(path)
            publish_bytes(folder, side, dumps(frame_record(frame, **extra)).encode(), force=True, fsync=per_frame)
            self._written(side.name)
        if per_frame:
            fsync_folder(folder)
        elif self.sync == "interval" and self._clock() - self._last_sync >= SYNC_INTERVAL:
            self.flush()
        return path

    def _written(self, name: str) -> None:
        if self.sync == "interval":
            self._unsynced.append(name)

    def flush(self) -> None:
        """Make everything written so far durable: file data, the manifest, the folder's new names.

        One syncfs(2) where the system has it; otherwise each file is reopened by name and synced (so no
        descriptor stays open between frames; a file deleted meanwhile, rotated out, needs no sync).
        """
        pending, self._unsynced = self._unsynced, []
        if self._dir is None:
            return
        folder = self._dir
        try:
            if sync_filesystem(folder):
                self._last_sync = self._clock()
                return
            for name in pending:
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW, dir_fd=folder)
                except FileNotFoundError:
                    continue
                try:
                    os.fdatasync(fd)
                finally:
                    os.close(fd)
            if self._manifest is not None:
                os.fsync(self._manifest)
        except OSError as exc:
            raise OutputError(describe_os_error(exc, self.folder), exc.errno) from exc
        fsync_folder(folder)
        self._last_sync = self._clock()

    def close(self) -> None:
        """Sync what the policy promises (everything, unless `never`) and close the manifest and the folder."""
        try:
            if self.sync != "never":
                self.flush()
        finally:
            for fd in (self._manifest, self._dir):
                if fd is not None:
                    os.close(fd)
            self._manifest = self._dir = None

