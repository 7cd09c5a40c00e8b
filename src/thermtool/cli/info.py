"""`thermtool info`: shape, units, time and temperature summary of frame files and recordings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..formats import load_frames
from ..units import UNIT_SYMBOLS


def describe(path: Path) -> dict[str, Any]:
    """Summary of every frame under `path` (a file or a folder): count, shape, units, times, min/mean/max."""
    count, shape, units, sensor = 0, None, None, None
    first = last = None
    low, high, total, finite = np.inf, -np.inf, 0.0, 0
    for frame in load_frames(path):
        count += 1
        shape, units, sensor = frame.shape, frame.units, frame.sensor
        first = first or frame.timestamp
        last = frame.timestamp
        values = frame.data[np.isfinite(frame.data)]
        if values.size:
            low, high = min(low, float(values.min())), max(high, float(values.max()))
            total += float(values.sum(dtype=np.float64))
            finite += values.size
    return {"path": str(path), "frames": count, "shape": list(shape) if shape else None, "units": units,
            "sensor": sensor, "first": first.isoformat() if first else None,
            "last": last.isoformat() if last else None,
            "min": low if finite else None, "mean": total / finite if finite else None,
            "max": high if finite else None}


@click.command(epilog="Example: thermtool info frames/")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
def info(files: tuple[Path, ...], as_json: bool) -> None:
    """Describe frame files, recordings and capture folders."""
    for path in files:
        summary = describe(path)
        if as_json:
            click.echo(json.dumps(summary))
            continue
        unit = UNIT_SYMBOLS.get(summary["units"] or "", "")
        rows, cols = summary["shape"] or (0, 0)
        click.echo(f"{path}: {summary['frames']} frame(s) of {cols}x{rows} in {summary['units']}, "
                   f"sensor {summary['sensor'] or 'unknown'}")
        span = summary["first"] if summary["frames"] == 1 else f"{summary['first']} .. {summary['last']}"
        click.echo(f"  time: {span}")
        if summary["min"] is not None:
            click.echo(f"  min {summary['min']:.2f} {unit}  mean {summary['mean']:.2f} {unit}  "
                       f"max {summary['max']:.2f} {unit}")
