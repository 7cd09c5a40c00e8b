"""Register access over any busio-like I2C bus with NACK retries, shared by every register-mapped sensor.

The host writes a register address (16-bit big-endian for the Melexis MLX9064x, whose registers hold
16-bit words; 8-bit for the Grid-EYE, whose registers hold bytes), then reads with auto-increment, or
writes data after the address. A NACK (or the remote I/O errors Linux reports for one) is retried with a
doubling backoff; anything else, or the last failed try, becomes a one-line SensorError with advice.
`before` runs ahead of every attempt: drivers pass their read's deadline check, so no read outlives its
timeout by more than one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..buses.i2c import BusioI2C, bus_error_advice, bus_number, default_bus_path, is_nack, locked
from ..clock import Clock
from ..errors import InputError, SensorError

BACKOFF_S = 0.002  # first retry delay; doubles each time (2, 4, 8, 16 ms)
DEFAULT_RETRIES = 4
_TIMES = {2: "twice", 3: "three times", 4: "four times"}


def parse_address(address: int | str) -> int:
    """A 7-bit I2C address from an int or a string such as "0x33"; InputError otherwise."""
    try:
        value = int(address, 0) if isinstance(address, str) else int(address)
    except ValueError:
        raise InputError(f"bad I2C address {address!r}; use a number such as 0x33") from None
    if not 0x03 <= value <= 0x77:
        raise InputError(f"I2C address 0x{value:02x} is outside the 7-bit range 0x03..0x77")
    return value


def bus_path(target: str | None) -> str:
    """The i2c-dev path a spec target names: None -> the board's header bus (/dev/i2c-1 on a Pi, the SoC's on
    a Jetson), "3" -> /dev/i2c-3, a path as is."""
    if not target:
        return default_bus_path()
    return f"/dev/i2c-{target}" if target.isdigit() else target


def bus_choice(target: str | None, i2c: BusioI2C | str | None) -> tuple[BusioI2C | None, str | None]:
    """(bus object, i2c-dev path) an I2C sensor factory opens: `i2c` is a bus object, or (the command line's
    --i2c) a bus path or number like TARGET; naming two different buses is an InputError."""
    if isinstance(i2c, str):
        if target and bus_path(target) != bus_path(i2c):
            raise InputError(f"--i2c {i2c} and the sensor's bus {target} differ: name the bus once")
        return None, bus_path(i2c)
    return i2c, (bus_path(target) if (target or i2c is None) else None)


class I2CRegisters:
    """Registers of the device at `address` on `bus`: `address_bytes` wide addresses, each naming
    `register_bytes` of data; reads go in chunks of at most `chunk_bytes`. `where` prefixes errors."""

    def __init__(self, bus: BusioI2C, address: int, *, where: str, bus_name: str, clock: Clock,
                 address_bytes: int = 2, register_bytes: int = 2, chunk_bytes: int = 256,
                 retries: int = DEFAULT_RETRIES, before: Callable[[], None] | None = None) -> None:
        self.bus, self.address, self.where, self.bus_name = bus, address, where, bus_name
        self.clock = clock
        self.address_bytes, self.register_bytes = address_bytes, register_bytes
        self.chunk_bytes = max(register_bytes, int(chunk_bytes) // register_bytes * register_bytes)
        self.retries = max(0, int(retries))
        self.before = before
        self.nack_retries = 0

    def read(self, register: int, count: int) -> bytes:
        """`count` bytes from `register` on (auto-increment), in chunks of at most `chunk_bytes`."""
        raw = bytearray(count)
        for first in range(0, count, self.chunk_bytes):
            end = min(first + self.chunk_bytes, count)
            start = register + first // self.register_bytes
            out = start.to_bytes(self.address_bytes, "big")
            units = "words" if self.register_bytes == 2 else "bytes"
            self._transfer(f"read of {(end - first) // self.register_bytes} {units} at "
                           f"0x{start:0{2 * self.address_bytes}x}",
                           lambda bus, out=out, a=first, b=end:
                           bus.writeto_then_readfrom(self.address, out, raw, in_start=a, in_end=b))
        return bytes(raw)

    def write(self, register: int, data: bytes) -> None:
        """Write `data` to `register` on."""
        message = register.to_bytes(self.address_bytes, "big") + bytes(data)
        self._transfer(f"write of 0x{data.hex()} to 0x{register:0{2 * self.address_bytes}x}",
                       lambda bus: bus.writeto(self.address, message))

    def read_words(self, register: int, count: int) -> np.ndarray:
        """`count` big-endian 16-bit words from `register` on."""
        return np.frombuffer(self.read(register, 2 * count), dtype=">u2").astype(np.uint16)

    def read_word(self, register: int) -> int:
        """One 16-bit register."""
        return int(self.read_words(register, 1)[0])

    def write_word(self, register: int, value: int) -> None:
        """Write one 16-bit register."""
        self.write(register, (value & 0xFFFF).to_bytes(2, "big"))

    def read_words_agreed(self, register: int, count: int, tries: int, *, what: str,
                          advice: str) -> tuple[np.ndarray, int]:
        """`count` words from `register` on, read until two reads agree word for word (a bit error on the bus
        never repeats), and how many reads that took; after `tries` reads a one-line SensorError with `advice`."""
        reads: list[np.ndarray] = []
        for _ in range(tries):
            words = self.read_words(register, count)
            if any(np.array_equal(words, earlier) for earlier in reads):
                return words, len(reads) + 1
            reads.append(words)
        first = register + int(np.flatnonzero(reads[0] != reads[1])[0])
        raise SensorError(f"{self.where}: the {what} read differently {_TIMES.get(tries, f'{tries} times')} "
                          f"(first at 0x{first:04x}): the bus corrupts data; {advice}")

    def _transfer(self, what: str, action: Callable[[BusioI2C], None]) -> None:
        """Run one bus transaction; NACK / remote I/O errors are retried with backoff, then a SensorError."""
        for attempt in range(self.retries + 1):
            if self.before is not None:
                self.before()
            try:
                with locked(self.bus) as bus:
                    action(bus)
                return
            except OSError as exc:
                if not is_nack(exc):
                    raise SensorError(f"{self.where}: {what} failed: {bus_error_advice(exc)}") from exc
                if attempt == self.retries:
                    raise SensorError(
                        f"{self.where}: no acknowledge on {what} after {attempt + 1} tries ({exc}); check the "
                        f"wiring (SDA, SCL, 3.3 V, GND), that `i2cdetect -y {bus_number(self.bus_name)}` "
                        f"shows {self.address:02x}, and lower the Pi's i2c_arm_baudrate if it is above "
                        "400000") from exc
                self.nack_retries += 1
                self.clock.sleep(BACKOFF_S * 2**attempt)
