"""Point files for heatmaps: CSV `x,y[,weight]`, JSON and (N, 2)/(N, 3) `.npy`, read in blocks.

A source can be read several times (once to fit a size, once to bin). A `.npy` is memory-mapped and its
binned pages released as it goes; CSV is parsed a block at a time. Either way memory does not grow with the
number of points. JSON has to be parsed whole. Yielded arrays may be views of a mapping or a reused
buffer: use each block before asking for the next.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import mmap
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .heatmap import PointBinner, Size, point_extent, size_for_extent

#: Called with (bytes done, bytes in all passes) while a file is read.
Progress = Callable[[int, int], None]
#: Rows of a .npy handed out at a time (16 MB of float64 x, y); binned pages are released after each.
MAPPED_ROWS = 1 << 20
#: Bytes of CSV lines parsed per numpy call.
CSV_BLOCK_BYTES = 1 << 20
#: Characters allowed around JSON object keys such as "(10, 20)" (str of a Python tuple) or "[10, 20]".
KEY_BRACKETS = str.maketrans("", "", "()[] ")


@dataclass
class PointBlock:
    """Some points: (n, 2) coordinates and, for weighted sources, (n,) weights."""

    xy: np.ndarray
    weights: np.ndarray | None = None


class PointSource(ABC):
    """A point file; `blocks()` reads it from the start, counting `position` (bytes) and `skipped` (bad)."""

    def __init__(self, path: Path, weighted: bool, skip_bad: bool) -> None:
        self.path = path
        self.weighted = weighted
        self.skip_bad = skip_bad
        self.size_bytes = path.stat().st_size
        self.position = 0
        self.skipped = 0

    @abstractmethod
    def blocks(self) -> Iterator[PointBlock]:
        """The points, block by block."""


def _fail(path: Path, problem: str) -> InputError:
    return InputError(f"{path}: {problem}")


def _open_binary(path: Path) -> io.BufferedReader:
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a folder, expected a point file")
    if not path.is_file():  # a FIFO or device would block the read forever or never end
        raise _fail(path, "not a regular file (a FIFO, socket or device); refused")
    try:
        return path.open("rb")
    except PermissionError:
        raise _fail(path, "permission denied") from None


# --- .npy -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NpyLayout:
    """Where the array of a .npy file lies: shape, dtype, order and the byte offset of its data."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    offset: int


def npy_layout(path: Path) -> NpyLayout:
    """Read and check a .npy header without loading any data (no pickles, numbers only, not truncated)."""
    with _open_binary(path) as handle:
        try:
            version = np.lib.format.read_magic(handle)
            reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = reader(handle)
        except (ValueError, OSError, EOFError, SyntaxError) as exc:
            raise _fail(path, f"not a valid .npy file ({exc})") from None
        offset = handle.tell()
    if dtype.hasobject:
        raise _fail(path, "holds Python objects (pickled data), refused")
    if dtype.kind not in "biuf":
        raise _fail(path, f"unsupported data type {dtype}")
    needed = math.prod(shape) * dtype.itemsize  # Python integers: an absurd header cannot overflow
    available = path.stat().st_size - offset
    if needed > available:
        raise _fail(path, f"truncated (header declares {needed} bytes, file holds {available})")
    return NpyLayout(tuple(shape), dtype, bool(fortran), offset)


class NpyPoints(PointSource):
    """An (N, 2) or (N, 3) .npy (x, y[, weight]) of any numeric dtype and order, memory-mapped.

    Pages already binned are handed back to the OS (madvise MADV_DONTNEED, where the platform has it), so
    resident memory stays at about MAPPED_ROWS rows of the file however long it is.
    """

    def __init__(self, path: Path, layout: NpyLayout, skip_bad: bool) -> None:
        if len(layout.shape) != 2 or layout.shape[1] not in (2, 3):
            raise _fail(path, f"expected points of shape (N, 2) or (N, 3), got {layout.shape}")
        super().__init__(path, layout.shape[1] == 3, skip_bad)
        self.layout = layout

    def blocks(self) -> Iterator[PointBlock]:
        """Views of MAPPED_ROWS rows of the mapped file (no copy); the rows before them are released."""
        self.position = self.layout.offset
        if self.layout.shape[0] == 0:
            return
        with _open_binary(self.path) as handle:
            try:
                mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError) as exc:
                raise _fail(self.path, f"cannot be memory-mapped ({exc})") from None
        try:
            yield from self._views(mapping)
        finally:
            with contextlib.suppress(BufferError):  # a caller still holding a block keeps the map until it lets go
                mapping.close()

    def _views(self, mapping: mmap.mmap) -> Iterator[PointBlock]:
        rows, columns = self.layout.shape
        itemsize, offset = self.layout.dtype.itemsize, self.layout.offset
        flat = np.frombuffer(mapping, dtype=self.layout.dtype, count=rows * columns, offset=offset)
        table = flat.reshape(columns, rows).T if self.layout.fortran else flat.reshape(rows, columns)
        # Byte runs of the data: one for C order (rows of all columns), one per column for Fortran order.
        runs = ([(offset + c * rows * itemsize, itemsize) for c in range(columns)]
                if self.layout.fortran else [(offset, columns * itemsize)])
        released = [start for start, _ in runs]
        for start in range(0, rows, MAPPED_ROWS):
            stop = min(rows, start + MAPPED_ROWS)
            part = table[start:stop]
            yield PointBlock(part[:, :2], part[:, 2] if columns == 3 else None)
            self.position = offset + stop * columns * itemsize
            for run, (run_start, row_bytes) in enumerate(runs):
                released[run] = _release(mapping, released[run], run_start + stop * row_bytes)


def _release(mapping: mmap.mmap, start: int, end: int) -> int:
    """Drop the whole pages of [start, end) from this process (they stay in the file cache); the new start."""
    end -= end % mmap.PAGESIZE
    if end > start and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        page_start = start - start % mmap.PAGESIZE
        mapping.madvise(mmap.MADV_DONTNEED, page_start, end - page_start)
    return max(start, end)


# --- CSV ------------------------------------------------------------------------------------------------

def csv_first_rows(path: Path) -> tuple[int | None, int]:
    """The header's line number (None without one) and how many values the first data line holds (0: none)."""
    header = None
    with _open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.decode("utf-8-sig", errors="replace").split("#", 1)[0].strip()
            if not line:
                continue
            if _numbers(line) is None and header is None:
                header = number
                continue
            return header, len(line.split(","))
    return header, 0


def _numbers(line: str) -> list[float] | None:
    """The comma-separated numbers of a line, or None when a field is not a number."""
    try:
        return [float(field) for field in line.split(",")]
    except ValueError:
        return None


class CsvPoints(PointSource):
    """Lines `x,y` or `x,y,weight`; a non-numeric first line is a header; `#` starts a comment."""

    def __init__(self, path: Path, skip_bad: bool) -> None:
        self.header_line, columns = csv_first_rows(path)
        if columns not in (2, 3):
            raise _fail(path, f"expected lines of x,y or x,y,weight, the first has {columns} values")
        super().__init__(path, columns == 3, skip_bad)
        self.columns = columns

    def blocks(self) -> Iterator[PointBlock]:
        """About CSV_BLOCK_BYTES of lines at a time, parsed by numpy; a bad line stops with its number."""
        self.position = 0
        self.skipped = 0
        with _open_binary(self.path) as handle:
            first_line = 1
            while True:
                raw_lines = handle.readlines(CSV_BLOCK_BYTES)
                if not raw_lines:
                    return
                self.position += sum(len(raw) for raw in raw_lines)
                table = self._parse(raw_lines, first_line)
                first_line += len(raw_lines)
                if len(table):
                    yield PointBlock(table[:, :2], table[:, 2] if self.columns == 3 else None)

    def _decode(self, raw_lines: list[bytes], first_line: int) -> list[str]:
        try:
            text = b"".join(raw_lines).decode("utf-8-sig" if first_line == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            offset, line = exc.start, first_line
            for raw in raw_lines:
                if offset < len(raw):
                    break
                offset -= len(raw)
                line += 1
            raise _fail(self.path, f"line {line}: not UTF-8 text") from None
        lines = text.split("\n")  # as readlines split them, so numbers match
        return lines[:-1] if lines and not lines[-1] else lines

    def _parse(self, raw_lines: list[bytes], first_line: int) -> np.ndarray:
        lines = self._decode(raw_lines, first_line)
        if self.header_line is not None and 0 <= self.header_line - first_line < len(lines):
            lines[self.header_line - first_line] = ""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # a block of blank lines holds no data
                table = np.loadtxt(lines, delimiter=",", comments="#", dtype=np.float64, ndmin=2)
            if table.size == 0 or table.shape[1] == self.columns:
                return table.reshape(-1, self.columns)
        except ValueError:
            pass
        return self._parse_slowly(lines, first_line)

    def _parse_slowly(self, lines: list[str], first_line: int) -> np.ndarray:
        """Line by line, only for a block numpy refused: find (or skip and count) the bad lines."""
        rows: list[list[float]] = []
        for number, line in enumerate(lines, start=first_line):
            content = line.split("#", 1)[0].strip()
            if not content:
                continue
            values = _numbers(content)
            if values is not None and len(values) == self.columns:
                rows.append(values)
            elif self.skip_bad:
                self.skipped += 1
            else:
                expected = "x,y" if self.columns == 2 else "x,y,weight"
                raise _fail(self.path, f"line {number}: expected {expected} numbers, got {content[:40]!r} "
                                       "(--skip-bad skips such lines)")
        return np.array(rows, dtype=np.float64).reshape(-1, self.columns)


# --- JSON -----------------------------------------------------------------------------------------------

class JsonPoints(PointSource):
    """{"x,y": count, ...} (keys may be bracketed, as str() of a tuple), [[x, y], ...] or [[x, y, w], ...]."""

    def __init__(self, path: Path, skip_bad: bool) -> None:
        document = _load_json(path)
        if isinstance(document, dict):
            table, skipped = _table_from_object(path, document, skip_bad)
        elif isinstance(document, list):
            table, skipped = _table_from_list(path, document, skip_bad)
        else:
            raise _fail(path, 'expected {"x,y": count, ...} or a list of [x, y] / [x, y, weight]')
        super().__init__(path, table.shape[1] == 3, skip_bad)
        self.table = table
        self.skipped = skipped

    def blocks(self) -> Iterator[PointBlock]:
        """All points as one block (the document is in memory already)."""
        self.position = self.size_bytes
        yield PointBlock(self.table[:, :2], self.table[:, 2] if self.weighted else None)


def _load_json(path: Path) -> Any:
    with _open_binary(path) as handle:
        payload = handle.read()
    try:
        return json.loads(payload.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise _fail(path, f"line {exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno})") from None
    except RecursionError:
        raise _fail(path, "JSON nested too deeply") from None


def _table_from_object(path: Path, document: dict[str, Any], skip_bad: bool) -> tuple[np.ndarray, int]:
    """(N, 3) x, y, count of {"x,y": count}; numpy parses all keys at once, entries one by one only on error."""
    keys = list(document)
    parts = ",".join(keys).translate(KEY_BRACKETS).split(",") if keys else []
    if len(parts) == 2 * len(keys):
        try:
            coordinates = np.array(parts, dtype=np.float64).reshape(-1, 2)
            counts = np.array(list(document.values()))
            if counts.dtype.kind in "iuf" and counts.ndim == 1:
                return np.column_stack([coordinates, counts.astype(np.float64)]), 0
        except ValueError:
            pass  # a key is not two numbers: find it below
    rows, skipped = [], 0
    for number, (key, count) in enumerate(document.items(), start=1):
        coordinates = _numbers(key.translate(KEY_BRACKETS))
        if coordinates is not None and len(coordinates) == 2 and _is_number(count):
            rows.append([*coordinates, float(count)])
        elif skip_bad:
            skipped += 1
        else:
            raise _fail(path, f'entry {number}: expected "x,y": count, got {key!r}: {count!r:.40} '
                              "(--skip-bad skips such entries)")
    return np.array(rows, dtype=np.float64).reshape(-1, 3), skipped


def _table_from_list(path: Path, document: list[Any], skip_bad: bool) -> tuple[np.ndarray, int]:
    """(N, 2) or (N, 3) of [[x, y(, w)], ...]; numpy converts the list at once, entries one by one on error."""
    if not document:
        return np.empty((0, 2)), 0
    try:
        table = np.array(document)
        if table.ndim == 2 and table.shape[1] in (2, 3) and table.dtype.kind in "iuf":
            return table.astype(np.float64), 0
    except ValueError:
        pass  # ragged: find the odd entries below
    first = document[0]
    width = len(first) if isinstance(first, list) and len(first) in (2, 3) else 2
    rows, skipped = [], 0
    for number, entry in enumerate(document, start=1):
        if isinstance(entry, list) and len(entry) == width and all(_is_number(v) for v in entry):
            rows.append([float(v) for v in entry])
        elif skip_bad:
            skipped += 1
        else:
            shape = "[x, y]" if width == 2 else "[x, y, weight]"
            raise _fail(path, f"entry {number}: expected {shape} numbers, got {entry!r:.40} "
                              "(--skip-bad skips such entries)")
    return np.array(rows, dtype=np.float64).reshape(-1, width), skipped


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- choosing -------------------------------------------------------------------------------------------

def holds_points(path: Path) -> bool:
    """True when `path` is a point file rather than frames: .json, or .npy/.csv with 2 or 3 columns."""
    suffix = path.suffix.lower()
    if path.is_dir() or suffix not in (".json", ".npy", ".csv"):
        return False
    if suffix == ".json":
        return True
    if suffix == ".npy":
        layout = npy_layout(path)
        return len(layout.shape) == 2 and layout.shape[1] in (2, 3)
    return csv_first_rows(path)[1] in (2, 3)


def open_points(path: str | Path, *, skip_bad: bool = False) -> PointSource:
    """A point source for a .csv, .json or .npy file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return NpyPoints(path, npy_layout(path), skip_bad)
    if suffix == ".csv":
        return CsvPoints(path, skip_bad)
    if suffix == ".json":
        return JsonPoints(path, skip_bad)
    raise _fail(path, f"unknown point file type {suffix or '(no extension)'!r}; use .csv, .json or .npy")


def fit_size(source: PointSource, progress: Progress | None = None) -> Size:
    """The smallest grid holding every point with finite, non-negative coordinates (one pass over the file)."""
    max_x = max_y = -np.inf
    for block in source.blocks():
        block_x, block_y = point_extent(block.xy)
        max_x, max_y = max(max_x, block_x), max(max_y, block_y)
        if progress:
            progress(source.position, 2 * source.size_bytes)
    return size_for_extent(max_x, max_y)


def bin_file(source: PointSource, size: Size | None = None, progress: Progress | None = None) -> PointBinner:
    """Bin every point of `source` block by block (fitting the size in a first pass when it is None).

    Memory is the grid plus one block, whatever the number of points.
    """
    passes = 1 if size is not None else 2
    done = 0
    if size is None:
        size = fit_size(source, progress)
        done = source.size_bytes
    binner = PointBinner(size, weighted=source.weighted)
    for block in source.blocks():
        binner.add(block.xy, block.weights)
        if progress:
            progress(done + source.position, passes * source.size_bytes)
    return binner
