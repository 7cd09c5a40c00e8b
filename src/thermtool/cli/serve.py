"""`thermtool serve`: the web view without a screen, for a Pi or Jetson on the LAN (and the options it shares)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .options import SensorRequest, sensor_option
from .output import Reporter, reporter
from .render_options import RenderRequest, render_options
from .signals import graceful_stop

if TYPE_CHECKING:  # the view package is imported only when a command runs
    from ..view.session import ViewSession
    from ..view.web import WebOptions


def web_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --host, --port, --token, --max-clients, --quality; the command receives them as `web`."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..retention import parse_size
        from ..view.web import WebOptions

        size = kwargs.pop("max_snapshot_bytes")
        web = WebOptions(host=kwargs.pop("host"), port=kwargs.pop("port"), token=kwargs.pop("token") or None,
                         max_clients=kwargs.pop("max_clients"), quality=kwargs.pop("quality"),
                         max_snapshots=kwargs.pop("max_snapshots"), max_snapshot_bytes=parse_size(size))
        return func(*args, web=web, **kwargs)

    options = [
        click.option("--host", default="127.0.0.1", show_default=True,
                     help="Address to listen on; 0.0.0.0 serves the LAN (and prints the URLs to open)."),
        click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
                     help="TCP port (0 picks a free one)."),
        click.option("--token", metavar="TEXT",
                     help="Require this token on every request (?token=..., a bearer header or the page's cookie); "
                          "THERMTOOL_TOKEN keeps it out of ps. Printed only to a terminal, never logged."),
        click.option("--max-clients", type=click.IntRange(1, 1000), default=10, show_default=True,
                     help="Most simultaneous streams (MJPEG + WebSocket); more get HTTP 503."),
        click.option("--quality", type=click.IntRange(10, 100), default=80, show_default=True,
                     help="JPEG quality of the stream."),
        click.option("--max-snapshots", type=click.IntRange(min=1), default=1000, show_default=True,
                     help="Most snapshots the page (or any client) may save in one run; then HTTP 507."),
        click.option("--max-snapshot-bytes", metavar="SIZE", default="512M", show_default=True,
                     help="Most bytes of snapshot files the page may save in one run (e.g. 200M, 2G)."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


snapshot_dir_option = click.option(
    "--snapshot-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
    help="Folder for snapshots (s key, double-click, the page's button): a PNG as shown plus the .npy "
         "temperatures, named by time, never overwriting.")


def make_session(sensor_request: SensorRequest, render_request: RenderRequest, snapshot_dir: Path) -> ViewSession:
    """The live-view session for the options of `view`/`serve` (names are checked before the sensor opens)."""
    from ..view.feed import FrameFeed
    from ..view.session import DEFAULT_FILTERS, ViewOptions, ViewSession, initial_state

    request = render_request
    units = request.units.upper() if request.units else "C"
    scale = (request.scale or "").lower() or None
    state = initial_state(request.cmap, request.interp, units, range_mode=None if scale == "lock" else scale,
                          fixed_range=request.range, filter=bool(request.filters))
    if scale == "lock":
        state = state.update({"locked": True})
    options = ViewOptions(size=request.size or (480, 640), annotate=request.annotate, flip=request.flip,
                          rotate=request.rotate, percentiles=request.percentiles, range_units=units,
                          filters=request.filters or DEFAULT_FILTERS, snapshot_dir=snapshot_dir)
    sensor = sensor_request.open()
    return ViewSession(FrameFeed(sensor), state, options)


def announcer(report: Reporter, web: WebOptions) -> Callable[[list[str]], None]:
    """Prints where the page is (URLs on stdout, one per line) and a warning for an open LAN server.

    The token is a secret: the URLs carry it only when stdout is a terminal (the person who started the
    server), never in the log lines on stderr, so a service's journal or a redirected log never holds it.
    """
    def announce(urls: list[str]) -> None:
        bare = [url.split("?", 1)[0] for url in urls]
        report.info("serving the live view; open " + (" or ".join(bare)) + "  (Ctrl-C stops)")
        show_token = web.token is not None and click.get_text_stream("stdout").isatty()
        for url, plain in zip(urls, bare, strict=True):
            click.echo(url if show_token else plain)
        if web.token and not show_token:
            report.info("the page needs the token: add ?token=... (it is printed only to a terminal)")
        if web.host not in ("127.0.0.1", "localhost", "::1") and not web.token:
            report.warn("anyone who can reach this machine can watch and change settings; consider --token")
    return announce


@click.command(epilog="Example: thermtool serve --sensor mlx90640 --host 0.0.0.0 --token s3cret")
@sensor_option
@render_options
@web_options
@snapshot_dir_option
def serve(sensor_request: SensorRequest, render_request: RenderRequest, web: WebOptions,
          snapshot_dir: Path) -> int:
    """Serve the live view to browsers and other programs (no screen needed).

    The page at / shows the picture, readouts and every control; /stream.mjpg is an MJPEG stream (VLC,
    Home Assistant), /api/frame the newest temperatures, /ws raw frames (thermtool's --sensor
    remote:ws://HOST:PORT/ws reads them). Binds 127.0.0.1 unless --host says otherwise.
    """
    from ..view.web import WebServer

    report = reporter()
    session = make_session(sensor_request, render_request, snapshot_dir)
    with graceful_stop() as stop:
        code = WebServer(session, web, log=report.detail).run(lambda: stop.requested, announcer(report, web))
    return stop.exit_code or code
