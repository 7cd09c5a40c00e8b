"""CSV frames for spreadsheets: one row of the image per line, values in the frame's units."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .sidecar import frame_from_record, read_sidecar, write_with_sidecar


def format_rows(data: np.ndarray) -> str:
    """Shortest text that reads back to the same float32 values; NaN as an empty field."""
    def cell(value: np.float32) -> str:
        return "" if not np.isfinite(value) else np.format_float_positional(value, unique=True, trim="-")

    return "".join(",".join(cell(v) for v in row) + "\n" for row in data.astype(np.float32))


def parse_rows(text: str, source: str) -> np.ndarray:
    """Parse comma-separated rows (an optional non-numeric header line is skipped)."""
    rows: list[list[float]] = []
    for number, line in enumerate(io.StringIO(text), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            rows.append([float(v) if v.strip() else np.nan for v in line.split(",")])
        except ValueError:
            if not rows and number == 1:
                continue  # a header line
            raise InputError(f"{source}:{number}: not a row of numbers") from None
        if len(rows[-1]) != len(rows[0]):
            raise InputError(f"{source}:{number}: {len(rows[-1])} values, expected {len(rows[0])}")
    if not rows:
        raise InputError(f"{source}: no rows of numbers")
    return np.array(rows, dtype=np.float32)


def write(frame: Any, path: Path, *, force: bool = False, store: Any = None, **_: Any) -> Path:
    """Write the CSV (and its sidecar, or its line in a capture `store`'s manifest)."""
    return write_with_sidecar(frame, path, format_rows(frame.data).encode(), force=force, store=store)


def read(path: Path) -> Iterator[Any]:
    """One frame from a CSV file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    data = parse_rows(text, str(path))
    yield frame_from_record(data, read_sidecar(path), path)
