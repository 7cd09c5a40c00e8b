"""Snapshots from a live view: the picture as shown (PNG) and the temperatures (.npy + sidecar), never overwriting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from pathlib import Path

import numpy as np

from ..errors import OutputExistsError, ThermtoolError
from ..formats import save_frame
from ..frame import Frame, as_utc

#: Attempts at a free name before giving up (a name repeats only for frames with the same timestamp).
MAX_ATTEMPTS = 1000


def snapshot_stem(frame: Frame, attempt: int = 0) -> str:
    """The file stem for a snapshot of `frame`: thermtool-20260102T030405.678901Z, then -2, -3 on collisions."""
    stamp = as_utc(frame.timestamp).astimezone(timezone.utc)
    stem = f"thermtool-{stamp:%Y%m%dT%H%M%S}.{stamp.microsecond:06d}Z"
    return stem if attempt == 0 else f"{stem}-{attempt + 1}"


def save_snapshot(frame: Frame, picture: np.ndarray, folder: str | Path) -> list[Path]:
    """Write `picture` (RGB as shown) as PNG and `frame` as .npy with its sidecar under a fresh name in `folder`."""
    folder = Path(folder)
    for attempt in range(MAX_ATTEMPTS):
        stem = snapshot_stem(frame, attempt)
        if any(folder.glob(f"{stem}.*")):
            continue
        try:
            png = save_frame(frame, folder / f"{stem}.png", "png", renderer=lambda _frame: picture)
        except OutputExistsError:  # created meanwhile by another process: take the next name
            continue
        return [png, save_frame(frame, folder / f"{stem}.npy", "npy")]
    raise OutputExistsError(f"{folder}: no free snapshot name for {snapshot_stem(frame)} after {MAX_ATTEMPTS} tries")


class SnapshotQuotaError(ThermtoolError):
    """A live view's snapshot quota is used up."""


@dataclass
class SnapshotQuota:
    """Most snapshots, and bytes of snapshot files, one server run may save (so no client can fill the disk).

    A snapshot counts once (its PNG, .npy and sidecar together); `max_count`/`max_bytes` None means no limit.
    """

    max_count: int | None = 1000
    max_bytes: int | None = 512 * 1024 * 1024
    count: int = 0
    bytes: int = 0

    def reserve(self) -> None:
        """Claim one snapshot before saving it; SnapshotQuotaError when the count or bytes are used up."""
        if self.max_count is not None and self.count >= self.max_count:
            raise SnapshotQuotaError(f"snapshot quota reached: {self.count} of {self.max_count} snapshots saved")
        if self.max_bytes is not None and self.bytes >= self.max_bytes:
            raise SnapshotQuotaError(f"snapshot quota reached: {self.bytes} of {self.max_bytes} bytes saved")
        self.count += 1

    def release(self) -> None:
        """Give back a claim whose snapshot was not saved."""
        self.count -= 1

    def add(self, paths: list[Path]) -> None:
        """Count the bytes of a saved snapshot's files (its sidecars included)."""
        for part in {file for path in paths for file in (path, path.with_suffix(".json"))}:
            if part.is_file():
                self.bytes += part.stat().st_size
