"""The window view: matplotlib with the interactive backend available, updated by blitting.

One figure is built once; each new frame only replaces the image data and the status text and blits
them over the saved background (no per-frame figure rebuild). Click a pixel to pin the spot meter
(right-click unpins); double-click saves a snapshot. matplotlib's own key bindings are switched off so
the shared controls (see controls.py) mean the same as in the other views.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ThermtoolError
from .controls import Effect, help_lines
from .session import ViewSession

#: Timer period of the window's event loop (ms): how soon a new frame or a stop request is noticed.
POLL_MS = 20
#: Height of the status strip under the picture, in pixels.
STATUS_PX = 50
DPI = 100.0
BACKGROUND, TEXT = "#181818", "#e0e0e0"
MOUSE_HELP = (("click", "pin the spot meter"), ("right", "unpin it"), ("double", "save a snapshot"))


class NoDisplayError(ThermtoolError):
    """No display (or no interactive matplotlib backend) to open a window on."""

    exit_code = 2


def interactive_backends() -> set[str]:
    """Names (lower case) of matplotlib's interactive backends."""
    try:
        from matplotlib.backends import BackendFilter, backend_registry

        return {name.lower() for name in backend_registry.list_builtin(BackendFilter.INTERACTIVE)}
    except ImportError:  # matplotlib < 3.9
        from matplotlib import rcsetup

        return {name.lower() for name in rcsetup.interactive_bk}


def display_available() -> bool:
    """True when a window can be opened: a display is named and matplotlib finds an interactive backend."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    import matplotlib.pyplot as plt

    return plt.get_backend().lower() in interactive_backends()


class WindowView:
    """A matplotlib figure showing a ViewSession; `tick()` is the per-timer update (tests call it directly)."""

    def __init__(self, session: ViewSession, *, figure: Any = None) -> None:
        import matplotlib.pyplot as plt

        self.session = session
        self.closed = False
        self._dirty = True
        self._background: Any = None
        height, width = session.options.size
        if figure is None:
            with plt.rc_context({"toolbar": "None"}):  # no pan/zoom modes: clicks pin the spot meter
                figure = plt.figure(figsize=(width / DPI, (height + STATUS_PX) / DPI), dpi=DPI)
        self.figure = figure
        figure.set_facecolor(BACKGROUND)
        canvas = self.figure.canvas
        manager = getattr(canvas, "manager", None)
        handler_id = getattr(manager, "key_press_handler_id", None)
        if handler_id is not None:  # matplotlib's default keys (s = save dialog, q = close, ...) would clash
            canvas.mpl_disconnect(handler_id)
        if manager is not None and hasattr(manager, "set_window_title"):
            manager.set_window_title("thermtool view")
        strip = STATUS_PX / (height + STATUS_PX)
        self.axes = self.figure.add_axes((0.0, strip, 1.0, 1.0 - strip))
        self.axes.set_axis_off()
        self.image = self.axes.imshow(np.zeros((height, width, 3), np.uint8), interpolation="nearest",
                                      animated=True)
        self.status = self.figure.text(0.01, strip * 0.5, "", fontsize=8.5, family="monospace", animated=True,
                                       va="center", linespacing=1.3, color=TEXT)
        self.help = self.axes.text(0.5, 0.5, "\n".join(help_lines(MOUSE_HELP)), transform=self.axes.transAxes,
                                   ha="center", va="center", multialignment="left",  # one straight key column
                                   family="monospace", fontsize=10, color="white",
                                   animated=True, visible=False,
                                   bbox={"facecolor": "black", "alpha": 0.8, "edgecolor": "0.6", "pad": 10})
        canvas.mpl_connect("draw_event", self._on_draw)
        canvas.mpl_connect("key_press_event", self.on_key)
        canvas.mpl_connect("button_press_event", self.on_click)
        canvas.mpl_connect("close_event", self._on_close)
        self.timer = canvas.new_timer(interval=POLL_MS)
        self.timer.add_callback(self._on_timer)

    # Events.
    def on_key(self, event: Any) -> None:
        """A key press: the shared controls; quitting closes the window."""
        if event.key is None:
            return
        if self.session.key(event.key) is Effect.QUIT:
            self.close()
        self._dirty = True

    def on_click(self, event: Any) -> None:
        """Left click pins the spot meter, right click unpins it, a double click saves a snapshot."""
        if event.inaxes is not self.axes or event.xdata is None:
            return
        if event.dblclick:
            self.session.act("snapshot")
        elif event.button == 3:
            self.session.update({"spot": None})
        elif event.button == 1:
            self.session.pin_at(event.xdata + 0.5, event.ydata + 0.5)  # imshow centres pixels on integers
        self._dirty = True

    def _on_draw(self, _event: Any) -> None:
        """After a full redraw (first show, resize): save the background and draw the animated artists."""
        canvas = self.figure.canvas
        self._background = canvas.copy_from_bbox(self.figure.bbox)
        self._draw_artists()

    def _on_close(self, _event: Any) -> None:
        self.closed = True
        self.timer.stop()

    def _on_timer(self) -> None:
        """The timer's callback; it returns None because a falsy 0/False would make matplotlib drop it."""
        self.tick()

    # Drawing.
    def _draw_artists(self) -> None:
        self.axes.draw_artist(self.image)
        if self.help.get_visible():
            self.axes.draw_artist(self.help)
        self.figure.draw_artist(self.status)

    def tick(self) -> bool:
        """Show a new frame or changed settings by blitting; True when something was drawn."""
        if self.closed:
            return False
        if not (self.session.refresh() or self._dirty):
            return False
        self._dirty = False
        picture = self.session.picture()
        if picture is not None:
            self.image.set_data(picture.rgb)
        self.status.set_text("\n".join(self.session.status_lines()))
        self.help.set_visible(self.session.state.help)
        canvas = self.figure.canvas
        if self._background is None:
            canvas.draw_idle()
            return True
        canvas.restore_region(self._background)
        self._draw_artists()
        canvas.blit(self.figure.bbox)
        canvas.flush_events()
        return True

    def close(self) -> None:
        """Close the window (the blocking show() then returns)."""
        import matplotlib.pyplot as plt

        if not self.closed:
            self.closed = True
            self.timer.stop()
            plt.close(self.figure)

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Open the window and show frames until it is closed or `q` pressed (0), or `should_stop()`."""
        import matplotlib.pyplot as plt

        if plt.get_backend().lower() not in interactive_backends():
            raise NoDisplayError(f"no window can be opened (matplotlib backend {plt.get_backend()!r}, "
                                 "no display); try --backend terminal or --backend web")

        def poll() -> None:
            if should_stop():
                self.close()

        self.timer.add_callback(poll)
        with self.session.feed:
            self.timer.start()
            plt.show(block=True)
        self.timer.stop()
        return 0
