"""Upscalers: named ways to resize a 2-D array of temperatures, registered for lookup by name.

An upscaler is a callable `(data, (rows, cols)) -> float32 array of that size`. The renderer always
interpolates temperatures and applies colour afterwards, so every output colour is a palette entry.
Plugins add upscalers through the `thermtool.upscalers` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InputError
from ..registry import Registry

Upscaler = Callable[[np.ndarray, tuple[int, int]], np.ndarray]

#: The built-in upscalers: (name, "module:function", aliases).
BUILTIN: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("nearest", "thermtool.render.resize:nearest", ()),
    ("bilinear", "thermtool.render.resize:bilinear", ("linear",)),
    ("bicubic", "thermtool.render.resize:bicubic", ("cubic",)),
    ("lanczos", "thermtool.render.resize:lanczos", ()),
    ("area", "thermtool.render.resize:area", ()),
    ("spline", "thermtool.render.spline:spline_zoom", ("scipy",)),
    ("spline-cv", "thermtool.render.resize:spline_then_bicubic", ()),
)



def _registry() -> Registry:
    registry = Registry("upscaler", group="thermtool.upscalers")
    for name, target, names in BUILTIN:
        registry.register(name, target, aliases=names)
    return registry


UPSCALERS = _registry()


def aliases(name: str) -> tuple[str, ...]:
    """Other names the built-in upscaler `name` answers to (plugins have none)."""
    return next((names for builtin, _, names in BUILTIN if builtin == name), ())


def describe(name: str) -> str:
    """One line saying what upscaler `name` does (its docstring's first line)."""
    doc = getattr(get_upscaler(name), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    """`size` as a (rows, columns) pair of positive ints; InputError otherwise."""
    try:
        rows, cols = (int(v) for v in size)
    except (TypeError, ValueError):
        raise InputError(f"size must be (rows, columns), got {size!r}") from None
    if rows < 1 or cols < 1:
        raise InputError(f"size must be positive, got {cols}x{rows} (WIDTHxHEIGHT)")
    return rows, cols


def get_upscaler(name: str) -> Upscaler:
    """The upscaler registered as `name` (or an alias); UnknownNameError listing the valid names."""
    return UPSCALERS.get(name)


def upscale(data: np.ndarray, size: tuple[int, int], method: str = "bicubic") -> np.ndarray:
    """`data` (2-D temperatures) resized to `size` (rows, columns) with the upscaler `method`, as float32."""
    array = np.asarray(data, dtype=np.float32)
    if array.ndim != 2:
        raise InputError(f"upscale needs a 2-D array, got shape {array.shape}")
    out = get_upscaler(method)(np.ascontiguousarray(array), check_size(size))
    return np.asarray(out, dtype=np.float32)
