"""A fake Linux i2c-dev: the kernel's ioctl interface in front of a `FakeI2CBus`.

smbus2 (and so `buses.i2c.LinuxI2C` and `sensors.detect`) talk to i2c-dev through `fcntl.ioctl` on a file
descriptor: I2C_FUNCS at open, I2C_SLAVE then I2C_SMBUS for SMBus calls, I2C_RDWR for combined
transfers. `FakeI2CDev.ioctl` answers those requests from the fake bus (its devices, bus time and fault
rules), so smbus2's own marshalling code runs unchanged in tests. Adapter faults: `plain_i2c=False` is an
SMBus-only adapter (I2C_RDWR fails with EOPNOTSUPP), `gone` an unplugged one (every call fails with ENODEV).
"""

from __future__ import annotations

import ctypes
import errno
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .i2c import FakeI2CBus

# uapi/linux/i2c-dev.h and i2c.h
I2C_SLAVE, I2C_FUNCS, I2C_SLAVE_FORCE, I2C_RDWR, I2C_PEC, I2C_SMBUS = 0x0703, 0x0705, 0x0706, 0x0707, 0x0708, 0x0720
I2C_M_RD = 0x0001
I2C_SMBUS_READ = 1
I2C_SMBUS_QUICK, I2C_SMBUS_BYTE = 0, 1
I2C_FUNC_I2C = 0x00000001
I2C_FUNC_SMBUS_QUICK = 0x00010000
I2C_FUNC_SMBUS_BYTE = 0x00060000


class FakeI2CDev:
    """What the kernel's i2c-dev does for one adapter, answered from `bus`; `ioctl` replaces fcntl.ioctl."""

    def __init__(self, bus: FakeI2CBus, *, plain_i2c: bool = True) -> None:
        self.bus = bus
        self.plain_i2c = plain_i2c
        #: Fault injection: the adapter is gone (a USB adapter unplugged); every request fails with ENODEV.
        self.gone = False
        self._address: dict[int, int] = {}  # per file descriptor, as I2C_SLAVE sets it
        self._adapter = threading.Lock()  # the kernel runs one transfer at a time per adapter

    @property
    def functions(self) -> int:
        """The I2C_FUNCS mask this adapter reports."""
        return I2C_FUNC_SMBUS_QUICK | I2C_FUNC_SMBUS_BYTE | (I2C_FUNC_I2C if self.plain_i2c else 0)

    def ioctl(self, fd: int, request: int, arg: Any = 0, *_: Any) -> int:
        """Handle one i2c-dev request on descriptor `fd`; errors are OSErrors with the kernel's errno."""
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        if request in (I2C_SLAVE, I2C_SLAVE_FORCE):
            self._address[fd] = int(arg)
        elif request == I2C_FUNCS:
            arg.value = self.functions
        elif request == I2C_PEC:
            pass
        elif request == I2C_RDWR:
            if not self.plain_i2c:
                raise OSError(errno.EOPNOTSUPP, "Operation not supported")
            with self._adapter:
                self._rdwr(arg)
        elif request == I2C_SMBUS:
            with self._adapter:
                self._smbus(self._address.get(fd, 0), arg)
        else:
            raise OSError(errno.ENOTTY, "Inappropriate ioctl for device")
        return 0

    def _rdwr(self, data: Any) -> None:
        """A combined transfer: one write then one read is a repeated-start read, else messages in turn."""
        messages = [data.msgs[i] for i in range(data.nmsgs)]
        if (len(messages) == 2 and not messages[0].flags & I2C_M_RD and messages[1].flags & I2C_M_RD
                and messages[0].addr == messages[1].addr):
            received = bytearray(messages[1].len)
            self.bus.writeto_then_readfrom(messages[0].addr, ctypes.string_at(messages[0].buf, messages[0].len),
                                           received)
            ctypes.memmove(messages[1].buf, bytes(received), len(received))
            return
        for message in messages:
            if message.flags & I2C_M_RD:
                received = bytearray(message.len)
                self.bus.readfrom_into(message.addr, received)
                ctypes.memmove(message.buf, bytes(received), len(received))
            else:
                self.bus.writeto(message.addr, ctypes.string_at(message.buf, message.len))

    def _smbus(self, address: int, data: Any) -> None:
        """The SMBus calls probing uses: quick write and read byte; others are not supported."""
        if data.size == I2C_SMBUS_QUICK:
            self.bus.writeto(address, b"")
        elif data.size == I2C_SMBUS_BYTE and data.read_write == I2C_SMBUS_READ:
            received = bytearray(1)
            self.bus.readfrom_into(address, received)
            data.data.contents.byte = received[0]
        else:
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")


@dataclass
class I2CTransport:
    """How a test reaches a fake I2C bus: "busio" (the bus object itself, as Blinka's busio.I2C looks to a
    driver) or "smbus2-ioctl" (smbus2's own code above a `FakeI2CDev` whose device node is `node`; the test
    routes smbus2's ioctl calls to the last of `devs`)."""

    name: str
    node: Path
    devs: list[FakeI2CDev] = field(default_factory=list)

    def connect(self, bus: FakeI2CBus, shared: Any = None) -> tuple[str | None, Any]:
        """(target, i2c) for a driver's open function to reach `bus`; `shared` is a bus object to use instead."""
        if self.name == "busio":
            return None, shared or bus
        if not self.devs or self.devs[-1].bus is not bus:
            self.devs.append(FakeI2CDev(bus))
        self.node.touch()
        return str(self.node), shared
