"""thermtool: drivers, rendering, live views and analysis for low-cost thermal cameras.

The public API (see docs/architecture.md): Frame, load_frame, open_sensor, the registries' names, and the
`render` and `analysis` subpackages. Frame, load_frame and the subpackages are imported on first use, so
importing thermtool (and `thermtool --help`) loads neither numpy nor OpenCV.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    EndOfStream,
    InputError,
    MissingDependencyError,
    SensorError,
    SensorNotFoundError,
    SensorTimeoutError,
    ThermtoolError,
    UnknownNameError,
)
from .sensors import open_sensor, sensors

if TYPE_CHECKING:
    from .frame import Frame, load_frame

__version__ = "0.1.0"

__all__ = [
    "EndOfStream", "Frame", "InputError", "MissingDependencyError", "SensorError", "SensorNotFoundError",
    "SensorTimeoutError", "ThermtoolError", "UnknownNameError", "__version__", "colormaps", "load_frame",
    "open_sensor", "sensors", "upscalers",
]

_LAZY_SUBMODULES = ("render", "analysis", "formats", "emulators", "view")
_LAZY_ATTRIBUTES = {"Frame": "frame", "load_frame": "frame"}


def upscalers() -> list[str]:
    """Registered upscaler names."""
    from .render.upscale import UPSCALERS

    return UPSCALERS.names()


def colormaps() -> list[str]:
    """Registered colormap names (every matplotlib colormap plus the thermal palettes)."""
    from .render.colormaps import COLORMAPS

    return COLORMAPS.names()


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_ATTRIBUTES:
        return getattr(importlib.import_module(f".{_LAZY_ATTRIBUTES[name]}", __name__), name)
    raise AttributeError(f"module 'thermtool' has no attribute {name!r}")
