"""Frame file formats: one module per format, picked by name or file extension.

Each format module provides `read(path) -> Iterator[Frame]` (omitted for write-only formats) and
`write(frame, path, *, force, **options) -> Path`. Writers go through thermtool.fileio, so a file
appears complete or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..frame import Frame
from ..registry import Registry
from .limits import require_regular_file

FORMATS = Registry("format")
FORMATS.register("npy", "thermtool.formats.npy:")
FORMATS.register("npz", "thermtool.formats.npz:")
FORMATS.register("tiff", "thermtool.formats.image16:TIFF", aliases=("tif",))
FORMATS.register("png16", "thermtool.formats.image16:PNG16")
FORMATS.register("csv", "thermtool.formats.csv:")
FORMATS.register("png", "thermtool.formats.rendered:PNG")
FORMATS.register("jpg", "thermtool.formats.rendered:JPEG", aliases=("jpeg",))

#: Extension -> format name. A `.png` is a rendered picture unless the format is given as png16.
EXTENSIONS = {".npy": "npy", ".npz": "npz", ".tif": "tiff", ".tiff": "tiff", ".csv": "csv",
              ".png": "png", ".jpg": "jpg", ".jpeg": "jpg"}
#: Formats that hold temperatures (the rest are pictures).
DATA_FORMATS = ("npy", "npz", "tiff", "png16", "csv")
#: Extension each format writes.
SUFFIX = {"npy": ".npy", "npz": ".npz", "tiff": ".tiff", "png16": ".png", "csv": ".csv",
          "png": ".png", "jpg": ".jpg"}


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The format name for writing or reading `path`: `fmt` when given, else from the extension."""
    if fmt:
        return FORMATS.canonical(fmt.lower())
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        known = ", ".join(sorted(EXTENSIONS))
        raise InputError(f"{path}: unknown file type {suffix or '(no extension)'!r}; known: {known}")
    return EXTENSIONS[suffix]


def save_frame(frame: Frame, path: str | Path, fmt: str | None = None, *, force: bool = False,
               **options: Any) -> Path:
    """Write `frame` to `path` atomically in `fmt` (or the extension's format); never overwrite unless force."""
    path = Path(path)
    module = FORMATS.get(format_for(path, fmt))
    return module.write(frame, path, force=force, **options)


def iter_file(path: str | Path, fmt: str | None = None) -> Iterator[Frame]:
    """Every frame in one file (a single frame, a stack or a recording)."""
    path = Path(path)
    require_regular_file(path)
    name = format_for(path, fmt)
    if path.suffix.lower() == ".png" and fmt is None:
        name = "png16"  # reading a .png means reading temperatures; rendered pictures are refused there
    module = FORMATS.get(name)
    if not hasattr(module, "read"):
        raise InputError(f"{path}: a {name} file is a rendered picture and holds no temperatures")
    try:
        yield from module.read(path)
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None


def load_frame(path: str | Path, index: int | None = None) -> Frame:
    """One frame of `path`; a file holding several frames needs `index` (negative counts from the end)."""
    path = Path(path)
    frames = iter_file(path)
    if index is None:
        first = next(frames, None)
        if first is None:
            raise InputError(f"{path}: holds no frames")
        if next(frames, None) is not None:
            raise InputError(f"{path}: holds several frames; pick one with an index (--index N)")
        return first
    items = list(frames)
    if not -len(items) <= index < len(items):
        raise InputError(f"{path}: index {index} out of range; the file holds {len(items)} frame(s)")
    return items[index]


def frame_files(folder: Path) -> list[Path]:
    """Readable frame files in `folder`, sorted by name (capture names sort by time)."""
    readable = {".npy", ".npz", ".tif", ".tiff", ".csv", ".png"}
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in readable and not p.name.startswith("."))


def load_frames(path: str | Path) -> Iterator[Frame]:
    """Every frame under `path`: a file, or a folder of frame files and recordings in name order."""
    path = Path(path)
    if path.is_dir():
        files = frame_files(path)
        if not files:
            raise InputError(f"{path}: folder holds no frame files")
        for item in files:
            yield from iter_file(item)
    else:
        yield from iter_file(path)
