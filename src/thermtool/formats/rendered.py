"""Rendered pictures (PNG, JPEG): a frame turned into colours; write-only, they hold no temperatures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..errors import InputError
from ..fileio import write_bytes
from ..frame import Frame

if TYPE_CHECKING:
    from ..render.pipeline import Renderer

RenderFn = Callable[[Frame], np.ndarray]


def default_render(frame: Frame) -> np.ndarray:
    """The project's default rendering of a frame (percentile range, bicubic, inferno, annotated)."""
    from ..render.pipeline import Renderer

    return Renderer().render(frame)


def encode(rgb: np.ndarray, suffix: str, quality: int = 90) -> bytes:
    """Encode an (H, W, 3) uint8 RGB image as PNG or JPEG bytes."""
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if suffix == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    ok, encoded = cv2.imencode(suffix, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise InputError(f"OpenCV could not encode a {suffix} picture")
    return encoded.tobytes()


@dataclass(frozen=True)
class RenderedFormat:
    """A picture format: the frame is rendered to RGB, then encoded."""

    name: str
    suffix: str

    def write(self, frame: Frame, path: Path, *, force: bool = False, renderer: Renderer | RenderFn | None = None,
              quality: int = 90, store: Any = None, **_: Any) -> Path:
        """Render `frame` (with a Renderer or a render function; default the project's default) and write it.

        With `store` (a capture's manifest.FrameStore) the store publishes it and records the frame's metadata.
        """
        render = getattr(renderer, "render", renderer) or default_render
        payload = encode(render(frame), self.suffix, quality)
        if store is not None:
            return store.publish(frame, path, payload, force=force)
        return write_bytes(path, payload, force=force)


PNG = RenderedFormat("PNG", ".png")
JPEG = RenderedFormat("JPEG", ".jpg")
