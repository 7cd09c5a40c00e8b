"""Probes for the sensors added after the MLX90640 and the Lepton: which Melexis part answers at 0x33,
Grid-EYEs at 0x68/0x69, and video nodes with the USB ids of the thermal cameras thermtool reads.

`sensors/detect.py` calls these; each returns findings and never raises for a missing device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .uvc import layouts
from .uvc.usb import SYSFS_VIDEO, usb_id, video_nodes

MELEXIS_ADDRESS = 0x33
GRID_EYE_ADDRESSES = (0x68, 0x69)
_DEVICE_WORD = 0x240A  # EEPROM word whose bit 6 is set on an MLX90641 (Melexis' CheckEEPROMValid)


def melexis_model(bus: Any, address: int = MELEXIS_ADDRESS) -> str:
    """"mlx90641" when the device at `address` reads as one (EEPROM 0x240A bit 6), else "mlx90640"."""
    try:
        from smbus2 import i2c_msg

        write = i2c_msg.write(address, _DEVICE_WORD.to_bytes(2, "big"))
        read = i2c_msg.read(address, 2)
        bus.i2c_rdwr(write, read)
        word = int.from_bytes(bytes(read), "big")
    except (OSError, ImportError):
        return "mlx90640"
    return "mlx90641" if word & 0x0040 else "mlx90640"


def grid_eyes(answers: Any, path: Path) -> list[tuple[str, str]]:
    """(spec, description) of each Grid-EYE address that answers on the bus at `path`."""
    return [(f"amg88xx:{path}" + ("" if a == GRID_EYE_ADDRESSES[0] else f"@0x{a:02x}"),
             f"Grid-EYE (AMG88xx) answers at 0x{a:02x} on {path}")
            for a in GRID_EYE_ADDRESSES if answers(a)]


def usb_cameras(dev: Path = Path("/dev"), sysfs: Path = SYSFS_VIDEO) -> tuple[list[tuple[str, str]], list[str]]:
    """(spec, description) of each video node whose USB ids are a known thermal camera, and notes."""
    nodes = video_nodes(dev)
    if not nodes:
        return [], []
    found: list[tuple[str, str]] = []
    for node in nodes:
        ids = usb_id(str(node), sysfs)
        model = layouts.model_for_usb(ids.vendor, ids.product) if ids else None
        if model is not None:
            found.append((f"uvc:{node}", f"{model.description} [{ids}] at {node}"))
    notes = [] if found else [f"{len(nodes)} video device(s), none with a known thermal camera's USB id "
                              "(try --sensor uvc:/dev/videoN --uvc-model ...)"]
    return found, notes
