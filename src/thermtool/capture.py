"""Capturing frames into a folder: collision-free names, a manifest, one file per frame or chunked recordings.

Every file is written under a temporary name and renamed, so after a crash every file present is complete.
Per-frame metadata goes to the folder's JSON-lines manifest (`formats/manifest.py`), synced per policy.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from . import __version__
from .errors import EndOfStream, InputError, SensorError
from .fileio import OutputError, write_bytes
from .formats import DATA_FORMATS, FORMATS, SUFFIX
from .formats.manifest import FrameStore
from .formats.sidecar import dumps
from .frame import Frame
from .sensors.base import Sensor

MANIFEST = "capture.json"


def frame_name(timestamp: datetime, sequence: int, suffix: str) -> str:
    """A name that sorts by time and cannot collide within a capture: 20261122T003107.123456Z-000001.npy."""
    stamp = timestamp.astimezone(timezone.utc)
    return f"{stamp:%Y%m%dT%H%M%S}.{stamp.microsecond:06d}Z-{sequence:06d}{suffix}"


class FrameSink(Protocol):
    """Where captured frames go."""

    def write(self, frame: Frame) -> list[Path]: ...

    def close(self) -> list[Path]: ...


@dataclass
class FileSink:
    """One file per frame in `folder`, in format `fmt`, published through `store` (metadata and syncing).

    `options` go to the format's writer (e.g. renderer).
    """

    folder: Path
    fmt: str
    store: FrameStore
    options: dict[str, Any] = field(default_factory=dict)
    sequence: int = 0

    def write(self, frame: Frame) -> list[Path]:
        """Write `frame` under the next name."""
        self.sequence += 1
        path = self.folder / frame_name(frame.timestamp, self.sequence, SUFFIX[self.fmt])
        return [self._writer(frame, path, force=False, store=self.store, **self.options)]

    def __post_init__(self) -> None:
        self._writer = FORMATS.get(self.fmt).write

    def close(self) -> list[Path]:
        """Sync what the store's policy promises at exit; nothing else is buffered."""
        self.store.close()
        return []


@dataclass
class RecordingSink:
    """`.npz` recordings of up to `chunk` frames each: a crash loses at most the frames of one chunk."""

    folder: Path
    chunk: int = 100
    sequence: int = 0
    _pending: list[Frame] = field(default_factory=list)

    def write(self, frame: Frame) -> list[Path]:
        """Buffer `frame`; write a recording when the chunk is full (or shape/units change)."""
        written: list[Path] = []
        if self._pending and (frame.shape != self._pending[0].shape or frame.units != self._pending[0].units):
            written = self.close()
        self._pending.append(frame)
        if len(self._pending) >= self.chunk:
            written += self.close()
        return written

    def close(self) -> list[Path]:
        """Write the buffered frames, if any."""
        if not self._pending:
            return []
        self.sequence += 1
        from .formats.npz import write_recording  # zipfile and zlib load only for recordings

        path = self.folder / frame_name(self._pending[0].timestamp, self.sequence, ".npz")
        write_recording(self._pending, path)
        self._pending = []
        return [path]


def make_sink(folder: Path, fmt: str, chunk: int = 100, *, sync: str = "interval", sidecars: bool = False,
              **options: Any) -> FrameSink:
    """The sink for `fmt` (npz -> chunked recordings, others -> one file per frame).

    `sync` is the durability policy of per-frame files (see formats/manifest.py); `sidecars` puts each
    frame's metadata in its own sidecar rather than the folder's manifest (for captures that rotate files).
    """
    fmt = FORMATS.canonical(fmt)
    if fmt == "npz":
        return RecordingSink(folder, chunk)
    store = FrameStore(folder, sync, sidecars=sidecars)
    return FileSink(folder, fmt, store, options if fmt not in DATA_FORMATS else {})


def start_folder(folder: Path, manifest: dict[str, Any], *, force: bool = False) -> Path:
    """Create the capture folder and write its manifest; refuse a folder that already holds a capture."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder")
    path = folder / MANIFEST
    if path.exists() and not force:
        raise InputError(f"{folder}: already holds a capture ({MANIFEST}); choose a new folder or use --force")
    record = {"thermtool": __version__, "started": datetime.now(timezone.utc).isoformat(), **manifest}
    return write_bytes(path, dumps(record).encode(), force=force)


@dataclass
class Rotation:
    """Bounds a long capture: keep the newest `keep` frame files and/or at most `max_bytes` of them."""

    keep: int | None = None
    max_bytes: int | None = None
    _files: deque[tuple[list[Path], int]] = field(default_factory=deque)
    _bytes: int = 0
    deleted: int = 0

    def add(self, written: list[Path]) -> None:
        """Record the files of one write (a frame and its sidecar), then delete the oldest beyond the bounds."""
        group = written + [p.with_suffix(".json") for p in written if p.with_suffix(".json").exists()]
        size = sum(p.stat().st_size for p in group if p.exists())
        self._files.append((group, size))
        self._bytes += size
        while self._files and ((self.keep is not None and len(self._files) > self.keep)
                               or (self.max_bytes is not None and self._bytes > self.max_bytes
                                   and len(self._files) > 1)):
            old, old_size = self._files.popleft()
            for path in old:
                path.unlink(missing_ok=True)
            self._bytes -= old_size
            self.deleted += 1


@dataclass
class CaptureStats:
    """What a capture did."""

    frames: int = 0
    files: int = 0
    skipped: int = 0
    errors: int = 0
    elapsed: float = 0.0

    @property
    def fps(self) -> float:
        """Frames written per second of capture."""
        return self.frames / self.elapsed if self.elapsed > 0 else 0.0


def run_capture(sensor: Sensor, sink: FrameSink, *, count: int | None = None, duration: float | None = None,
                rate: float | None = None, max_errors: int = 5, rotation: Rotation | None = None,
                should_stop: Callable[[], bool] = lambda: False,
                on_frame: Callable[[CaptureStats], None] | None = None,
                clock: Callable[[], float] = time.monotonic) -> CaptureStats:
    """Read frames from an open `sensor` into `sink` until `count` frames, `duration` seconds or a stop.

    `rate` keeps at most that many frames per second (frames due more than a tenth of a period early are
    skipped), for sensors whose own rate is higher. A failed read is counted and retried; more than
    `max_errors` failures in a row raise the last one. The sink is closed (pending frames written) whatever
    ends the loop.
    """
    stats = CaptureStats()
    start = clock()
    period = 1.0 / rate if rate else 0.0
    due = start
    in_a_row = 0
    failed = True
    try:
        while not should_stop():
            if count is not None and stats.frames >= count:
                break
            if duration is not None and clock() - start >= duration:
                break
            try:
                frame = sensor.read()
                in_a_row = 0
            except EndOfStream:
                break
            except SensorError:
                stats.errors += 1
                in_a_row += 1
                if in_a_row > max_errors:
                    raise
                continue
            now = clock()
            if now < due - 0.1 * period:
                stats.skipped += 1
                continue
            due = max(due, now) + period
            written = sink.write(frame)
            if rotation is not None and written:
                rotation.add(written)
            stats.files += len(written)
            stats.frames += 1
            stats.elapsed = clock() - start
            if on_frame:
                on_frame(stats)
        failed = False
    finally:
        try:
            closing = sink.close()
            if rotation is not None and closing:
                rotation.add(closing)
            stats.files += len(closing)
        except OutputError:
            if not failed:
                raise  # otherwise the error already on its way (e.g. disk full) is the one to report
        stats.elapsed = clock() - start
    return stats
