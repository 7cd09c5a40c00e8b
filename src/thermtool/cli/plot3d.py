"""`thermtool plot3d`: a frame as a full-resolution 3-D surface, to PNG, interactive HTML, or a window."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import click

from ..analysis.plot3d import DEFAULT_AZIM, DEFAULT_ELEV, SurfaceStyle, draw_surface, frame_title, plotly_surface
from ..errors import InputError, MissingDependencyError
from ..fileio import check_writable, write_bytes
from ..formats import load_frame
from ..frame import Frame
from .options import FiniteFloat, force_option
from .output import reporter

#: matplotlib's built-in backends that draw to files only (no window).
FILE_ONLY_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def has_display() -> bool:
    """True when a window can be opened: macOS and Windows always, elsewhere with $DISPLAY or $WAYLAND_DISPLAY."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _check_suffix(path: Path, suffixes: tuple[str, ...], option: str, what: str) -> None:
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{path}: {option} writes {what}; name it {suffixes[0]}")


def _figure_size(style: SurfaceStyle) -> tuple[float, float]:
    return (15.0, 6.5) if style.with_2d else (9.0, 7.0)


def save_png(frame: Frame, path: Path, style: SurfaceStyle, *, dpi: int = 100, force: bool = False) -> None:
    """Draw the surface on an Agg canvas (no display needed) and write it atomically as PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=_figure_size(style), dpi=dpi, layout="constrained")
    draw_surface(figure, frame, style)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_bytes(path, buffer.getvalue(), force=force)


def save_html(frame: Frame, path: Path, style: SurfaceStyle, *, force: bool = False) -> None:
    """Write a self-contained plotly page (plotly.js embedded, no CDN: works offline)."""
    page = plotly_surface(frame, style).to_html(include_plotlyjs=True, include_mathjax=False, full_html=True)
    write_bytes(path, page.encode("utf-8"), force=force)


def show_window(frame: Frame, style: SurfaceStyle) -> None:
    """Open an interactive matplotlib window (rotate with the mouse); returns when it is closed."""
    import matplotlib
    import matplotlib.pyplot as plt

    if matplotlib.get_backend().lower() in FILE_ONLY_BACKENDS:
        raise InputError("matplotlib has no window backend here (install python3-tk or PyQt); "
                         "save a picture with -o plot.png or --html plot.html")
    figure = plt.figure(figsize=_figure_size(style), layout="constrained")
    draw_surface(figure, frame, style)
    plt.show()


def _need_plotly() -> None:
    try:
        import plotly  # noqa: F401
    except ImportError:
        raise MissingDependencyError("plot3d --html", "plotly") from None


@click.command(epilog="Example: thermtool plot3d recording.npz --index 3 -o surface.png --with-2d")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), help="PNG picture to write.")
@click.option("--html", type=click.Path(path_type=Path),
              help="Interactive HTML page to write: one self-contained file that works offline "
                   "(needs thermtool[plotly]).")
@click.option("--index", "-i", type=int, help="Frame of a recording or stack (0 first, -1 last).")
@click.option("--cmap", default="nipy_spectral", show_default=True, help="Colormap name.")
@click.option("--elev", type=FiniteFloat(), default=DEFAULT_ELEV, show_default=True, help="View elevation, degrees.")
@click.option("--azim", type=FiniteFloat(), default=DEFAULT_AZIM, show_default=True, help="View azimuth, degrees.")
@click.option("--with-2d", is_flag=True, help="Draw the flat picture beside the surface.")
@click.option("--dpi", type=click.IntRange(30, 600), default=100, show_default=True, help="PNG resolution.")
@force_option
def plot3d(source: Path, out: Path | None, html: Path | None, index: int | None, cmap: str, elev: float,
           azim: float, with_2d: bool, dpi: int, force: bool) -> None:
    """Plot a frame as a 3-D surface of its values, every pixel a vertex.

    Height and colour are in the frame's units (°C, °F, K or raw sensor counts); the title names the
    sensor and time. Without -o or --html the surface opens in a window.
    """
    if out is not None:
        _check_suffix(out, (".png",), "-o", "a PNG picture")
        check_writable(out, force=force)
    if html is not None:
        _check_suffix(html, (".html", ".htm"), "--html", "an HTML page")
        check_writable(html, force=force)
        _need_plotly()
    if out is None and html is None and not has_display():
        raise InputError("no display to open a window on (DISPLAY is not set); "
                         "save a picture with -o plot.png or --html plot.html")
    frame = load_frame(source, index)
    label = source.name if index is None else f"{source.name}[{index}]"
    style = SurfaceStyle(cmap, elev, azim, with_2d, frame_title(frame, label))
    report = reporter()
    if out is not None:
        save_png(frame, out, style, dpi=dpi, force=force)
        report.info(f"wrote {out} (a {frame.shape[1]}x{frame.shape[0]} surface)")
    if html is not None:
        save_html(frame, html, style, force=force)
        report.info(f"wrote {html} (interactive, works offline)")
    if out is None and html is None:
        show_window(frame, style)
