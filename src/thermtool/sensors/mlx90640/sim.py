"""The `sim` camera: a synthetic scene measured by the emulated MLX90640 and read by the real driver.

scene (SceneSource: a room with walking people, plus sensor noise) -> MLX90640Emulator (inverse
calibration of a synthetic EEPROM, subpage timing on the bus clock) -> FakeI2CBus -> MLX90640Sensor.
So the demo exercises the same register protocol and decoding as hardware. `realtime=False` runs on a
virtual clock (instant, reproducible with `seed`); `realtime=True` on a `PacedClock`: the bus transfers
and polls of a frame take no real time, and one real sleep per frame holds frames to the refresh rate,
so `sim` delivers the rate asked whatever the emulation costs (while that stays below a frame period).
"""

from __future__ import annotations

from typing import Any

from ...clock import PacedClock, VirtualClock
from ...emulators.i2c import FakeI2CBus
from ...emulators.mlx90640 import MLX90640Emulator
from ...errors import InputError
from ...frame import Frame
from ..base import sleep_or_stop
from ..scenes import make_scene
from ..simulated import MLX90640_SHAPE, SceneSource
from .device import REFRESH_RATES, MLX90640Sensor
from .synthetic import synthetic_eeprom

#: The simulated device's calibration (fixed: `seed` varies the scene noise, not the sensor).
SIM_EEPROM_SEED = 0
#: The sensor's own ambient reading sits about 8 C above the room (the basis of Melexis' Ta - 8 rule).
SELF_HEATING_C = 8.0
DEFAULT_RATE = 4.0  # full frames per second (refresh 8 Hz)
DEFAULT_BUS_HZ = 1_000_000  # I2C Fast-mode Plus, which the MLX90640 supports


class SimulatedMLX90640(MLX90640Sensor):
    """The MLX90640 driver reading an emulated sensor; frames are marked `simulated` in meta and info."""

    kind = "sim"

    def __init__(self, emulator: MLX90640Emulator, bus: FakeI2CBus, seed: int, keep_rate: float | None = None,
                 **options: Any) -> None:
        super().__init__(bus, bus=f"emulated I2C at {bus.frequency // 1000} kHz", clock=bus.clock, **options)
        self.emulator = emulator
        self.seed = seed
        self.extra_meta = {"simulated": True}
        self.keep_rate = keep_rate
        self._due: float | None = None

    def _open(self) -> None:
        self._due = None
        super()._open()

    def _read(self, timeout: float | None) -> Frame:
        """The next frame; with `keep_rate` (a rate between the sensor's own) frames come that far apart."""
        frame = self._paced_read(timeout)
        if self.keep_rate is None:
            return frame
        period = 1.0 / self.keep_rate
        now = self.clock.monotonic()
        while self._due is not None and now < self._due - period / 4:  # early: this frame is skipped
            frame = self._paced_read(timeout)
            now = self.clock.monotonic()
        if self._due is None or now > self._due + period:  # first frame, or far behind: no burst to catch up
            self._due = now
        self._due += period
        return frame

    def _paced_read(self, timeout: float | None) -> Frame:
        """One frame of the driver; on a PacedClock, its one real (stop-aware) sleep follows it."""
        clock = self.clock
        if not isinstance(clock, PacedClock):
            return super()._read(timeout)
        clock.catch_up()
        frame = super()._read(timeout)
        clock.pace(lambda real, seconds: sleep_or_stop(real, seconds, "sim"))
        return frame

    def _info(self) -> dict[str, Any]:
        info = {**super()._info(), "simulated": True, "seed": self.seed}
        return {**info, "rate_hz": self.keep_rate} if self.keep_rate else info


def open_sim(target: str | None, *, rate: float | None = None, refresh_hz: float | None = None,
             seed: int | None = None, realtime: bool = True, noise: float = 0.15, emissivity: float = 0.95,
             reflected_temp: float | None = None, pattern: str | None = None, resolution: int | None = None,
             per_subpage: bool = False, bus_hz: int = DEFAULT_BUS_HZ,
             timeout: float | None = None, scene: str | None = None) -> SimulatedMLX90640:
    """The simulated MLX90640 (32x24): `rate` full frames/s (default 4) = half the `refresh_hz` it sets.

    A `rate` the sensor does not deliver (`--rate 20`) sets the next refresh rate up and keeps frames at
    `rate` by skipping the extra ones.
    """
    if target:
        raise InputError(f"sensor 'sim' takes no target, got sim:{target}")
    refresh = _refresh_for(rate, refresh_hz)
    if not bus_hz > 0:
        raise InputError(f"bus_hz must be above 0, got {bus_hz}")
    clock = PacedClock() if realtime else VirtualClock()
    source = SceneSource(MLX90640_SHAPE, scene=make_scene(scene) if scene else None, noise=noise, seed=seed)
    bus = FakeI2CBus(int(bus_hz), clock)
    emulator = MLX90640Emulator(clock, synthetic_eeprom(SIM_EEPROM_SEED), scene=source.per_measurement(refresh),
                                ta=source.scene.ambient + SELF_HEATING_C, emissivity=emissivity,
                                reflected_temp=reflected_temp)
    bus.attach(0x33, emulator)
    keep = rate if rate is not None and abs(2 * rate - refresh) > 1e-9 else None
    return SimulatedMLX90640(emulator, bus, source.seed, keep, refresh_hz=refresh, emissivity=emissivity,
                             reflected_temp=reflected_temp, pattern=pattern, resolution=resolution,
                             per_subpage=per_subpage, timeout=timeout)


def _refresh_for(rate: float | None, refresh_hz: float | None) -> float:
    """The refresh rate to set: `refresh_hz`, or twice `rate` (a full frame takes two subpages)."""
    if rate is not None and refresh_hz is not None and abs(2 * rate - refresh_hz) > 1e-9:
        raise InputError(f"--rate {rate:g} and --refresh-hz {refresh_hz:g} disagree: full frames come at "
                         "half the refresh rate; give one of them")
    if refresh_hz is not None:
        return float(refresh_hz)
    wanted = 2 * (DEFAULT_RATE if rate is None else float(rate))
    faster = [r for r in REFRESH_RATES if r >= wanted - 1e-9]
    if not faster:
        valid = ", ".join(f"{r / 2:g}" for r in REFRESH_RATES)
        raise InputError(f"sim rate {wanted / 2:g} frames/s is above the MLX90640's fastest, "
                         f"{max(REFRESH_RATES) / 2:g} full frames/s; valid: {valid} or any rate in between")
    return min(faster)
