"""The `sim-amg88xx` camera: a synthetic scene measured by the emulated Grid-EYE, read by the real driver."""

from __future__ import annotations

from typing import Any

from ...clock import Clock, SystemClock, VirtualClock
from ...emulators.amg88xx import AMG88xxEmulator
from ...emulators.i2c import FakeI2CBus
from ...errors import InputError
from ..scenes import make_scene
from ..simulated import SceneSource, SimulatedMixin, one_rate
from .codec import COLS, ROWS
from .device import ADDRESSES, AMG88xxSensor

SELF_HEATING_C = 4.0  # the thermistor sits a few degrees above the room


class SimulatedAMG88xx(SimulatedMixin, AMG88xxSensor):
    """The Grid-EYE driver reading an emulated sensor; frames are marked `simulated`."""

    kind = "sim-amg88xx"

    def __init__(self, emulator: AMG88xxEmulator, bus: FakeI2CBus, seed: int, **options: Any) -> None:
        super().__init__(bus, bus=f"emulated I2C at {bus.frequency // 1000} kHz", clock=bus.clock, **options)
        self._simulate(emulator, seed)


def open_sim_amg88xx(target: str | None, *, rate: float | None = None, refresh_hz: float | None = None,
                     seed: int | None = None, realtime: bool = True, noise: float = 0.15,
                     moving_average: bool = False, timeout: float | None = None,
                     scene: str | None = None) -> SimulatedAMG88xx:
    """The simulated Grid-EYE (8x8) at 10 (default) or 1 frames/s."""
    if target:
        raise InputError(f"sensor 'sim-amg88xx' takes no target, got sim-amg88xx:{target}")
    given = one_rate(rate, refresh_hz)
    fps = 10.0 if given is None else float(given)
    clock: Clock = SystemClock() if realtime else VirtualClock()
    source = SceneSource((ROWS, COLS), scene=make_scene(scene) if scene else None, noise=noise, seed=seed)
    bus = FakeI2CBus(400_000, clock)
    emulator = AMG88xxEmulator(clock, scene=source.per_measurement(10),
                               thermistor=source.scene.ambient + SELF_HEATING_C)
    bus.attach(ADDRESSES[0], emulator)
    return SimulatedAMG88xx(emulator, bus, source.seed, rate=fps, moving_average=moving_average, timeout=timeout)
