"""Crisp anti-aliased text for annotations: DejaVu Sans rasterised by FreeType through Pillow.

Each string is rasterised once per pixel size and cached (tick labels and captions repeat from frame to
frame), so drawing text per frame costs a few array copies. The font file is the DejaVu Sans matplotlib ships (found
without importing matplotlib; DejaVu's licence allows redistribution), else Pillow's own default font.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections import OrderedDict
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


class Font:
    """DejaVu Sans at one pixel size: `mask(text)` gives an alpha mask with the baseline at row `ascent`."""

    def __init__(self, px: int) -> None:
        self.px = px
        self._face = _face(px)  # the size is the em in pixels
        self.ascent, self.descent = self._face.getmetrics()
        self._strings: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def height(self) -> int:
        """Height of a text line's mask in pixels."""
        return self.ascent + self.descent

    def measure(self, text: str) -> int:
        """Width of `text` in pixels (its advance, rounded up)."""
        with self._lock:
            return math.ceil(self._face.getlength(text))

    def mask(self, text: str) -> np.ndarray:
        """(height, width) uint8 alpha mask of `text` (read-only, cached); width is `measure(text) + 1`."""
        with self._lock:
            cached = self._strings.get(text)
            if cached is not None:
                self._strings.move_to_end(text)
                return cached
            image = Image.new("L", (math.ceil(self._face.getlength(text)) + 1, self.height))
            ImageDraw.Draw(image).text((0, self.ascent), text, fill=255, font=self._face, anchor="ls")
            mask = np.array(image)
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
