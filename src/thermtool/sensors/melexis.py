"""Word registers of the Melexis MLX9064x family over any busio-like I2C bus, with NACK retries.

The devices take a 16-bit big-endian register address and then read or write big-endian 16-bit words
with auto-increment. A NACK (or the remote I/O errors Linux reports for one) is retried with a doubling
backoff; anything else, or the last failed try, becomes a one-line SensorError with wiring advice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..buses.i2c import BusioI2C, is_nack, locked
from ..clock import Clock
from ..errors import SensorError
from .mlx90640.device import bus_number

BACKOFF_S = 0.002  # first retry delay; doubles each time


class WordRegisters:
    """Read and write 16-bit words of the device at `address` on `bus`; `where` prefixes error messages."""

    def __init__(self, bus: BusioI2C, address: int, *, where: str, bus_name: str, clock: Clock,
                 chunk_words: int = 128, retries: int = 4) -> None:
        self.bus, self.address, self.where, self.bus_name = bus, address, where, bus_name
        self.clock = clock
        self.chunk_words = max(1, int(chunk_words))
        self.retries = max(0, int(retries))
        self.nack_retries = 0

    def read_words(self, register: int, count: int) -> np.ndarray:
        """`count` words from `register` on, in reads of at most `chunk_words` words."""
        raw = bytearray(2 * count)
        for first in range(0, count, self.chunk_words):
            n = min(self.chunk_words, count - first)
            start = register + first
            out = bytes(((start >> 8) & 0xFF, start & 0xFF))
            self._transfer(f"read of {n} words at 0x{start:04x}",
                           lambda bus, out=out, a=2 * first, b=2 * (first + n):
                           bus.writeto_then_readfrom(self.address, out, raw, in_start=a, in_end=b))
        return np.frombuffer(bytes(raw), dtype=">u2").astype(np.uint16)

    def read_word(self, register: int) -> int:
        """One 16-bit register."""
        return int(self.read_words(register, 1)[0])

    def write_word(self, register: int, value: int) -> None:
        """Write one 16-bit register."""
        data = bytes(((register >> 8) & 0xFF, register & 0xFF, (value >> 8) & 0xFF, value & 0xFF))
        self._transfer(f"write of 0x{value:04x} to 0x{register:04x}", lambda bus: bus.writeto(self.address, data))

    def _transfer(self, what: str, action: Callable[[BusioI2C], None]) -> None:
        for attempt in range(self.retries + 1):
            try:
                with locked(self.bus) as bus:
                    action(bus)
                return
            except OSError as exc:
                if not is_nack(exc):
                    raise SensorError(f"{self.where}: {what} failed ({exc}); check the bus and its "
                                      "permissions") from exc
                if attempt == self.retries:
                    raise SensorError(
                        f"{self.where}: no acknowledge on {what} after {attempt + 1} tries ({exc}); check the "
                        f"wiring (SDA, SCL, 3.3 V, GND) and that `i2cdetect -y {bus_number(self.bus_name)}` "
                        f"shows {self.address:02x}") from exc
                self.nack_retries += 1
                self.clock.sleep(BACKOFF_S * 2**attempt)
