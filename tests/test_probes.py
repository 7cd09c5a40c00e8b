"""Hardware probes for the MLX90641 (told apart from the MLX90640 at 0x33), Grid-EYEs and USB cameras."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

from thermtool.clock import VirtualClock
from thermtool.emulators.mlx90640 import MLX90640Emulator
from thermtool.emulators.mlx90641 import MLX90641Emulator
from thermtool.sensors import probes
from thermtool.sensors.detect import Finding, choose


class SMBusLike:
    """smbus2's i2c_rdwr over an emulated device (what the probe calls on a real bus)."""

    def __init__(self, device: object) -> None:
        self.device = device

    def i2c_rdwr(self, *messages: object) -> None:
        write, read = messages
        self.device.write(bytes(write))  # type: ignore[attr-defined]
        data = self.device.read(read.len)  # type: ignore[attr-defined]
        ctypes.memmove(read.buf, data, len(data))  # type: ignore[attr-defined]


def test_melexis_parts_are_told_apart_by_eeprom_word_0x240a() -> None:
    clock = VirtualClock()
    mlx90641 = MLX90641Emulator(clock, scene=lambda t: np.zeros((12, 16)))
    mlx90640 = MLX90640Emulator(clock, scene=lambda t: np.zeros((24, 32)))
    assert probes.melexis_model(SMBusLike(mlx90641)) == "mlx90641"
    assert probes.melexis_model(SMBusLike(mlx90640)) == "mlx90640"


def test_grid_eyes_and_usb_cameras(tmp_path: Path) -> None:
    found = probes.grid_eyes(lambda a: a == 0x69, Path("/dev/i2c-1"))
    assert found == [("amg88xx:/dev/i2c-1@0x69", "Grid-EYE (AMG88xx) answers at 0x69 on /dev/i2c-1")]
    dev = tmp_path / "dev"
    dev.mkdir()
    for n in (0, 1):
        (dev / f"video{n}").touch()
    usb = tmp_path / "sys" / "devices" / "1-1"
    (usb / "1-1:1.0").mkdir(parents=True)
    (usb / "idVendor").write_text("0bda")
    (usb / "idProduct").write_text("5830")
    (tmp_path / "class" / "video1").mkdir(parents=True)
    os.symlink(usb / "1-1:1.0", tmp_path / "class" / "video1" / "device")
    cameras, notes = probes.usb_cameras(dev, tmp_path / "class")
    assert cameras == [(f"uvc:{dev}/video1", f"InfiRay P2 Pro / Topdon TC001 [0bda:5830] at {dev}/video1")]
    assert notes == [] and probes.usb_cameras(tmp_path / "nothing", tmp_path / "class") == ([], [])
    assert choose([Finding(*cameras[0])]) == Finding(*cameras[0])
    assert choose([Finding("amg88xx:/dev/i2c-1", "x"), Finding(*cameras[0])]) is None  # two: ask the user
