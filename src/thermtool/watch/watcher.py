"""The library API of the watch mode: Frames in, Events out (`Watcher.feed`, or the `watch` generator).

It adds what the pure detector leaves to the caller: the time of each frame (from its timestamp), its
units (which choose the default threshold), the frame's timestamp and sensor on each event, and a check
that drops implausible frames (mostly missing or outside any thermal sensor's range: a garbled read)
before they reach the background model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from ..errors import InputError
from ..frame import Frame
from ..units import TEMPERATURE_UNITS, convert
from .detector import Detector, DetectorConfig
from .events import Box, Event

#: Temperatures no thermal camera thermtool reads reports (C): MLX90640/41 measure -40..300 C, a
#: Lepton in low gain up to about 450 C. Pixels outside are treated as missing.
PLAUSIBLE_C = (-60.0, 500.0)
#: A frame with more than this fraction of its pixels missing or out of range is skipped.
MAX_BAD_FRACTION = 0.25


def usable(data: np.ndarray, units: str) -> np.ndarray | None:
    """`data` with out-of-range pixels as NaN, or None when too much of the frame is missing or out of range."""
    values = np.asarray(data, dtype=np.float64)
    good = np.isfinite(values)
    if units in TEMPERATURE_UNITS:
        low, high = convert(np.array(PLAUSIBLE_C), "C", units)
        with np.errstate(invalid="ignore"):
            good &= (values >= low) & (values <= high)
    if good.mean() < 1.0 - MAX_BAD_FRACTION:
        return None
    return values if good.all() else np.where(good, values, np.nan)


class FrameTimes:
    """Seconds since the first frame, from frame timestamps.

    Frames whose timestamps do not advance (a stack of frames loaded from one file shares the file's time)
    are spaced `period` seconds after the previous one instead.
    """

    def __init__(self, period: float = 1.0) -> None:
        if not period > 0:
            raise InputError(f"frame period must be above 0, got {period}")
        self.period = period
        self._first: datetime | None = None
        self.last = 0.0
        self.guessed = 0

    def __call__(self, stamp: datetime) -> float:
        """The time of a frame stamped `stamp`, in seconds since the first frame."""
        if self._first is None:
            self._first = stamp
            return 0.0
        t = (stamp - self._first).total_seconds()
        if t <= self.last:
            t = self.last + self.period
            self.guessed += 1
        self.last = t
        return t


class Watcher:
    """Feeds Frames to a Detector made for their units on the first frame; `feed(frame)` returns its events.

    `period` is the frame spacing assumed when timestamps do not advance.
    """

    def __init__(self, config: DetectorConfig | None = None, *, period: float = 1.0) -> None:
        self.config = config or DetectorConfig()
        self.times = FrameTimes(period)
        self.detector: Detector | None = None
        self.units = ""
        self.skipped = 0
        self._last: Frame | None = None

    @property
    def warming_up(self) -> bool:
        """True until the background is learned."""
        return self.detector is None or self.detector.warming_up

    @property
    def t(self) -> float:
        """Time of the latest frame, in seconds since the first."""
        return self.times.last

    @property
    def active(self) -> int:
        """Objects present now."""
        return 0 if self.detector is None else self.detector.active

    def present(self) -> list[tuple[int, Box]]:
        """(number, box) of each object present now."""
        return [] if self.detector is None else self.detector.present()

    def feed(self, frame: Frame) -> list[Event]:
        """Events caused by `frame` (all frames must share one shape and one unit); none for a skipped frame."""
        if self.detector is None:
            self.detector = Detector(self.config, frame.units)
            self.units = frame.units
        elif frame.units != self.units:
            raise InputError(f"frame units changed from {self.units} to {frame.units} while watching")
        data = usable(frame.data, frame.units)
        if data is None:
            self.skipped += 1
            return []
        t = self.times(frame.timestamp)  # type: ignore[arg-type]
        self._last = frame
        return [self._label(event, frame) for event in self.detector.step(data, t)]

    def finish(self) -> list[Event]:
        """End events for the objects still present (the stream stopped)."""
        if self.detector is None or self._last is None:
            return []
        return [self._label(event, self._last) for event in self.detector.finish()]

    def _label(self, event: Event, frame: Frame) -> Event:
        return replace(event, units=frame.units, time=frame.timestamp, sensor=frame.sensor)


def watch(frames: Iterable[Frame], config: DetectorConfig | None = None, **settings: Any) -> Iterator[Event]:
    """Yield the events of a stream of frames, then end events for objects still present when it stops.

    `settings` override fields of `config` (e.g. `watch(frames, min_area=4, warmup=2.0)`).
    """
    watcher = Watcher(replace(config or DetectorConfig(), **settings))
    for frame in frames:
        yield from watcher.feed(frame)
    yield from watcher.finish()
