"""Event records of the watch mode: a warm object started, moved on, or ended; as dicts, JSON lines or text."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

from ..units import TEMPERATURE_UNITS, UNIT_SYMBOLS


class Box(NamedTuple):
    """A pixel rectangle of a frame: left column `x`, top row `y`, `width` and `height` (all in pixels)."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        """One past the last column."""
        return self.x + self.width

    @property
    def bottom(self) -> int:
        """One past the last row."""
        return self.y + self.height

    def intersection(self, other: tuple[int, int, int, int]) -> int:
        """Pixels the two boxes share."""
        o = Box(*other)
        w = min(self.right, o.right) - max(self.x, o.x)
        h = min(self.bottom, o.bottom) - max(self.y, o.y)
        return max(w, 0) * max(h, 0)

    def iou(self, other: tuple[int, int, int, int]) -> float:
        """Intersection over union (0 disjoint .. 1 identical)."""
        o = Box(*other)
        shared = self.intersection(o)
        return shared / (self.width * self.height + o.width * o.height - shared)

    def gap(self, other: tuple[int, int, int, int]) -> int:
        """Pixels between the boxes along the wider axis of separation (0 when they touch or overlap)."""
        o = Box(*other)
        dx = max(o.x - self.right, self.x - o.right, 0)
        dy = max(o.y - self.bottom, self.y - o.bottom, 0)
        return max(dx, dy)


@dataclass(frozen=True)
class Event:
    """One change of a tracked warm object.

    `kind` is start, update or end; `track` numbers objects from 1; `frame` counts frames fed from 0; `t`
    is seconds since the first frame and `time` the frame's timestamp. `box`, `area` (pixels), `peak` and
    `mean` (in `units`, the frame's) describe the object as last seen, except that an end event's `peak` is
    the highest seen during the track. `delta` is how far the peak stands above the background, `duration`
    the seconds since the start event, `active` the objects present after this event (the people count of
an occupancy sensor; `occupied` in the dict says whether it is above 0), `shape` the frame's
    (rows, columns). `snapshot` is the picture saved for a start event, if any.
    """

    kind: str
    track: int
    frame: int
    t: float
    box: Box
    area: int
    peak: float
    mean: float
    delta: float
    duration: float
    active: int
    shape: tuple[int, int]
    units: str = ""
    time: datetime | None = None
    sensor: str = ""
    snapshot: str | None = None

    def replace(self, **changes: Any) -> Event:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: {"event": kind, "id": track, "time": ISO 8601, "box": {...}, ...}."""
        box = Box(*self.box)
        return {
            "event": self.kind, "id": self.track, "time": self.time.isoformat() if self.time else None,
            "t": round(self.t, 3), "frame": self.frame,
            "box": {"x": box.x, "y": box.y, "width": box.width, "height": box.height},
            "area": self.area, "peak": _number(self.peak), "mean": _number(self.mean), "delta": _number(self.delta),
            "units": self.units, "duration": round(self.duration, 3), "active": self.active,
            "occupied": self.active > 0,
            "shape": list(self.shape), "sensor": self.sensor, "snapshot": self.snapshot,
        }

    def to_json(self) -> str:
        """One line of JSON (no newline)."""
        return json.dumps(self.to_dict(), separators=(", ", ": "))

    def describe(self) -> str:
        """A readable one-line summary: time, kind, object, where, how warm."""
        unit = UNIT_SYMBOLS.get(self.units, self.units)
        places = 1 if self.units in TEMPERATURE_UNITS else 0
        when = self.time.astimezone().strftime("%H:%M:%S") if self.time else f"{self.t:.1f}s"
        box = Box(*self.box)
        where = f"x={box.x} y={box.y} {box.width}x{box.height} px"
        text = (f"{when} {self.kind:<6} #{self.track} at {where}, peak {self.peak:.{places}f} {unit}, "
                f"mean {self.mean:.{places}f} {unit} (frame {self.frame}")
        if self.kind != "start":
            text += f", after {self.duration:.1f} s"
        text += f", {self.active} present)"
        return text + (f" -> {self.snapshot}" if self.snapshot else "")


def _number(value: float) -> float | None:
    """Rounded for output; NaN and infinities become null (JSON has no NaN)."""
    return round(float(value), 3) if math.isfinite(value) else None
