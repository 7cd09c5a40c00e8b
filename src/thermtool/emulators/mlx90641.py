"""A register-level MLX90641 for the fake I2C bus: Hamming-coded EEPROM, RAM, status/control, timing, faults.

The host writes a 16-bit register address (big-endian), then reads big-endian words with auto-increment,
or writes a word after the address. A measurement completes every 1/refresh seconds of the bus clock
(control bits 9:7); unlike the MLX90640 it measures all 192 pixels and stores them in its subpage's half
of the pixel RAM (subpage 0 at 0x0400 + 64k + 0..31, subpage 1 at 0x0420 + 64k + 0..31, k = 0..5), writes
the aux words (0x0580..), sets the new-data bit and the subpage bit, and alternates subpages. Pixels come
from a scene encoded by the inverse calibration. Faults: NACKs (bus rules), `never_ready`, `corrupt(n)`
(0x7FFF in the next n measurements' pixels), `measure_now()` (a measurement landing mid-read, from a bus
rule), `eeprom_glitches` (reads of the EEPROM that return flipped bits) and `rate_error`.

Not modelled: step mode, EEPROM programming, the I2C configuration register's effects.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from ..clock import Clock, VirtualClock
from ..sensors.mlx90640.device import STATUS_NEW_DATA, STATUS_OVERWRITE, STATUS_SUBPAGE, control_refresh_hz
from ..sensors.mlx90641 import calibration, inverse, synthetic
from ..sensors.mlx90641.device import (
    ADDRESS,
    AUX_START,
    AUX_WORDS,
    CONTROL_REGISTER,
    EEPROM_START,
    FRAME_ERROR_WORD,
    RAM_START,
    RAM_WORDS,
    STATUS_REGISTER,
    pixel_addresses,
)
from .i2c import FakeI2CBus

#: A scene: time in seconds since the emulator started -> (12, 16) object temperatures in C.
SceneFunction = Callable[[float], np.ndarray]

I2C_CONFIG_REGISTER = 0x800F
WRITE_LOG_SIZE = 256
_EPSILON = 1e-9


class MLX90641Emulator:
    """An MLX90641 on the bus clock `clock`; attach it with `bus.attach(0x33, emulator)`."""

    def __init__(self, clock: Clock, eeprom: np.ndarray | None = None, *, scene: SceneFunction,
                 ta: float = 30.0, vdd: float = 3.3, emissivity: float = 1.0, reflected_temp: float | None = None,
                 control: int | None = None, rate_error: float = 0.0) -> None:
        self.clock = clock
        self.eeprom = np.array(synthetic.synthetic_eeprom() if eeprom is None else eeprom, dtype=np.uint16)
        self.cal = calibration.extract_parameters(self.eeprom)
        self.scene = scene
        self.ta, self.vdd = float(ta), float(vdd)
        self.emissivity, self.reflected_temp = float(emissivity), reflected_temp
        self.rate_error = float(rate_error)
        self.control = (int(self.eeprom[12]) if control is None else int(control)) & 0xFFFF
        self.i2c_config = 0
        self.ram = np.zeros(RAM_WORDS, dtype=np.uint16)
        self.new_data = False
        self.subpage = 1
        self.overwrite = False
        self.measurements = 0
        #: Fault injection: no measurement completes while True.
        self.never_ready = False
        #: Fault injection: (word index, xor mask) applied, in turn, to the next reads that include that word.
        self.eeprom_glitches: deque[tuple[int, int]] = deque()
        self._corrupt_pending = 0
        self.writes: deque[tuple[int, int]] = deque(maxlen=WRITE_LOG_SIZE)
        self._pointer = 0
        self._start = clock.monotonic()
        self._schedule_start = self._start
        self._schedule_done = 0
        for subpage in (0, 1):
            self._store(self._encode(0.0, subpage), subpage)

    # -- faults ------------------------------------------------------------------------------------------
    def corrupt(self, count: int = 1) -> None:
        """Make the next `count` measurements write 0x7FFF into their pixels (a frame-data error)."""
        self._corrupt_pending += int(count)

    def measure_now(self) -> None:
        """Complete a measurement at once (as if the device finished one in the middle of a host read)."""
        self._measure(self.clock.monotonic() - self._start)

    # -- the I2C device interface ------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """A write message: a register address, optionally followed by words to store there."""
        self._advance()
        if len(data) < 2:
            return
        self._pointer = int.from_bytes(data[:2], "big")
        payload = data[2:]
        for i in range(len(payload) // 2):
            self._write_register(self._pointer + i, int.from_bytes(payload[2 * i:2 * i + 2], "big"))

    def read(self, count: int) -> bytes:
        """A read message: big-endian words from the register pointer on, auto-incrementing."""
        self._advance()
        words = self.words(self._pointer, (count + 1) // 2)
        self._pointer = (self._pointer + count // 2) & 0xFFFF
        return words.astype(">u2").tobytes()[:count]

    # -- registers ---------------------------------------------------------------------------------------
    @property
    def status(self) -> int:
        """The status register as the host reads it."""
        return ((self.subpage & STATUS_SUBPAGE) | (STATUS_NEW_DATA if self.new_data else 0)
                | (STATUS_OVERWRITE if self.overwrite else 0))

    @property
    def period(self) -> float:
        """Seconds per measurement at the current refresh rate (and the oscillator's error)."""
        return 1.0 / (control_refresh_hz(self.control) * (1.0 + self.rate_error))

    def words(self, start: int, count: int) -> np.ndarray:
        """`count` register words from address `start` (unmapped addresses read 0)."""
        addresses = start + np.arange(count)
        out = np.zeros(count, dtype=np.uint16)
        eeprom = self.eeprom
        if self.eeprom_glitches and EEPROM_START + self.eeprom_glitches[0][0] in addresses:
            index, mask = self.eeprom_glitches.popleft()
            eeprom = eeprom.copy()
            eeprom[index] ^= mask
        for base, memory in ((EEPROM_START, eeprom), (RAM_START, self.ram)):
            inside = (addresses >= base) & (addresses < base + len(memory))
            out[inside] = memory[addresses[inside] - base]
        for register, value in ((STATUS_REGISTER, self.status), (CONTROL_REGISTER, self.control),
                                (I2C_CONFIG_REGISTER, self.i2c_config)):
            out[addresses == register] = value
        return out

    def _write_register(self, register: int, value: int) -> None:
        self.writes.append((register, value))
        if register == STATUS_REGISTER:
            if not value & STATUS_NEW_DATA:
                self.new_data = False
            self.overwrite = bool(value & STATUS_OVERWRITE)
        elif register == CONTROL_REGISTER:
            old_rate = control_refresh_hz(self.control)
            self.control = value
            if control_refresh_hz(value) != old_rate:
                self._schedule_start, self._schedule_done = self.clock.monotonic(), 0
        elif register == I2C_CONFIG_REGISTER:
            self.i2c_config = value

    # -- measurements ------------------------------------------------------------------------------------
    def _advance(self) -> None:
        """Complete every measurement due by now on the bus clock (only the last two change RAM)."""
        due = int((self.clock.monotonic() - self._schedule_start) / self.period + _EPSILON)
        pending = due - self._schedule_done
        if pending <= 0 or self.never_ready:
            self._schedule_done = max(self._schedule_done, due)
            return
        skipped = max(pending - 2, 0)
        self.measurements += skipped
        self.subpage ^= skipped & 1
        for k in range(self._schedule_done + skipped + 1, due + 1):
            self._measure(self._schedule_start - self._start + k * self.period)
        self._schedule_done = due

    def _measure(self, t: float) -> None:
        subpage = self.subpage ^ 1
        frame = self._encode(t, subpage)
        if self._corrupt_pending:
            self._corrupt_pending -= 1
            frame[:calibration.PIXELS] = FRAME_ERROR_WORD
        self._store(frame, subpage)
        self.subpage = subpage
        self.new_data = True
        self.measurements += 1

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
