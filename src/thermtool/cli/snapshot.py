"""`thermtool snapshot`: save one frame from a sensor, made for cron and systemd timers."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from ..deadline import deadline
from ..errors import ThermtoolError
from ..folders import checked_strftime_folder
from ..formats import format_for
from ..locking import exclusive_lock
from ..retention import parse_age
from ..snapshot import STALE_PART_AGE, point_latest, read_with_retries, remove_stale_parts_of, save_snapshot
from .options import FiniteFloat, SensorRequest, sensor_option
from .output import reporter
from .render_options import RenderRequest, build_renderer, render_options
from .signals import Terminated, received_exit_code

LOCK_NAME = ".thermtool-snapshot.lock"
MAX_WAIT = 7 * 86400.0  # a week: longer waits are typos (and overflow the interval timer)


def _log_line(log_format: str, record: dict[str, Any]) -> str:
    if log_format == "json":
        return json.dumps(record, sort_keys=True)
    if record["status"] == "ok":
        extra = f", deleted {record['deleted']} old" if record.get("deleted") else ""
        extra += f", removed {record['stale_parts']} stale .part" if record.get("stale_parts") else ""
        return (f"thermtool snapshot: saved {record['path']} ({record['sensor']}, {record['shape']}, "
                f"min {record['min']:.2f} max {record['max']:.2f} {record['units']}, {record['seconds']:.2f} s"
                f"{extra})")
    return f"thermtool: error: {record['error']}"


@click.command(epilog="Example: thermtool snapshot --sensor mlx90640 --out '/srv/thermal/%Y%m%d-%H%M%S.png' "
                      "--timeout 60 --keep 1000 --latest /srv/thermal/latest.png (docs/cron.md has crontab "
                      "and systemd timer lines)")
@sensor_option
@click.option("--out", "-o", "out", required=True, metavar="PATH",
              help="File to write; strftime fields are filled from the frame's time. The format follows the "
                   "extension (.npy .npz .tiff .csv: temperatures; .png .jpg: a rendered picture). An existing "
                   "name gets a -1, -2, ... suffix; nothing is overwritten unless --force.")
@click.option("--format", "fmt", type=click.Choice(["npy", "npz", "tiff", "png16", "csv", "png", "jpg"]),
              help="Format, when the extension does not say (png16: 16-bit centi-kelvin PNG).")
@click.option("--utc", is_flag=True, help="Fill strftime fields in UTC instead of local time.")
@click.option("--force", "-f", is_flag=True, help="Overwrite an existing file instead of adding a suffix.")
@click.option("--timeout", type=FiniteFloat(min=0, max=MAX_WAIT, min_open=True), metavar="S",
              help="Give up after S seconds in all (a hung bus cannot pile up cron processes).")
@click.option("--retries", type=click.IntRange(0, 20), default=0, show_default=True,
              help="Retry sensor failures this many times (waiting 1, 2, 4... s).")
@click.option("--lock", "lock_path", type=click.Path(path_type=Path),
              help=f"Lock file (default: {LOCK_NAME} in the output folder). A run that finds it taken exits "
                   "at once with code 75.")
@click.option("--lock-wait", type=FiniteFloat(min=0, max=MAX_WAIT), default=0, metavar="S",
              help="Wait up to S seconds for the lock instead of exiting at once.")
@click.option("--keep", type=click.IntRange(min=1), metavar="N",
              help="Keep only the newest N snapshots of this name pattern in the folder (newest by the time in "
                   "the name; the new snapshot is never deleted; on a full disk this runs first to make room).")
@click.option("--max-age", metavar="AGE", help="Delete snapshots of this name pattern older than AGE (30d, 12h).")
@click.option("--latest", type=click.Path(path_type=Path), metavar="PATH",
              help="Also point PATH at the new snapshot (an atomically replaced symlink, or a copy).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The one line written to stderr per run.")
@render_options
@click.pass_context
def snapshot(ctx: click.Context, sensor_request: SensorRequest, out: str, fmt: str | None, utc: bool, force: bool,
             timeout: float | None, retries: int, lock_path: Path | None, lock_wait: float, keep: int | None,
             max_age: str | None, latest: Path | None, log_format: str, render_request: RenderRequest) -> None:
    """Save one frame from a sensor.

    Made for cron and systemd timers: no terminal needed, missing folders are created, a lock stops
    overlapping runs, --timeout bounds the run, and each run writes exactly one line to stderr.
    Retention (--keep, --max-age) deletes only files whose names this --out pattern makes.
    """
    started, started_at = time.monotonic(), time.time()
    record: dict[str, Any] = {"event": "snapshot", "time": datetime.now(timezone.utc).isoformat()}
    try:
        picture = format_for(out, fmt) in ("png", "jpg")  # refuse an unknown extension before the sensor
        renderer = build_renderer(render_request) if picture else None  # bad --cmap etc. fail here too
        age = parse_age(max_age) if max_age else None
        sensor = sensor_request.open()  # validates the sensor name and options before anything is written
        # Folders are checked (no planted symlink, no stranger's folder) and held open while used.
        with deadline(timeout, "snapshot"), \
                checked_strftime_folder(out, datetime.now(timezone.utc), utc) as lock_folder, \
                exclusive_lock(lock_path or lock_folder / LOCK_NAME, lock_wait):
            frame, attempts = read_with_retries(sensor, retries)
            with checked_strftime_folder(out, frame.timestamp, utc) as folder:
                stale = remove_stale_parts_of(out, folder, started_at - (timeout or STALE_PART_AGE))
                path, deleted = save_snapshot(frame, out, fmt, utc=utc, force=force, keep=keep, max_age=age,
                                              renderer=renderer)
            if latest:
                point_latest(latest, path)
        record.update(status="ok", path=str(path), sensor=frame.sensor, shape=f"{frame.shape[1]}x{frame.shape[0]}",
                      units=frame.units, min=float(frame.data.min()), max=float(frame.data.max()),
                      attempts=attempts, deleted=len(deleted), stale_parts=len(stale),
                      seconds=time.monotonic() - started)
    except (ThermtoolError, Terminated, KeyboardInterrupt) as exc:  # a stop signal too: one JSON line
        if log_format == "text":
            raise
        code = received_exit_code() or getattr(exc, "exit_code", 1)
        error = str(exc) or ("terminated" if isinstance(exc, Terminated) else "interrupted")
        record.update(status="error", error=error, exit_code=code, seconds=time.monotonic() - started)
        click.echo(_log_line(log_format, record), err=True)
        ctx.exit(code)
    if log_format == "json" or reporter().verbosity >= 0:
        click.echo(_log_line(log_format, record), err=True)
