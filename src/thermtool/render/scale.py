"""Scaling: which temperatures span the colour table, and which pixels may be trusted to say so.

Pure numpy. NaN and flagged bad pixels never enter a range; they are filled from their neighbours before
interpolation so they cannot smear either. Linear scales map [lo, hi] onto table entries 0..255;
histogram equalisation maps each value to its rank among the frame's valid pixels (for raw counts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError

#: Scaling modes: per-frame percentile clip, per-frame min/max, fixed limits, the first range kept, equalised.
SCALE_MODES = ("percentile", "auto", "fixed", "lock", "equalize")
DEFAULT_PERCENTILES = (1.0, 99.0)
#: Narrowest span an automatic range may have, in kelvin (or counts): a uniform wall is not noise art.
MIN_SPAN = 1.0
#: Quantisation of the equalisation curve: values between the range ends are resolved into this many levels.
EQUALIZE_LEVELS = 4096


@dataclass(frozen=True)
class Scaling:
    """How values map onto the colour table: a mode from SCALE_MODES, fixed `limits`, clip `percentiles`."""

    mode: str = "percentile"
    limits: tuple[float, float] | None = None
    percentiles: tuple[float, float] = DEFAULT_PERCENTILES

    def __post_init__(self) -> None:
        if self.mode not in SCALE_MODES:
            raise InputError(f"unknown scaling {self.mode!r}; valid: {', '.join(SCALE_MODES)}")
        if self.mode == "fixed" and self.limits is None:
            raise InputError("fixed scaling needs a range, e.g. --range 15:35")
        if self.limits is not None:
            if self.mode != "fixed":
                raise InputError(f"a fixed range cannot be combined with {self.mode} scaling")
            lo, hi = (float(v) for v in self.limits)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise InputError(f"range must be two finite numbers LOW:HIGH with LOW < HIGH, got {lo}:{hi}")
            object.__setattr__(self, "limits", (lo, hi))
        p_lo, p_hi = (float(v) for v in self.percentiles)
        if not 0.0 <= p_lo < p_hi <= 100.0:
            raise InputError(f"percentiles must satisfy 0 <= LOW < HIGH <= 100, got {p_lo}:{p_hi}")
        object.__setattr__(self, "percentiles", (p_lo, p_hi))


@dataclass(frozen=True, eq=False)
class Scale:
    """The mapping of one frame: values in [lo, hi] onto table indices; `levels` set for equalisation.

    Linear: index = gain * value + offset, saturated to 0..255. Equalised: q = gain * value + offset,
    saturated to 0..EQUALIZE_LEVELS-1, then index = levels[q]; `quantiles` hold the values at evenly
    spaced ranks for labelling the colour bar.
    """

    lo: float
    hi: float
    levels: np.ndarray | None = None
    quantiles: np.ndarray | None = None

    @property
    def steps(self) -> int:
        """Number of quantisation steps between lo and hi."""
        return 255 if self.levels is None else EQUALIZE_LEVELS - 1

    @property
    def gain(self) -> float:
        """Steps per unit of value."""
        return self.steps / (self.hi - self.lo)

    @property
    def offset(self) -> float:
        """Step of value 0."""
        return -self.lo * self.gain

    def ticks(self, count: int) -> list[tuple[float, float]]:
        """Up to `count` labelled points on the colour bar as (fraction from the cold end, value)."""
        if self.quantiles is not None:
            fractions = np.linspace(0.0, 1.0, max(2, count))
            positions = fractions * (len(self.quantiles) - 1)
            values = np.interp(positions, np.arange(len(self.quantiles)), self.quantiles)
            return [(float(f), float(v)) for f, v in zip(fractions, values, strict=True)]
        return [((v - self.lo) / (self.hi - self.lo), v) for v in nice_ticks(self.lo, self.hi, count)]


def bad_pixel_mask(shape: tuple[int, int], flagged: Any) -> np.ndarray | None:
    """Mask of pixels listed in `flagged` (flat row-major indices or (row, col) pairs); None when none apply.

    Entries outside the frame are ignored: metadata may come from another sensor mode.
    """
    if flagged is None:
        return None
    try:
        items = np.asarray(flagged, dtype=np.int64)
    except (TypeError, ValueError):
        return None
    rows, cols = shape
    if items.ndim == 1:
        items = items[(items >= 0) & (items < rows * cols)]
        items = np.stack([items // cols, items % cols], axis=1)
    elif items.ndim != 2 or items.shape[1] != 2:
        return None
    inside = (items[:, 0] >= 0) & (items[:, 0] < rows) & (items[:, 1] >= 0) & (items[:, 1] < cols)
    items = items[inside]
    if not items.size:
        return None
    mask = np.zeros(shape, dtype=bool)
    mask[items[:, 0], items[:, 1]] = True
    return mask


def valid_mask(data: np.ndarray, bad: np.ndarray | None = None) -> np.ndarray | None:
    """Pixels that are finite and not flagged bad; None when every pixel is valid (the common case)."""
    finite = np.isfinite(data)
    if bad is not None:
        finite &= ~bad
    return None if finite.all() else finite


def fill_invalid(data: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """`data` with invalid pixels replaced by the mean of their valid neighbours (grown outwards as needed).

    Pixels with no valid pixel nearby take the median of all valid ones; a frame with none becomes zeros.
    """
    if valid is None:
        return data
    if not valid.any():
        return np.zeros_like(data)
    filled = np.where(valid, data, 0.0).astype(np.float32)
    known = valid.copy()
    for _ in range(4):
        if known.all():
            return filled
        total = _neighbour_sum(np.where(known, filled, 0.0))
        count = _neighbour_sum(known.astype(np.float32))
        grow = ~known & (count > 0)
        filled[grow] = total[grow] / count[grow]
        known |= grow
    filled[~known] = np.median(filled[known])
    return filled


def _neighbour_sum(values: np.ndarray) -> np.ndarray:
    padded = np.pad(values, 1)
    rows, cols = values.shape
    return sum(padded[r:r + rows, c:c + cols] for r in range(3) for c in range(3))  # type: ignore[return-value]


def percentile_values(values: np.ndarray, percentiles: Sequence[float]) -> list[float]:
    """np.percentile(values, percentiles) of non-empty 1-D values: its default linear method, same arithmetic.

    np.percentile calls np.unique, which imports numpy.ma (milliseconds of every render's start-up); a
    partition around each position's two neighbours gives the same numbers.
    """
    positions = (values.size - 1) * (np.asarray(percentiles, dtype=np.float64) / 100)
    below = np.floor(positions)
    low = below.astype(np.intp)
    high = np.minimum(low + 1, values.size - 1)
    ordered = np.partition(values, sorted({*low.tolist(), *high.tolist()}))
    a, b, t = ordered[low], ordered[high], positions - below
    difference = b - a
    return np.where(t >= 0.5, b - difference * (1 - t), a + difference * t).tolist()  # numpy's _lerp


def value_range(values: np.ndarray, mode: str, percentiles: Sequence[float] = DEFAULT_PERCENTILES,
                min_span: float = MIN_SPAN) -> tuple[float, float]:
    """(lo, hi) of valid `values` (1-D) for mode "auto" or "percentile", at least `min_span` wide."""
    if values.size == 0:
        return 0.0, min_span
    if mode == "auto":
        lo, hi = float(values.min()), float(values.max())
    else:
        lo, hi = percentile_values(values, percentiles)
    if hi - lo < min_span:
        middle = (hi + lo) / 2.0
        lo, hi = middle - min_span / 2.0, middle + min_span / 2.0
    return lo, hi


def equalized_scale(values: np.ndarray, min_span: float = MIN_SPAN, quantile_count: int = 65) -> Scale:
    """Histogram equalisation over valid `values` (1-D): each value's colour follows its rank in the frame."""
    lo, hi = value_range(values, "auto", min_span=min_span)
    if values.size == 0:
        return Scale(lo, hi)
    ordered = np.sort(values.astype(np.float64))
    grid = lo + (hi - lo) * np.arange(EQUALIZE_LEVELS) / (EQUALIZE_LEVELS - 1)
    rank = np.searchsorted(ordered, grid, side="right") / ordered.size
    levels = np.rint(rank * 255.0).astype(np.uint8)
    quantiles = ordered[np.rint(np.linspace(0, ordered.size - 1, quantile_count)).astype(np.intp)]
    return Scale(lo, hi, levels, quantiles)


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 x 10^k) giving at most `count` ticks over `span`."""
    raw = span / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * power >= raw:
            return factor * power
    return 10.0 * power


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Round values within [lo, hi], at most `count` of them (at least 2 when count >= 2)."""
    step = nice_step(hi - lo, max(2, count))
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def tick_decimals(ticks: Sequence[float]) -> int:
    """Fewest decimals (0-3) that print every one of the round values `ticks` exactly."""
    for decimals in range(3):
        if all(abs(round(v, decimals) - v) < 1e-6 * max(1.0, abs(v)) for v in ticks):
            return decimals
    return 3
