"""Make the pictures of docs/rendering.md (run from the repository root: python docs/rendering_images.py).

Every picture comes from the simulated cameras (seeded), so anyone can regenerate them byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

import thermtool
from thermtool import Frame
from thermtool.render import Renderer, colormap_table
from thermtool.render.annotate import BACKGROUND, TEXT
from thermtool.render.swatches import colormap_sheet
from thermtool.render.text import draw_text
from thermtool.sensors.simulated import SceneSource

IMAGES = Path(__file__).resolve().parent / "images"
PANEL = (150, 200)
SHOWN_COLORMAPS = ["ironbow", "white-hot", "black-hot", "rainbow-hc", "inferno", "magma", "plasma", "viridis",
                   "cividis", "turbo", "jet", "hot", "gray", "coolwarm", "Spectral_r", "nipy_spectral"]


def frame(shape: tuple[int, int], seed: int = 4, index: int = 30) -> Frame:
    """A seeded simulated frame: people walking past a window, a radiator and a laptop."""
    data = SceneSource(shape, seed=seed).sample(index, index / 4.0).astype(np.float32)
    return Frame(data, "C", "2026-01-15T14:30:00Z", "sim")


def labelled(picture: np.ndarray, label: str) -> np.ndarray:
    """`picture` with a caption strip under it."""
    strip = np.empty((18, picture.shape[1], 3), np.uint8)
    strip[...] = BACKGROUND
    draw_text(strip, label, 4, 2, 11, TEXT, BACKGROUND)
    return np.vstack([picture, strip])


def colour_first(data: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """What colour-then-resize does (not thermtool): colour 32x24 pixels, then resize the colours."""
    lo, hi = np.percentile(data, [1, 99])
    index = np.clip((data - lo) / (hi - lo) * 255, 0, 255).astype(np.uint8)
    small = colormap_table("rainbow-hc")[index]
    return cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)


def grid(panels: list[np.ndarray], columns: int) -> np.ndarray:
    """Panels of one size in rows of `columns`, separated by thin gaps."""
    rows = [panels[i:i + columns] for i in range(0, len(panels), columns)]
    gap = np.full((panels[0].shape[0], 4, 3), BACKGROUND, np.uint8)
    lines = []
    for row in rows:
        row += [np.full_like(panels[0], BACKGROUND)] * (columns - len(row))
        cells = [cell for panel in row for cell in (panel, gap)][:-1]
        lines += [np.hstack(cells), np.full((4, sum(c.shape[1] for c in cells), 3), BACKGROUND, np.uint8)]
    return np.vstack(lines[:-1])


def save(name: str, rgb: np.ndarray) -> None:
    """Write a PNG at maximum compression."""
    path = IMAGES / name
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{path.relative_to(IMAGES.parent.parent)}: {rgb.shape[1]}x{rgb.shape[0]}, {path.stat().st_size // 1024} KiB")


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    mlx = frame((24, 32))
    renderer = Renderer("rainbow-hc", size=PANEL, annotate=False)
    renderer.render(mlx)
    renderer.lock_range()  # one colour scale for every panel
    panels = []
    for name in thermtool.upscalers():
        renderer.upscaler = name
        panels.append(labelled(renderer.render(mlx), name))
    panels.append(labelled(colour_first(mlx.data, PANEL), "colour first (not used)"))
    save("upscalers.png", grid(panels, 4))
    save("colormaps.png", colormap_sheet(SHOWN_COLORMAPS, columns=2, strip_width=160))
    lepton = frame((120, 160), seed=2, index=12)
    save("annotated-640x480.png", Renderer("ironbow", "bicubic", (480, 640)).render(lepton))
    save("annotated-160x120.png", Renderer("inferno", "bicubic", (120, 160)).render(mlx))


if __name__ == "__main__":
    main()
