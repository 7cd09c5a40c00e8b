"""The watch detector: frames of temperatures (or raw counts) in, start/update/end events out (pure).

Per frame: take the scene-wide drift out (median difference to the background), compare each pixel with
its background, keep pixels warmer than max(k_sigma x noise, min_delta), where the noise is the pixel's
own (or the frame's typical noise, if larger: a few frames of warm-up can underestimate one pixel), group
them into connected objects of at least `min_area` pixels (an angular size, so the default suits any
resolution and field of view), follow the objects with hysteresis, then let the background learn slowly
where nothing is present.

Occupancy: the pixels of every object present are kept out of the background's learning, and an object
whose pixels stay warmer than their background is held present even in frames where it dims under the
threshold (a seated person). Only an object whose centre has not moved for `absorb_after` seconds
becomes background (and its pixels follow the scene for a while after): a heater switched on raises one
alarm that ends, not one that lasts all winter, while a person at a desk keeps shifting and stays present.

All thresholds are in the frame's own units (C, F, K or raw counts); `resolve_min_delta` picks the default
for temperature units. Time is whatever the caller passes (seconds); nothing here reads a clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from scipy import ndimage

from ..errors import InputError
from ..units import TEMPERATURE_UNITS, convert_delta
from .background import Background
from .blobs import EIGHT_CONNECTED, find_blobs
from .events import Box, Event
from .tracker import Track, Tracker

#: Default smallest warming that counts, in kelvin (= C): the floor under the noise-driven threshold. A
#: person in a thick coat seen from above stands only about 2 K above the floor on an MLX90640.
DEFAULT_MIN_DELTA_K = 1.0
#: No default minimum area below this many pixels (a 2-pixel object is noise on any sensor).
MIN_AREA_FLOOR = 3
#: Frames of warm-up when no time is given: enough for a first noise estimate; the model keeps learning.
WARMUP_FRAMES = 8
#: An object is held while the mean warmth over the pixels it last covered is at least this fraction of
#: their threshold (hysteresis: it is found at the full threshold, kept down to this).
HOLD_FRACTION = 0.8
#: After a motionless object becomes background, its pixels follow the scene for this many times
#: `absorb_after` (a heater still warming up stays background instead of starting again).
SETTLE_TIMES = 3.0
#: Horizontal field of view (degrees) of the usual sensor of each frame shape (rows, columns): MLX90640
#: and MLX90641 wide versions (110 deg), FLIR Lepton 2.x (51 deg) and 3.x (57 deg), Panasonic AMG88xx (60).
KNOWN_FOV = {(24, 32): 110.0, (12, 16): 110.0, (60, 80): 51.0, (120, 160): 57.0, (8, 8): 60.0}
#: Field of view assumed for other shapes.
DEFAULT_FOV = 60.0

@dataclass(frozen=True)
class DetectorConfig:
    """Detector settings; times in seconds, thresholds in the frame's units.

    min_delta: smallest warming above background that counts (None: 1 K in the frame's temperature units;
    raw counts need it given). k_sigma: threshold in multiples of each pixel's noise (the larger of the two
    wins). min_area: smallest object in pixels (None: `min_angle` square degrees at the sensor's resolution
    and `fov`, at least `MIN_AREA_FLOOR`). fov: horizontal field of view in degrees (None: the usual one
    of the frame's shape). warmup: seconds spent learning the background before any event (None: the first
    `WARMUP_FRAMES` frames). background_time: time constant of the background's slow learning.
    absorb_after: a warm spot that stays put this long becomes background. start_frames / end_frames:
    hysteresis in frames. update_every: seconds between update events of an object (0: every frame).
    link_fraction: largest jump of an object between frames, as a fraction of the frame's longer side.
    """

    min_delta: float | None = None
    k_sigma: float = 3.0
    min_area: int | None = None
    min_angle: float = 40.0
    fov: float | None = None
    warmup: float | None = None
    background_time: float = 60.0
    absorb_after: float = 300.0
    start_frames: int = 2
    end_frames: int = 2
    update_every: float = 1.0
    link_fraction: float = 0.15

    def __post_init__(self) -> None:
        positive = ("k_sigma", "min_angle", "fov", "background_time", "absorb_after", "link_fraction")
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if not math.isfinite(value):
                raise InputError(f"watch setting {item.name} must be a finite number, got {value}")
            if item.name in positive and value <= 0:
                raise InputError(f"watch setting {item.name} must be above 0, got {value}")
        if (self.warmup is not None and self.warmup < 0) or self.update_every < 0:
            raise InputError("--warmup and --update-every must not be negative")
        if self.min_delta is not None and self.min_delta < 0:
            raise InputError(f"--min-delta must not be negative, got {self.min_delta}")
        if self.min_area is not None and self.min_area < 1:
            raise InputError(f"--min-area must be at least 1 pixel, got {self.min_area}")
        if self.fov is not None and self.fov >= 180:
            raise InputError(f"--fov must be under 180 degrees, got {self.fov}")
        if self.start_frames < 1 or self.end_frames < 1:
            raise InputError("--start-frames and --end-frames must be at least 1")

    def fov_for(self, shape: tuple[int, int]) -> float:
        """Horizontal field of view in degrees: `fov`, or the usual one for frames of `shape`."""
        return self.fov if self.fov is not None else KNOWN_FOV.get(shape, DEFAULT_FOV)

    def area_for(self, shape: tuple[int, int]) -> int:
        """Smallest object in pixels for frames of `shape`: `min_area`, or `min_angle` in (square) pixels."""
        if self.min_area is not None:
            return self.min_area
        pixel = self.fov_for(shape) / shape[1]
        return max(MIN_AREA_FLOOR, round(self.min_angle / (pixel * pixel)))

    def link_distance(self, shape: tuple[int, int]) -> int:
        """Largest gap in pixels between an object's boxes in consecutive frames."""
        return max(2, round(self.link_fraction * max(shape)))


def resolve_min_delta(min_delta: float | None, units: str) -> float:
    """The threshold floor in `units`: the one given, else 1 K expressed in C, K or F.

    Raw counts and AGC output have no fixed scale (a Lepton's raw responsivity changes with its own
    temperature: Lepton Engineering Datasheet rev 203, section 3.5.3), so they need a value given.
    """
    if min_delta is not None:
        return float(min_delta)
    if units in TEMPERATURE_UNITS:
        return convert_delta(DEFAULT_MIN_DELTA_K, units)
    raise InputError(f"frames in {units} have no temperature scale: give --min-delta in {units} "
                     "(e.g. 60 for a Lepton's raw counts indoors), or use temperatures (Lepton: --radiometry)")


def noise_threshold(sigma: np.ndarray, k_sigma: float, min_delta: float) -> np.ndarray:
    """Per-pixel threshold: k_sigma times the pixel's noise, or the frame's median noise if larger, at least
    `min_delta`. The median guards pixels whose few warm-up frames happened to be calm."""
    return np.maximum(k_sigma * np.maximum(sigma, np.median(sigma)), min_delta)


class Detector:
    """Turns a stream of frames (2-D arrays, all one shape and unit) into events: `step(data, t)`.

    `units` only picks the default `min_delta`. Feed frames in time order; `finish()` ends what is left.
    """

    def __init__(self, config: DetectorConfig | None = None, units: str = "C") -> None:
        self.config = config or DetectorConfig()
        self.units = units
        self.min_delta = resolve_min_delta(self.config.min_delta, units)
        self.frames = 0
        self.shape: tuple[int, int] | None = None
        self.background: Background | None = None
        self.threshold: np.ndarray | None = None
        self.foreground: np.ndarray | None = None
        self._tracker = Tracker(self.config.start_frames, self.config.end_frames, self.config.update_every)
        self._exclude = np.empty((0, 0), dtype=bool)
        self._settle_until = np.empty((0, 0))
        self._first_t = 0.0
        self._last_t = 0.0
        self._learning = True

    @property
    def warming_up(self) -> bool:
        """True while the background is still being learned (no events yet)."""
        return self._learning

    @property
    def active(self) -> int:
        """Objects currently present (the people count of an occupancy sensor)."""
        return self._tracker.active

    def present(self) -> list[tuple[int, Box]]:
        """(number, box) of each object present now."""
        return self._tracker.present()

    @property
    def min_area(self) -> int | None:
        """Smallest object in pixels (None before the first frame says the shape)."""
        return None if self.shape is None else self.config.area_for(self.shape)

    def step(self, data: np.ndarray, t: float) -> list[Event]:
        """Feed one frame taken at `t` seconds; return the events it causes (ends, starts, then updates)."""
        x = np.asarray(data, dtype=np.float64)
        frame = self.frames
        background, shape = self._prepare(x, t)
        self.frames += 1
        dt = max(t - self._last_t, 0.0)
        self._last_t = t
        valid = np.isfinite(x)
        x = np.where(valid, x, 0.0)
        if self._learning and self._still_learning(frame, t):
            background.learn(x, valid)
            return []
        self._learning = False
        background.adopt(x, valid)
        background.shift(background.drift(x, valid & ~self._exclude))
        residual = background.residual(x, valid)
        threshold = noise_threshold(background.sigma, self.config.k_sigma, self.min_delta)
        blobs, foreground = find_blobs(valid & (residual > threshold), x, residual, self.config.area_for(shape))

        def still_warm(track: Track) -> bool:
            pixels = track.footprint
            return bool(residual.flat[pixels].mean() >= HOLD_FRACTION * threshold.flat[pixels].mean())

        events = self._tracker.step(blobs, t, frame, shape, still_warm)
        occupied = foreground.copy()
        moving = np.zeros(shape, dtype=bool)
        settled = np.zeros(shape, dtype=bool)
        for track in self._tracker.tracks:
            if track.misses == 0:
                footprint = track.footprint
                occupied.flat[footprint] = True
                moving.flat[footprint] |= t - track.moved_t < self.config.absorb_after
                if t - max(track.moved_t, track.settled_t) >= self.config.absorb_after:
                    settled.flat[footprint] = True
                    track.settle(t)
        exclude = ndimage.binary_dilation(occupied, EIGHT_CONNECTED) if occupied.any() else occupied
        alpha = 1.0 - math.exp(-dt / self.config.background_time)
        background.update(x, valid & ~exclude, alpha, threshold)
        self._settle_until[settled] = t + SETTLE_TIMES * self.config.absorb_after
        follow = (t < self._settle_until) & ~moving & valid
        if follow.any():
            background.absorb(x, follow)
        self._exclude = exclude & ~follow
        self.threshold, self.foreground = threshold, foreground
        return events

    def finish(self) -> list[Event]:
        """End every object still present (call when the stream stops)."""
        if self.shape is None:
            return []
        return self._tracker.finish(self._last_t, max(self.frames - 1, 0), self.shape)

    def _still_learning(self, frame: int, t: float) -> bool:
        """True while frame number `frame` at `t` belongs to the warm-up."""
        if self.config.warmup is None:
            return frame < WARMUP_FRAMES
        return frame == 0 or t - self._first_t < self.config.warmup

    def _prepare(self, x: np.ndarray, t: float) -> tuple[Background, tuple[int, int]]:
        """The background and frame shape, set up by the first frame; later frames must have the same shape."""
        if x.ndim != 2:
            raise InputError(f"watch needs 2-D frames, got shape {x.shape}")
        shape = (int(x.shape[0]), int(x.shape[1]))
        if self.background is None:
            self.shape = shape
            self.background = Background(shape)
            self._exclude = np.zeros(shape, dtype=bool)
            self._settle_until = np.full(shape, -np.inf)
            self._tracker.link_distance = self.config.link_distance(shape)
            self._first_t = self._last_t = t
        elif shape != self.shape:
            raise InputError(f"frame shape changed from {self.shape} to {shape} while watching")
        return self.background, shape
