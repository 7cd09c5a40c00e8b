"""I2C probing and bus helpers: MLX90640s at any address of 0x30..0x3F, buses that cannot be opened, Jetson buses."""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path

import numpy as np
import pytest
import smbus2.smbus2

from thermtool.buses.i2c import LinuxI2C, default_bus_path, header_bus, i2c_bus_paths, open_error_advice
from thermtool.emulators.i2c import FakeI2CBus
from thermtool.emulators.i2c_dev import FakeI2CDev
from thermtool.emulators.mlx90640 import MLX90640Emulator
from thermtool.sensors.detect import Finding, choose, probe_i2c
from thermtool.sensors.mlx90640.synthetic import synthetic_eeprom


class _Display:
    """Another chip of the 0x30..0x3F range (an SSD1306 display at 0x3C): it answers but is no MLX90640."""

    def write(self, data: bytes) -> None:
        pass

    def read(self, count: int) -> bytes:
        return bytes(count)


def _mlx(bus: FakeI2CBus, address: int) -> None:
    eeprom = synthetic_eeprom(1)
    eeprom[15] = (int(eeprom[15]) & 0xFF00) | address
    bus.attach(address, MLX90640Emulator(bus.clock, eeprom, scene=lambda t: np.full((24, 32), 25.0)))


def test_probe_finds_mlx90640s_at_any_address_and_ignores_other_chips(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    bus = FakeI2CBus()
    _mlx(bus, 0x33)
    _mlx(bus, 0x35)
    bus.attach(0x3C, _Display())
    monkeypatch.setattr(smbus2.smbus2, "ioctl", FakeI2CDev(bus).ioctl)
    node = tmp_path / "i2c-7"
    node.touch()
    findings, notes = probe_i2c([node])
    assert notes == []
    assert [(f.spec, f.address) for f in findings] == [(f"mlx90640:{node}", 0x33), (f"mlx90640:{node}", 0x35)]
    assert "add --address 0x35" in findings[1].description
    assert choose(findings) is None  # two sensors: the user picks


def test_a_lone_mlx90640_elsewhere_than_0x33_is_not_chosen_silently() -> None:
    elsewhere = Finding("mlx90640:/dev/i2c-7", "MLX90640 answers at 0x34 on /dev/i2c-7 (add --address 0x34)", 0x34)
    assert choose([elsewhere]) is None
    assert choose([Finding("mlx90640:/dev/i2c-7", "MLX90640 answers at 0x33", 0x33)]) is not None


def test_a_bus_that_cannot_be_opened_says_why(tmp_path: Path) -> None:
    findings, notes = probe_i2c([tmp_path / "i2c-9"])
    assert findings == [] and "no such I2C bus" in notes[0]
    advice = open_error_advice(PermissionError(errno.EACCES, "Permission denied"))
    assert "'i2c' group" in advice and "udev" in advice and 'GROUP="i2c"' in advice


def test_jetson_header_buses_and_bus_order(tmp_path: Path) -> None:
    assert header_bus("raspberrypi,5-model-b\0brcm,bcm2712") == 1
    assert header_bus("nvidia,p3768-0000+p3767-0005\0nvidia,p3767-0005\0nvidia,tegra234") == 7  # Orin Nano
    assert header_bus("nvidia,p3449-0000-b00+p3448-0000-b00\0nvidia,jetson-nano\0nvidia,tegra210") == 1
    assert header_bus("nvidia,p3509-0000+p3668-0001\0nvidia,tegra194") == 8  # Xavier NX
    tree = tmp_path / "proc" / "device-tree"
    tree.mkdir(parents=True)
    (tree / "compatible").write_bytes(b"nvidia,p3768-0000+p3767-0005\0nvidia,tegra234\0")
    assert default_bus_path(tmp_path) == "/dev/i2c-7"
    assert default_bus_path(tmp_path / "elsewhere") == "/dev/i2c-1"
    for n in (10, 2, 1):
        (tmp_path / f"i2c-{n}").touch()
    assert [p.name for p in i2c_bus_paths(tmp_path)] == ["i2c-1", "i2c-2", "i2c-10"]


def test_linux_transport_messages_through_the_ioctl(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bus = FakeI2CBus()
    _mlx(bus, 0x33)
    seen: list[str] = []
    bus.nack_rules.append(lambda tx: seen.append(tx.kind) or False)
    monkeypatch.setattr(smbus2.smbus2, "ioctl", FakeI2CDev(bus).ioctl)
    node = tmp_path / "i2c-1"
    node.touch()
    linux = LinuxI2C(str(node))
    try:
        linux.writeto(0x33, b"\x24\x0f")  # set the register pointer: one write message
        word = bytearray(2)
        linux.readfrom_into(0x33, word)  # then one read message
        again = bytearray(4)
        linux.writeto_then_readfrom(0x33, b"\x24\x0f", again, in_start=2)  # one I2C_RDWR with a repeated start
    finally:
        linux.close()
    assert word[1] == 0x33 and again[3] == 0x33 and again[:2] == bytes(2)
    assert seen == ["write", "read", "write_read"]
    with contextlib.closing(LinuxI2C(str(node))) as other, pytest.raises(OSError) as caught:
        other.readfrom_into(0x50, bytearray(2))  # nobody there: the kernel's NACK errno
    assert caught.value.errno == errno.EREMOTEIO
