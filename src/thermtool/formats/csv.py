"""CSV frames for spreadsheets: one row of the image per line, values in the frame's units.

Reading is bounded: the file's size, each line's length, the values per row and in all are capped before
anything is parsed, and rows are parsed one at a time straight into float32 (a 10 MB line no longer needs
hundreds of MB of Python floats).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import InputError
from .sidecar import frame_from_record, read_sidecar, write_with_sidecar

#: Largest CSV read (bytes): an hour of 32x24 frames at 16 Hz written as text is about 300 MB.
MAX_BYTES = 1 << 30
#: Longest line (bytes) and most values in one row: a 160x120 frame flattened to one line fits.
MAX_LINE_BYTES = 1 << 20
MAX_ROW_VALUES = 1 << 16
#: Most values in one file (512 MiB as float32).
MAX_VALUES = 1 << 27


def format_rows(data: np.ndarray) -> str:
    """Shortest text that reads back to the same float32 values; NaN as an empty field."""
    def cell(value: np.float32) -> str:
        return "" if not np.isfinite(value) else np.format_float_positional(value, unique=True, trim="-")

    return "".join(",".join(cell(v) for v in row) + "\n" for row in data.astype(np.float32))


def parse_row(line: str) -> np.ndarray:
    """One comma-separated row as float32 (an empty field is NaN, a value beyond float32 infinite, as the
    plausibility checks downstream expect); ValueError if a field is not a number."""
    fields = line.split(",")
    with np.errstate(over="ignore"):
        try:
            return np.array(fields, dtype=np.float32)
        except ValueError:
            return np.array([float(v) if v.strip() else np.nan for v in fields], dtype=np.float32)


def parse_lines(lines: Iterable[bytes], source: str) -> np.ndarray:
    """Parse comma-separated rows from raw lines, one row at a time (an optional header line is skipped).

    Lines longer than `MAX_LINE_BYTES`, rows of more than `MAX_ROW_VALUES` values and files of more than
    `MAX_VALUES` values in all are refused before they are parsed.
    """
    rows: list[np.ndarray] = []
    values = 0
    for number, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE_BYTES:
            raise InputError(f"{source}:{number}: line longer than {MAX_LINE_BYTES} bytes; not a frame's row")
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}:{number}: not UTF-8 text (byte {exc.start})") from None
        if not line or line.startswith("#"):
            continue
        if line.count(",") >= MAX_ROW_VALUES:
            raise InputError(f"{source}:{number}: more than {MAX_ROW_VALUES} values in one row")
        try:
            row = parse_row(line)
        except ValueError:
            if not rows and number == 1:
                continue  # a header line
            raise InputError(f"{source}:{number}: not a row of numbers") from None
        if rows and row.size != rows[0].size:
            raise InputError(f"{source}:{number}: {row.size} values, expected {rows[0].size}")
        values += row.size
        if values > MAX_VALUES:
            raise InputError(f"{source}: more than {MAX_VALUES} values; too large to read as frames")
        rows.append(row)
    if not rows:
        raise InputError(f"{source}: no rows of numbers")
    return np.stack(rows)


def _lines(handle: BinaryIO) -> Iterator[bytes]:
    """Lines of `handle`, each read with a length limit (a file without newlines is not read whole)."""
    while line := handle.readline(MAX_LINE_BYTES + 1):
        yield line


def write(frame: Any, path: Path, *, force: bool = False, store: Any = None, **_: Any) -> Path:
    """Write the CSV (and its sidecar, or its line in a capture `store`'s manifest)."""
    return write_with_sidecar(frame, path, format_rows(frame.data).encode(), force=force, store=store)


def read(path: Path) -> Iterator[Any]:
    """One frame from a CSV file (rows x columns; a recording of flat frames is one row per frame)."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"{path}: {size} bytes, over the {MAX_BYTES >> 20} MiB a CSV of frames may have")
    with path.open("rb") as handle:
        data = parse_lines(_lines(handle), str(path))
    yield frame_from_record(data, read_sidecar(path), path)
