"""Cubic B-spline zoom, equal to `scipy.ndimage.zoom(data, zoom, order=3)` but computed much faster.

For fixed input and output lengths scipy's order-3 zoom is linear and separable. Along each axis it
(1) prefilters the samples into B-spline coefficients under mirror symmetry, and (2) samples the spline at
`j * (n - 1) / (N - 1)` (its defaults `grid_mode=False`, `mode="constant"`, `cval=0`). Step 1 is the
inverse of the filter [1, 4, 1] / 6, an exponentially decaying symmetric kernel (pole z = sqrt(3) - 2)
that we truncate where it falls below float32 resolution and run with OpenCV over a mirror-padded frame.
Step 2 touches 4 coefficients per output sample: an (N, n) matrix per axis (4 non-zeros a row), built once per
shape and applied as small dense float32 products (`separable.apply_axes`), which for sensor-sized inputs
beat any sparse format and need nothing beyond numpy and OpenCV at import.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from .separable import apply_axes, axis_matrix

#: Pole of the cubic B-spline prefilter (Unser's recursive filtering, z^2 + 4z + 1 = 0).
POLE = math.sqrt(3.0) - 2.0
#: Prefilter taps on each side: |z|^17 is below 2e-10, far under float32 resolution.
RADIUS = 16


def _mirror(index: np.ndarray, n: int) -> np.ndarray:
    """Fold indices into 0..n-1 by whole-sample symmetry (d c b | a b c d | c b a), scipy's 'mirror'."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * n - 2
    folded = np.mod(index, period)
    return np.where(folded >= n, period - folded, folded)


def _bspline3(x: np.ndarray) -> np.ndarray:
    """The centred cubic B-spline kernel."""
    x = np.abs(x)
    return np.where(x < 1.0, (4.0 - 6.0 * x**2 + 3.0 * x**3) / 6.0,
                    np.where(x < 2.0, (2.0 - x) ** 3 / 6.0, 0.0))


def prefilter_kernel(radius: int = RADIUS) -> np.ndarray:
    """Taps -radius..radius of the inverse of [1, 4, 1] / 6: sqrt(3) * z^|k|, z = sqrt(3) - 2 (float32)."""
    k = np.arange(-radius, radius + 1)
    return (math.sqrt(3.0) * POLE ** np.abs(k)).astype(np.float32)


def prefilter(data: np.ndarray) -> np.ndarray:
    """Cubic B-spline coefficients of `data` (2-D) with mirror-symmetric edges, as float32."""
    kernel = prefilter_kernel()
    padded = np.pad(data.astype(np.float32, copy=False), RADIUS, mode="reflect")  # numpy 'reflect' = mirror
    filtered = cv2.sepFilter2D(padded, cv2.CV_32F, kernel, kernel, borderType=cv2.BORDER_CONSTANT)
    return filtered[RADIUS:-RADIUS, RADIUS:-RADIUS]


def sample_matrix(n: int, size: int) -> np.ndarray:
    """(size, n) matrix sampling a cubic spline over n coefficients where scipy's zoom samples it (float64).

    Sample j sits at `j * ((n - 1) / (size - 1))`, computed in float64 exactly as scipy does; a sample that
    rounding puts past the last input (scipy's 'constant' mode) is cval, 0.
    """
    step = (n - 1) / (size - 1) if size > 1 else 1.0
    coords = np.arange(size, dtype=np.float64) * step
    start = np.floor(coords).astype(np.int64) - 1
    matrix = np.zeros((size, n))
    rows = np.arange(size)
    for tap in range(4):
        index = start + tap
        np.add.at(matrix, (rows, _mirror(index, n)), _bspline3(coords - index))
    matrix[coords > n - 1] = 0.0
    return matrix


@lru_cache(maxsize=16)
def sampler(n: int, size: int) -> np.ndarray:
    """The (size, n) float32 sampling matrix of one axis (read-only), built once per (n, size)."""
    return axis_matrix(sample_matrix(n, size))


def spline_zoom(data: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Exact cubic B-spline: the numbers of scipy.ndimage.zoom(data, zoom, order=3), computed much faster.

    `data` (2-D) is zoomed to `size` (rows, columns) and returned as float32.
    """
    coefficients = prefilter(np.asarray(data))
    (rows, cols), (out_rows, out_cols) = coefficients.shape, size
    return apply_axes(coefficients, sampler(rows, out_rows), sampler(cols, out_cols))
