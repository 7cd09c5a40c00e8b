"""Clocks: the system clock, a virtual clock whose sleep() advances time instantly, and a paced one.

Drivers take a clock so the same code runs on hardware in real time and on an emulator in virtual time
(where the emulated bus adds each transaction's duration), which makes rate measurements repeatable.
A `PacedClock` is virtual time held to real time: an emulator's many short waits (each bus transfer,
each poll) cost nothing, and one real sleep per frame delivers frames at the rate asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """What drivers need of time."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going back."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Simulated time: sleep() moves it forward at once."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)

    def monotonic(self) -> float:
        """The current simulated time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Advance simulated time by `seconds` (negative values are ignored)."""
        if seconds > 0:
            self.now += seconds


class PacedClock(VirtualClock):
    """Virtual time that starts at real time and is brought back in step with it around each frame.

    `sleep()` advances at once; `pace()` sleeps for real until real time reaches virtual time (frames
    come no earlier than a real sensor's); `catch_up()` moves virtual time up to real time (a real sensor
    goes on measuring while nobody reads it, so virtual time never lags behind).
    """

    def __init__(self, real: Clock | None = None) -> None:
        self._real = real if real is not None else SystemClock()
        super().__init__(self._real.monotonic())

    def catch_up(self) -> None:
        """Move virtual time forward to real time if it is behind."""
        self.now = max(self.now, self._real.monotonic())

    def pace(self, sleep: Callable[[Clock, float], None] | None = None) -> None:
        """Sleep for real until real time reaches virtual time: the one real sleep of a frame.

        `sleep(clock, seconds)` does the sleeping when given (a sensor's stop-aware wait on the real clock).
        """
        ahead = self.now - self._real.monotonic()
        if sleep is None:
            self._real.sleep(ahead)
        elif ahead > 0:
            sleep(self._real, ahead)
