"""`thermtool capture`: record frames from a sensor into a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..capture import Rotation, make_sink, run_capture, start_folder
from ..formats import FORMATS
from ..formats.manifest import SYNC_POLICIES
from ..retention import parse_size
from .options import FiniteFloat, SensorRequest, force_option, sensor_option
from .output import reporter
from .render_options import RenderRequest, build_renderer, render_options
from .signals import graceful_stop


@click.command(epilog="Example: thermtool capture --sensor sim --out frames/ --count 20")
@sensor_option
@click.option("--out", "-o", "out", required=True, type=click.Path(path_type=Path),
              help="Folder to write (created if missing).")
@click.option("--count", "-n", type=click.IntRange(min=1), help="Stop after N frames.")
@click.option("--duration", "-d", type=FiniteFloat(min=0, min_open=True), help="Stop after S seconds.")
@click.option("--rate", "-r", type=FiniteFloat(min=0, min_open=True),
              help="Frames per second to keep (simulated and replayed sources run at this rate).")
@click.option("--format", "fmt", default="npy", show_default=True,
              type=click.Choice(["npy", "npz", "tiff", "png16", "csv", "png", "jpg"]),
              help="npy/tiff/png16/csv: one data file per frame; npz: recordings of --chunk frames; "
                   "png/jpg: rendered pictures.")
@click.option("--chunk", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="Frames per .npz recording (a crash loses at most one chunk).")
@click.option("--max-errors", type=click.IntRange(min=0), default=5, show_default=True,
              help="Sensor read failures in a row tolerated (each is retried and counted) before giving up.")
@click.option("--sync", "sync", type=click.Choice(SYNC_POLICIES), default="interval", show_default=True,
              help="When frame files are forced to disk: after each frame, at most once a second (and at "
                   "exit), or never (left to the system). A killed process loses no written frame either "
                   "way; a power cut can lose the frames written since the last sync.")
@click.option("--keep", type=click.IntRange(min=1), metavar="N",
              help="Long captures: keep only the newest N frame files (recordings for npz).")
@click.option("--rotate-size", metavar="SIZE",
              help="Long captures: keep the frame files under SIZE in all (e.g. 500M, 2G), deleting the oldest.")
@render_options
@force_option
def capture(sensor_request: SensorRequest, out: Path, count: int | None, duration: float | None,
            rate: float | None, fmt: str, chunk: int, max_errors: int, sync: str, keep: int | None,
            rotate_size: str | None, force: bool, render_request: RenderRequest) -> int:
    """Record frames from a sensor into a folder.

    Each frame goes to its own file, named by UTC time and sequence number so names sort and never
    collide, written to a temporary name and renamed; capture.json describes the run and frames.jsonl
    holds each frame's metadata (with --keep or --rotate-size: a .json sidecar per frame instead). Without --count
    or --duration it runs until Ctrl-C, which finishes the frame being written and exits 130.
    MLX90640: a full frame takes two subpages, so frames arrive at half the --refresh-hz rate.
    """
    report = reporter()
    rotation = Rotation(keep, parse_size(rotate_size) if rotate_size else None) if keep or rotate_size else None
    renderer = build_renderer(render_request) if fmt in ("png", "jpg") else None  # checks --cmap etc. early
    sensor = sensor_request.open({"rate": rate, "every_frame": True})  # a Lepton queues frames, not newest-only
    paced_by_sensor = rate is not None and sensor_request.takes("rate")
    with sensor:
        manifest: dict[str, Any] = {"sensor": sensor.info, "format": fmt, "count": count, "duration": duration,
                                    "rate": rate, "chunk": chunk if fmt == "npz" else None, "sync": sync}
        start_folder(out, manifest, force=force)
        sink = make_sink(out, FORMATS.canonical(fmt), chunk, sync=sync, sidecars=rotation is not None,
                         renderer=renderer)
        with graceful_stop() as stop, _progress(report.interactive, count) as progress:
            stats = run_capture(sensor, sink, count=count, duration=duration,
                                rate=None if paced_by_sensor else rate, max_errors=max_errors,
                                rotation=rotation, should_stop=lambda: stop.requested, on_frame=progress)
            dropped = sensor.info.get("dropped_frames")
    rotated = f", {rotation.deleted} old file(s) rotated out" if rotation and rotation.deleted else ""
    lost = f", {dropped} frame(s) dropped by the sensor's queue (writing too slow)" if dropped else ""
    report.info(f"captured {stats.frames} frame(s) into {out} ({stats.files} file(s)) "
                f"in {stats.elapsed:.1f} s, {stats.fps:.2f} frames/s, {stats.errors} sensor error(s){rotated}{lost}")
    return stop.exit_code


class _progress:
    """A rich progress line on a terminal (frames, fps); nothing when output is not a terminal."""

    def __init__(self, enabled: bool, total: int | None) -> None:
        self.enabled, self.total = enabled, total
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("capturing"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[fps]:.2f} fps, {task.fields[errors]} errors"),
                                      TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._task = self._progress.add_task("capture", total=self.total, fps=0.0, errors=0)
            self._progress.start()
        return self

    def __call__(self, stats: Any) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=stats.frames, fps=stats.fps, errors=stats.errors)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
