"""`.npy` frames: 2-D float32 in the frame's units plus a JSON sidecar; any plain 2-D or 3-D .npy reads too."""

from __future__ import annotations

import io
import math
import tokenize
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import InputError
from ..frame import Frame
from .sidecar import read_sidecar, write_with_sidecar

#: What numpy's header parser raises on garbage.
HEADER_ERRORS = (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError)

#: Largest array a reader accepts (elements); a header asking for more is refused before allocating.
MAX_ELEMENTS = 1 << 28


def check_array_header(shape: tuple[int, ...], dtype: np.dtype, source: str, available: int | None) -> None:
    """Refuse object dtypes, absurd shapes and headers that promise more bytes than the file holds."""
    if dtype.hasobject:
        raise InputError(f"{source}: holds Python objects (pickled data), refused")
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_) or np.issubdtype(dtype, np.complexfloating):
        raise InputError(f"{source}: unsupported data type {dtype}")
    count = 1
    for dim in shape:
        count *= int(dim)
    if count > MAX_ELEMENTS:
        raise InputError(f"{source}: declares shape {shape}, too large to be a thermal frame or recording")
    if available is not None and count * dtype.itemsize > available:
        raise InputError(f"{source}: truncated (header declares {count * dtype.itemsize} bytes, "
                         f"file holds {available})")


def read_header(handle: BinaryIO, what: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from a .npy header at the handle's position; InputError naming `what` on garbage."""
    try:
        version = np.lib.format.read_magic(handle)
        reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                  else np.lib.format.read_array_header_2_0)
        shape, _, dtype = reader(handle)
    except HEADER_ERRORS as exc:
        raise InputError(f"{what} is not a valid .npy array ({exc})") from None
    return tuple(shape), dtype


def read_array(path: Path) -> np.ndarray:
    """Load a .npy safely: header checked first, no pickle, memory-mapped for large files."""
    try:
        with path.open("rb") as handle:
            shape, dtype = read_header(handle, str(path))
            offset = handle.tell()
        size = path.stat().st_size
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    check_array_header(shape, dtype, str(path), size - offset)
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r" if size > (64 << 20) else None)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a valid .npy file ({exc})") from None


def default_units(array: np.ndarray) -> str:
    """Units of a foreign array: integers are raw sensor counts, floats are taken as degrees C."""
    return "counts" if np.issubdtype(array.dtype, np.integer) else "C"


def frames_from_array(array: np.ndarray, source: str, record: dict[str, Any] | None,
                      fallback_time: datetime) -> Iterator[Frame]:
    """Frames of a 2-D image or a 3-D (N, H, W) stack, described by a sidecar record when there is one."""
    if array.ndim not in (2, 3) or 0 in array.shape:
        raise InputError(f"{source}: expected a 2-D frame or a 3-D stack of frames, got shape {array.shape}")
    units = record.get("units", "C") if record else default_units(array)
    timestamp = record.get("timestamp") if record else fallback_time
    sensor = record.get("sensor", "") if record else ""
    meta = record.get("meta", {}) if record else {"source": source}
    images = array[None] if array.ndim == 2 else array
    for image in images:
        try:
            frame = Frame(np.asarray(image), units, timestamp, sensor, meta)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None
        yield frame


def read(path: Path) -> Iterator[Frame]:
    """Frames of a .npy file (one for 2-D, N for a (N, H, W) stack)."""
    array = read_array(path)
    mtime = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    yield from frames_from_array(array, str(path), read_sidecar(path), mtime)


@lru_cache(maxsize=8)
def _float32_header(shape: tuple[int, ...]) -> bytes:
    """The bytes np.save writes before the data of a C-ordered float32 array of `shape`."""
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(shape, np.float32), allow_pickle=False)
    return buffer.getvalue()[:-4 * math.prod(shape)]


def encode(data: np.ndarray) -> bytes:
    """A .npy file of `data` as float32: np.save's bytes, with the header built once per shape."""
    values = np.ascontiguousarray(data, dtype=np.float32)
    return _float32_header(values.shape) + values.tobytes()


def write(frame: Frame, path: Path, *, force: bool = False, store: Any = None, **_: Any) -> Path:
    """Write the .npy, then its sidecar (a `store` records its manifest line first): a sidecar never stands alone."""
    return write_with_sidecar(frame, path, encode(frame.data), force=force, store=store)
