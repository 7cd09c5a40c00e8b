"""A sensor read on a background thread: the newest frame is always at hand and a slow view never stalls the camera."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from ..errors import EndOfStream, SensorError, SensorTimeoutError, ThermtoolError
from ..frame import Frame
from ..sensors.base import Sensor

#: Weight of the newest interval in the smoothed frame interval (the rate shown is its inverse).
FPS_SMOOTHING = 0.2


class FrameFeed:
    """Reads `sensor` on a thread; `latest()` and `wait(after)` hand out (sequence, frame), newest first.

    Only the newest frame is kept, so memory stays bounded whatever the consumers do. `on_frame` is called on
    the reading thread after each frame (the web server uses it to wake its event loop).
    """

    def __init__(self, sensor: Sensor, *, read_timeout: float = 2.0,
                 on_frame: Callable[[int, Frame], None] | None = None) -> None:
        self.sensor = sensor
        self.read_timeout = read_timeout
        self.on_frame = on_frame
        self.error: ThermtoolError | None = None
        self.ended = False
        self._interval = 0.0
        self._sequence = 0
        self._frame: Frame | None = None
        self._last_arrival: float | None = None
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._finished = False

    def start(self) -> FrameFeed:
        """Open the sensor (errors surface here, in the caller) and start reading."""
        self.sensor.open()
        self._thread = threading.Thread(target=self._run, name=f"thermtool-feed-{self.sensor.kind}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop reading (a read waiting on a network link gives up within a second) and close the sensor."""
        self._stopping.set()
        self.sensor.interrupt()
        if self._thread is not None:
            self._thread.join(self.read_timeout + 1.0)
        self.sensor.close()
        with self._changed:
            self._changed.notify_all()

    def __enter__(self) -> FrameFeed:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the reading thread is alive."""
        return self._thread is not None and not self._finished

    @property
    def fps(self) -> float:
        """Frames per second recently (0 before the second frame)."""
        return 1.0 / self._interval if self._interval > 0.0 else 0.0

    @property
    def age(self) -> float | None:
        """Seconds since the newest frame arrived (None before the first): how stale the picture on show is."""
        last = self._last_arrival
        return None if last is None else time.monotonic() - last

    @property
    def sequence(self) -> int:
        """Number of frames read so far (the sequence number of the newest)."""
        return self._sequence

    def latest(self) -> tuple[int, Frame] | None:
        """The newest (sequence, frame), or None before the first frame."""
        with self._changed:
            return None if self._frame is None else (self._sequence, self._frame)

    def wait(self, after: int, timeout: float | None) -> tuple[int, Frame] | None:
        """The newest frame once its sequence exceeds `after`; None on timeout or when reading has stopped."""
        with self._changed:
            self._changed.wait_for(lambda: self._sequence > after or not self.running, timeout)
            return (self._sequence, self._frame) if self._sequence > after and self._frame is not None else None

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    self._publish(self.sensor.read(self.read_timeout))
                except SensorTimeoutError:
                    continue
                except EndOfStream:
                    self.ended = True
                    break
                except ThermtoolError as exc:
                    self.error = exc
                    break
                except Exception as exc:  # a bug in a driver or callback: a shown error, never a silent dead thread
                    self.error = SensorError(f"internal error: {type(exc).__name__}: {exc}")
                    break
        finally:
            with self._changed:
                self._finished = True
                self._changed.notify_all()

    def _publish(self, frame: Frame) -> None:
        now = time.monotonic()
        with self._changed:
            if self._last_arrival is not None:
                interval = now - self._last_arrival
                self._interval = interval if self._interval == 0.0 else (
                    self._interval + FPS_SMOOTHING * (interval - self._interval))
            self._last_arrival = now
            self._sequence += 1
            self._frame = frame
            sequence = self._sequence
            self._changed.notify_all()
        callback = self.on_frame
        if callback is not None:
            callback(sequence, frame)
