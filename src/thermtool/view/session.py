"""What every live view shares: the frame on show, the settings, the renderer kept in step, snapshots.

A backend feeds it events (keys, clicks, JSON settings) and asks for pictures, readouts and a status line;
the session owns one Renderer and changes only the settings that moved, so a key press costs nothing extra.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..frame import Frame
from ..render import Renderer
from ..render.annotate import MARKER, MIN_FONT, OUTLINE, Layout, font_px
from ..render.filters import FrameFilters
from ..render.scale import DEFAULT_PERCENTILES, Scaling, bad_pixel_mask, fill_invalid, valid_mask
from ..render.text import draw_text
from ..units import convert, normalise_units
from .controls import PREFERRED_CMAPS, Effect, ViewState, cycle_names
from .feed import FrameFeed
from .geometry import picture_to_sensor, sensor_to_picture
from .readout import Readout, display_frame, format_value, readout
from .snapshots import save_snapshot

#: Filters the `f` key switches on when the command line named none.
DEFAULT_FILTERS = ("ema:4",)
#: A picture is stale once no frame came for this many frame intervals (and at least STALE_MIN seconds).
STALE_INTERVALS = 3.0
STALE_MIN = 2.0


@dataclass(frozen=True)
class Health:
    """How the feed is doing: `state` live / waiting / stalled / reconnecting / ended / error, and a short text
    for the status line (the rate while live; otherwise what is wrong, never a frozen rate)."""

    state: str
    text: str
    age: float | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form for the web status."""
        return {"state": self.state, "text": self.text, "age": None if self.age is None else round(self.age, 1)}


def feed_health(fps: float, age: float | None, ended: bool, failed: bool, connected: bool | None) -> Health:
    """The Health of a feed from its rate, the age of its newest frame and its end/error/link state (pure).

    `connected` is the sensor's link state when it has one (remote), else None.
    """
    if failed:
        return Health("error", "sensor error", age)
    if ended:
        return Health("ended", "stream ended", age)
    if age is None:
        return Health("reconnecting" if connected is False else "waiting", "waiting for frames")
    limit = max(STALE_MIN, STALE_INTERVALS / fps) if fps > 0 else STALE_MIN
    if age <= limit:
        return Health("live", f"{fps:4.1f} fps", age)
    state = "reconnecting" if connected is False else "stalled"
    return Health(state, f"no frame for {age:.0f} s ({state})", age)


@dataclass(frozen=True)
class ViewOptions:
    """Settings fixed for a session (from flags/config): picture size, annotation, mounting, filters, folders."""

    size: tuple[int, int] = (480, 640)
    annotate: bool = True
    flip: str = "none"
    rotate: int = 0
    percentiles: tuple[float, float] = DEFAULT_PERCENTILES
    range_units: str = "C"
    filters: tuple[str, ...] = DEFAULT_FILTERS
    snapshot_dir: Path = field(default_factory=Path)


@dataclass(frozen=True)
class Picture:
    """A rendered picture and where its thermal image sits (for clicks and overlays)."""

    rgb: np.ndarray
    layout: Layout
    sequence: int


class ViewSession:
    """The shared live-view model over a FrameFeed; thread-safe (the web server renders off its event loop)."""

    def __init__(self, feed: FrameFeed, state: ViewState, options: ViewOptions | None = None) -> None:
        self.feed = feed
        self.options = options or ViewOptions()
        self.message = ""
        self._health_shown = ""
        self._state = state
        self._lock = threading.RLock()
        self._shown: tuple[int, Frame] | None = None
        self._display: Frame | None = None
        self._layout: Layout | None = None
        self._synced: ViewState | None = None
        self._range_locked = False
        self.filters = FrameFilters.parse(self.options.filters)
        self.renderer = Renderer(state.cmap, state.upscaler, self.options.size, annotate=self.options.annotate,
                                 flip=self.options.flip, rotate=self.options.rotate,
                                 percentiles=self.options.percentiles)

    # Settings.
    @property
    def state(self) -> ViewState:
        """The current settings."""
        return self._state

    def _set_state(self, state: ViewState) -> None:
        with self._lock:
            filter_changed = state.filter != self._state.filter
            self._state = state
            if filter_changed:
                self.filters.reset()
                if self._shown is not None:
                    self._display = self._filtered(self._shown[1])

    def act(self, action: str) -> Effect:
        """Perform a control action; a snapshot is saved here, quitting is left to the backend."""
        return self._step(lambda state: state.apply(action))

    def key(self, key: str) -> Effect:
        """Perform the action of a key press (see controls.CONTROLS)."""
        return self._step(lambda state: state.key(key))

    def _step(self, transition: Callable[[ViewState], tuple[ViewState, Effect]]) -> Effect:
        """Move to the state `transition` gives and save the snapshot it asks for; the effect for the backend."""
        with self._lock:
            state, effect = transition(self._state)
            self._set_state(state)
            if effect is Effect.SNAPSHOT:
                self.snapshot()
            return effect

    def update(self, values: Mapping[str, Any]) -> ViewState:
        """Apply settings from a JSON object (see ViewState.update); returns the new state."""
        with self._lock:
            self._set_state(self._state.update(values))
            return self._state

    def pin_at(self, x: float, y: float) -> tuple[int, int] | None:
        """Pin the spot meter to the sensor pixel under picture point (x, y) of the last picture."""
        with self._lock:
            if self._layout is None or self._shown is None:
                return None
            spot = picture_to_sensor(x, y, self._layout, self._shown[1].shape, self.renderer.flip, self.renderer.rotate)
            if spot is not None:
                self._set_state(self._state.pin(spot))
            return spot

    # Frames.
    def health(self) -> Health:
        """How the feed is doing now (live with its rate, stalled, reconnecting, ended, failed)."""
        feed = self.feed
        age = feed.age
        connected = None
        if age is None or age > STALE_MIN:  # ask the sensor about its link only when frames are late
            link = feed.sensor.info.get("connected")
            connected = link if isinstance(link, bool) else None
        return feed_health(feed.fps, age, feed.ended, feed.error is not None, connected)

    def refresh(self) -> bool:
        """Take the feed's newest frame unless paused; True when the frame on show or the health text changed."""
        latest = self.feed.latest()
        health = self.health() if self._shown else None
        health_key = "" if health is None else ("live" if health.state == "live" else health.text)
        health_changed, self._health_shown = health_key != self._health_shown, health_key
        with self._lock:
            if latest is None or self._state.paused or (self._shown and self._shown[0] == latest[0]):
                return health_changed
            self._shown = latest
            self._display = self._filtered(latest[1])
            return True

    @property
    def frame(self) -> Frame | None:
        """The raw frame on show (frozen while paused)."""
        return self._shown[1] if self._shown else None

    @property
    def sequence(self) -> int:
        """Sequence number of the frame on show (0 before the first)."""
        return self._shown[0] if self._shown else 0

    def _filtered(self, frame: Frame) -> Frame:
        self.filters.enabled = self._state.filter
        if not self.filters.active:
            return frame
        valid = valid_mask(frame.data, bad_pixel_mask(frame.shape, frame.meta.get("bad_pixels")))
        data = self.filters.apply(fill_invalid(frame.data, valid))
        return frame.replace(data=data if valid is None else np.where(valid, data, np.nan))

    def _sync(self) -> None:
        """Bring the renderer's settings in line with the state, touching only what changed."""
        state, before, renderer = self._state, self._synced, self.renderer
        if before is None or state.cmap != before.cmap:
            renderer.cmap = state.cmap
        if before is None or state.upscaler != before.upscaler:
            renderer.upscaler = state.upscaler
        if before is None or state.units != before.units:
            renderer.units = state.units
        if before is None or _scaling_key(state) != _scaling_key(before):
            limits = None
            if state.range_mode == "fixed" and state.fixed_range is not None:
                lo, hi = convert(np.array(state.fixed_range, np.float64), self.options.range_units, state.units)
                limits = (float(lo), float(hi))
            renderer.scaling = Scaling(state.range_mode, limits, self.options.percentiles)  # releases a lock
            self._range_locked = False
        if state.locked and not self._range_locked and renderer.last is not None:
            renderer.lock_range()
            self._range_locked = True
        elif not state.locked and self._range_locked:
            renderer.unlock_range()
            self._range_locked = False
        self._synced = state

    def picture(self, size: tuple[int, int] | None = None, annotate: bool | None = None) -> Picture | None:
        """The frame on show rendered with the current settings (None before the first frame).

        `size` and `annotate` override the session's for this picture (the terminal draws small, bare pictures).
        """
        with self._lock:
            if self._display is None:
                return None
            self._sync()
            renderer = self.renderer
            renderer.caption_notes = (self.filters.describe(),) if self.filters.active else ()
            saved = renderer.size, renderer.annotate
            wanted = size or self.options.size, self.options.annotate if annotate is None else annotate
            if wanted != saved:
                renderer.size, renderer.annotate = wanted
            try:
                rgb = renderer.render(self._display)
                layout = renderer.last.layout  # type: ignore[union-attr]
            finally:
                if wanted != saved:
                    renderer.size, renderer.annotate = saved
            if self._state.locked and not self._range_locked:
                self._sync()  # a lock asked for before the first picture takes this picture's range
            if self._state.spot is not None:
                self._draw_spot(rgb, layout)
            if size is None and annotate is None:
                self._layout = layout
            return Picture(rgb, layout, self.sequence)

    def _draw_spot(self, rgb: np.ndarray, layout: Layout) -> None:
        frame, spot = self._display, self._state.spot
        if frame is None or spot is None:
            return
        row, col = min(spot[0], frame.shape[0] - 1), min(spot[1], frame.shape[1] - 1)
        x, y = sensor_to_picture(row, col, layout, frame.shape, self.renderer.flip, self.renderer.rotate)
        px = layout.font_px or font_px(layout.size)
        size = max(9, px + 2)
        cv2.drawMarker(rgb, (x, y), OUTLINE, cv2.MARKER_SQUARE, size + 2, 3, cv2.LINE_AA)
        cv2.drawMarker(rgb, (x, y), MARKER, cv2.MARKER_SQUARE, size, 1, cv2.LINE_AA)
        if layout.font_px is not None or min(layout.size) >= 8 * MIN_FONT:
            value = self.readout()
            if value is not None:
                label = format_value(value.spot, value.units)
                draw_text(rgb, label, x + size // 2 + 2, y - px // 2, px, OUTLINE)
                draw_text(rgb, label, x + size // 2 + 1, y - px // 2 - 1, px, MARKER)

    def readout(self) -> Readout | None:
        """Min / max / spot of the frame on show in the display units (spot: pinned pixel, else the centre)."""
        with self._lock:
            if self._display is None:
                return None
            return readout(display_frame(self._display, self._state.units), self._state.spot)

    def status_lines(self) -> tuple[str, str]:
        """Two status lines: frame rate and readouts; settings, sensor trouble and the last message."""
        value = self.readout()
        health = self.health()
        first = f"{health.text}  " + (value.text() if value else "") if health.age is not None else health.text
        second = [self._state.describe()]
        if self.feed.error is not None:
            second.append(f"sensor error: {self.feed.error}")
        elif self.feed.ended:
            second.append("end of stream")
        if self.message:
            second.append(self.message)
        return first, " | ".join(second)

    def status(self) -> str:
        """The status lines as one line."""
        return " | ".join(self.status_lines())

    def snapshot(self) -> list[Path]:
        """Save the frame on show: the picture as shown (PNG, full size) and the temperatures (.npy)."""
        with self._lock:
            if self._shown is None:
                self.message = "no frame to save yet"
                return []
            shown = self.picture(self.options.size, self.options.annotate)
            if shown is None:
                return []
            paths = save_snapshot(self._shown[1], shown.rgb, self.options.snapshot_dir)
            self.message = f"saved {paths[0]}"
            return paths


def _scaling_key(state: ViewState) -> tuple[str, str | None]:
    """What the renderer's Scaling depends on: the mode, and the units when a fixed range must be converted."""
    return state.range_mode, state.units if state.range_mode == "fixed" else None


def initial_state(cmap: str = "inferno", upscaler: str = "bicubic", units: str = "C", *,
                  range_mode: str | None = None, fixed_range: tuple[float, float] | None = None,
                  filter: bool = False) -> ViewState:
    """The starting ViewState from flags/config: names checked against the registries, cycles built."""
    from ..render.colormaps import COLORMAPS
    from ..render.upscale import UPSCALERS

    cmap, upscaler = COLORMAPS.canonical(cmap), UPSCALERS.canonical(upscaler)
    mode = range_mode or ("fixed" if fixed_range is not None else "percentile")
    state = ViewState(cmap, upscaler, cycle_names(cmap, COLORMAPS.names(), PREFERRED_CMAPS),
                      cycle_names(upscaler, UPSCALERS.names()), normalise_units(units), "percentile",
                      fixed_range, filter=filter)
    return state.update({"range": mode}) if mode != "percentile" else state
