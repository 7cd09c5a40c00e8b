"""Replay: frames from a file, a folder of frames or a recording, at the recorded pace or a fixed rate.

Plain recordings made by other tools come in too: a `.npy` stack (N, H, W) or flat rows (N, H*W), and a
CSV with one frame per line (N x H*W values). Flat rows are cut into frames of `shape` (given, or known
from the row length: 768 -> 32x24 MLX90640, 192 -> 16x12 MLX90641, 4800 -> 80x60 Lepton 2, 19200 ->
160x120 Lepton 3). With `fps`, frame i is stamped `i / fps` seconds after the first, so events carry
the recording's own times; such a replay runs as fast as it is read unless `realtime` is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..errors import EndOfStream, InputError
from ..formats import load_frames
from ..frame import Frame
from .base import Sensor
from .pacing import Pacer

#: Longest pause replay keeps from a recording (a capture resumed after hours should not stall replay).
MAX_RECORDED_GAP = 10.0
#: Frame shape (rows, columns) of the usual sensor with a given number of pixels per flat row.
KNOWN_ROW_SHAPES = {768: (24, 32), 192: (12, 16), 4800: (60, 80), 19200: (120, 160)}


def parse_shape(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """'32x24' (WIDTHxHEIGHT, as every size thermtool takes) -> the shape (24, 32); None stays None."""
    if text is None or isinstance(text, tuple):
        return text
    match = re.fullmatch(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*", text)
    if not match or 0 in (cols := int(match[1]), rows := int(match[2])):
        raise InputError(f"--shape {text!r}: expected WIDTHxHEIGHT, e.g. 32x24")
    return rows, cols


def row_shape(frame: Frame, shape: tuple[int, int] | None) -> tuple[int, int] | None:
    """The frame shape to cut each row of `frame` into, or None when `frame` is an image as it is."""
    rows, cols = frame.shape
    if shape is not None:
        if (rows, cols) == shape:
            return None
        if cols != shape[0] * shape[1]:
            raise InputError(f"--shape {shape[1]}x{shape[0]} needs rows of {shape[0] * shape[1]} values, "
                             f"got rows of {cols}")
        return shape
    return KNOWN_ROW_SHAPES.get(cols)


def unflatten(frame: Frame, shape: tuple[int, int] | None) -> Iterator[Frame]:
    """`frame` itself, or one frame per row when its rows are flattened images."""
    target = row_shape(frame, shape)
    if target is None:
        yield frame
        return
    for row in frame.data:
        yield frame.replace(data=row.reshape(target))


class ReplaySensor(Sensor):
    """Plays back frames from `target`; `rate` overrides the recorded pace; `loop` starts over at the end.

    `fps` stamps frames 1/fps s apart (for recordings without times); `shape` ('32x24', WIDTHxHEIGHT) cuts flat rows
    into frames; `realtime` paces frames on the clock (default: yes, unless `fps` is given).
    """

    kind = "replay"

    def __init__(self, target: str | None, *, rate: float | None = None, loop: bool = False,
                 realtime: bool | None = None, fps: float | None = None,
                 shape: str | tuple[int, int] | None = None) -> None:
        super().__init__()
        if not target:
            raise InputError("replay needs a file or folder: --sensor replay:PATH")
        self.path = Path(target).expanduser()
        if not self.path.exists():
            raise InputError(f"{self.path}: no such file or folder to replay")
        for name, value in (("--rate", rate), ("--fps", fps)):
            if value is not None and not 0 < value < float("inf"):
                raise InputError(f"{name} must be above 0, got {value}")
        self.rate, self.loop, self.fps = rate, loop, fps
        self.shape = parse_shape(shape)
        self._pacer = Pacer(fps is None if realtime is None else realtime, where=f"replay:{self.path}")
        self._frames: Iterator[Frame] = iter(())
        self._previous: Frame | None = None
        self._first: Frame | None = None
        self._passes = 0
        self._index = 0

    def _load(self) -> Iterator[Frame]:
        for frame in load_frames(self.path):
            yield from unflatten(frame, self.shape)

    def _open(self) -> None:
        self._frames = self._load()
        self._pacer.reset()
        self._previous = None

    def _next(self) -> Frame:
        frame = next(self._frames, None)
        if frame is None and self.loop and self.frames_read > 0:
            self._passes += 1
            self._frames = self._load()
            self._previous = None
            frame = next(self._frames, None)
        if frame is None:
            raise EndOfStream(f"{self.path}: end of replay after {self.frames_read} frame(s)")
        if self.fps is not None:
            self._first = self._first or frame
            frame = frame.replace(timestamp=self._first.timestamp + timedelta(seconds=self._index / self.fps))
        self._index += 1
        return frame

    def _period(self, frame: Frame) -> float:
        if self.rate is not None:
            return 1.0 / self.rate
        if self._previous is None:
            return 0.0
        gap = (frame.timestamp - self._previous.timestamp).total_seconds()
        return min(max(gap, 0.0), MAX_RECORDED_GAP)

    def _read(self, timeout: float | None) -> Frame:
        frame = self._next()
        self._pacer.wait(self._period(frame))
        self._previous = frame
        return frame.replace(meta={**frame.meta, "replayed_from": str(self.path)})

    def _info(self) -> dict[str, Any]:
        return {"path": str(self.path), "rate_hz": self.rate or self.fps, "loop": self.loop, "passes": self._passes}
