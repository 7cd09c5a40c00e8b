"""Min / max / spot readouts of a frame in the display units (pure).

Unpinned, the spot is the picture's centre and its value is `annotate.centre_value`, the same number the
picture's "+ centre" shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frame import Frame
from ..render.annotate import centre_value
from ..render.scale import bad_pixel_mask, valid_mask
from ..units import UNIT_SYMBOLS


@dataclass(frozen=True)
class Readout:
    """The coldest, hottest and spot values of a frame with their (row, column) positions."""

    units: str
    low: float
    low_at: tuple[int, int]
    high: float
    high_at: tuple[int, int]
    spot: float
    spot_at: tuple[int, int]
    pinned: bool = False

    def text(self) -> str:
        """"min 18.2°C  max 35.1°C  centre 21.0°C" ("spot" when pinned; NaN shown as --)."""
        return "  ".join(f"{name} {format_value(value, self.units)}" for name, value in
                         (("min", self.low), ("max", self.high), ("spot" if self.pinned else "centre", self.spot)))

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (NaN becomes null)."""
        def num(value: float) -> float | None:
            return round(value, 3) if np.isfinite(value) else None

        return {"units": self.units, "min": num(self.low), "min_at": list(self.low_at), "max": num(self.high),
                "max_at": list(self.high_at), "spot": num(self.spot), "spot_at": list(self.spot_at),
                "pinned": self.pinned}


def format_value(value: float, units: str) -> str:
    """"21.3°C", "294.5 K", "8123 counts"; NaN as "--"."""
    symbol = UNIT_SYMBOLS.get(units, units)
    symbol = symbol if symbol.startswith("°") else f" {symbol}"
    if not np.isfinite(value):
        return f"--{symbol}"
    return f"{value:.0f}{symbol}" if units in ("counts", "agc") else f"{value:.1f}{symbol}"


def display_frame(frame: Frame, units: str) -> Frame:
    """The frame in the display units; raw counts stay counts (they have no temperature)."""
    return frame.to(units) if frame.is_temperature and frame.units != units else frame


def readout(frame: Frame, spot: tuple[int, int] | None = None) -> Readout:
    """Readouts of `frame` in its own units; the spot is `spot` (clamped into the image) or the centre."""
    data = frame.data
    rows, cols = data.shape
    at = (rows // 2, cols // 2) if spot is None else (min(max(spot[0], 0), rows - 1), min(max(spot[1], 0), cols - 1))
    finite = np.isfinite(data)
    low_at = high_at = at
    if finite.any():
        low_at = _position(np.argmin(np.where(finite, data, np.inf)), data.shape)
        high_at = _position(np.argmax(np.where(finite, data, -np.inf)), data.shape)
    if spot is None:
        centre = centre_value(data, valid_mask(data, bad_pixel_mask(data.shape, frame.meta.get("bad_pixels"))))
        value = float("nan") if centre is None else centre
    else:
        value = float(data[at])
    return Readout(frame.units, float(data[low_at]), low_at, float(data[high_at]), high_at, value, at, spot is not None)


def _position(flat_index: np.intp, shape: tuple[int, ...]) -> tuple[int, int]:
    row, col = np.unravel_index(int(flat_index), shape)
    return int(row), int(col)
