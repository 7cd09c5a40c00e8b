"""A register-level MLX90640 for the fake I2C bus: EEPROM, RAM, status and control registers, timing, faults.

The host writes a 16-bit register address (big-endian), then reads big-endian words with auto-increment,
or writes a word after the address, as on the real device. A subpage measurement completes every
1/refresh seconds of the bus clock (control bits 9:7); it writes that subpage's pixels and the aux words
to RAM, sets the status register's new-data bit (the host clears it by writing) and its subpage bit, and
alternates subpages. Pixel words come from a scene (t -> (24, 32) C, encoded by the inverse calibration
for this EEPROM) or from fixed reference frames. Faults: NACKs (bus rules from `nack_register`), bit
errors and stuck-high data lines on reads (`flip_bit`, `fill_words`), bus stalls (`stall_at`),
`never_ready`, `stuck_new_data` (the host cannot clear the new-data bit), subpage repeat (control bit 3,
as the datasheet's control register 1 defines it), `corrupt(n)` (the next n measurements carry the 0x7FFF
frame-data-error pattern), and `rate_error` (an oscillator running fast or slow).

Not modelled: step mode (status bit 5), data hold (control bit 2), the effect of the overwrite-enable bit,
EEPROM programming, the I2C configuration register's effects, and a read that overlaps the device writing
RAM within one transaction (RAM changes between transactions only).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import numpy as np

from ..clock import Clock, VirtualClock
from ..sensors.mlx90640 import calibration, inverse, synthetic
from ..sensors.mlx90640.device import (
    ADDRESS,
    CONTROL_REGISTER,
    EEPROM_START,
    EEPROM_WORDS,
    FRAME_ERROR_WORD,
    FRAME_WORDS,
    PATTERN_CHESS,
    PIXELS,
    RAM_START,
    RAM_WORDS,
    STATUS_NEW_DATA,
    STATUS_OVERWRITE,
    STATUS_REGISTER,
    STATUS_SUBPAGE,
    control_refresh_hz,
)
from .i2c import DataRule, DelayRule, FakeI2CBus, NackRule, Transaction

#: A scene: time in seconds since the emulator started -> (24, 32) object temperatures in C.
SceneFunction = Callable[[float], np.ndarray]

I2C_CONFIG_REGISTER = 0x800F
EEPROM_CONTROL_WORD = 12  # EEPROM 0x240C holds the control register's power-on value
EEPROM_ADDRESS_WORD = 15  # EEPROM 0x240F bits 7:0: the device's I2C address
SUBPAGE_REPEAT = 0x0008  # control bit 3: measure only the subpage selected in bits 6:4
SUBPAGE_SELECT_SHIFT, SUBPAGE_SELECT_MASK = 4, 0x0070
WRITE_LOG_SIZE = 256  # bounded: a simulated camera may run for days
_EPSILON = 1e-9


class MLX90640Emulator:
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
        self.clock = clock
        self.eeprom = np.array(synthetic.synthetic_eeprom() if eeprom is None else eeprom, dtype=np.uint16)
        if self.eeprom.shape != (EEPROM_WORDS,):
            raise ValueError(f"an MLX90640 EEPROM has {EEPROM_WORDS} words, got shape {self.eeprom.shape}")
        self.scene = scene
        self.frames = None if frames is None else [np.asarray(f, dtype=np.uint16) for f in frames]
        if self.frames is not None and any(f.shape != (FRAME_WORDS,) for f in self.frames):
            raise ValueError(f"reference frames must have {FRAME_WORDS} words each")
        self.ta, self.vdd = float(ta), float(vdd)
        self.emissivity, self.reflected_temp = float(emissivity), reflected_temp
        self.rate_error = float(rate_error)
        self.cal = calibration.extract_parameters(self.eeprom) if scene is not None else None
        if control is None:
            control = int(self.frames[0][832]) if self.frames is not None else int(self.eeprom[EEPROM_CONTROL_WORD])
        self.control = control & 0xFFFF
        self.i2c_config = 0
        self.ram = np.zeros(RAM_WORDS, dtype=np.uint16)
        self.new_data = False
        self.subpage = 0
        self.overwrite = False
        #: Completed measurements since power-on (the next one is measurement number `measurements`).
        self.measurements = 0
        #: Fault injection: no measurement ever completes while True.
        self.never_ready = False
        #: Fault injection: the host's writes do not clear the new-data bit while True.
        self.stuck_new_data = False
        self._corrupt_pending = 0
        #: The latest register writes the host made, as (register, value): tests check what was configured.
        self.writes: deque[tuple[int, int]] = deque(maxlen=WRITE_LOG_SIZE)
        self._pointer = 0
        self._start = clock.monotonic()
        self._schedule_start = self._start
        self._schedule_done = 0
        self._power_on_ram()

    # -- faults -------------------------------------------------------------------------------------------
    def corrupt(self, count: int = 1) -> None:
        """Make the next `count` measurements write the 0x7FFF frame-data-error pattern."""
        self._corrupt_pending += int(count)

    # -- the I2C device interface -------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """A write message: a register address, optionally followed by words to store there."""
        self._advance()
        if len(data) < 2:  # an address-only probe (busio drivers probe this way)
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

    # -- registers ----------------------------------------------------------------------------------------
    @property
    def status(self) -> int:
        """The status register as the host reads it."""
        return ((self.subpage & STATUS_SUBPAGE) | (STATUS_NEW_DATA if self.new_data else 0)
                | (STATUS_OVERWRITE if self.overwrite else 0))

    @property
    def period(self) -> float:
        """Seconds per subpage at the current refresh rate (and the oscillator's error)."""
        return 1.0 / (control_refresh_hz(self.control) * (1.0 + self.rate_error))

    def words(self, start: int, count: int) -> np.ndarray:
        """`count` register words from address `start` (unmapped addresses read 0)."""
        addresses = start + np.arange(count)
        out = np.zeros(count, dtype=np.uint16)
        for base, memory in ((EEPROM_START, self.eeprom), (RAM_START, self.ram)):
            inside = (addresses >= base) & (addresses < base + len(memory))
            out[inside] = memory[addresses[inside] - base]
        for register, value in ((STATUS_REGISTER, self.status), (CONTROL_REGISTER, self.control),
                                (I2C_CONFIG_REGISTER, self.i2c_config)):
            out[addresses == register] = value
        return out

    def _write_register(self, register: int, value: int) -> None:
        self.writes.append((register, value))
        if register == STATUS_REGISTER:
            if not value & STATUS_NEW_DATA and not self.stuck_new_data:
                self.new_data = False
            self.overwrite = bool(value & STATUS_OVERWRITE)
        elif register == CONTROL_REGISTER:
            old_rate = control_refresh_hz(self.control)
            self.control = value
            if control_refresh_hz(value) != old_rate:  # the new rate starts from now
                self._schedule_start, self._schedule_done = self.clock.monotonic(), 0
        elif register == I2C_CONFIG_REGISTER:
            self.i2c_config = value
        # EEPROM and RAM are read-only here (EEPROM programming is not modelled).

    # -- measurements -------------------------------------------------------------------------------------
    def _advance(self) -> None:
        """Complete every measurement due by now on the bus clock (only the last two change RAM)."""
        now = self.clock.monotonic()
        due = int((now - self._schedule_start) / self.period + _EPSILON)
        pending = due - self._schedule_done
        if pending <= 0 or self.never_ready:
            self._schedule_done = max(self._schedule_done, due)
            return
        skipped = max(pending - 2, 0)
        self.measurements += skipped
        for k in range(self._schedule_done + skipped + 1, due + 1):
            self._measure(self._schedule_start - self._start + k * self.period)
        self._schedule_done = due

    def _measure(self, t: float) -> None:
        """One subpage measurement finishing at emulator time `t`."""
        index = self.measurements
        if self.frames is not None:
            frame = self.frames[index % len(self.frames)]
            subpage = int(frame[833]) & STATUS_SUBPAGE
            self.ram[:] = frame[:RAM_WORDS]
        else:
            repeat = self.control & SUBPAGE_REPEAT
            subpage = (self.control & SUBPAGE_SELECT_MASK) >> SUBPAGE_SELECT_SHIFT & 1 if repeat else index % 2
            self._store(self._encode(t, subpage), subpage)
        if self._corrupt_pending:
            self._corrupt_pending -= 1
            self.ram[:PIXELS][self._mask(subpage)] = FRAME_ERROR_WORD
        self.subpage = subpage
        self.new_data = True
        self.measurements += 1

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


def _register_rule(register: int, times: int | None, address: int) -> Callable[[Transaction], bool]:
    """True for the first `times` transactions (None: all) on device `address` that touch `register`: a
    write to it, or a read starting at or covering it (the register pointer is the first two bytes written)."""
    left = [times]

    def matches(transaction: Transaction) -> bool:
        if transaction.address != address or len(transaction.written) < 2 or left[0] == 0:
            return False
        start = int.from_bytes(transaction.written[:2], "big")
        if not start <= register < start + max(transaction.read_count // 2, 1):
            return False
        if left[0] is not None:
            left[0] -= 1
        return True

    return matches


def nack_register(register: int, times: int | None = None, address: int = ADDRESS) -> NackRule:
    """A bus rule that NACKs transactions touching `register` on device `address`, `times` times (None: always)."""
    return _register_rule(register, times, address)


def flip_bit(register: int, bit: int, times: int | None = 1, address: int = ADDRESS) -> DataRule:
    """A read rule: bit `bit` of the word at `register` arrives inverted, in the first `times` reads of it."""
    matches = _register_rule(register, times, address)

    def rule(transaction: Transaction, data: bytes) -> bytes:
        if not matches(transaction):
            return data
        at = 2 * (register - int.from_bytes(transaction.written[:2], "big"))
        word = int.from_bytes(data[at:at + 2], "big") ^ (1 << bit)
        return data[:at] + word.to_bytes(2, "big") + data[at + 2:]

    return rule


def fill_words(register: int, value: int = 0xFFFF, times: int | None = 1, address: int = ADDRESS) -> DataRule:
    """A read rule: the whole read covering `register` arrives as `value` words (SDA stuck high: 0xFFFF)."""
    matches = _register_rule(register, times, address)

    def rule(transaction: Transaction, data: bytes) -> bytes:
        return value.to_bytes(2, "big") * (len(data) // 2) if matches(transaction) else data

    return rule


def stall_at(register: int, seconds: float, times: int | None = 1, address: int = ADDRESS) -> DelayRule:
    """A delay rule: the bus hangs `seconds` before the transactions touching `register` (clock stretching)."""
    matches = _register_rule(register, times, address)
    return lambda transaction: seconds if matches(transaction) else 0.0


def emulated_mlx90640(frequency: int = 400_000, clock: Clock | None = None, address: int = ADDRESS,
                      eeprom: np.ndarray | None = None, **options: object) -> tuple[FakeI2CBus, MLX90640Emulator]:
    """A fake bus at `frequency` Hz with one emulated MLX90640 at `address` (options go to the emulator)."""
    bus = FakeI2CBus(frequency, clock if clock is not None else VirtualClock())
    device = MLX90640Emulator(bus.clock, eeprom, **options)  # type: ignore[arg-type]
    if eeprom is None:  # the synthetic EEPROM is programmed for the address it is attached at
        device.eeprom[EEPROM_ADDRESS_WORD] = (int(device.eeprom[EEPROM_ADDRESS_WORD]) & 0xFF00) | address
    bus.attach(address, device)
    return bus, device
