"""The Renderer: a frame in, an RGB picture out.

filter (optional) -> display units -> flip/rotate -> range -> upscale temperatures -> colour -> annotate.
Bad pixels and NaN are filled from their neighbours before anything else and never enter the range.
Settings are attributes that may change between frames (live views cycle them per key press); what
depends on them (tables, layouts, the static background) is rebuilt only when they change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np

from ..errors import InputError
from ..frame import Frame
from ..units import TEMPERATURE_UNITS, convert, convert_delta, normalise_units
from .annotate import Layout, Readout, annotate, background, make_layout, measure
from .colormaps import COLORMAPS, colormap_table
from .filters import FrameFilters
from .orient import normalise_flip, normalise_rotation, orient
from .scale import (
    DEFAULT_PERCENTILES,
    MIN_SPAN,
    Scale,
    Scaling,
    bad_pixel_mask,
    equalized_scale,
    fill_invalid,
    valid_mask,
    value_range,
)
from .upscale import UPSCALERS, Upscaler, check_size

#: Layouts (with their static backgrounds) kept per renderer: one per frame shape seen recently.
LAYOUT_CACHE = 4


@dataclass(frozen=True)
class RenderInfo:
    """What the last picture shows: its range and units, the readout, and where the image sits."""

    lo: float
    hi: float
    units: str
    readout: Readout
    layout: Layout
    shape: tuple[int, int]


class Renderer:
    """Turns frames into (H, W, 3) uint8 RGB pictures of `size` (rows, columns).

    `range=(lo, hi)` fixes the colour range in display units; otherwise `scale` picks percentile (default,
    `percentiles` clip), auto, lock (the first frame's range is kept) or equalize. `units` (C, F, K; None:
    the frame's) applies to temperature frames. `flip` (none, h, v, both) happens before `rotate`
    (clockwise degrees). `filters` smooth frames before rendering. A Renderer reuses its caches between
    calls and is not thread-safe: give each thread its own.
    """

    def __init__(self, cmap: str = "inferno", upscaler: str = "bicubic", size: tuple[int, int] = (480, 640), *,
                 range: tuple[float, float] | None = None, scale: str | None = None,
                 percentiles: tuple[float, float] = DEFAULT_PERCENTILES, units: str | None = None,
                 annotate: bool = True, flip: str = "none", rotate: int = 0,
                 filters: FrameFilters | None = None) -> None:
        self._layouts: dict[tuple[int, int], tuple[Layout, np.ndarray]] = {}
        self._locked: tuple[float, float, str] | None = None
        self.last: RenderInfo | None = None
        self.cmap = cmap
        self.upscaler = upscaler
        self.size = size
        self.scaling = Scaling(scale or ("fixed" if range is not None else "percentile"), range, percentiles)
        self.units = units
        self.annotate = annotate
        self.flip = flip
        self.rotate = rotate
        self.filters = filters or FrameFilters()
        #: Extra caption parts, such as a filter a live view applies before the frames reach the renderer.
        self.caption_notes: tuple[str, ...] = ()
        self._filter_units: str | None = None

    # Settings: each setter validates, and drops what depended on the old value.
    @property
    def cmap(self) -> str:
        """Colormap name (see thermtool.colormaps())."""
        return self._cmap

    @cmap.setter
    def cmap(self, name: str) -> None:
        self._table = colormap_table(name)
        self._lut = np.ascontiguousarray(self._table[:, None, :])
        self._cmap = COLORMAPS.canonical(name)
        self._layouts.clear()

    @property
    def upscaler(self) -> str:
        """Upscaler name (see thermtool.upscalers())."""
        return self._upscaler

    @upscaler.setter
    def upscaler(self, name: str) -> None:
        self._upscale: Upscaler = UPSCALERS.get(name)
        self._upscaler = UPSCALERS.canonical(name)

    @property
    def size(self) -> tuple[int, int]:
        """Picture size as (rows, columns)."""
        return self._size

    @size.setter
    def size(self, size: tuple[int, int]) -> None:
        self._size = check_size(size)
        self._layouts.clear()

    @property
    def annotate(self) -> bool:
        """Draw markers, the colour bar and the text lines."""
        return self._annotate

    @annotate.setter
    def annotate(self, value: bool) -> None:
        self._annotate = bool(value)
        self._layouts.clear()

    @property
    def units(self) -> str | None:
        """Display units for temperature frames (C, F, K), or None to keep each frame's."""
        return self._units

    @units.setter
    def units(self, units: str | None) -> None:
        canonical = normalise_units(units) if units else None
        if canonical is not None and canonical not in TEMPERATURE_UNITS:
            raise InputError(f"display units must be C, F or K, got {units!r}")
        self._units = canonical

    @property
    def flip(self) -> str:
        """Mirroring: none, h (left-right), v (top-bottom) or both."""
        return self._flip

    @flip.setter
    def flip(self, flip: str) -> None:
        self._flip = normalise_flip(flip)

    @property
    def rotate(self) -> int:
        """Clockwise rotation in degrees: 0, 90, 180 or 270."""
        return self._rotate

    @rotate.setter
    def rotate(self, degrees: int) -> None:
        self._rotate = normalise_rotation(degrees)

    @property
    def scaling(self) -> Scaling:
        """How values map onto the colour table; setting it releases a locked range."""
        return self._scaling

    @scaling.setter
    def scaling(self, scaling: Scaling) -> None:
        self._scaling = scaling
        self._locked = None

    def lock_range(self, limits: tuple[float, float] | None = None, units: str | None = None) -> None:
        """Keep the colour range fixed from now on: `limits` in `units`, default the last picture's range."""
        if limits is None:
            if self.last is None:
                raise InputError("no picture rendered yet: nothing to lock")
            limits, units = (self.last.lo, self.last.hi), self.last.units
        lo, hi = (float(v) for v in limits)
        if not lo < hi:
            raise InputError(f"a range needs LOW < HIGH, got {lo}:{hi}")
        self._locked = (lo, hi, normalise_units(units or self._units or "C"))

    def unlock_range(self) -> None:
        """Go back to a range computed per frame (as the scaling says)."""
        self._locked = None

    # Rendering.
    def _display(self, frame: Frame) -> tuple[np.ndarray, np.ndarray | None, str]:
        data = frame.data
        valid = valid_mask(data, bad_pixel_mask(frame.shape, frame.meta.get("bad_pixels")))
        data = fill_invalid(data, valid)
        if self.filters.active:
            if frame.units != self._filter_units:
                self.filters.reset()
                self._filter_units = frame.units
            data = self.filters.apply(data)
        units = frame.units
        if frame.is_temperature and self._units and self._units != units:
            data, units = convert(data, units, self._units).astype(np.float32), self._units
        data = np.ascontiguousarray(orient(data, self._flip, self._rotate))
        if valid is not None:
            valid = orient(valid, self._flip, self._rotate)
        return data, valid, units

    def _scale(self, values: np.ndarray, units: str) -> Scale:
        temperature = units in TEMPERATURE_UNITS
        min_span = convert_delta(MIN_SPAN, units) if temperature else MIN_SPAN
        mode = self._scaling.mode
        if mode == "fixed":
            return Scale(*self._scaling.limits)  # type: ignore[misc]
        if mode == "lock" and self._locked is None:
            lo, hi = value_range(values, "percentile", self._scaling.percentiles, min_span)
            self._locked = (lo, hi, units)
        if self._locked is not None:
            lo, hi, locked_units = self._locked
            if locked_units == units:
                return Scale(lo, hi)
            if temperature and locked_units in TEMPERATURE_UNITS:
                return Scale(*(float(v) for v in convert(np.array([lo, hi]), locked_units, units)))
        if mode == "equalize":
            return equalized_scale(values, min_span)
        return Scale(*value_range(values, "auto" if mode == "auto" else "percentile",
                                  self._scaling.percentiles, min_span))

    def _layout(self, shape: tuple[int, int]) -> tuple[Layout, np.ndarray]:
        cached = self._layouts.get(shape)
        if cached is None:
            layout = make_layout(self._size, shape, self._annotate)
            cached = (layout, background(layout, self._table))
            if len(self._layouts) >= LAYOUT_CACHE:
                self._layouts.pop(next(iter(self._layouts)))
            self._layouts[shape] = cached
        return cached

    def _colour(self, data: np.ndarray, scale: Scale, layout: Layout) -> np.ndarray:
        image = layout.image
        big = self._upscale(data, (image.h, image.w))
        if big.dtype != np.float32:
            big = big.astype(np.float32)
        depth = cv2.CV_8U if scale.levels is None else cv2.CV_16U
        index = cv2.addWeighted(big, scale.gain, big, 0.0, scale.offset, dtype=depth)  # saturating
        if scale.levels is not None:
            index = np.minimum(index, scale.steps, out=index)
            index = scale.levels[index]
        return cv2.applyColorMap(index, self._lut)

    def caption(self, frame: Frame) -> list[str]:
        """Caption candidates, longest first: colormap, upscaler, active filters and the frame's local time."""
        when: datetime = frame.timestamp.astimezone()  # type: ignore[union-attr]
        parts = [self._cmap, self._upscaler] + ([self.filters.describe()] if self.filters.active else [])
        parts += list(self.caption_notes)
        settings = " · ".join(parts)
        return [f"{settings} · {when:%Y-%m-%d %H:%M:%S}", f"{settings} · {when:%H:%M:%S}", f"{when:%H:%M:%S}"]

    def render(self, frame: Frame) -> np.ndarray:
        """The (H, W, 3) uint8 RGB picture of `frame` (a new array each call)."""
        data, valid, units = self._display(frame)
        values = data.ravel() if valid is None else data[valid]
        scale = self._scale(values, units)
        layout, static = self._layout(data.shape)
        rgb = self._colour(data, scale, layout)
        if layout.fills:
            canvas = rgb
        else:
            canvas = static.copy()
            image = layout.image
            canvas[image.y:image.y + image.h, image.x:image.x + image.w] = rgb
        readout = measure(data, valid, layout)
        if layout.font_px is not None:
            annotate(canvas, layout, readout, scale, units, self.caption(frame))
        self.last = RenderInfo(scale.lo, scale.hi, units, readout, layout, data.shape)  # type: ignore[arg-type]
        return canvas
