"""The Frame: one 2-D image of temperatures (or raw counts) with its units, time, sensor and metadata."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .units import TEMPERATURE_UNITS, convert, normalise_units


def as_utc(timestamp: datetime | float | int | str | None) -> datetime:
    """Coerce a timestamp (aware or naive datetime, epoch seconds, ISO string, None = now) to aware UTC."""
    if timestamp is None:
        return datetime.now(timezone.utc)
    if isinstance(timestamp, str):
        try:
            timestamp = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"bad timestamp {timestamp!r}: expected ISO 8601") from None
    if isinstance(timestamp, (int, float, np.integer, np.floating)):
        try:
            return datetime.fromtimestamp(float(timestamp), timezone.utc)
        except (OverflowError, OSError, ValueError):  # NaN, inf, or beyond the years datetime holds
            raise InputError(f"bad timestamp {timestamp!r}: out of range") from None
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            return timestamp.replace(tzinfo=timezone.utc)
        return timestamp.astimezone(timezone.utc)
    raise InputError(f"bad timestamp type {type(timestamp).__name__}")


def _as_image(data: Any) -> np.ndarray:
    arr = np.asarray(data)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"frame data must be numeric, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise InputError("frame data must be real, got complex numbers")
    if arr.ndim != 2:
        raise InputError(f"frame data must be 2-D, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"frame data is empty (shape {arr.shape})")
    return np.ascontiguousarray(arr, dtype=np.float32)


@dataclass(eq=False)
class Frame:
    """A 2-D float32 image in `units` ("C", "F", "K", or "counts"/"agc" for raw Lepton output)."""

    data: np.ndarray
    units: str = "C"
    timestamp: datetime | None = None
    sensor: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data = _as_image(self.data)
        self.units = normalise_units(self.units)
        self.timestamp = as_utc(self.timestamp)
        self.sensor = str(self.sensor)
        self.meta = dict(self.meta) if isinstance(self.meta, Mapping) else {}

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the image."""
        return self.data.shape  # type: ignore[return-value]

    @property
    def is_temperature(self) -> bool:
        """True when the data are temperatures (C/F/K), False for raw counts or AGC output."""
        return self.units in TEMPERATURE_UNITS

    def to(self, units: str) -> Frame:
        """Return a new Frame in `units` (C, F or K); the data are converted in float64."""
        units = normalise_units(units)
        data = convert(self.data, self.units, units).astype(np.float32)
        return Frame(data, units, self.timestamp, self.sensor, dict(self.meta))

    def replace(self, **changes: Any) -> Frame:
        """Return a copy with some fields changed (data, units, timestamp, sensor, meta)."""
        fields = {"data": self.data, "units": self.units, "timestamp": self.timestamp,
                  "sensor": self.sensor, "meta": dict(self.meta)}
        fields.update(changes)
        return Frame(**fields)

    def save(self, path: str | Path, fmt: str | None = None, *, force: bool = False, **options: Any) -> Path:
        """Write the frame to `path` in the format its extension (or `fmt`) names; never overwrite unless force."""
        from .formats import save_frame

        return save_frame(self, path, fmt, force=force, **options)

    def __repr__(self) -> str:
        finite = self.data[np.isfinite(self.data)]
        span = f"{finite.min():.2f}..{finite.max():.2f}" if finite.size else "no finite values"
        return (f"Frame({self.shape[1]}x{self.shape[0]} {self.units} {span}, "
                f"sensor={self.sensor!r}, timestamp={self.timestamp.isoformat()})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return (self.units == other.units and self.sensor == other.sensor and self.timestamp == other.timestamp
                and self.meta == other.meta and np.array_equal(self.data, other.data, equal_nan=True))

    __hash__ = None  # type: ignore[assignment]


def load_frame(path: str | Path, index: int | None = None) -> Frame:
    """Load one frame from any supported file; `index` picks a frame of a recording (default the first)."""
    from .formats import load_frame as _load

    return _load(path, index=index)
