"""Scaling: ranges ignore NaN, flagged bad pixels and outliers; fixed, equalised and tick helpers."""

from __future__ import annotations

import numpy as np
import pytest

from thermtool import InputError
from thermtool.render.scale import (
    Scale,
    Scaling,
    bad_pixel_mask,
    equalized_scale,
    fill_invalid,
    nice_ticks,
    percentile_values,
    tick_decimals,
    valid_mask,
    value_range,
)


def _room() -> np.ndarray:
    data = np.linspace(18.0, 30.0, 24 * 32, dtype=np.float32).reshape(24, 32)
    return data


def test_percentile_range_ignores_an_absolute_zero_pixel() -> None:
    data = _room()
    clean = value_range(data.ravel(), "percentile")
    data[5, 7] = -273.15
    lo, hi = value_range(data.ravel(), "percentile")
    assert lo > 17.5 and abs(lo - clean[0]) < 0.1 and hi == pytest.approx(clean[1], abs=0.1)


def test_auto_range_is_min_max_and_a_flat_frame_gets_a_minimum_span() -> None:
    assert value_range(np.array([3.0, 9.0]), "auto") == (3.0, 9.0)
    lo, hi = value_range(np.full(10, 21.0), "percentile", min_span=1.0)
    assert (lo, hi) == (20.5, 21.5)
    assert value_range(np.array([]), "auto", min_span=1.0) == (0.0, 1.0)


def test_valid_mask_drops_nan_inf_and_flagged_pixels() -> None:
    data = _room()
    assert valid_mask(data) is None  # all valid: the fast path
    data[0, 0], data[1, 1] = np.nan, np.inf
    bad = bad_pixel_mask(data.shape, [2 * 32 + 2, 300])
    valid = valid_mask(data, bad)
    assert valid is not None and (~valid).sum() == 4
    assert not valid[0, 0] and not valid[1, 1] and not valid[2, 2] and not valid[300 // 32, 300 % 32]


@pytest.mark.parametrize("flagged", [[[2, 3], [5, 6]], np.array([[2, 3], [5, 6]])])
def test_bad_pixels_as_row_col_pairs(flagged: object) -> None:
    mask = bad_pixel_mask((24, 32), flagged)
    assert mask is not None and mask.sum() == 2 and mask[2, 3] and mask[5, 6]


@pytest.mark.parametrize("flagged", [None, [], [10_000], "junk", [[1, 2, 3]], [-1]])
def test_bad_pixel_lists_that_do_not_apply_are_ignored(flagged: object) -> None:
    assert bad_pixel_mask((24, 32), flagged) is None


def test_fill_invalid_uses_neighbours_and_keeps_valid_pixels() -> None:
    data = np.full((6, 6), 20.0, np.float32)
    data[2, 2] = np.nan
    data[2, 3] = 999.0  # a flagged bad pixel
    valid = valid_mask(data, bad_pixel_mask(data.shape, [2 * 6 + 3]))
    filled = fill_invalid(data, valid)
    assert np.isfinite(filled).all()
    assert filled[2, 2] == pytest.approx(20.0) and filled[2, 3] == pytest.approx(20.0)
    assert filled[0, 0] == 20.0


def test_fill_invalid_reaches_far_holes_and_empty_frames() -> None:
    data = np.full((20, 20), np.nan, np.float32)
    data[0, 0] = 5.0
    filled = fill_invalid(data, valid_mask(data))
    assert np.isfinite(filled).all() and np.allclose(filled, 5.0)
    empty = np.full((4, 4), np.nan, np.float32)
    assert np.array_equal(fill_invalid(empty, valid_mask(empty)), np.zeros((4, 4), np.float32))


def test_scaling_validation() -> None:
    assert Scaling().mode == "percentile"
    assert Scaling("fixed", (15, 35)).limits == (15.0, 35.0)
    for bad in [dict(mode="fixed"), dict(mode="auto", limits=(1, 2)), dict(mode="fixed", limits=(5, 5)),
                dict(mode="wild"), dict(percentiles=(99, 1)), dict(percentiles=(-1, 50))]:
        with pytest.raises(InputError):
            Scaling(**bad)  # type: ignore[arg-type]


def test_linear_scale_gain_and_offset_span_the_table() -> None:
    scale = Scale(15.0, 35.0)
    assert scale.gain * 15.0 + scale.offset == pytest.approx(0.0)
    assert scale.gain * 35.0 + scale.offset == pytest.approx(255.0)
    ticks = scale.ticks(6)
    assert [value for _, value in ticks] == [15.0, 20.0, 25.0, 30.0, 35.0]
    assert ticks[0][0] == pytest.approx(0.0) and ticks[-1][0] == pytest.approx(1.0)


def test_equalized_scale_spreads_ranks_evenly() -> None:
    rng = np.random.default_rng(2)
    counts = np.concatenate([rng.normal(8000, 5, 900), rng.normal(8400, 5, 100)])  # raw counts, one hot object
    scale = equalized_scale(counts)
    assert scale.levels is not None and scale.levels.dtype == np.uint8
    steps = np.clip(np.rint(counts * scale.gain + scale.offset), 0, scale.steps).astype(int)
    index = scale.levels[steps]
    # 90 % of the pixels are background: equalisation gives them about 90 % of the colours, not a sliver.
    assert np.percentile(index[:900], 95) - np.percentile(index[:900], 5) > 180
    assert index[900:].min() > index[:900].max() - 30
    fractions = [f for f, _ in scale.ticks(5)]
    assert fractions == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_nice_ticks_and_decimals() -> None:
    assert nice_ticks(14.9, 43.7, 7) == [15.0, 20.0, 25.0, 30.0, 35.0, 40.0]
    assert nice_ticks(20.13, 20.91, 5) == [20.2, 20.4, 20.6, 20.8]
    assert tick_decimals([15.0, 20.0]) == 0 and tick_decimals([20.2, 20.4]) == 1
    assert tick_decimals([0.25, 0.5]) == 2


@pytest.mark.parametrize("size", [1, 2, 7, 768, 19200])
def test_percentile_values_equal_numpy(size: int) -> None:
    values = np.random.default_rng(size).normal(25, 4, size).astype(np.float32)
    for percentiles in ((1.0, 99.0), (0.0, 100.0), (50.0, 50.0), (2.5, 97.5)):
        assert percentile_values(values, percentiles) == np.percentile(values, percentiles).tolist()
