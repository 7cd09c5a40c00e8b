"""SPI through Linux spidev: open /dev/spidevB.D in a mode and at a speed (ioctls), read with `os.read`.

A Lepton must be read continuously in real time, so the transport is `read(n) -> bytes`: on a device node
that is `os.read` on its file descriptor, which releases the GIL for the whole transfer and returns bytes,
and moves up to the kernel's `bufsiz` (4096 bytes by default; larger reads fail with Errno 90).
Objects passed in by the caller are used through `transport_for`: one with `read(n)` as is, a py-spidev
`SpiDev` (`readbytes`) with reads clamped to 4096 bytes, because py-spidev silently shortens longer reads.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import InputError, SensorError

BUFSIZ_PATH = Path("/sys/module/spidev/parameters/bufsiz")
DEFAULT_BUFSIZ = 4096  # the spidev driver's default bufsiz
PY_SPIDEV_MAX_READ = 4096  # py-spidev's readbytes silently clamps every read to this (SPIDEV_MAXPATH)
DEFAULT_SPI = "/dev/spidev0.0"
SPI_MODES = (0, 1, 2, 3)

# linux/spi/spidev.h: _IOW(SPI_IOC_MAGIC 'k', nr, type)
_IOC_WRITE, _SPI_MAGIC = 1, ord("k")


def _iow(number: int, size: int) -> int:
    return (_IOC_WRITE << 30) | (size << 16) | (_SPI_MAGIC << 8) | number


SPI_IOC_WR_MODE = _iow(1, 1)
SPI_IOC_WR_BITS_PER_WORD = _iow(3, 1)
SPI_IOC_WR_MAX_SPEED_HZ = _iow(4, 4)

_ENABLE_HINT = ("enable SPI (Raspberry Pi: raspi-config > Interface Options > SPI, or dtparam=spi=on in "
                "config.txt; Jetson: sudo /opt/nvidia/jetson-io/jetson-io.py) and check `ls /dev/spidev*`")


class Transport(Protocol):
    """What the Lepton driver reads through: `read(n)` returns exactly n bytes clocked in (MOSI low)."""

    def read(self, count: int) -> bytes: ...

    def close(self) -> None: ...


class SpiLike(Protocol):
    """The part of py-spidev's SpiDev that callers may pass instead of a transport."""

    def readbytes(self, count: int) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Reader:
    """A transport as the driver uses it: `read`, the most bytes one read may ask for, and what it is."""

    read: Callable[[int], Any]  # bytes, or py-spidev's list of ints
    limit: int
    kind: str  # "os.read", "read" (a caller's object) or "readbytes" (py-spidev)


def spidev_bufsiz(path: Path = BUFSIZ_PATH) -> int:
    """The kernel's largest spidev transfer in bytes (its `bufsiz` parameter), or 4096 when unreadable."""
    try:
        value = int(path.read_text().strip())
    except (OSError, ValueError):
        return DEFAULT_BUFSIZ
    return value if value > 0 else DEFAULT_BUFSIZ


def transfer_limit(spi: object, bufsiz_path: Path = BUFSIZ_PATH) -> int:
    """Bytes one transfer on `spi` may move: its own `bufsiz` attribute when it has one, else the kernel's."""
    own = getattr(spi, "bufsiz", None)
    return int(own) if isinstance(own, int) and own > 0 else spidev_bufsiz(bufsiz_path)


def transport_for(spi: Any, bufsiz_path: Path = BUFSIZ_PATH) -> Reader:
    """How to read `spi`: its `read(n)` up to its transfer limit, else py-spidev's `readbytes` up to 4096."""
    limit = transfer_limit(spi, bufsiz_path)
    if callable(getattr(spi, "read", None)):
        return Reader(spi.read, limit, "os.read" if isinstance(spi, SpiDevice) else "read")
    if callable(getattr(spi, "readbytes", None)):
        return Reader(spi.readbytes, min(limit, PY_SPIDEV_MAX_READ), "readbytes")
    raise InputError(f"spi={type(spi).__name__}: expected an object with read(n) or py-spidev's readbytes(n)")


def parse_spidev_path(path: str) -> tuple[int, int]:
    """(bus, chip select) from "/dev/spidevB.D"."""
    match = re.fullmatch(r".*spidev(\d+)\.(\d+)", str(path))
    if not match:
        raise SensorError(f"{path}: not an spidev node name (expected /dev/spidevBUS.CS, e.g. {DEFAULT_SPI})")
    return int(match.group(1)), int(match.group(2))


def _check_node(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise SensorError(f"{path}: no such SPI device; {_ENABLE_HINT}") from None
    except PermissionError:
        raise SensorError(f"{path}: permission denied; add your user to the 'spi' group") from None
    if not stat.S_ISCHR(mode):
        raise SensorError(f"{path} is not a device node (a stray regular file?): remove it, then {_ENABLE_HINT}")


class SpiDevice:
    """An spidev node opened in `mode` at `speed_hz` (set by ioctl); `read(n)` is `os.read` on its descriptor.

    `bufsiz` is the per-read limit (the kernel's spidev bufsiz parameter).
    """

    def __init__(self, path: str = DEFAULT_SPI, *, speed_hz: int, mode: int = 3,
                 bufsiz_path: Path = BUFSIZ_PATH) -> None:
        if mode not in SPI_MODES:
            raise InputError(f"--spi-mode {mode}: SPI modes are 0-3")
        self.path = str(path)
        bus, _ = parse_spidev_path(self.path)
        _check_node(self.path)
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except PermissionError:
            raise SensorError(f"{self.path}: permission denied; add your user to the 'spi' group") from None
        except OSError as exc:
            raise SensorError(f"{self.path}: cannot open ({exc.strerror}); {_ENABLE_HINT}") from None
        try:
            fcntl.ioctl(self._fd, SPI_IOC_WR_MODE, struct.pack("=B", mode))
            fcntl.ioctl(self._fd, SPI_IOC_WR_BITS_PER_WORD, struct.pack("=B", 8))
            fcntl.ioctl(self._fd, SPI_IOC_WR_MAX_SPEED_HZ, struct.pack("=I", int(speed_hz)))
        except OSError as exc:
            os.close(self._fd)
            raise self._setup_error(exc, mode, bus) from None
        self.max_speed_hz = int(speed_hz)
        self.mode = mode
        self.bufsiz = spidev_bufsiz(bufsiz_path)
        self.closed = False

    def _setup_error(self, exc: OSError, mode: int, bus: int) -> SensorError:
        if exc.errno == errno.EINVAL and mode in (1, 3) and bus != 0:
            return SensorError(f"{self.path}: the controller rejects SPI mode {mode}. The Raspberry Pi's second "
                               "SPI bus (SPI1, the auxiliary 'mini' SPI) cannot do modes 1 and 3: wire the "
                               "Lepton to SPI0 (/dev/spidev0.0 or 0.1)")
        if exc.errno == errno.ENOTTY:
            return SensorError(f"{self.path}: 'Inappropriate ioctl': this node is not an spidev device; "
                               f"{_ENABLE_HINT}")
        return SensorError(f"{self.path}: cannot set SPI mode {mode} ({exc.strerror}); check the SPI overlay")

    def read(self, count: int) -> bytes:
        """Clock in `count` bytes (one transfer, /CS held, GIL released); Errno 90 becomes a bufsiz message."""
        try:
            data = os.read(self._fd, count)
        except OSError as exc:
            if exc.errno == errno.EMSGSIZE:
                raise SensorError(f"{self.path}: a {count}-byte read exceeds spidev's bufsiz ({self.bufsiz}): "
                                  "read less, or raise it with spidev.bufsiz=65536 in cmdline.txt") from None
            raise SensorError(f"{self.path}: SPI read failed ({exc.strerror})") from None
        if len(data) != count:
            raise SensorError(f"{self.path}: a {count}-byte SPI read returned {len(data)} bytes")
        return data

    def close(self) -> None:
        """Close the device node (idempotent)."""
        if not self.closed:
            self.closed = True
            os.close(self._fd)
