"""Which USB device a /dev/videoN node belongs to, from sysfs (Linux), without opening it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SYSFS_VIDEO = Path("/sys/class/video4linux")


@dataclass(frozen=True)
class UsbId:
    """A video node's USB vendor and product ids and the product string the device reports."""

    vendor: int
    product: int
    name: str

    def __str__(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}" + (f" ({self.name})" if self.name else "")


def video_path(target: str | None) -> str:
    """The device a `uvc` target names: None -> /dev/video0, "2" -> /dev/video2, a path as is."""
    if not target:
        return "/dev/video0"
    return f"/dev/video{target}" if target.isdigit() else target


def usb_id(device: str, sysfs: Path = SYSFS_VIDEO) -> UsbId | None:
    """The USB ids of /dev/videoN (through sysfs' device link and its USB parent), or None when unknown."""
    name = Path(device).name
    if not re.fullmatch(r"video\d+", name):
        return None
    try:
        node = (sysfs / name / "device").resolve(strict=True)
    except OSError:
        return None
    for folder in (node, *list(node.parents)[:3]):
        try:
            vendor = int((folder / "idVendor").read_text().strip(), 16)
            product = int((folder / "idProduct").read_text().strip(), 16)
        except (OSError, ValueError):
            continue
        try:
            label = (folder / "product").read_text().strip()
        except OSError:
            label = ""
        return UsbId(vendor, product, label)
    return None


def video_nodes(dev: Path = Path("/dev")) -> list[Path]:
    """The /dev/videoN nodes present, in number order."""
    return sorted(dev.glob("video[0-9]*"), key=lambda p: int(p.name[5:]) if p.name[5:].isdigit() else 0)
