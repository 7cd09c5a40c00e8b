"""Warm objects in one frame: connected components of the pixels above threshold (pure, scipy.ndimage)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .events import Box

#: 8-connectivity: pixels touching at a corner belong to the same object (thin limbs stay attached).
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class Blob:
    """One warm object in a frame: its box, area (pixels), peak and mean value, peak above background, the
    (row, column) centre of its warmth and the flat indices of its pixels."""

    box: Box
    area: int
    peak: float
    mean: float
    delta: float
    centre: tuple[float, float] = (0.0, 0.0)
    pixels: np.ndarray = field(default_factory=lambda: np.empty(0, np.intp), repr=False, compare=False)


def find_blobs(hot: np.ndarray, values: np.ndarray, residual: np.ndarray,
               min_area: int) -> tuple[list[Blob], np.ndarray]:
    """Components of `hot` with at least `min_area` pixels, largest first, and the mask of their pixels.

    `values` (the frame) gives peak and mean, `residual` (frame minus background) the delta; both must be
    finite wherever `hot` is set.
    """
    labels, count = ndimage.label(hot, structure=EIGHT_CONNECTED)
    if count == 0:
        return [], np.zeros(hot.shape, dtype=bool)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    keep = np.flatnonzero(areas >= min_area)
    keep = keep[keep > 0]
    if keep.size == 0:
        return [], np.zeros(hot.shape, dtype=bool)
    filled = np.where(hot, values, 0.0)
    sums = np.bincount(labels.ravel(), weights=filled.ravel(), minlength=count + 1)
    peaks = ndimage.maximum(filled, labels, keep)
    warmth = np.where(hot, np.maximum(residual, 0.0), 0.0)
    deltas = ndimage.maximum(warmth, labels, keep)
    centres = ndimage.center_of_mass(warmth, labels, keep)
    slices = ndimage.find_objects(labels)
    order = np.argsort(labels, axis=None, kind="stable")
    bounds = np.cumsum(areas)
    blobs = []
    for label, peak, delta, centre in zip(keep, np.atleast_1d(peaks), np.atleast_1d(deltas), centres, strict=True):
        rows, cols = slices[label - 1]
        box = Box(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
        area = int(areas[label])
        pixels = order[bounds[label - 1]:bounds[label]]
        blobs.append(Blob(box, area, float(peak), float(sums[label] / area), float(delta),
                          (float(centre[0]), float(centre[1])), pixels))
    blobs.sort(key=lambda blob: -blob.area)
    return blobs, np.isin(labels, keep)
