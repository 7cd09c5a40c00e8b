"""The paced clock: `sim` does its bus transfers and polls in virtual time and sleeps for real once a frame."""

from __future__ import annotations

import itertools
import time

import pytest

from thermtool import open_sensor
from thermtool.clock import PacedClock, VirtualClock


def test_paced_clock_runs_ahead_then_waits_for_real_time() -> None:
    real = VirtualClock(100.0)
    clock = PacedClock(real)
    assert clock.monotonic() == 100.0
    clock.sleep(0.25)  # an emulated wait: instant
    assert clock.monotonic() == 100.25 and real.monotonic() == 100.0
    clock.pace()  # the frame's one real sleep
    assert real.monotonic() == 100.25
    real.sleep(2.0)  # nobody read for two seconds: virtual time must not lag behind
    clock.catch_up()
    assert clock.monotonic() == 102.25
    clock.pace()
    assert real.monotonic() == 102.25  # nothing to wait for


def test_sim_sleeps_once_per_frame_in_real_time(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr("thermtool.clock.time.sleep", sleep)
    with open_sensor("sim", rate=32) as sensor:
        frames = [sensor.read()]
        sleeps.clear()  # the first frame also waits for the run to reach a subpage 0: more than a frame's worth
        frames += [sensor.read() for _ in range(8)]
    assert len(sleeps) <= len(frames) - 1
    assert all(0 < s <= 1 / 16 + 1e-3 for s in sleeps)  # at most a frame's worth each (2 subpages at 64 Hz)
    assert all(b.timestamp > a.timestamp for a, b in itertools.pairwise(frames))
