"""What the MLX90640 and MLX90641 emulators share: the register protocol, status/control registers and
measurement timing on the bus clock, and the faults the host's driver must survive.

The host writes a 16-bit register address (big-endian), then reads big-endian words with auto-increment,
or writes words after the address, as on the real devices. A measurement completes every 1/refresh
seconds of the bus clock (control bits 9:7, off by `rate_error`); it writes RAM (what and where is the
model's `_measure`), sets the status register's new-data bit (the host clears it by writing) and its
subpage bit. Faults: `never_ready`, `stuck_new_data` (the host cannot clear the new-data bit),
`corrupt(n)` (the next n measurements carry 0x7FFF frame-data-error words) and `eeprom_glitches` (reads
of the EEPROM that return flipped bits).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable

import numpy as np

from ..clock import Clock
from ..sensors.melexis import (
    ADDRESS,
    CONTROL_REGISTER,
    EEPROM_START,
    RAM_START,
    STATUS_NEW_DATA,
    STATUS_OVERWRITE,
    STATUS_REGISTER,
    STATUS_SUBPAGE,
    control_refresh_hz,
)
from .i2c import DataRule, DelayRule, NackRule, Transaction

I2C_CONFIG_REGISTER = 0x800F
EEPROM_CONTROL_WORD = 12  # EEPROM 0x240C holds the control register's power-on value
WRITE_LOG_SIZE = 256  # bounded: a simulated camera may run for days
_EPSILON = 1e-9


class MelexisEmulator(ABC):
    """A Melexis sensor's registers and timing on `clock`; subclasses own RAM contents (`_measure`)."""

    def __init__(self, clock: Clock, eeprom: np.ndarray, *, ram_words: int, control: int, ta: float, vdd: float,
                 emissivity: float, reflected_temp: float | None, rate_error: float) -> None:
        self.clock = clock
        self.eeprom = eeprom
        self.ta, self.vdd = float(ta), float(vdd)
        self.emissivity, self.reflected_temp = float(emissivity), reflected_temp
        self.rate_error = float(rate_error)
        self.control = control & 0xFFFF
        self.i2c_config = 0
        self.ram = np.zeros(ram_words, dtype=np.uint16)
        self.new_data = False
        self.subpage = 0
        self.overwrite = False
        #: Completed measurements since power-on (the next one is measurement number `measurements`).
        self.measurements = 0
        #: Fault injection: no measurement ever completes while True.
        self.never_ready = False
        #: Fault injection: the host's writes do not clear the new-data bit while True.
        self.stuck_new_data = False
        #: Fault injection: (word index, xor mask) applied, in turn, to the next reads that include that word.
        self.eeprom_glitches: deque[tuple[int, int]] = deque()
        self._corrupt_pending = 0
        #: The latest register writes the host made, as (register, value): tests check what was configured.
        self.writes: deque[tuple[int, int]] = deque(maxlen=WRITE_LOG_SIZE)
        self._pointer = 0
        self._start = clock.monotonic()
        self._schedule_start = self._start
        self._schedule_done = 0

    # -- faults ------------------------------------------------------------------------------------------
    def corrupt(self, count: int = 1) -> None:
        """Make the next `count` measurements write the 0x7FFF frame-data-error pattern."""
        self._corrupt_pending += int(count)

    def _take_corruption(self) -> bool:
        """True (once per pending corruption) when the measurement being made should be corrupt."""
        if not self._corrupt_pending:
            return False
        self._corrupt_pending -= 1
        return True

    # -- the I2C device interface ------------------------------------------------------------------------
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
        for k in range(self._schedule_done + skipped + 1, due + 1):
            self._complete(self._schedule_start - self._start + k * self.period)
        self._schedule_done = due

    def _complete(self, t: float) -> None:
        """One measurement finishing at emulator time `t`: RAM written, then the status announces it."""
        self.subpage = self._measure(t)
        self.new_data = True
        self.measurements += 1

    @abstractmethod
    def _measure(self, t: float) -> int:
        """Write measurement number `measurements` (at emulator time `t`) to RAM; returns its subpage."""


# -- bus fault rules for 16-bit register devices (attach them to a FakeI2CBus) ---------------------------
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
