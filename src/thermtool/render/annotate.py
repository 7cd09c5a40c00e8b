"""Annotation: layout of picture, colour bar and text lines; min/max/centre readouts; drawing them.

The picture of `size` (rows, columns) holds the thermal image (fitted at the sensor's aspect ratio), a
colour bar with its unit above it and its scale on the right, and two text lines below (readouts, caption).
Text is sized from the picture so it stays readable from 120x160 up to large views, and on a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..units import UNIT_SYMBOLS
from .scale import Scale, tick_decimals
from .text import draw_text, font

BACKGROUND = (24, 24, 24)
TEXT = (236, 236, 236)
DIM = (170, 170, 170)
MARKER = (255, 255, 255)
OUTLINE = (0, 0, 0)
#: Font size bounds in pixels, and how many font sizes fit in the picture's height.
MIN_FONT, MAX_FONT, FONTS_PER_HEIGHT = 8, 22, 24
#: Narrowest thermal image (pixels) worth annotating; smaller pictures are drawn without annotation.
MIN_IMAGE = 24


@dataclass(frozen=True)
class Rect:
    """A rectangle of the picture: left x, top y, width, height."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Layout:
    """Where things go in a picture of `size`; `font_px` is None when the picture has no annotation.

    `unit` is the top-left corner (x, y) of the colour bar's unit label, above the bar.
    """

    size: tuple[int, int]
    image: Rect
    font_px: int | None = None
    bar: Rect | None = None
    lines: tuple[int, ...] = ()
    text: Rect | None = None
    unit: tuple[int, int] | None = None

    @property
    def fills(self) -> bool:
        """True when the thermal image covers the whole picture."""
        return (self.image.h, self.image.w) == self.size and self.image.x == 0 and self.image.y == 0


@dataclass(frozen=True)
class Spot:
    """A sensor pixel (row, col in the displayed orientation), its value, and its centre (x, y) in the picture."""

    row: int
    col: int
    value: float
    x: int
    y: int


@dataclass(frozen=True)
class Readout:
    """The hottest and coldest valid pixels and the centre-spot value (None when no pixel is valid)."""

    hottest: Spot | None
    coldest: Spot | None
    centre: float | None


def fit(shape: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """Largest (rows, cols) with the aspect ratio of `shape` inside `box`."""
    rows, cols = shape
    scale = min(box[0] / rows, box[1] / cols)
    return max(1, min(box[0], round(rows * scale))), max(1, min(box[1], round(cols * scale)))


def font_px(size: tuple[int, int]) -> int:
    """Text size in pixels for a picture of `size`."""
    return int(np.clip(round(min(size[0], size[1] * 0.75) / FONTS_PER_HEIGHT), MIN_FONT, MAX_FONT))


def make_layout(size: tuple[int, int], shape: tuple[int, int], annotate: bool) -> Layout:
    """Layout for a `shape` image in a picture of `size`: centred, with bar and text lines when `annotate`."""
    height, width = size
    if annotate:
        px = font_px(size)
        face = font(px)
        pad, line = max(2, px // 3), face.height + max(1, px // 6)
        bar_w = max(4, round(px * 0.8))
        panel = pad + bar_w + label_gap(px) + face.measure("-000.0") + pad
        band = 2 * line + pad
        rows, cols = fit(shape, (height - band - 2 * pad, width - panel - 2 * pad))
        if min(rows, cols) >= MIN_IMAGE and rows > 3 * line:
            x0 = (width - cols - panel) // 2
            y0 = (height - rows - band) // 2
            first = y0 + rows + pad
            bar = Rect(x0 + cols + pad, y0 + line, bar_w, rows - line)
            return Layout(size, Rect(x0, y0, cols, rows), px, bar, (first, first + line),
                          Rect(x0, first, cols + panel, band), (bar.x, y0))
    rows, cols = fit(shape, size)
    return Layout(size, Rect((width - cols) // 2, (height - rows) // 2, cols, rows))


def label_gap(px: int) -> int:
    """Space between the colour bar and its labels: wide enough that a label never reads as "-40"."""
    return max(3, px // 2)


def background(layout: Layout, table: np.ndarray) -> np.ndarray:
    """The static part of an annotated picture: background and the colour bar gradient (hot at the top)."""
    canvas = np.empty((*layout.size, 3), np.uint8)
    canvas[...] = np.tile(np.array(BACKGROUND, np.uint8), (layout.size[1], 1))  # a whole row per copy: fast
    bar = layout.bar
    if bar is not None:
        fractions = 1.0 - (np.arange(bar.h) + 0.5) / bar.h
        canvas[bar.y:bar.y + bar.h, bar.x:bar.x + bar.w] = table[np.rint(fractions * 255).astype(np.intp)][:, None]
    return canvas


def spot_xy(layout: Layout, shape: tuple[int, int], row: int, col: int) -> tuple[int, int]:
    """Picture coordinates (x, y) of the centre of sensor pixel (row, col)."""
    image = layout.image
    return (image.x + int((col + 0.5) * image.w / shape[1]), image.y + int((row + 0.5) * image.h / shape[0]))


def centre_block(shape: tuple[int, int]) -> tuple[slice, slice]:
    """The central 1-2 x 1-2 pixels: the ones under the picture's centre cross, whatever the flip or rotation."""
    rows, cols = shape
    return slice((rows - 1) // 2, rows // 2 + 1), slice((cols - 1) // 2, cols // 2 + 1)


def centre_value(data: np.ndarray, valid: np.ndarray | None = None) -> float | None:
    """The centre temperature every view shows: the mean of the valid pixels of `centre_block` (None if none)."""
    block = centre_block(data.shape)
    centre = data[block] if valid is None else data[block][valid[block]]
    return float(centre.mean()) if centre.size else None


def measure(data: np.ndarray, valid: np.ndarray | None, layout: Layout) -> Readout:
    """Hottest and coldest valid pixels of `data` and its `centre_value`."""
    if valid is not None and not valid.any():
        return Readout(None, None, None)
    masked_hot = data if valid is None else np.where(valid, data, -np.inf)
    masked_cold = data if valid is None else np.where(valid, data, np.inf)
    spots = []
    for flat in (int(np.argmax(masked_hot)), int(np.argmin(masked_cold))):
        row, col = divmod(flat, data.shape[1])
        spots.append(Spot(row, col, float(data[row, col]), *spot_xy(layout, data.shape, row, col)))
    return Readout(spots[0], spots[1], centre_value(data, valid))


def unit_suffix(units: str) -> str:
    """What follows a number in `units`: "°C", "°F", " K", " counts"."""
    symbol = UNIT_SYMBOLS.get(units, units)
    return symbol if symbol.startswith("°") else f" {symbol}"


def format_number(value: float, units: str, decimals: int = 1) -> str:
    """`value` with `decimals` decimals for temperatures, as a whole number for counts."""
    return f"{value:.0f}" if units in ("counts", "agc") else f"{value:.{decimals}f}"


def _first_fitting(candidates: Sequence[str], px: int, width: int) -> str:
    face = font(px)
    for text in candidates:
        if face.measure(text) <= width:
            return text
    return candidates[-1]


def readout_candidates(readout: Readout, units: str) -> list[str]:
    """Readout lines, longest first; the symbols match the markers (hottest, coldest, centre)."""
    if readout.hottest is None or readout.coldest is None:
        return ["no valid pixels"]
    suffix = unit_suffix(units)
    hot, cold = format_number(readout.hottest.value, units), format_number(readout.coldest.value, units)
    centre = "--" if readout.centre is None else format_number(readout.centre, units)
    return [f"▲ max {hot}{suffix}   ▼ min {cold}{suffix}   + centre {centre}{suffix}",
            f"▲{hot}  ▼{cold}  +{centre}{suffix}",
            f"▲{hot} ▼{cold}{suffix}",
            f"▲{hot} ▼{cold}"]


def draw_markers(canvas: np.ndarray, layout: Layout, readout: Readout) -> None:
    """Hottest (triangle up), coldest (triangle down) and centre (cross) markers, white on black outline."""
    px = layout.font_px or MIN_FONT
    size, thickness = max(7, round(px * 0.75)), 1 if px < 14 else 2
    image = layout.image
    marks = [(cv2.MARKER_CROSS, (image.x + image.w // 2, image.y + image.h // 2))]
    if readout.coldest is not None and readout.hottest is not None:
        marks += [(cv2.MARKER_TRIANGLE_DOWN, (readout.coldest.x, readout.coldest.y)),
                  (cv2.MARKER_TRIANGLE_UP, (readout.hottest.x, readout.hottest.y))]
    for kind, xy in marks:
        cv2.drawMarker(canvas, xy, OUTLINE, kind, size + 2, thickness + 2, cv2.LINE_AA)
        cv2.drawMarker(canvas, xy, MARKER, kind, size, thickness, cv2.LINE_AA)


def draw_scale(canvas: np.ndarray, layout: Layout, scale: Scale, units: str) -> None:
    """The unit above the colour bar; tick notches cut into the bar's edge and labels a gap to its right.

    The notches sit inside the bar (dark on light colours, light on dark) so no line touches a label: a
    tick beside "40" used to read as "-40".
    """
    bar, px = layout.bar, layout.font_px
    if bar is None or px is None:
        return
    face = font(px)
    if layout.unit is not None:
        draw_text(canvas, unit_suffix(units).strip(), *layout.unit, px, TEXT, BACKGROUND)
    ticks = scale.ticks(max(2, bar.h // (2 * face.height)))
    if units in ("counts", "agc"):
        decimals = 0
    else:  # round ticks print exactly; equalised ticks are arbitrary values, shown to 0.1
        decimals = tick_decimals([v for _, v in ticks]) if scale.quantiles is None else 1
    notch = max(2, bar.w // 2)
    last_y = None
    for fraction, value in reversed(ticks):
        y = bar.y + round((1.0 - fraction) * (bar.h - 1))
        light = int(canvas[y, bar.x + bar.w - 1].astype(np.int32) @ np.array([299, 587, 114])) > 128_000
        cv2.line(canvas, (bar.x + bar.w - notch, y), (bar.x + bar.w - 1, y), OUTLINE if light else MARKER, 1)
        top = int(np.clip(y - face.ascent // 2 - face.descent // 2 - 1, 0, canvas.shape[0] - face.height))
        if last_y is not None and top < last_y + face.height:
            continue
        draw_text(canvas, f"{value:.{decimals}f}", bar.x + bar.w + label_gap(px), top, px, TEXT, BACKGROUND)
        last_y = top


def draw_text_lines(canvas: np.ndarray, layout: Layout, readout: Readout, units: str,
                    caption: Sequence[str]) -> None:
    """The readout line and the caption line (the longest candidate of each that fits)."""
    if layout.text is None or layout.font_px is None:
        return
    px, box = layout.font_px, layout.text
    draw_text(canvas, _first_fitting(readout_candidates(readout, units), px, box.w), box.x, layout.lines[0],
              px, TEXT, BACKGROUND)
    draw_text(canvas, _first_fitting(caption, px, box.w), box.x, layout.lines[1], px, DIM, BACKGROUND)


def annotate(canvas: np.ndarray, layout: Layout, readout: Readout, scale: Scale, units: str,
             caption: Sequence[str]) -> None:
    """Draw markers, the colour bar's scale and the text lines onto `canvas` (in place)."""
    draw_markers(canvas, layout, readout)
    draw_scale(canvas, layout, scale, units)
    draw_text_lines(canvas, layout, readout, units, caption)
