"""Colormaps: every matplotlib colormap plus thermal-camera palettes, each turned into a 256-entry table once.

The thermal palettes, the viridis family and jet (`listed.py`) need no matplotlib; matplotlib is imported only
when another of its colormaps is named or the names are listed. A registry entry may be a matplotlib
Colormap, an (N, 3) or (N, 4) array of colours (floats in 0..1 or uint8), or a callable returning either;
`colormap_table` resamples it to (256, 3) uint8 RGB. Plugins add colormaps through the
`thermtool.colormaps` entry-point group.
"""

from __future__ import annotations

import sys
from functools import lru_cache, partial
from typing import Any

import numpy as np

from ..errors import InputError
from ..registry import Registry
from .listed import LISTED, listed_table

TABLE_SIZE = 256

# Thermal palettes as evenly spaced RGB anchors, interpolated linearly to 256 entries.
# Iron ("ironbow"): black through indigo, magenta, red and orange to a white-hot yellow.
IRONBOW = np.array([(0, 0, 0), (32, 0, 96), (110, 0, 150), (180, 16, 120), (225, 60, 40),
                    (245, 130, 0), (255, 200, 40), (255, 240, 150), (255, 255, 250)], dtype=np.uint8)
# High-contrast rainbow: many distinct hues so small temperature steps stay visible.
RAINBOW_HC = np.array([(0, 0, 0), (70, 0, 120), (0, 0, 255), (0, 150, 255), (0, 230, 170), (0, 200, 0),
                       (170, 240, 0), (255, 255, 0), (255, 150, 0), (255, 0, 0), (255, 0, 170),
                       (255, 255, 255)], dtype=np.uint8)
WHITE_HOT = np.array([(0, 0, 0), (255, 255, 255)], dtype=np.uint8)

THERMAL_PALETTES: dict[str, np.ndarray] = {
    "ironbow": IRONBOW,
    "white-hot": WHITE_HOT,
    "black-hot": WHITE_HOT[::-1],
    "rainbow-hc": RAINBOW_HC,
}


def _matplotlib_colormap(name: str) -> Any:
    from matplotlib import colormaps

    return colormaps[name]


def _is_matplotlib_colormap(source: Any) -> bool:
    """A matplotlib Colormap (it cannot be one while matplotlib.colors is not loaded)."""
    colors = sys.modules.get("matplotlib.colors")
    return colors is not None and isinstance(source, colors.Colormap)


def _add_matplotlib_colormaps(registry: Registry) -> None:
    """Register matplotlib's other colormaps (imports matplotlib: only on listing or an unknown name)."""
    from matplotlib import colormaps

    known = set(registry.names())
    for name in colormaps:
        if name not in known:
            registry.register(name, partial(_matplotlib_colormap, name))


def _registry() -> Registry:
    registry = Registry("colormap", group="thermtool.colormaps", more=_add_matplotlib_colormaps)
    for name, anchors in THERMAL_PALETTES.items():
        registry.register(name, anchors)
        registry.register(f"{name}_r", anchors[::-1])
    for name in LISTED:
        registry.register(name, partial(listed_table, name))
        registry.register(f"{name}_r", partial(listed_table, f"{name}_r"))
    return registry


COLORMAPS = _registry()


def to_table(source: Any) -> np.ndarray:
    """A (256, 3) uint8 RGB table from a matplotlib Colormap, a callable returning one, or (N, 3|4) colours."""
    if callable(source) and not _is_matplotlib_colormap(source):
        source = source()
    if _is_matplotlib_colormap(source):
        return np.round(source(np.linspace(0.0, 1.0, TABLE_SIZE))[:, :3] * 255.0).astype(np.uint8)
    colours = np.asarray(source)
    if colours.ndim != 2 or colours.shape[1] not in (3, 4) or len(colours) < 2:
        raise InputError(f"a colormap must be (N, 3) or (N, 4) colours with N >= 2, got shape {colours.shape}")
    rgb = colours[:, :3].astype(np.float64)
    if colours.dtype.kind == "f":
        rgb = rgb * 255.0
    positions = np.linspace(0.0, 1.0, len(rgb))
    grid = np.linspace(0.0, 1.0, TABLE_SIZE)
    table = np.stack([np.interp(grid, positions, rgb[:, c]) for c in range(3)], axis=1)
    return np.clip(np.round(table), 0, 255).astype(np.uint8)


@lru_cache(maxsize=64)
def _table(name: str) -> np.ndarray:
    table = to_table(COLORMAPS.get(name))
    table.setflags(write=False)
    return table


def colormap_table(name: str) -> np.ndarray:
    """The (256, 3) uint8 RGB table of colormap `name`, built once (read-only); entry 0 is the coldest."""
    return _table(COLORMAPS.canonical(name))
