"""Separable resampling as two small dense matrix products: rows then columns, one (out, in) matrix per axis.

Used where an enlargement is large (a 32x24 sensor to 640x480): the per-axis matrices are then tiny
(480x24, 640x32), and one float32 product per axis beats both a sparse format and OpenCV's own resize for
kernels wider than linear. The products run on one BLAS thread: they are too small to gain from more, and
OpenBLAS's idle workers spin on a core between a live view's frames (about a whole core at 16 frames/s).
"""

from __future__ import annotations

import functools

import numpy as np
from threadpoolctl import ThreadpoolController


def axis_matrix(matrix: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous float32 copy of an (out, n) per-axis matrix, ready for `apply_axes`."""
    result = np.array(matrix, dtype=np.float32, order="C")
    result.setflags(write=False)
    return result


def apply_axes(data: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """`rows @ data @ cols.T` as C-contiguous float32: (N, n) x (n, m) x (m, M) -> (N, M)."""
    with _blas().limit(limits=1, user_api="blas"):
        wide = np.asarray(data, dtype=np.float32) @ cols.T  # (n, M): the small product first
        return np.ascontiguousarray(rows @ wide, dtype=np.float32)


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's thread pools (found once: finding them scans the loaded libraries)."""
    return ThreadpoolController()
