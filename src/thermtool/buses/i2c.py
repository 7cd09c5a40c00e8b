"""I2C transports with Blinka's `busio.I2C` interface: Linux i2c-dev (through smbus2) and helpers.

Every driver talks to an object with `try_lock`, `unlock`, `writeto`, `readfrom_into` and
`writeto_then_readfrom`; a real Blinka bus, our Linux transport and the emulators' fake bus all fit.
"""

from __future__ import annotations

import contextlib
import errno
import re
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from ..errors import MissingDependencyError, SensorError


class BusioI2C(Protocol):
    """The subset of busio.I2C that drivers use."""

    def try_lock(self) -> bool: ...

    def unlock(self) -> None: ...

    def writeto(self, address: int, buffer: bytes | bytearray, *, start: int = 0, end: int | None = None) -> None: ...

    def readfrom_into(self, address: int, buffer: bytearray, *, start: int = 0, end: int | None = None) -> None: ...

    def writeto_then_readfrom(self, address: int, buffer_out: bytes | bytearray, buffer_in: bytearray, *,
                              out_start: int = 0, out_end: int | None = None, in_start: int = 0,
                              in_end: int | None = None) -> None: ...


class BusLock:
    """busio's try_lock/unlock as a process-local flag (Blinka's own buses behave the same way)."""

    _locked = False

    def try_lock(self) -> bool:
        """Take the (process-local) bus lock."""
        if self._locked:
            return False
        self._locked = True
        return True

    def unlock(self) -> None:
        """Release the bus lock."""
        self._locked = False


class LinuxI2C(BusLock):
    """A Linux /dev/i2c-N bus with busio.I2C's methods, using combined (repeated-start) transfers."""

    def __init__(self, path: str = "/dev/i2c-1") -> None:
        try:
            from smbus2 import SMBus
        except ImportError as exc:  # pragma: no cover - smbus2 is in the sensor extras
            raise MissingDependencyError("the Linux I2C transport", "mlx90640") from exc
        self.path = path
        try:
            self._bus = SMBus(path)
        except OSError as exc:
            raise SensorError(f"{path}: {open_error_advice(exc)}") from None

    @property
    def frequency(self) -> int | None:
        """The bus clock in Hz as the device tree sets it (a Pi's i2c_arm_baudrate), None when unknown."""
        name = Path(self.path).name
        return sysfs_frequency(Path("/sys/class/i2c-adapter") / name / "of_node" / "clock-frequency")

    def _transfer(self, *messages: Any) -> None:
        self._bus.i2c_rdwr(*messages)

    def writeto(self, address: int, buffer: bytes | bytearray, *, start: int = 0, end: int | None = None) -> None:
        """One write message."""
        from smbus2 import i2c_msg

        self._transfer(i2c_msg.write(address, bytes(buffer[start:end])))

    def readfrom_into(self, address: int, buffer: bytearray, *, start: int = 0, end: int | None = None) -> None:
        """One read message into `buffer[start:end]`."""
        from smbus2 import i2c_msg

        end = len(buffer) if end is None else end
        msg = i2c_msg.read(address, end - start)
        self._transfer(msg)
        buffer[start:end] = bytes(msg)

    def writeto_then_readfrom(self, address: int, buffer_out: bytes | bytearray, buffer_in: bytearray, *,
                              out_start: int = 0, out_end: int | None = None, in_start: int = 0,
                              in_end: int | None = None) -> None:
        """A write then a read with a repeated start (one i2c_rdwr call), as the MLX90640 and Lepton CCI need."""
        from smbus2 import i2c_msg

        in_end = len(buffer_in) if in_end is None else in_end
        write = i2c_msg.write(address, bytes(buffer_out[out_start:out_end]))
        read = i2c_msg.read(address, in_end - in_start)
        self._transfer(write, read)
        buffer_in[in_start:in_end] = bytes(read)

    def close(self) -> None:
        """Close the bus file."""
        self._bus.close()


#: How long a transaction waits for a bus another program (not thermtool) holds through busio's lock.
FOREIGN_LOCK_WAIT_S = 1.0
_BUS_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_UNREFERENCEABLE_LOCKS: dict[int, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def bus_lock(bus: object) -> threading.RLock:
    """The one thread lock of a bus object: every sensor on that bus, in any thread, shares it.

    busio's try_lock is a plain flag (Blinka's and ours), so two threads could both pass it; this lock
    is taken first, which makes two sensors on one bus work from two threads.
    """
    with _LOCKS_GUARD:
        try:
            return _BUS_LOCKS.setdefault(bus, threading.RLock())
        except TypeError:  # not weak-referenceable (__slots__): key by identity for the process's life
            return _UNREFERENCEABLE_LOCKS.setdefault(id(bus), threading.RLock())


@contextlib.contextmanager
def locked(bus: BusioI2C) -> Iterator[BusioI2C]:
    """Hold the bus for one transaction: its thread lock, then busio's try_lock (waited on, never forever)."""
    guard = bus_lock(bus)
    if not guard.acquire(timeout=FOREIGN_LOCK_WAIT_S):
        raise SensorError("I2C bus stays busy: another thread held it for over a second")
    try:
        give_up = time.monotonic() + FOREIGN_LOCK_WAIT_S
        while not bus.try_lock():
            if time.monotonic() >= give_up:
                raise SensorError("I2C bus stays locked by another program using the same bus object")
            time.sleep(0.0005)
        try:
            yield bus
        finally:
            bus.unlock()
    finally:
        guard.release()


def sysfs_frequency(path: Path) -> int | None:
    """A device-tree clock-frequency property (one big-endian 32-bit cell), None when absent or malformed."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    return int.from_bytes(raw[:4], "big") or None if len(raw) >= 4 else None


def bus_frequency(bus: object) -> float | None:
    """The clock of a bus object in Hz when it knows it (a `frequency` attribute), else None."""
    try:
        value = getattr(bus, "frequency", None)
    except OSError:
        return None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def is_nack(exc: OSError) -> bool:
    """True for the errors a missing acknowledge produces (Linux: EREMOTEIO 121, ENXIO, EIO)."""
    return exc.errno in (errno.EREMOTEIO, errno.ENXIO, errno.EIO, errno.ETIMEDOUT, errno.EAGAIN)


def bus_number(name: str) -> int:
    """The N of /dev/i2c-N (for the `i2cdetect -y N` hint); 1, the Raspberry Pi's header bus, otherwise."""
    found = re.search(r"i2c-(\d+)$", name)
    return int(found.group(1)) if found else 1


def bus_error_advice(exc: OSError) -> str:
    """What a failed transfer's errno means for the user, for errors other than a missing acknowledge."""
    if exc.errno == errno.EOPNOTSUPP:
        return ("the I2C adapter cannot do plain I2C read/write transfers (EOPNOTSUPP: an SMBus-only "
                "adapter); use the board's own I2C controller (/dev/i2c-1 on a Pi) or an adapter whose driver "
                "supports I2C_RDWR")
    if exc.errno == errno.ENODEV:
        return ("the I2C adapter went away (ENODEV): a USB adapter was unplugged or its driver unloaded; "
                "reconnect it and start again")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return open_error_advice(exc)
    return f"{exc.strerror or exc}; check the bus and its wiring"


def open_error_advice(exc: OSError) -> str:
    """Why an i2c-dev node could not be opened, and what to do about it."""
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        present = ", ".join(str(p) for p in i2c_bus_paths()) or "none"
        return (f"no such I2C bus (buses present: {present}); enable I2C (raspi-config on a Pi, jetson-io on "
                "a Jetson) or name another bus")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ("permission denied; add your user to the 'i2c' group (sudo adduser $USER i2c, then log in "
                "again), or give that group the device with a udev rule: "
                'SUBSYSTEM=="i2c-dev", GROUP="i2c", MODE="0660"')
    return bus_error_advice(exc) if exc.errno in (errno.ENODEV, errno.EOPNOTSUPP) else f"{exc.strerror or exc}"


def i2c_bus_paths(dev: Path = Path("/dev")) -> list[Path]:
    """The i2c-dev nodes present on this machine, in bus-number order."""
    return sorted(dev.glob("i2c-*"), key=lambda p: (len(p.name), p.name))


#: The I2C bus on header pins 3 (SDA) and 5 (SCL), by Jetson SoC (the device tree's "nvidia,tegraNNN");
#: pins 27/28 are bus 0 on the Nano (tegra210) and bus 1 on the others. Orin and Thor put pins 3/5 on 7.
JETSON_HEADER_BUS = {"tegra210": 1, "tegra186": 1, "tegra194": 8, "tegra234": 7, "tegra264": 7}


def header_bus(compatible: str) -> int:
    """The header bus (pins 3/5) of a board from its device-tree "compatible" string; 1 (a Pi) otherwise."""
    for soc, number in JETSON_HEADER_BUS.items():
        if f"nvidia,{soc}" in compatible:
            return number
    return 1


def default_bus_path(root: Path = Path("/")) -> str:
    """The i2c-dev node of the board's header I2C pins: /dev/i2c-1 on a Pi, the SoC's bus on a Jetson."""
    try:
        compatible = (root / "proc/device-tree/compatible").read_bytes().decode("ascii", "replace")
    except OSError:
        compatible = ""
    return f"/dev/i2c-{header_bus(compatible)}"
