"""The binary frame message of the /ws WebSocket (and the remote sensor that reads it); pure.

Layout, all little-endian (documented in docs/view.md):

    offset  size  type     field
    0       4     bytes    magic b"TTF1"
    4       2     uint16   header length in bytes (where the data start; a multiple of 4)
    6       2     uint16   rows
    8       2     uint16   columns
    10      2     uint16   flags (0; reserved)
    12      4     uint32   sequence number of the frame on the server
    16      8     int64    timestamp, microseconds since 1970-01-01 UTC
    24      8     bytes    units, ASCII, NUL-padded ("C", "F", "K", "counts", "agc")
    32      n     bytes    JSON {"sensor": ..., "meta": {...}}, UTF-8, padded with spaces to the header length
    header  4*rows*columns float32 temperatures, row-major
"""

from __future__ import annotations

import json
import struct
from datetime import datetime, timedelta, timezone

import numpy as np

from ..errors import InputError
from ..frame import Frame, as_utc

MAGIC = b"TTF1"
FIXED = struct.Struct("<4sHHHHIq8s")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _micros(when: datetime) -> int:
    delta = when - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_frame(frame: Frame, sequence: int) -> bytes:
    """One binary message holding `frame` (exactly: float32 data, microsecond time, sensor, meta)."""
    rows, cols = frame.shape
    text = json.dumps({"sensor": frame.sensor, "meta": frame.meta}, default=str, separators=(",", ":"))
    extra = text.encode("utf-8")
    header_length = FIXED.size + len(extra)
    header_length += -header_length % 4
    fixed = FIXED.pack(MAGIC, header_length, rows, cols, 0, sequence & 0xFFFFFFFF, _micros(as_utc(frame.timestamp)),
                       frame.units.encode("ascii"))
    padding = b" " * (header_length - FIXED.size - len(extra))
    return fixed + extra + padding + frame.data.astype("<f4", copy=False).tobytes()


def decode_frame(message: bytes, max_pixels: int | None = None) -> tuple[Frame, int]:
    """The frame and sequence number in a binary message; InputError when it is not one (whatever is wrong).

    `max_pixels` refuses frames larger than any camera the reader expects.
    """
    if len(message) < FIXED.size:
        raise InputError(f"frame message too short ({len(message)} bytes)")
    magic, header_length, rows, cols, _flags, sequence, micros, units = FIXED.unpack_from(message)
    if magic != MAGIC:
        raise InputError(f"not a thermtool frame message (magic {magic!r})")
    if header_length < FIXED.size or len(message) != header_length + 4 * rows * cols:
        raise InputError(f"frame message of {len(message)} bytes does not match its {cols}x{rows} header")
    if max_pixels is not None and rows * cols > max_pixels:
        raise InputError(f"frame of {cols}x{rows} pixels is larger than {max_pixels} pixels")
    try:
        extra = json.loads(message[FIXED.size:header_length].decode("utf-8"))
        meta = extra.get("meta") or {} if isinstance(extra, dict) else None
        if not isinstance(meta, dict):
            raise ValueError("the header JSON is not an object with an object for meta")
        timestamp = EPOCH + timedelta(microseconds=micros)
        data = np.frombuffer(message, dtype="<f4", offset=header_length).reshape(rows, cols)
        frame = Frame(data.astype(np.float32), units.rstrip(b"\0").decode("ascii"), timestamp,
                      str(extra.get("sensor", "")), meta)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InputError(f"frame message has a broken header: {type(exc).__name__}: {exc}") from None
    return frame, sequence
