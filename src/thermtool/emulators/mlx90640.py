"""A register-level MLX90640 for the fake I2C bus: EEPROM, RAM, status and control registers, timing, faults.

The host writes a 16-bit register address (big-endian), then reads big-endian words with auto-increment,
or writes a word after the address, as on the real device. A subpage measurement completes every
1/refresh seconds of the bus clock (control bits 9:7); it writes that subpage's pixels and the aux words
to RAM, sets the status register's new-data bit (the host clears it by writing) and its subpage bit, and
alternates subpages. Pixel words come from a scene (t -> (24, 32) C, encoded by the inverse calibration
for this EEPROM) or from fixed reference frames. The register protocol, timing and the faults both
Melexis sensors share are `emulators.melexis` (NACKs, bit errors, stuck data lines and stalls as bus
rules, `never_ready`, `stuck_new_data`, `corrupt(n)`, `eeprom_glitches`, `rate_error`); this model adds
subpage repeat (control bit 3, as the datasheet's control register 1 defines it).

Not modelled: step mode (status bit 5), data hold (control bit 2), the effect of the overwrite-enable bit,
EEPROM programming, the I2C configuration register's effects, and a read that overlaps the device writing
RAM within one transaction (RAM changes between transactions only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..clock import Clock, VirtualClock
from ..sensors.melexis import ADDRESS, FRAME_ERROR_WORD, STATUS_SUBPAGE
from ..sensors.mlx90640 import calibration, inverse, synthetic
from ..sensors.mlx90640.device import EEPROM_WORDS, FRAME_WORDS, PATTERN_CHESS, PIXELS, RAM_WORDS
from .i2c import FakeI2CBus
from .melexis import EEPROM_CONTROL_WORD, MelexisEmulator

#: A scene: time in seconds since the emulator started -> (24, 32) object temperatures in C.
SceneFunction = Callable[[float], np.ndarray]

EEPROM_ADDRESS_WORD = 15  # EEPROM 0x240F bits 7:0: the device's I2C address
SUBPAGE_REPEAT = 0x0008  # control bit 3: measure only the subpage selected in bits 6:4
SUBPAGE_SELECT_SHIFT, SUBPAGE_SELECT_MASK = 4, 0x0070


class MLX90640Emulator(MelexisEmulator):
    """An MLX90640 on the bus clock `clock`; attach it to a FakeI2CBus with `bus.attach(0x33, emulator)`.

    Give either `scene` (encoded with `ta`, `vdd`, `emissivity`, `reflected_temp` for `eeprom`, default a
    synthetic EEPROM) or `frames` (834-word frames in GetFrameData layout, served in turn; their word 833
    says the subpage). `control` is the power-on control register (default: the EEPROM's, or frame 0's).
    `rate_error` is how far the device's own oscillator is off (0.02 = measures 2% faster than nominal).
    """

    def __init__(self, clock: Clock, eeprom: np.ndarray | None = None, *, scene: SceneFunction | None = None,
                 frames: Sequence[np.ndarray] | None = None, ta: float = 30.0, vdd: float = 3.3,
                 emissivity: float = 1.0, reflected_temp: float | None = None, control: int | None = None,
                 rate_error: float = 0.0) -> None:
        if (scene is None) == (frames is None):
            raise ValueError("give the emulator a scene or reference frames (one of them)")
        words = np.array(synthetic.synthetic_eeprom() if eeprom is None else eeprom, dtype=np.uint16)
        if words.shape != (EEPROM_WORDS,):
            raise ValueError(f"an MLX90640 EEPROM has {EEPROM_WORDS} words, got shape {words.shape}")
        self.scene = scene
        self.frames = None if frames is None else [np.asarray(f, dtype=np.uint16) for f in frames]
        if self.frames is not None and any(f.shape != (FRAME_WORDS,) for f in self.frames):
            raise ValueError(f"reference frames must have {FRAME_WORDS} words each")
        self.cal = calibration.extract_parameters(words) if scene is not None else None
        if control is None:
            control = int(self.frames[0][832]) if self.frames is not None else int(words[EEPROM_CONTROL_WORD])
        super().__init__(clock, words, ram_words=RAM_WORDS, control=control, ta=ta, vdd=vdd, emissivity=emissivity,
                         reflected_temp=reflected_temp, rate_error=rate_error)
        self._power_on_ram()

    def _measure(self, t: float) -> int:
        """One subpage measurement finishing at emulator time `t`: the scene's (or the next reference frame's)."""
        index = self.measurements
        if self.frames is not None:
            frame = self.frames[index % len(self.frames)]
            subpage = int(frame[833]) & STATUS_SUBPAGE
            self.ram[:] = frame[:RAM_WORDS]
        else:
            repeat = self.control & SUBPAGE_REPEAT
            subpage = (self.control & SUBPAGE_SELECT_MASK) >> SUBPAGE_SELECT_SHIFT & 1 if repeat else index % 2
            self._store(self._encode(t, subpage), subpage)
        if self._take_corruption():
            self.ram[:PIXELS][self._mask(subpage)] = FRAME_ERROR_WORD
        return subpage

    def _encode(self, t: float, subpage: int) -> np.ndarray:
        assert self.scene is not None and self.cal is not None
        temperatures = np.asarray(self.scene(t), dtype=np.float64)
        return inverse.raw_frame(temperatures, self.cal, subpage, self.control, ta=self.ta, vdd=self.vdd,
                                 emissivity=self.emissivity, reflected_temp=self.reflected_temp)

    def _store(self, frame: np.ndarray, subpage: int) -> None:
        """Write a subpage's pixels and the aux words; the other subpage's pixels keep their values."""
        mask = self._mask(subpage)
        self.ram[:PIXELS][mask] = frame[:PIXELS][mask]
        self.ram[PIXELS:] = frame[PIXELS:RAM_WORDS]

    def _mask(self, subpage: int) -> np.ndarray:
        interleaved = not self.control & PATTERN_CHESS
        return calibration.subpage_mask(subpage, interleaved).ravel()

    def _power_on_ram(self) -> None:
        """RAM as a running sensor leaves it: the last frame, or the scene encoded on both subpages."""
        if self.frames is not None:
            self.ram[:] = self.frames[-1][:RAM_WORDS]
            return
        for subpage in (1, 0):
            self._store(self._encode(0.0, subpage), subpage)


def emulated_mlx90640(frequency: int = 400_000, clock: Clock | None = None, address: int = ADDRESS,
                      eeprom: np.ndarray | None = None, **options: object) -> tuple[FakeI2CBus, MLX90640Emulator]:
    """A fake bus at `frequency` Hz with one emulated MLX90640 at `address` (options go to the emulator)."""
    bus = FakeI2CBus(frequency, clock if clock is not None else VirtualClock())
    device = MLX90640Emulator(bus.clock, eeprom, **options)  # type: ignore[arg-type]
    if eeprom is None:  # the synthetic EEPROM is programmed for the address it is attached at
        device.eeprom[EEPROM_ADDRESS_WORD] = (int(device.eeprom[EEPROM_ADDRESS_WORD]) & 0xFF00) | address
    bus.attach(address, device)
    return bus, device
