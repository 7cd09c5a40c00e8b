"""The terminal view: half-block cells (two pixels per character) through rich Live, for SSH sessions.

Each character cell is an upper half block whose foreground is the top pixel and background the bottom
one; a cell whose two pixels match is a space on that background. Colour codes are written only when they
change along a line, which keeps a frame small enough for SSH over Wi-Fi (see benchmarks/view.py).
Truecolor terminals get exact colours; others the nearest of the xterm 256-colour palette. SSH does not
forward COLORTERM, so a 256-colour TERM over SSH is taken as truecolor (`detect_color_system`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.control import ControlType
from rich.live import Live
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from .controls import CONTROLS, Effect, key_label
from .keys import KeyReader
from .session import ViewSession

COLOR_SYSTEMS = ("truecolor", "256")
#: TERM values of terminals known to draw 24-bit colour (their terminfo says so, or their docs do).
TRUECOLOR_TERMS = ("-direct", "truecolor", "24bit", "kitty", "alacritty", "foot", "wezterm", "ghostty", "iterm")
UPPER_HALF = "▀"
LOWER_HALF = "▄"
RESET = "\x1b[0m"
#: Lines under the picture: readouts and settings.
STATUS_LINES = 2
#: How often the loop looks at the terminal size and for a stop request when nothing else happens (seconds).
IDLE_POLL = 0.25
#: xterm's 6x6x6 colour cube levels (indices 16-231) and grey ramp (232-255: 8, 18, ..., 238).
CUBE_LEVELS = np.array([0, 95, 135, 175, 215, 255])
GREY_LEVELS = 8 + 10 * np.arange(24)
# A zero-width control segment: rich passes its text to the terminal unchanged and counts no cells.
_CODES = [(ControlType.BELL,)]

Pieces = list[list[tuple[str, str]]]


def xterm256(colours: np.ndarray) -> np.ndarray:
    """Nearest xterm 256-palette index (16-255) of each (N, 3) uint8 RGB colour."""
    rgb = colours.astype(np.int32)
    cube = np.abs(rgb[:, :, None] - CUBE_LEVELS).argmin(axis=2)
    cube_rgb = CUBE_LEVELS[cube]
    grey = np.abs(rgb.mean(axis=1, keepdims=True) - GREY_LEVELS).argmin(axis=1)
    grey_rgb = GREY_LEVELS[grey][:, None]
    use_grey = ((rgb - grey_rgb) ** 2).sum(axis=1) < ((rgb - cube_rgb) ** 2).sum(axis=1)
    return np.where(use_grey, 232 + grey, 16 + 36 * cube[:, 0] + 6 * cube[:, 1] + cube[:, 2]).astype(np.int32)


def detect_color_system(environ: dict[str, str], rich_detected: str | None) -> str:
    """"truecolor" or "256" for `--colors auto`.

    COLORTERM (or rich's own detection) decides when present. SSH does not forward COLORTERM, so over SSH a
    256-colour TERM (what terminals send) is taken as truecolor: the terminals people SSH from (Windows
    Terminal, iTerm2, GNOME Terminal, Konsole, kitty, PuTTY) draw 24-bit colour. `--colors 256` is the
    way out for one that does not (macOS Terminal before macOS 26).
    """
    term = environ.get("TERM", "").lower()
    if environ.get("COLORTERM", "").lower() in ("truecolor", "24bit") or rich_detected == "truecolor":
        return "truecolor"
    if any(name in term for name in TRUECOLOR_TERMS):
        return "truecolor"
    over_ssh = any(environ.get(name) for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"))
    return "truecolor" if over_ssh and term.endswith("256color") else "256"


def _colour_codes(colours: np.ndarray, color_system: str) -> tuple[list[str], list[str]]:
    """Foreground and background SGR parameters for each unique colour."""
    if color_system == "truecolor":
        body = [f"2;{r};{g};{b}" for r, g, b in colours.tolist()]
    elif color_system == "256":
        body = [f"5;{n}" for n in xterm256(colours).tolist()]
    else:
        raise ValueError(f"unknown colour system {color_system!r}; valid: {', '.join(COLOR_SYSTEMS)}")
    return [f"38;{c}" for c in body], [f"48;{c}" for c in body]


def halfblock_pieces(rgb: np.ndarray, color_system: str = "truecolor") -> Pieces:
    """Lines of (escape codes, characters) pieces drawing `rgb` (H, W, 3) with two pixel rows per text line.

    Codes are emitted only where a colour changes; each line starts from the default colours and the caller
    resets them at its end. An odd last pixel row is paired with itself.
    """
    if rgb.shape[0] % 2:
        rgb = np.concatenate([rgb, rgb[-1:]], axis=0)
    packed = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    unique, inverse = np.unique(packed, return_inverse=True)
    colours = np.stack([unique >> 16, (unique >> 8) & 255, unique & 255], axis=1).astype(np.uint8)
    fg, bg = _colour_codes(colours, color_system)
    index = inverse.reshape(packed.shape)
    lines: Pieces = []
    for top_row, bottom_row in zip(index[0::2].tolist(), index[1::2].tolist(), strict=True):
        lines.append(_line(top_row, bottom_row, fg, bg))
    return lines


def _line(top_row: list[int], bottom_row: list[int], fg: list[str], bg: list[str]) -> list[tuple[str, str]]:
    pieces: list[tuple[str, str]] = []
    cur_fg = cur_bg = -1
    codes: list[str] = []
    chars: list[str] = []
    for top, bottom in zip(top_row, bottom_row, strict=True):
        if top == bottom:
            char, want_fg, want_bg = " ", cur_fg, top
        elif cur_bg == top or cur_fg == bottom:  # the lower half block keeps more of the current colours
            char, want_fg, want_bg = LOWER_HALF, bottom, top
        else:
            char, want_fg, want_bg = UPPER_HALF, top, bottom
        if want_fg != cur_fg:
            codes.append(fg[want_fg])
            cur_fg = want_fg
        if want_bg != cur_bg:
            codes.append(bg[want_bg])
            cur_bg = want_bg
        if codes:
            if chars:
                pieces.append(("", "".join(chars)))
                chars = []
            pieces.append(("\x1b[" + ";".join(codes) + "m", char))
            codes = []
        else:
            chars.append(char)
    if chars:
        pieces.append(("", "".join(chars)))
    return pieces


def pieces_text(pieces: Pieces) -> str:
    """The exact text a terminal receives for `pieces` (each line reset and ended)."""
    return "".join("".join(code + chars for code, chars in line) + RESET + "\n" for line in pieces)


def fit_cells(shape: tuple[int, int], columns: int, lines: int) -> tuple[int, int]:
    """Picture size (pixel rows, pixel columns) of a `shape` image in `columns` x `lines` half-block cells."""
    rows, cols = shape
    scale = min(columns / cols, 2 * lines / rows)
    return max(2, min(2 * lines, round(rows * scale))), max(1, min(columns, round(cols * scale)))


class CellImage:
    """A rich renderable drawing prepared half-block pieces."""

    def __init__(self, pieces: Pieces) -> None:
        self.pieces = pieces

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for line in self.pieces:
            for codes, chars in line:
                if codes:
                    yield Segment(codes, None, _CODES)
                yield Segment(chars)
            yield Segment(RESET, None, _CODES)
            yield Segment.line()


class CountingWriter:
    """A text stream wrapper counting the bytes written (to report and document bytes per frame)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.count = 0

    def write(self, text: str) -> int:
        """Write and count (UTF-8 bytes)."""
        self.count += len(text.encode("utf-8", errors="replace"))
        return self.stream.write(text)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def help_panel() -> Panel:
    """The key table as a panel (the `h` overlay)."""
    table = Table.grid(padding=(0, 2))
    for control in CONTROLS:
        table.add_row(Text(" / ".join(key_label(k) for k in control.keys), style="bold"), control.description)
    return Panel(table, title="thermtool view: keys", border_style="cyan", expand=False)


class TerminalView:
    """Runs a ViewSession in the terminal until `q`/Esc (0) or Ctrl-C / SIGTERM (130 / 143)."""

    def __init__(self, session: ViewSession, *, color_system: str = "auto", stream: IO[str] | None = None,
                 keys: KeyReader | None = None) -> None:
        self.session = session
        self.output = CountingWriter(stream or sys.stdout)
        self.console = Console(file=self.output, highlight=False)  # type: ignore[arg-type]
        self.color_system = color_system if color_system != "auto" else (
            detect_color_system(dict(os.environ), self.console.color_system))
        self.keys = keys or KeyReader()
        self.frame_bytes = 0
        self._size: tuple[int, int] | None = None

    def renderable(self) -> RenderableType:
        """What the screen shows now: picture (or help), status line, key hints."""
        width, height = self.console.size
        self._size = (width, height)
        readouts, settings = self.session.status_lines()
        lines = Group(Text(f"{readouts}  {self.frame_bytes / 1000:.1f} kB/frame ({self.color_system})",
                           no_wrap=True, overflow="ellipsis"),
                      Text(f"{settings} | h: keys", style="dim", no_wrap=True, overflow="ellipsis"))
        if self.session.state.help:
            return Group(help_panel(), lines)
        frame = self.session.frame
        if frame is None:
            return Group(Text("waiting for the first frame..."), lines)
        size = fit_cells(frame.shape, width, max(1, height - STATUS_LINES))
        picture = self.session.picture(size, annotate=False)
        image = CellImage(halfblock_pieces(picture.rgb, self.color_system)) if picture else Text("")
        return Group(image, lines)

    def run(self, should_stop: Any = lambda: False) -> int:
        """Show frames until quit; `should_stop()` is polled for signals. Returns the exit code (0 on quit)."""
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        self.session.feed.on_frame = lambda _seq, _frame: _poke(wake_write)
        try:
            with self.session.feed, self.keys, Live(console=self.console, screen=True, auto_refresh=False,
                                                    redirect_stdout=False, redirect_stderr=False) as live:
                return self._loop(live, wake_read, should_stop)
        finally:
            self.session.feed.on_frame = None
            os.close(wake_read)
            os.close(wake_write)

    def _loop(self, live: Live, wake_read: int, should_stop: Any) -> int:
        dirty = True
        while not should_stop():
            for key in self.keys.read(0.0 if dirty else IDLE_POLL, wake_read):
                if self.session.key(key) is Effect.QUIT:
                    return 0
                dirty = True
            dirty |= self.session.refresh() or self.console.size != self._size
            if dirty:
                before = self.output.count
                live.update(self.renderable(), refresh=True)
                self.frame_bytes = self.output.count - before
                dirty = False
        return 0


def _poke(fd: int) -> None:
    with contextlib.suppress(OSError):  # a full pipe already holds a wake-up
        os.write(fd, b"\0")
