"""`thermtool stats`: temperature statistics of frames, with spots and boxes like a thermal inspection tool."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..analysis.stats import (
    Area,
    Summary,
    area_deltas,
    as_stack,
    parse_area,
    per_frame,
    reference_area,
    summarise,
)
from ..errors import InputError
from ..fileio import check_writable, write_bytes
from ..formats import load_frames
from ..frame import Frame
from ..units import UNIT_SYMBOLS
from .options import SensorRequest, force_option, sensor_option

#: Width of the histogram bars in the table (characters).
BAR_WIDTH = 30


def parse_percentiles(text: str) -> list[float]:
    """"5,25,75,95" -> [5.0, 25.0, 75.0, 95.0]; an empty string means none."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--percentiles {text!r}: expected numbers separated by commas, e.g. 5,25,75,95") from None


def parse_areas(spots: Sequence[str], boxes: Sequence[str]) -> list[Area]:
    """The --spot and --box areas in order; InputError for a bad one or a name used twice."""
    areas = [parse_area(t, "spot", i) for i, t in enumerate(spots, 1)]
    areas += [parse_area(t, "box", i) for i, t in enumerate(boxes, 1)]
    names = [a.name for a in areas]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"area name {twice[0]!r} is used twice; name areas NAME=...")
    return areas


def _number(value: float | None, unit: str = "") -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.2f} {unit}".rstrip()


def _heading(label: str, frames: Sequence[Frame], summary: Summary) -> str:
    first, last = frames[0], frames[-1]
    rows, cols = summary.shape
    when = first.timestamp.isoformat(timespec="seconds")
    if len(frames) > 1:
        when += f" .. {last.timestamp.isoformat(timespec='seconds')}"
    return (f"{label}: {len(frames)} frame(s) of {cols}x{rows} in {first.units}, "
            f"sensor {first.sensor or 'unknown'}, {when}")


def print_tables(label: str, frames: Sequence[Frame], summary: Summary) -> None:
    """The statistics, histogram and areas of one input as rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    unit = UNIT_SYMBOLS.get(frames[0].units, frames[0].units)
    several = summary.frames > 1

    def where(position: Any) -> str:
        return f"x {position.x}, y {position.y}" + (f", frame {position.frame}" if several else "")

    console.print(_heading(label, frames, summary), highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for name, value in (("min", summary.min), ("max", summary.max), ("mean", summary.mean),
                        ("median", summary.median), ("std", summary.std)):
        table.add_row(name, _number(value, unit))
    for percentile, value in summary.percentiles.items():
        table.add_row(f"percentile {percentile:g}", _number(value, unit))
    table.add_row("range (ΔT)", _number(summary.range, unit))
    table.add_row("hottest", f"{where(summary.hottest)} ({_number(summary.max, unit)})")
    table.add_row("coldest", f"{where(summary.coldest)} ({_number(summary.min, unit)})")
    table.add_row("NaN pixels", f"{summary.nan} of {summary.nan + summary.pixels}")
    console.print(table)

    histogram = Table(title="histogram", title_justify="left")
    for column in ("from", "to"):
        histogram.add_column(column, justify="right")
    histogram.add_column("pixels", justify="right")
    histogram.add_column("")
    top = max(summary.histogram_counts) or 1
    edges = summary.histogram_edges
    for i, count in enumerate(summary.histogram_counts):
        bar = "█" * round(BAR_WIDTH * count / top)
        histogram.add_row(_number(edges[i]), _number(edges[i + 1]), str(count), bar)
    console.print(histogram)

    if summary.areas:
        areas = Table(title=f"measurement areas ({unit})", title_justify="left")
        for column in ("name", "kind", "x,y[,w,h]", "min", "mean", "max", f"Δ mean vs {summary.reference}"):
            areas.add_column(column, justify="left" if column in ("name", "kind", "x,y[,w,h]") else "right")
        for stats, delta in zip(summary.areas, area_deltas(summary.areas, summary.reference), strict=True):
            areas.add_row(stats.area.name, stats.area.kind, stats.area.describe(), _number(stats.min),
                          _number(stats.mean), _number(stats.max), _number(delta))
        console.print(areas)


def time_series_csv(inputs: Sequence[tuple[str, list[Frame], np.ndarray]], percentiles: Sequence[float],
                    areas: Sequence[Area]) -> str:
    """One CSV row per frame of every input: source, frame, time, statistics, area values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header_written = False
    for label, frames, stack in inputs:
        columns = per_frame(stack, percentiles, areas)
        if not header_written:
            writer.writerow(["source", "frame", "time", "units", *columns])
            header_written = True
        for i, frame in enumerate(frames):
            values = [_csv_value(series[i]) for series in columns.values()]
            writer.writerow([label, i, frame.timestamp.isoformat(), frame.units, *values])
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    number = float(value)
    if not np.isfinite(number):
        return ""
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


#: Most columns of a points file (x, y and an optional weight): no thermal camera is that narrow.
POINT_COLUMNS = 3


def refuse_points(label: str, frames: Sequence[Frame]) -> None:
    """InputError for a file of x,y[,weight] points read as one long, thin frame, pointing at `heatmap`."""
    if frames and min(frames[0].shape) <= POINT_COLUMNS < max(frames[0].shape):
        rows, columns = max(frames[0].shape), min(frames[0].shape)
        raise InputError(f"{label}: {rows} rows of {columns} columns are points (x,y per line), not a thermal "
                         f"frame; for where the points cluster use: thermtool heatmap {label} -o heatmap.png")


def _read_inputs(files: Sequence[Path], sensor_request: SensorRequest, count: int | None,
                 units: str | None) -> list[tuple[str, list[Frame]]]:
    if files and sensor_request.spec:
        raise click.UsageError("give FILE... or --sensor, not both")
    if files and count is not None:
        raise click.UsageError("--count applies to --sensor; files are read whole")
    if files:
        inputs = [(str(path), list(load_frames(path))) for path in files]
        for label, frames in inputs:
            refuse_points(label, frames)
    else:
        with sensor_request.open() as sensor:
            frames = [sensor.read() for _ in range(count or 1)]
        inputs = [(f"sensor {sensor_request.resolved_spec}", frames)]
    if units:
        inputs = [(label, [f.to(units) for f in frames]) for label, frames in inputs]
    return inputs


@click.command(epilog="Examples:\n\n"
                      "  thermtool stats room.npy --box door=10,4,6,8 --box wall=20,4,6,8 --ref wall --units F\n\n"
                      "  thermtool stats --sensor sim --count 10 --json\n\n"
                      "  thermtool stats recording.npz --spot 16,12 --csv series.csv")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@sensor_option
@click.option("--count", "-n", type=click.IntRange(min=1), help="Frames to read from the sensor [default: 1].")
@click.option("--spot", multiple=True, metavar="[NAME=]X,Y", help="Measure one pixel (x = column, y = row).")
@click.option("--box", multiple=True, metavar="[NAME=]X,Y,W,H", help="Measure a box of W x H pixels from x, y.")
@click.option("--ref", "reference", metavar="NAME",
              help="Area the others are compared with (Δ mean) [default: the first: spots, then boxes].")
@click.option("--percentiles", default="5,25,75,95", show_default=True, help="Percentiles to report (0-100).")
@click.option("--bins", type=click.IntRange(1, 1000), default=10, show_default=True, help="Histogram bins.")
@click.option("--units", type=click.Choice(["C", "F", "K"], case_sensitive=False),
              help="Convert temperatures first (raw counts cannot be converted).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input instead of tables.")
@click.option("--csv", "csv_path", metavar="PATH",
              help="Write a per-frame time series as CSV ('-': to stdout, instead of the tables).")
@force_option
def stats(files: tuple[Path, ...], sensor_request: SensorRequest, count: int | None, spot: tuple[str, ...],
          box: tuple[str, ...], reference: str | None, percentiles: str, bins: int, units: str | None,
          as_json: bool, csv_path: str | None, force: bool) -> None:
    """Temperature statistics of frame files, recordings or a sensor.

    For each input (all its frames pooled): min, max, mean, median, std, percentiles, the range
    (delta T), hottest and coldest pixel, a histogram, and the min/mean/max of each --spot and --box
    with its difference from the --ref area. Positions are x (column), y (row) from the top-left.
    """
    chosen = parse_percentiles(percentiles)
    areas = parse_areas(spot, box)
    reference_area(areas, reference)
    if csv_path not in (None, "-"):
        check_writable(Path(csv_path), force=force)
    inputs = _read_inputs(files, sensor_request, count, units.upper() if units else None)
    results = []
    for label, frames in inputs:
        if not frames:
            raise InputError(f"{label}: holds no frames")
        units_seen = sorted({f.units for f in frames})
        if len(units_seen) > 1:
            raise InputError(f"{label}: frames in different units ({', '.join(units_seen)}); use --units or "
                             "one input per kind")
        try:
            stack = as_stack([f.data for f in frames])
            summary = summarise(stack, chosen, bins, areas, reference)
        except InputError as exc:
            raise InputError(f"{label}: {exc}") from None
        results.append((label, frames, stack, summary))
    if csv_path is not None:
        text = time_series_csv([(label, frames, stack) for label, frames, stack, _ in results], chosen, areas)
        if csv_path == "-":
            click.echo(text, nl=False)
            return
        write_bytes(Path(csv_path), text.encode("utf-8"), force=force)
    for label, frames, _, summary in results:
        if as_json:
            record = {"source": label, "units": frames[0].units, "sensor": frames[0].sensor,
                      "first": frames[0].timestamp.isoformat(), "last": frames[-1].timestamp.isoformat(),
                      **summary.as_dict()}
            click.echo(json.dumps(record))
        else:
            print_tables(label, frames, summary)
