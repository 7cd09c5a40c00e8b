"""A register-level MLX90641 for the fake I2C bus: Hamming-coded EEPROM, RAM, status/control, timing, faults.

The host writes a 16-bit register address (big-endian), then reads big-endian words with auto-increment,
or writes a word after the address. A measurement completes every 1/refresh seconds of the bus clock
(control bits 9:7); unlike the MLX90640 it measures all 192 pixels and stores them in its subpage's half
of the pixel RAM (subpage 0 at 0x0400 + 64k + 0..31, subpage 1 at 0x0420 + 64k + 0..31, k = 0..5), writes
the aux words (0x0580..), sets the new-data bit and the subpage bit, and alternates subpages. Pixels come
from a scene encoded by the inverse calibration. The register protocol, timing and shared faults are
`emulators.melexis` (NACKs, bit errors, stalls, `never_ready`, `stuck_new_data`, `corrupt(n)`: 0x7FFF in
the next n measurements' pixels, `eeprom_glitches`, `rate_error`); this model adds `measure_now()` (a
measurement landing mid-read, from a bus rule).

Not modelled: step mode, EEPROM programming, the I2C configuration register's effects.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..clock import Clock, VirtualClock
from ..sensors.melexis import ADDRESS, FRAME_ERROR_WORD, RAM_START
from ..sensors.mlx90641 import calibration, inverse, synthetic
from ..sensors.mlx90641.device import AUX_START, AUX_WORDS, RAM_WORDS, pixel_addresses
from .i2c import FakeI2CBus
from .melexis import EEPROM_CONTROL_WORD, MelexisEmulator

#: A scene: time in seconds since the emulator started -> (12, 16) object temperatures in C.
SceneFunction = Callable[[float], np.ndarray]



class MLX90641Emulator(MelexisEmulator):
    """An MLX90641 on the bus clock `clock`; attach it with `bus.attach(0x33, emulator)`."""

    def __init__(self, clock: Clock, eeprom: np.ndarray | None = None, *, scene: SceneFunction,
                 ta: float = 30.0, vdd: float = 3.3, emissivity: float = 1.0, reflected_temp: float | None = None,
                 control: int | None = None, rate_error: float = 0.0) -> None:
        words = np.array(synthetic.synthetic_eeprom() if eeprom is None else eeprom, dtype=np.uint16)
        self.cal = calibration.extract_parameters(words)
        self.scene = scene
        super().__init__(clock, words, ram_words=RAM_WORDS,
                         control=int(words[EEPROM_CONTROL_WORD]) if control is None else int(control), ta=ta,
                         vdd=vdd, emissivity=emissivity, reflected_temp=reflected_temp, rate_error=rate_error)
        self.subpage = 1  # the first measurement after power-on is subpage 0
        for subpage in (0, 1):
            self._store(self._encode(0.0, subpage), subpage)

    def measure_now(self) -> None:
        """Complete a measurement at once (as if the device finished one in the middle of a host read)."""
        self._complete(self.clock.monotonic() - self._start)

    def _measure(self, t: float) -> int:
        """All 192 pixels of the scene at `t`, stored in the alternating subpage's half of the RAM."""
        subpage = self.measurements % 2
        frame = self._encode(t, subpage)
        if self._take_corruption():
            frame[:calibration.PIXELS] = FRAME_ERROR_WORD
        self._store(frame, subpage)
        return subpage

    def _encode(self, t: float, subpage: int) -> np.ndarray:
        temperatures = np.asarray(self.scene(t), dtype=np.float64)
        return inverse.raw_frame(temperatures, self.cal, subpage, self.control, ta=self.ta, vdd=self.vdd,
                                 emissivity=self.emissivity, reflected_temp=self.reflected_temp)

    def _store(self, frame: np.ndarray, subpage: int) -> None:
        self.ram[pixel_addresses(subpage) - RAM_START] = frame[:calibration.PIXELS]
        self.ram[AUX_START - RAM_START:AUX_START - RAM_START + AUX_WORDS] = frame[calibration.PIXELS:
                                                                                 calibration.PIXELS + AUX_WORDS]


def emulated_mlx90641(frequency: int = 400_000, clock: Clock | None = None, address: int = ADDRESS,
                      eeprom: np.ndarray | None = None, *, scene: SceneFunction,
                      **options: object) -> tuple[FakeI2CBus, MLX90641Emulator]:
    """A fake bus at `frequency` Hz with one emulated MLX90641 at `address` (options go to the emulator)."""
    bus = FakeI2CBus(frequency, clock if clock is not None else VirtualClock())
    device = MLX90641Emulator(bus.clock, eeprom, scene=scene, **options)  # type: ignore[arg-type]
    bus.attach(address, device)
    return bus, device
