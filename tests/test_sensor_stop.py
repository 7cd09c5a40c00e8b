"""The process-wide stop request (SIGTERM in the CLI) ends a waiting read of every hardware driver: the
MLX90641, the Grid-EYE and a USB camera, at their slowest rates or with a sensor that never delivers.

Bounds on elapsed time are generous safety limits (a stop is seen within one 0.2 s wait slice).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from thermtool.clock import SystemClock
from thermtool.emulators.amg88xx import emulated_amg88xx
from thermtool.emulators.mlx90641 import emulated_mlx90641
from thermtool.emulators.uvc import FakeCapture
from thermtool.errors import EndOfStream
from thermtool.sensors.amg88xx.device import AMG88xxSensor
from thermtool.sensors.base import Sensor, clear_stop, request_stop
from thermtool.sensors.mlx90641.device import MLX90641Sensor
from thermtool.sensors.uvc.device import UVCSensor


def _mlx90641() -> Sensor:
    """An MLX90641 at 0.5 Hz whose measurements never complete: only the timeout (30 s) or a stop ends a read."""
    bus, device = emulated_mlx90641(clock=SystemClock(), scene=lambda t: np.full((12, 16), 25.0))
    device.never_ready = True
    return MLX90641Sensor(bus, clock=bus.clock, refresh_hz=0.5, timeout=30.0)


def _amg88xx() -> Sensor:
    """A Grid-EYE at 1 frame/s whose registers read 0 (a brown-out): every reading is dropped until the timeout."""
    bus, device = emulated_amg88xx(clock=SystemClock(), scene=lambda t: np.full((8, 8), 22.0))
    device.clear_registers(1000)
    return AMG88xxSensor(bus, clock=bus.clock, rate=1.0, timeout=30.0)


def _uvc() -> Sensor:
    """A USB camera that sends an implausible (all-zero) frame every 20 s: only the timeout or a stop ends a read."""
    clock = SystemClock()
    capture = FakeCapture(lambda i: np.zeros((384, 256), dtype=np.uint16), fps=0.05, clock=clock)
    return UVCSensor("/dev/video9", capture=lambda _: capture, clock=clock, timeout=30.0)


@pytest.fixture
def stop_after() -> Iterator[None]:
    """Request a stop 0.2 s into the test; withdraw it afterwards."""
    timer = threading.Timer(0.2, request_stop)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        clear_stop()


@pytest.mark.parametrize("make", [_mlx90641, _amg88xx, _uvc], ids=["mlx90641", "amg88xx", "uvc"])
@pytest.mark.usefixtures("stop_after")
def test_a_stop_request_ends_a_waiting_read(make: object) -> None:
    with make() as sensor:  # type: ignore[operator]
        start = time.monotonic()
        with pytest.raises(EndOfStream, match="read stopped on request"):
            sensor.read()
        assert time.monotonic() - start < 5.0  # generous: without the stop the read would last 30 s


@pytest.mark.parametrize(("spec", "rate"), [("sim-mlx90641", "0.5"), ("sim-amg88xx", "1"), ("sim-uvc", "0.1")])
def test_sigterm_ends_a_capture_of_a_slow_camera(tmp_path: Path, spec: str, rate: str) -> None:
    out = tmp_path / "frames"
    proc = subprocess.Popen([sys.executable, "-m", "thermtool", "capture", "--sensor", spec, "--rate", rate,
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not out.joinpath("capture.json").exists():
        time.sleep(0.05)
    time.sleep(0.3)  # inside the wait for a frame
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err.decode()
    assert time.monotonic() - sent < 3.0  # generous bound on "within a second" for a loaded machine
