"""Benchmark: frames per second `--sensor sim` delivers against the rate asked, paced vs unpaced emulation.

  thermtool sim   open_sensor("sim", rate=R): the emulator and driver on a PacedClock (virtual time held to
                  real time, one real sleep per frame)
  (a) real time   the same sim with every emulated wait (each bus transfer, each poll) slept in real time,
                  as the sim did before the PacedClock: it loses the emulation's CPU time on top

Each is read for a few seconds at 4, 16 and 32 frames/s after one warm-up frame; the CPU time per frame is
printed too (the only cost a paced sim adds). Target: >= 31 of 32 frames/s.

Usage: python benchmarks/sim.py [--seconds S]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from thermtool import open_sensor
from thermtool.clock import Clock, SystemClock
from thermtool.sensors.mlx90640 import sim

TARGET = 31.0


class RealTimeClock(SystemClock):
    """The system clock with the PacedClock's hooks as no-ops: every emulated wait is a real sleep."""

    def catch_up(self) -> None:
        """Nothing to do: real time is the clock."""

    def pace(self, sleep: Callable[[Clock, float], None] | None = None) -> None:
        """Nothing to do: every wait already slept."""


def delivered(rate: float, seconds: float) -> tuple[float, float]:
    """(frames per second delivered, CPU milliseconds per frame) reading the sim for `seconds`."""
    with open_sensor("sim", rate=rate) as sensor:
        sensor.read()
        count = max(2, round(rate * seconds))
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            sensor.read()
        elapsed = time.perf_counter() - start
        return count / elapsed, (time.process_time() - cpu) / count * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    options = parser.parse_args()
    print(f"{'asked':>6}  {'thermtool sim':>24}  {'(a) real-time waits':>24}  {'sim / (a)':>9}")
    results = {}
    for rate in (4.0, 16.0, 32.0):
        paced = delivered(rate, options.seconds)
        paced_clock = sim.PacedClock
        sim.PacedClock = RealTimeClock  # type: ignore[misc,assignment]
        try:
            unpaced = delivered(rate, options.seconds)
        finally:
            sim.PacedClock = paced_clock  # type: ignore[misc]
        results[rate] = paced[0]
        print(f"{rate:6g}  {paced[0]:7.2f} fps {paced[1]:6.1f} ms CPU  {unpaced[0]:7.2f} fps {unpaced[1]:6.1f} ms CPU"
              f"  {paced[0] / unpaced[0]:8.2f}x")
    verdict = "met" if results[32.0] >= TARGET else "MISSED"
    print(f"\nsim at 32 frames/s asked: {results[32.0]:.2f} delivered (target >= {TARGET:g}): {verdict}")


if __name__ == "__main__":
    main()
