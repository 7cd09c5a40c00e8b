"""A stand-in for cv2.VideoCapture that serves raw frames as a USB thermal camera sends them.

Frames come from a function of the frame index (None ends the stream, as an unplugged camera does) at
`fps` on `clock`. Like OpenCV, the capture converts frames to 8-bit BGR unless the driver turned RGB
conversion off, so a driver that forgets to fails the way it would on hardware. Faults: `fail_reads(n)`
(the next n reads return no frame) and `opened=False` (a device that cannot be opened).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..clock import Clock, VirtualClock

CAP_PROP_CONVERT_RGB = 16  # cv2.CAP_PROP_CONVERT_RGB
CAP_PROP_FOURCC = 6  # cv2.CAP_PROP_FOURCC
CAP_PROP_READ_TIMEOUT_MSEC = 54  # cv2.CAP_PROP_READ_TIMEOUT_MSEC

#: Raw frame number -> the frame as OpenCV returns it with RGB conversion off, or None at the end.
FrameSource = Callable[[int], np.ndarray | None]


class FakeCapture:
    """Serves `source(0), source(1), ...` at `fps` frames per second of `clock`."""

    def __init__(self, source: FrameSource, *, fps: float = 25.0, clock: Clock | None = None,
                 opened: bool = True) -> None:
        self.source = source
        self.fps = float(fps)
        self.clock = clock if clock is not None else VirtualClock()
        self.opened = opened
        self.properties: dict[int, float] = {CAP_PROP_CONVERT_RGB: 1.0}
        self.index = 0
        self.released = False
        self._failures = 0
        self._next_at = self.clock.monotonic()

    def fail_reads(self, count: int = 1) -> None:
        """Make the next `count` reads return no frame."""
        self._failures += int(count)

    def isOpened(self) -> bool:
        """True when the device could be opened and is not released."""
        return self.opened and not self.released

    def set(self, prop: int, value: float) -> bool:
        """Record a capture property."""
        self.properties[int(prop)] = float(value)
        return True

    def get(self, prop: int) -> float:
        """A recorded capture property (0 when never set)."""
        return self.properties.get(int(prop), 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        """The next frame once it is due; (False, None) on an injected failure, at the end, or when the frame is
        not due within the read timeout (CAP_PROP_READ_TIMEOUT_MSEC, when set), as OpenCV's V4L2 backend does."""
        limit = self.properties.get(CAP_PROP_READ_TIMEOUT_MSEC, 0.0) / 1000.0
        wait = self._next_at - self.clock.monotonic()
        if limit > 0 and wait > limit:
            self.clock.sleep(limit)
            return False, None
        self.clock.sleep(wait)
        self._next_at = max(self._next_at + 1.0 / self.fps, self.clock.monotonic())
        if self._failures:
            self._failures -= 1
            return False, None
        frame = self.source(self.index)
        if frame is None:
            return False, None
        self.index += 1
        if self.properties.get(CAP_PROP_CONVERT_RGB, 1.0):
            return True, _as_bgr(frame)
        return True, frame

    def release(self) -> None:
        """Close the fake device."""
        self.released = True


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    """What OpenCV's default conversion would make of a raw frame: an 8-bit, 3-channel picture."""
    grey = np.asarray(frame).reshape(frame.shape[0], -1)[:, : frame.shape[1]].astype(np.float64)
    scaled = np.rint(255 * (grey - grey.min()) / max(float(np.ptp(grey)), 1e-9)).astype(np.uint8)
    return np.repeat(scaled[..., None], 3, axis=2)
