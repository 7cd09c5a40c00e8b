"""16-bit TIFF and PNG in centi-kelvin (K x 100, as Lepton TLinear gives it); raw counts are stored as is.

Centi-kelvin covers -273.15..+382.20 C in 0.01 K steps. 0 marks a missing pixel (NaN). A sidecar JSON
records the frame's units, time and metadata; without one a 16-bit image is read as centi-kelvin and
returned in degrees C.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import InputError
from ..frame import Frame
from ..units import convert
from .limits import check_image_file
from .sidecar import frame_from_record, read_sidecar, write_with_sidecar

# OpenCV's own error log would print several lines per unreadable file; thermtool reports one line itself.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

CENTIKELVIN = "centikelvin"
RAW = "raw"


def encode_centikelvin(frame: Frame) -> np.ndarray:
    """uint16 image of the frame: centi-kelvin for temperatures, rounded counts for raw data; NaN -> 0."""
    values = convert(frame.data, frame.units, "K") * 100.0 if frame.is_temperature else frame.data.astype(np.float64)
    values = np.where(np.isfinite(values), np.rint(values), 0.0)
    return np.clip(values, 0, 65535).astype(np.uint16)


def decode_centikelvin(image: np.ndarray, units: str) -> np.ndarray:
    """float32 temperatures in `units` from a centi-kelvin image (0 -> NaN)."""
    kelvin = np.where(image == 0, np.nan, image.astype(np.float64) / 100.0)
    return convert(kelvin, "K", units).astype(np.float32)


@dataclass(frozen=True)
class Image16Format:
    """A 16-bit single-channel image format written and read through OpenCV."""

    name: str
    suffix: str

    def write(self, frame: Frame, path: Path, *, force: bool = False, store: Any = None, **_: Any) -> Path:
        """Write the image (and its sidecar, or its line in a capture `store`'s manifest)."""
        ok, encoded = cv2.imencode(self.suffix, encode_centikelvin(frame))
        if not ok:
            raise InputError(f"{path}: OpenCV could not encode a 16-bit {self.name}")
        encoding = CENTIKELVIN if frame.is_temperature else RAW
        return write_with_sidecar(frame, path, encoded.tobytes(), force=force, store=store, encoding=encoding)

    def read(self, path: Path) -> Iterator[Frame]:
        """One frame from a 16-bit single-channel image."""
        check_image_file(path, self.name)  # dimensions from the header before OpenCV allocates anything
        try:
            raw = np.fromfile(path, dtype=np.uint8)
        except PermissionError:
            raise InputError(f"{path}: permission denied") from None
        image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if raw.size else None
        if image is None:
            raise InputError(f"{path}: not a readable {self.name} image")
        if image.ndim != 2 or image.dtype != np.uint16:
            raise InputError(f"{path}: a rendered picture ({image.dtype}, {image.ndim}-D), not 16-bit temperatures")
        record = read_sidecar(path)
        if record and record.get("encoding") == RAW:
            yield frame_from_record(image, record, path, "counts")
        else:
            units = record.get("units", "C") if record else "C"
            yield frame_from_record(decode_centikelvin(image, units), record, path)


TIFF = Image16Format("TIFF", ".tiff")
PNG16 = Image16Format("PNG", ".png")
