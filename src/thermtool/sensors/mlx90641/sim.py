"""The `sim-mlx90641` camera: a synthetic scene measured by the emulated MLX90641, read by the real driver.

scene (SceneSource at 16x12) -> MLX90641Emulator (inverse calibration of a synthetic, Hamming-coded
EEPROM; measurement timing on the bus clock) -> FakeI2CBus -> MLX90641Sensor. `realtime=False` runs on
a virtual clock (instant, reproducible with `seed`).
"""

from __future__ import annotations

from typing import Any

from ...clock import Clock, SystemClock, VirtualClock
from ...emulators.i2c import FakeI2CBus
from ...emulators.mlx90641 import MLX90641Emulator
from ...errors import InputError
from ..melexis import ADDRESS, REFRESH_RATES
from ..scenes import make_scene
from ..simulated import SceneSource, SimulatedMixin, one_rate
from .calibration import COLS, ROWS, SELF_HEATING_C
from .device import MLX90641Sensor
from .synthetic import synthetic_eeprom

SIM_EEPROM_SEED = 0
DEFAULT_REFRESH_HZ = 8.0
DEFAULT_BUS_HZ = 400_000


class SimulatedMLX90641(SimulatedMixin, MLX90641Sensor):
    """The MLX90641 driver reading an emulated sensor; frames are marked `simulated`."""

    kind = "sim-mlx90641"

    def __init__(self, emulator: MLX90641Emulator, bus: FakeI2CBus, seed: int, **options: Any) -> None:
        super().__init__(bus, bus=f"emulated I2C at {bus.frequency // 1000} kHz", clock=bus.clock, **options)
        self._simulate(emulator, seed)


def open_sim_mlx90641(target: str | None, *, rate: float | None = None, refresh_hz: float | None = None,
                      seed: int | None = None, realtime: bool = True, noise: float = 0.15,
                      emissivity: float = 0.95, reflected_temp: float | None = None, resolution: int | None = None,
                      timeout: float | None = None, scene: str | None = None) -> SimulatedMLX90641:
    """The simulated MLX90641 (16x12): `rate` (= `refresh_hz`, one frame per measurement; default 8)."""
    if target:
        raise InputError(f"sensor 'sim-mlx90641' takes no target, got sim-mlx90641:{target}")
    given = one_rate(rate, refresh_hz)  # the MLX90641 gives a frame per refresh
    refresh = float(DEFAULT_REFRESH_HZ if given is None else given)
    if not any(abs(refresh - r) < 1e-9 for r in REFRESH_RATES):
        raise InputError(f"MLX90641 rate {refresh:g} frames/s is not one it has; valid: "
                         + ", ".join(f"{r:g}" for r in REFRESH_RATES))
    clock: Clock = SystemClock() if realtime else VirtualClock()
    source = SceneSource((ROWS, COLS), scene=make_scene(scene) if scene else None, noise=noise, seed=seed)
    bus = FakeI2CBus(DEFAULT_BUS_HZ, clock)
    emulator = MLX90641Emulator(clock, synthetic_eeprom(SIM_EEPROM_SEED), scene=source.per_measurement(refresh),
                                ta=source.scene.ambient + SELF_HEATING_C, emissivity=emissivity,
                                reflected_temp=reflected_temp)
    bus.attach(ADDRESS, emulator)
    return SimulatedMLX90641(emulator, bus, source.seed, refresh_hz=refresh, emissivity=emissivity,
                             reflected_temp=reflected_temp, resolution=resolution, timeout=timeout)
