"""Crisp anti-aliased text for annotations: DejaVu Sans rasterised by FreeType through Pillow.

Each glyph is rasterised once per pixel size and cached; a string is composed from cached glyphs, so
drawing text per frame costs a few array copies. The font file is the DejaVu Sans matplotlib ships (found
without importing matplotlib; DejaVu's licence allows redistribution), else Pillow's own default font.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

#: Strings kept as ready masks per font (tick labels and captions repeat from frame to frame).
STRING_CACHE = 256


def font_file() -> Path | None:
    """DejaVuSans.ttf from matplotlib's data folder, located without importing matplotlib (None if absent)."""
    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if path.is_file():
            return path
    return None


def _face(px: int) -> ImageFont.FreeTypeFont:
    path = font_file()
    face = ImageFont.truetype(str(path), px) if path else ImageFont.load_default(px)
    return face  # type: ignore[return-value]  # a FreeTypeFont: Pillow's wheels include FreeType


@dataclass(frozen=True)
class Glyph:
    """One rasterised character: alpha bitmap cropped to its ink, placed relative to pen and baseline."""

    bitmap: np.ndarray
    left: int
    top: int
    advance: int


class Font:
    """DejaVu Sans at one pixel size: `mask(text)` gives an alpha mask with the baseline at row `ascent`."""

    def __init__(self, px: int) -> None:
        self.px = px
        self._face = _face(px)  # the size is the em in pixels
        self.ascent, self.descent = self._face.getmetrics()
        self._glyphs: dict[str, Glyph] = {}
        self._strings: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def height(self) -> int:
        """Height of a text line's mask in pixels."""
        return self.ascent + self.descent

    def _glyph(self, char: str) -> Glyph:
        glyph = self._glyphs.get(char)
        if glyph is None:
            left, top, right, bottom = (int(v) for v in self._face.getbbox(char, anchor="ls"))
            image = Image.new("L", (max(1, right - left), max(1, bottom - top)))
            ImageDraw.Draw(image).text((-left, -top), char, fill=255, font=self._face, anchor="ls")
            ink = np.asarray(image) if right > left and bottom > top else np.zeros((0, 0), np.uint8)
            glyph = Glyph(ink, left, -top, round(self._face.getlength(char)))
            self._glyphs[char] = glyph
        return glyph

    def measure(self, text: str) -> int:
        """Width of `text` in pixels."""
        with self._lock:
            return sum(self._glyph(c).advance for c in text)

    def mask(self, text: str) -> np.ndarray:
        """(height, width) uint8 alpha mask of `text` (read-only, cached)."""
        with self._lock:
            cached = self._strings.get(text)
            if cached is not None:
                self._strings.move_to_end(text)
                return cached
            glyphs = [self._glyph(c) for c in text]
            mask = np.zeros((self.height, max(1, sum(g.advance for g in glyphs) + 1)), np.uint8)
            pen = 0
            for glyph in glyphs:
                rows, cols = glyph.bitmap.shape
                top, left = max(0, self.ascent - glyph.top), max(0, pen + glyph.left)
                region = mask[top:top + rows, left:left + cols]
                np.maximum(region, glyph.bitmap[:region.shape[0], :region.shape[1]], out=region)
                pen += glyph.advance
            mask.setflags(write=False)
            self._strings[text] = mask
            if len(self._strings) > STRING_CACHE:
                self._strings.popitem(last=False)
            return mask


@lru_cache(maxsize=8)
def font(px: int) -> Font:
    """The shared Font of pixel size `px`."""
    return Font(px)


@lru_cache(maxsize=STRING_CACHE)
def text_patch(text: str, px: int, color: tuple[int, int, int], background: tuple[int, int, int]) -> np.ndarray:
    """(height, width, 3) uint8 picture of `text` in `color` on `background` (read-only, cached)."""
    alpha = font(px).mask(text)[..., None].astype(np.float32) * (1.0 / 255.0)
    ground = np.asarray(background, np.float32)
    patch = (ground + alpha * (np.asarray(color, np.float32) - ground) + 0.5).astype(np.uint8)
    patch.setflags(write=False)
    return patch


def draw_text(image: np.ndarray, text: str, x: int, y: int, px: int, color: tuple[int, int, int],
              background: tuple[int, int, int] | None = None) -> int:
    """Draw `text` on `image` (H, W, 3 uint8) with its box's top-left at (x, y); returns the text's width.

    With `background` (the solid colour under the text) the box is pasted from a cached patch, the fast
    path for panels; without it the glyphs are blended onto whatever is there. Text past an edge is clipped.
    """
    if background is not None:
        patch = text_patch(text, px, tuple(color), tuple(background))  # type: ignore[arg-type]
        rows, cols = patch.shape[:2]
    else:
        mask = font(px).mask(text)
        rows, cols = mask.shape
    top, left = max(0, y), max(0, x)
    bottom, right = min(image.shape[0], y + rows), min(image.shape[1], x + cols)
    if bottom <= top or right <= left:
        return cols
    region = image[top:bottom, left:right]
    if background is not None:
        region[...] = patch[top - y:bottom - y, left - x:right - x]
    else:
        alpha = mask[top - y:bottom - y, left - x:right - x, None].astype(np.float32) * (1.0 / 255.0)
        region[...] = (region + alpha * (np.asarray(color, np.float32) - region) + 0.5).astype(np.uint8)
    return cols
