"""The `spline` upscaler is scipy.ndimage.zoom(order=3), computed as two matrix products."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
import scipy.ndimage

from thermtool.render.spline import prefilter, prefilter_kernel, sample_matrix, sampler, spline_zoom


def _scene(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = 21.0 + rng.normal(0.0, 0.3, shape)
    rows, cols = shape
    data[rows // 3:rows // 2, cols // 4:cols // 2] += 14.0  # a warm body with sharp edges
    return data.astype(np.float32)


@pytest.mark.parametrize("shape", [(24, 32), (120, 160)])
def test_equals_scipy_zoom_to_480x640(shape: tuple[int, int]) -> None:
    data = _scene(shape)
    expected = scipy.ndimage.zoom(data, (480 / shape[0], 640 / shape[1]), order=3)
    got = spline_zoom(data, (480, 640))
    assert got.shape == expected.shape == (480, 640)
    assert got.dtype == np.float32
    assert np.abs(got - expected).max() <= 1e-3


@pytest.mark.parametrize(("shape", "size"), [
    ((24, 32), (240, 320)), ((60, 80), (480, 640)), ((7, 5), (26, 12)), ((1, 6), (4, 9)), ((5, 1), (3, 3)),
    ((24, 32), (720, 960)),  # 32 -> 960: scipy's last column falls just past the edge and is 0 (cval)
    ((24, 32), (12, 16)), ((3, 3), (3, 3)), ((2, 2), (1, 1)),
])
def test_equals_scipy_zoom_for_odd_sizes_and_edges(shape: tuple[int, int], size: tuple[int, int]) -> None:
    data = _scene(shape, seed=sum(size))
    expected = scipy.ndimage.zoom(data, (size[0] / shape[0], size[1] / shape[1]), order=3)
    assert expected.shape == size
    assert np.abs(spline_zoom(data, size) - expected).max() <= 1e-3


def test_prefilter_inverts_the_bspline_blur() -> None:
    # Blurring the coefficients with the B-spline's samples [1, 4, 1] / 6 (mirror edges) gives the data back.
    data = _scene((9, 11), seed=3)
    coefficients = prefilter(data).astype(np.float64)
    padded = np.pad(coefficients, 1, mode="reflect")
    blurred = (padded[:-2] + 4 * padded[1:-1] + padded[2:]) / 6.0
    blurred = (blurred[:, :-2] + 4 * blurred[:, 1:-1] + blurred[:, 2:]) / 6.0
    assert np.abs(blurred - data).max() < 1e-4
    assert prefilter_kernel().sum() == pytest.approx(1.0, abs=1e-6)


def test_sampling_rows_sum_to_one_except_past_the_edge() -> None:
    assert np.allclose(sample_matrix(24, 480).sum(axis=1), 1.0)
    rows = sample_matrix(32, 960).sum(axis=1)  # scipy's float rounding puts the last sample past the edge
    assert np.allclose(rows[:-1], 1.0) and rows[-1] == 0.0


def test_sampling_matrices_are_cached_with_four_taps_a_row() -> None:
    first = sampler(24, 480)
    assert sampler(24, 480) is first
    assert first.dtype == np.float32 and first.shape == (480, 24)
    assert np.count_nonzero(first, axis=1).max() <= 4



class _BlasSpy(np.ndarray):
    """An array that notes the BLAS thread count each time a ufunc (matmul included) runs on it."""

    seen: ClassVar[list[int]] = []

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: object, **kwargs: object) -> object:
        from threadpoolctl import threadpool_info

        _BlasSpy.seen.extend(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
        plain = [np.asarray(x) if isinstance(x, _BlasSpy) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def test_the_per_axis_products_run_on_one_blas_thread_and_restore_the_pool() -> None:
    """OpenBLAS workers woken by the renderer spin between frames; its products keep BLAS to one thread."""
    from threadpoolctl import threadpool_info

    from thermtool.render.separable import apply_axes, axis_matrix

    def blas_threads() -> list[int]:
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    before = blas_threads()
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    rows, cols = axis_matrix(np.eye(5, 3)).view(_BlasSpy), axis_matrix(np.eye(6, 4))
    _BlasSpy.seen.clear()
    out = apply_axes(data, rows, cols)
    assert np.array_equal(out, np.eye(5, 3, dtype=np.float32) @ data @ np.eye(6, 4, dtype=np.float32).T)
    assert _BlasSpy.seen and set(_BlasSpy.seen) == {1}
    assert blas_threads() == before
