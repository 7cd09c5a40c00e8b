"""A fake I2C bus with busio.I2C's interface, for register-level device emulators.

Devices attach at an address. Each transaction costs bus time (9 bits a byte, plus start/address) on the
bus's clock, so a virtual clock measures what a real bus at that frequency would deliver. Faults are
injected per transaction: a NACK raises OSError(EREMOTEIO) as Linux i2c-dev does.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..buses.i2c import BusLock
from ..clock import Clock, VirtualClock


class I2CDevice(Protocol):
    """A device model: it sees each message of a transaction."""

    def write(self, data: bytes) -> None: ...

    def read(self, count: int) -> bytes: ...


@dataclass
class Transaction:
    """What the bus saw: kind ("write", "read", "write_read"), address, bytes written, bytes read."""

    kind: str
    address: int
    written: bytes
    read_count: int


#: A fault hook: given the transaction about to happen, return True to NACK it.
NackRule = Callable[[Transaction], bool]
#: A fault hook on what a read returns: (transaction, bytes the device sent) -> bytes the host receives.
DataRule = Callable[[Transaction, bytes], bytes]
#: A fault hook: seconds the bus stalls before the transaction (0 for none).
DelayRule = Callable[[Transaction], float]


def nack_error() -> OSError:
    """The error Linux i2c-dev raises when a device does not acknowledge."""
    return OSError(errno.EREMOTEIO, "Remote I/O error")


class FakeI2CBus(BusLock):
    """An I2C bus in software: devices by address, bus-time accounting on `clock`, NACK injection."""

    def __init__(self, frequency: int = 400_000, clock: Clock | None = None) -> None:
        self.frequency = frequency
        self.clock = clock if clock is not None else VirtualClock()
        self.devices: dict[int, I2CDevice] = {}
        self.nack_rules: list[NackRule] = []
        self.data_rules: list[DataRule] = []
        self.delay_rules: list[DelayRule] = []
        self.transactions = 0

    def attach(self, address: int, device: I2CDevice) -> None:
        """Put `device` on the bus at `address`."""
        self.devices[address] = device

    # busio.I2C interface -------------------------------------------------------------------------
    def scan(self) -> list[int]:
        """Addresses that acknowledge."""
        return sorted(self.devices)

    def writeto(self, address: int, buffer: bytes | bytearray, *, start: int = 0, end: int | None = None) -> None:
        """A write message."""
        data = bytes(buffer[start:end])
        device = self._begin(Transaction("write", address, data, 0), len(data))
        device.write(data)

    def readfrom_into(self, address: int, buffer: bytearray, *, start: int = 0, end: int | None = None) -> None:
        """A read message."""
        end = len(buffer) if end is None else end
        transaction = Transaction("read", address, b"", end - start)
        device = self._begin(transaction, end - start)
        buffer[start:end] = self._received(transaction, device.read(end - start))

    def writeto_then_readfrom(self, address: int, buffer_out: bytes | bytearray, buffer_in: bytearray, *,
                              out_start: int = 0, out_end: int | None = None, in_start: int = 0,
                              in_end: int | None = None) -> None:
        """A write, a repeated start, then a read."""
        data = bytes(buffer_out[out_start:out_end])
        in_end = len(buffer_in) if in_end is None else in_end
        count = in_end - in_start
        transaction = Transaction("write_read", address, data, count)
        device = self._begin(transaction, len(data) + count + 1)
        device.write(data)
        buffer_in[in_start:in_end] = self._received(transaction, device.read(count))

    # --------------------------------------------------------------------------------------------
    def _begin(self, transaction: Transaction, payload_bytes: int) -> I2CDevice:
        self.transactions += 1
        # start + address byte + payload, 9 clocks a byte (8 data + ACK), plus stop.
        self.clock.sleep(((payload_bytes + 1) * 9 + 2) / self.frequency + sum(r(transaction) for r in self.delay_rules))
        device = self.devices.get(transaction.address)
        if device is None or any(rule(transaction) for rule in self.nack_rules):
            raise nack_error()
        return device

    def _received(self, transaction: Transaction, data: bytes) -> bytes:
        for rule in self.data_rules:
            data = rule(transaction, data)
        return data
