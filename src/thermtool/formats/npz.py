"""`.npz` recordings: `frames` (N, H, W) float32, `timestamps` (N,) epoch seconds, `meta` (JSON string)."""

from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fileio import write_bytes
from ..frame import Frame
from .limits import MAX_MEMBER_BYTES, MAX_META_BYTES
from .npy import HEADER_ERRORS, check_array_header, frames_from_array, read_header
from .sidecar import dumps, jsonable

RECORDING_VERSION = 1


def recording_bytes(frames: Sequence[Frame]) -> bytes:
    """Encode frames of one shape and units as an .npz recording."""
    if not frames:
        raise InputError("a recording needs at least one frame")
    first = frames[0]
    if any(f.shape != first.shape or f.units != first.units for f in frames):
        raise InputError("frames of one recording must share shape and units")
    meta = {"thermtool_recording": RECORDING_VERSION, "units": first.units, "sensor": first.sensor,
            "meta": first.meta, "frame_meta": [f.meta for f in frames]}
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        frames=np.stack([f.data for f in frames]).astype(np.float32),
        timestamps=np.array([f.timestamp.timestamp() for f in frames], dtype=np.float64),
        meta=np.array(dumps(jsonable(meta))),
    )
    return buffer.getvalue()


def write_recording(frames: Sequence[Frame], path: Path, *, force: bool = False) -> Path:
    """Atomically write `frames` as one recording."""
    return write_bytes(path, recording_bytes(frames), force=force)


def write(frame: Frame, path: Path, *, force: bool = False, **_: Any) -> Path:
    """A single frame as a one-frame recording."""
    return write_recording([frame], path, force=force)


def _member_header(archive: zipfile.ZipFile, name: str, source: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of member `name`, checked against the caps before any of its data is read."""
    info = archive.getinfo(name + ".npy")
    with archive.open(info) as handle:
        buffer = io.BytesIO(handle.read(min(info.file_size, 1 << 16)))
    shape, dtype = read_header(buffer, f"{source}: member {name!r}")
    label = f"{source}[{name}]"
    if dtype.kind == "U" and shape == ():  # the JSON `meta` string
        if dtype.itemsize > MAX_META_BYTES:
            raise InputError(f"{label}: declares a {dtype.itemsize}-byte string, over the "
                             f"{MAX_META_BYTES >> 20} MiB limit for metadata; refused before reading")
        return shape, dtype
    check_array_header(shape, dtype, label, info.file_size - buffer.tell())
    declared = math.prod(shape) * dtype.itemsize
    if declared > MAX_MEMBER_BYTES:
        raise InputError(f"{label}: declares shape {shape} ({declared} bytes decompressed), over the "
                         f"{MAX_MEMBER_BYTES >> 20} MiB limit per member; refused before decompressing")
    return shape, dtype


def _member(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """Member `name`, read straight from the archive into one array (its header was checked on opening)."""
    with archive.open(name + ".npy") as handle:
        return np.lib.format.read_array(handle, allow_pickle=False)


def read(path: Path) -> Iterator[Frame]:
    """Frames of a thermtool recording, or of a foreign .npz holding one 2-D/3-D array (e.g. `frame`)."""
    source = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        if isinstance(exc, PermissionError):
            raise InputError(f"{path}: permission denied") from None
        raise InputError(f"{path}: not a valid .npz file ({exc})") from None
    with archive:
        names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
        try:
            headers = {name: _member_header(archive, name, source) for name in names}  # all, before loading
            if "frames" in names:
                yield from _read_recording(archive, headers, source)
                return
            images = [n for n in names if n in ("frame", "image", "data")] or names
            for name in images:
                array = _member(archive, name)
                if array.ndim in (2, 3):
                    mtime = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
                    yield from frames_from_array(array, f"{source}[{name}]", None, mtime)
                    return
        except InputError:
            raise
        except (*HEADER_ERRORS, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as exc:
            raise InputError(f"{path}: corrupt .npz ({exc})") from None
    raise InputError(f"{path}: no frames found (members: {', '.join(names) or 'none'})")


def _read_recording(archive: zipfile.ZipFile, headers: dict[str, tuple[tuple[int, ...], np.dtype]],
                    source: str) -> Iterator[Frame]:
    shape = headers["frames"][0]
    if len(shape) != 3 or 0 in shape:
        raise InputError(f"{source}: 'frames' must be (N, H, W), got shape {shape}")
    count = shape[0]
    if "timestamps" in headers and headers["timestamps"][0] != (count,):
        raise InputError(f"{source}: 'timestamps' has shape {headers['timestamps'][0]}, expected ({count},)")
    if "meta" in headers and headers["meta"][1].kind != "U":
        raise InputError(f"{source}: 'meta' must be a JSON string, got {headers['meta'][1]}")
    frames = _member(archive, "frames")
    timestamps = _member(archive, "timestamps") if "timestamps" in headers else None
    meta: dict[str, Any] = {}
    if "meta" in headers:
        try:
            meta = json.loads(str(_member(archive, "meta")))
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: 'meta' is not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise InputError(f"{source}: 'meta' must be a JSON object")
    frame_meta = meta.get("frame_meta")
    if not isinstance(frame_meta, list) or len(frame_meta) != count:
        frame_meta = [meta.get("meta", {})] * count
    units = meta.get("units", "C")
    sensor = meta.get("sensor", "")
    for i in range(count):
        stamp = float(timestamps[i]) if timestamps is not None else None
        try:
            frame = Frame(frames[i], units, stamp, sensor, frame_meta[i] if isinstance(frame_meta[i], dict) else {})
        except InputError as exc:
            raise InputError(f"{source}: frame {i}: {exc}") from None
        yield frame
