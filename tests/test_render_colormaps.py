"""Colormaps: every matplotlib name (and _r) plus the thermal palettes, each a (256, 3) uint8 table."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import colormaps as mpl_colormaps

import thermtool
from thermtool import UnknownNameError
from thermtool.registry import Registry
from thermtool.render import colormap_table, colormaps
from thermtool.render.colormaps import to_table
from thermtool.render.listed import LISTED

THERMAL = ["ironbow", "white-hot", "black-hot", "rainbow-hc"]


def test_every_matplotlib_colormap_and_the_thermal_palettes_are_registered() -> None:
    names = set(thermtool.colormaps())
    assert set(mpl_colormaps) <= names
    assert {"inferno", "inferno_r", "viridis_r"} <= names
    assert set(THERMAL) <= names and {f"{n}_r" for n in THERMAL} <= names


@pytest.mark.parametrize("name", thermtool.colormaps())
def test_every_colormap_is_a_256_entry_rgb_table(name: str) -> None:
    table = colormap_table(name)
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert not table.flags.writeable


def test_tables_are_built_once() -> None:
    assert colormap_table("ironbow") is colormap_table("ironbow")


@pytest.mark.parametrize("name", [*LISTED, "cividis", "hot"])
def test_matplotlib_tables_match_matplotlib(name: str) -> None:
    """The bundled viridis-family tables and the ones built from matplotlib equal matplotlib's colours."""
    for variant in (name, f"{name}_r"):
        expected = np.round(mpl_colormaps[variant](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
        assert np.array_equal(colormap_table(variant), expected)


def test_reversed_names_reverse_the_table() -> None:
    for name in ("inferno", "ironbow", "rainbow-hc"):
        assert np.array_equal(colormap_table(f"{name}_r"), colormap_table(name)[::-1])


def test_white_hot_and_black_hot() -> None:
    white = colormap_table("white-hot")
    assert np.array_equal(white[:, 0], np.arange(256)) and (white == white[:, :1]).all()
    assert np.array_equal(colormap_table("black-hot"), white[::-1])


def test_ironbow_runs_from_black_to_near_white_through_warm_colours() -> None:
    table = colormap_table("ironbow").astype(int)
    assert table[0].sum() == 0 and table[-1].min() > 240
    luminance = table @ np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 luma weights
    assert np.all(np.diff(luminance) > -0.5)  # hotter is never darker (beyond rounding)
    middle = table[150]
    assert middle[0] > middle[2]  # red over blue in the upper half


def test_to_table_accepts_float_and_rgba_colours() -> None:
    table = to_table(np.array([[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0]]))
    assert tuple(table[0]) == (0, 0, 255) and tuple(table[-1]) == (255, 0, 0)


def test_plugin_colormaps_register_like_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry("colormap", group="thermtool.colormaps")  # a private one: the shared registry stays as is
    registry.register("test-two-tone", np.array([[10, 20, 30], [200, 210, 220]], np.uint8))
    monkeypatch.setattr(colormaps, "COLORMAPS", registry)
    assert tuple(colormap_table("test-two-tone")[-1]) == (200, 210, 220)


def test_unknown_colormap_is_one_line_listing_names() -> None:
    with pytest.raises(UnknownNameError) as caught:
        colormap_table("infernoo")
    message = str(caught.value)
    assert "\n" not in message and "'infernoo'" in message and "inferno" in message
    assert set(caught.value.valid) == set(thermtool.colormaps())
