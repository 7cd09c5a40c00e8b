"""Frame pacing for software sources (simulated and replayed cameras)."""

from __future__ import annotations

from ..clock import Clock, SystemClock
from .base import sleep_or_stop


class Pacer:
    """Spaces ticks `period` seconds apart on the clock; without `realtime` it never sleeps.

    The wait is stop-aware (`sleep_or_stop`): a stop request ends it with EndOfStream naming `where`.
    """

    def __init__(self, realtime: bool = True, clock: Clock | None = None, where: str = "pacing") -> None:
        self.realtime = realtime
        self._clock = clock if clock is not None else SystemClock()
        self._where = where
        self._last: float | None = None

    def wait(self, period: float) -> None:
        """Sleep until `period` seconds after the previous tick; the first tick is immediate."""
        if not self.realtime:
            return
        now = self._clock.monotonic()
        if self._last is None:
            self._last = now
            return
        due = self._last + period
        if due > now:
            sleep_or_stop(self._clock, due - now, self._where)
            self._last = due
        else:
            self._last = now  # never bank time: a late consumer gets no burst of frames afterwards

    def reset(self) -> None:
        """Forget the schedule (after a pause or a re-open)."""
        self._last = None
