"""Decode limits checked before anything is allocated: what a small hostile file may make a reader build.

A 510 kB PNG can declare 50000x50000 pixels and a 2 MB `.npz` gigabytes of zeros; readers check the
declared size against these caps first and refuse with one line (exit 2). docs/reliability.md lists them.
"""

from __future__ import annotations

import stat
import struct
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError

#: Most pixels of a 16-bit PNG/TIFF (or a picture) a reader decodes: 4096 x 4096.
MAX_IMAGE_PIXELS = 1 << 24
#: Largest image file read into memory for decoding.
MAX_IMAGE_FILE_BYTES = 1 << 28
#: Largest decoded `.npz` member (frames of a recording: about 6,900 Lepton 3 frames).
MAX_MEMBER_BYTES = 1 << 29
#: Largest `meta` string of a recording, and largest JSON sidecar.
MAX_META_BYTES = 1 << 24

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_TIFF_WIDTH, _TIFF_LENGTH, _TIFF_SAMPLES = 256, 257, 277


def require_regular_file(path: Path) -> None:
    """InputError unless `path` is a regular file (a FIFO or device would block or never end)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a folder, expected a frame file")
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file (a FIFO, socket or device); refused")


def _png_size(head: bytes) -> tuple[int, int, int] | None:
    if len(head) < 26 or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height, _PNG_CHANNELS.get(head[25], 4)


def _tiff_size(handle: BinaryIO, head: bytes) -> tuple[int, int, int] | None:
    """(width, height, samples per pixel) of the first TIFF directory (classic or BigTIFF); None if absent."""
    order = "<" if head[:2] == b"II" else ">"
    big = struct.unpack(order + "H", head[2:4])[0] == 43
    # classic: 2-byte entry count, 12-byte entries; BigTIFF: 8-byte count, 20-byte entries (8-byte values)
    if big:
        count_fmt, entry_size, value_at, kinds = "Q", 20, 12, {3: "H", 4: "I", 16: "Q"}
        handle.seek(struct.unpack(order + "Q", head[8:16])[0])
    else:
        count_fmt, entry_size, value_at, kinds = "H", 12, 8, {3: "H", 4: "I"}
        handle.seek(struct.unpack(order + "I", head[4:8])[0])
    raw_count = handle.read(struct.calcsize(count_fmt))
    if len(raw_count) != struct.calcsize(count_fmt):
        return None
    entries = struct.unpack(order + count_fmt, raw_count)[0]
    table = handle.read(min(entries, 4096) * entry_size)
    found = {_TIFF_SAMPLES: 1}
    for start in range(0, len(table) - entry_size + 1, entry_size):
        tag, kind = struct.unpack(order + "HH", table[start:start + 4])
        if tag in (_TIFF_WIDTH, _TIFF_LENGTH, _TIFF_SAMPLES) and kind in kinds:
            value_fmt = order + kinds[kind]
            found[tag] = struct.unpack_from(value_fmt, table, start + value_at)[0]
    if _TIFF_WIDTH not in found or _TIFF_LENGTH not in found:
        return None
    return found[_TIFF_WIDTH], found[_TIFF_LENGTH], found[_TIFF_SAMPLES]


def check_image_file(path: Path, what: str) -> None:
    """Refuse a file that is not a PNG or TIFF, or whose header declares more than MAX_IMAGE_PIXELS.

    OpenCV picks the decoder from the content, not the name, so the signature is checked here too.
    """
    require_regular_file(path)
    size = path.stat().st_size
    if size > MAX_IMAGE_FILE_BYTES:
        raise InputError(f"{path}: {size} bytes, larger than any {what} image thermtool reads "
                         f"({MAX_IMAGE_FILE_BYTES >> 20} MiB)")
    with path.open("rb") as handle:
        head = handle.read(26)
        if head.startswith(_PNG_SIGNATURE):
            dims = _png_size(head)
        elif head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+") and len(head) >= 16:
            dims = _tiff_size(handle, head)
        else:
            raise InputError(f"{path}: not a readable {what} image")
    if dims is None:
        raise InputError(f"{path}: not a readable {what} image (no size in its header)")
    width, height, channels = dims
    if width * height > MAX_IMAGE_PIXELS or channels > 4:
        raise InputError(f"{path}: header declares {width}x{height} pixels x {channels} channels, more than "
                         f"thermtool decodes ({MAX_IMAGE_PIXELS} pixels, 4 channels); refused before decoding")
