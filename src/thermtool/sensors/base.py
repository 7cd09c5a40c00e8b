"""The Sensor protocol every camera (hardware, simulated, replay) implements."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..clock import Clock
from ..errors import EndOfStream

if TYPE_CHECKING:  # Frame (and numpy) load with the first frame, not with the CLI
    from ..frame import Frame

_STOP = threading.Event()
STOP_POLL_S = 0.2  # longest uninterrupted sleep in a driver's wait: a stop request is seen within this


def request_stop() -> None:
    """Ask every blocking sensor read in this process to end soon (the CLI's SIGTERM/SIGINT handler calls it).

    Drivers that wait for the hardware check `stop_requested()` between waits and end the read with
    EndOfStream, so a stop takes effect within a fraction of a second even at the slowest refresh rates.
    """
    _STOP.set()


def clear_stop() -> None:
    """Withdraw a stop request (when the command that handled it is done)."""
    _STOP.clear()


def stop_requested() -> bool:
    """True after `request_stop()` until `clear_stop()`."""
    return _STOP.is_set()


def check_stop(where: str) -> None:
    """EndOfStream ("`where`: read stopped on request") once a stop has been requested."""
    if _STOP.is_set():
        raise EndOfStream(f"{where}: read stopped on request")


def sleep_or_stop(clock: Clock, seconds: float, where: str) -> None:
    """Sleep `seconds` on `clock` in slices of at most STOP_POLL_S, checking for a stop request before each.

    Every driver waits for its hardware through this, so SIGTERM ends a read within a fraction of a second
    even when the next frame is seconds away.
    """
    end = clock.monotonic() + seconds
    while True:
        check_stop(where)
        left = end - clock.monotonic()
        if left <= 0:
            return
        clock.sleep(min(left, STOP_POLL_S))


class Sensor(ABC):
    """A source of Frames: open it (or use `with`), then `read()` blocks for the next new frame.

    Subclasses implement `_open`, `_close` and `_read`; `info` describes the sensor and its counters.
    """

    #: Registry name of the sensor kind (e.g. "mlx90640").
    kind: str = ""

    def __init__(self) -> None:
        self._is_open = False
        self.frames_read = 0
        self._interrupted = False

    @property
    def is_open(self) -> bool:
        """True between open() and close()."""
        return self._is_open

    def open(self) -> Sensor:
        """Open the device (idempotent); returns self."""
        if not self._is_open:
            self._open()
            self._is_open = True
        return self

    def close(self) -> None:
        """Release the device (idempotent)."""
        if self._is_open:
            self._is_open = False
            self._close()
        self._interrupted = False  # a closed sensor starts afresh when opened again

    def read(self, timeout: float | None = None) -> Frame:
        """Block until the next new frame (at most `timeout` seconds) and return it."""
        self.open()
        frame = self._read(timeout)
        self.frames_read += 1
        return frame

    def interrupt(self) -> None:
        """Ask a blocked `read()` of this sensor to end with EndOfStream soon (signal-safe: it only sets a flag).

        For stopping one sensor (a view closing its feed); SIGTERM stops them all through `request_stop`.
        Sensors whose reads can wait on something outside (a network link) honour both within a second;
        the others return their next frame as usual and the caller's stop check does the rest.
        """
        self._interrupted = True

    @property
    def interrupted(self) -> bool:
        """True once this sensor was interrupted or the process asked every read to stop."""
        return self._interrupted or stop_requested()

    def __enter__(self) -> Sensor:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        while True:
            try:
                yield self.read()
            except EndOfStream:
                return

    @property
    def info(self) -> dict[str, Any]:
        """What the sensor is and how it has been doing (model, shape, rate, counters)."""
        return {"sensor": self.kind, "frames_read": self.frames_read, **self._info()}

    def _open(self) -> None:  # noqa: B027 - optional hook
        """Acquire the device; the default has nothing to acquire."""

    def _close(self) -> None:  # noqa: B027 - optional hook
        """Release the device; the default has nothing to release."""

    @abstractmethod
    def _read(self, timeout: float | None) -> Frame:
        """Return the next new frame; raise SensorTimeoutError after `timeout` seconds."""

    def _info(self) -> dict[str, Any]:
        return {}
