"""Benchmark: thermtool's point density against two baselines measured in the same run.

For 1e4, 1e6 and 1e7 clustered points on a 1920x1080 grid with sigma 15 it prints the time (best of a few
runs) and peak traced memory (tracemalloc, a separate run) of:

  thermtool array  thermtool.analysis.heatmap.density(xy) on an in-memory (N, 2) float64 array
  thermtool .npy   the `thermtool heatmap` path: the .npy memory-mapped, binned in blocks (bin_file), one blur
  (a) seed         the StackOverflow seed: {(x, y): count} dict -> nested lists -> gaussian_filter
                   (the dict is the seed's stored data, built before timing)
  (a) seed + count the same, counting the points into the dict first (a Python loop per point)
  (b) histogram2d  numpy.histogram2d + scipy.ndimage.gaussian_filter on the in-memory array
  (c) bincount+cv2 the simple fast recipe: integer pixel indices, np.bincount, cv2.GaussianBlur (its own
                   kernel size for sigma 15, reflect-101 edges: close to, not equal to, the contract)

and the ratio of each baseline's time to thermtool's .npy time (target: (c) / thermtool >= 1.5 at 1e7).
Then, in fresh processes, the peak resident memory (VmHWM; getrusage where /proc is missing) and peak
traced allocations of binning 1e8 points from a 1.6 GB .npy in /tmp (deleted afterwards): thermtool's
reader, and density() on np.load(mmap_mode="r").

Usage: python benchmarks/heatmap.py [--no-1e8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import scipy.ndimage
from timing import best_time

from thermtool.analysis.heatmap import blur_counts, density
from thermtool.analysis.points import bin_file, open_points

SIZE = (1920, 1080)
SIGMA = 15.0
TIME_TARGET = 0.25
SPEEDUP_TARGET = 5.0
RECIPE_TARGET = 1.5
MEMORY_TARGET_MB = 300.0


def clustered_points(count: int, seed: int = 0) -> np.ndarray:
    """Integer mouse-like positions around 12 hot spots of different spread; a few fall off the screen."""
    rng = np.random.default_rng(seed)
    width, height = SIZE
    centres = rng.uniform((0, 0), (width, height), (12, 2))
    spread = rng.uniform(15, 150, 12)
    which = rng.integers(0, 12, count)
    return np.round(centres[which] + rng.normal(0, 1, (count, 2)) * spread[which, None])


def seed_counts(xy: np.ndarray) -> dict[tuple[int, int], int]:
    """The seed's data: {(x, y): frequency} of on-screen positions."""
    width, height = SIZE
    inside = xy[(xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)].astype(np.int64)
    codes, counts = np.unique(inside[:, 1] * width + inside[:, 0], return_counts=True)
    return {(int(c % width), int(c // width)): int(n) for c, n in zip(codes, counts, strict=True)}


def seed_density(counts: dict[tuple[int, int], int]) -> np.ndarray:
    """The seed answer's approach: fill nested lists from the dict, then gaussian_filter."""
    width, height = SIZE
    grid = [[0] * width for _ in range(height)]
    for (x, y), n in counts.items():
        grid[y][x] = n
    return scipy.ndimage.gaussian_filter(np.array(grid, dtype=np.float64), SIGMA)


def seed_from_points(xy: np.ndarray) -> np.ndarray:
    """The seed including its data collection: count each position into the dict (a Python loop per point)."""
    width, height = SIZE
    counts: dict[tuple[int, int], int] = {}
    for x, y in xy.astype(np.int64).tolist():
        if 0 <= x < width and 0 <= y < height:
            counts[(x, y)] = counts.get((x, y), 0) + 1
    return seed_density(counts)


def histogram_density(xy: np.ndarray) -> np.ndarray:
    """numpy.histogram2d + gaussian_filter; bins centred on the integer positions (the pixels of floor(x))."""
    width, height = SIZE
    edges = ((-0.5, height - 0.5), (-0.5, width - 0.5))
    grid, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=(height, width), range=edges)
    return scipy.ndimage.gaussian_filter(grid, SIGMA)


def bincount_density(xy: np.ndarray) -> np.ndarray:
    """Integer pixel indices of the on-screen points, np.bincount, then cv2.GaussianBlur."""
    width, height = SIZE
    x, y = xy[:, 0].astype(np.intp), xy[:, 1].astype(np.intp)
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    grid = np.bincount(y[inside] * width + x[inside], minlength=width * height).reshape(height, width)
    return cv2.GaussianBlur(grid.astype(np.float32), (0, 0), SIGMA)


def npy_density(path: Path) -> np.ndarray:
    """What `thermtool heatmap POINTS.npy --size 1920x1080` computes."""
    return blur_counts(bin_file(open_points(path), SIZE).grid, SIGMA)


def peak_mb(function: Callable[[], object]) -> float:
    """Peak memory traced while `function` runs (numpy arrays and Python objects), in MB."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def measure(count: int, folder: Path) -> dict[str, float]:
    """Time, memory and agreement of every method on `count` points; prints one row per method."""
    xy = clustered_points(count)
    path = folder / f"points_{count}.npy"
    np.save(path, xy)
    counts = seed_counts(xy)
    reference = npy_density(path)
    fast_repeats, slow_repeats = (7, 3) if count <= 1_000_000 else (5, 2)
    methods: list[tuple[str, Callable[[], np.ndarray], int]] = [
        ("thermtool .npy", lambda: npy_density(path), fast_repeats),
        ("thermtool array", lambda: density(xy, SIZE, SIGMA), fast_repeats),
        ("(a) seed", lambda: seed_density(counts), 1 if count >= 1_000_000 else slow_repeats),
        ("(a) seed + count", lambda: seed_from_points(xy), 1 if count >= 1_000_000 else slow_repeats),
        ("(b) histogram2d", lambda: histogram_density(xy), slow_repeats),
        ("(c) bincount+cv2", lambda: bincount_density(xy), fast_repeats),
    ]
    row: dict[str, float] = {}
    for name, function, repeats in methods:
        seconds = best_time(function, repeats)
        memory = peak_mb(function)
        row[name] = seconds
        ratio = seconds / row["thermtool .npy"]
        difference = relative_difference(np.asarray(function(), dtype=np.float64), reference)
        print(f"{count:>8.0e}  {name:<16} {seconds:>8.3f} {memory:>8.1f} {ratio:>16.1f}x  {difference:.1e}")
    path.unlink()
    return row


def run_sizes(folder: Path) -> dict[int, dict[str, float]]:
    print(f"{'points':>8}  {'method':<16} {'time s':>8} {'peak MB':>8} {'x thermtool .npy':>17}  max rel. diff")
    return {count: measure(count, folder) for count in (10_000, 1_000_000, 10_000_000)}


MEMORY_PROBE = """
import resource, sys, time, tracemalloc, numpy as np
from pathlib import Path
from thermtool.analysis.heatmap import blur_counts, density
from thermtool.analysis.points import bin_file, open_points

def peak_resident_mb():
    # VmHWM belongs to this program image; getrusage's ru_maxrss also keeps the parent's peak across exec.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

path, mode = Path(sys.argv[1]), sys.argv[2]
tracemalloc.start()
start = time.perf_counter()
inside = 0
if mode == "reader":
    binner = bin_file(open_points(path), (1920, 1080))
    result, inside = blur_counts(binner.grid, 15.0), binner.counts.inside
elif mode == "mmap":
    result = density(np.load(path, mmap_mode="r"), (1920, 1080), 15.0)
elif mode != "imports":  # "imports": the imports above and nothing else, the baseline of the other two
    sys.exit(f"unknown probe mode {mode!r}")
seconds = time.perf_counter() - start
print(peak_resident_mb(), tracemalloc.get_traced_memory()[1] / 1e6, seconds, inside)
"""


def write_big_file(path: Path, count: int) -> None:
    """Write `count` clustered points as an (N, 2) float64 .npy, a chunk at a time."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(count, 2))
    chunk = 5_000_000
    for start in range(0, count, chunk):
        stop = min(count, start + chunk)
        array[start:stop] = clustered_points(stop - start, seed=start)
    array.flush()
    del array
    with path.open("rb+") as handle:  # wait for write-back, so it does not slow the first measurement
        os.fsync(handle.fileno())


def probe(path: Path, mode: str) -> tuple[float, float, float, int]:
    """(peak resident MB, peak traced MB, seconds, points inside) of a fresh process binning `path`."""
    output = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path), mode], check=True,
                            capture_output=True, text=True).stdout.split()
    return float(output[0]), float(output[1]), float(output[2]), int(output[3])


def run_big(folder: Path) -> float:
    count = 100_000_000
    path = folder / "points_1e8.npy"
    try:
        write_big_file(path, count)
        size_gb = path.stat().st_size / 1e9
        baseline = probe(path, "imports")
        reader = probe(path, "reader")
        mapped = probe(path, "mmap")
    finally:
        path.unlink(missing_ok=True)
    print(f"\n1e8 points from a {size_gb:.1f} GB .npy in a fresh process: peak resident memory (VmHWM),")
    print("peak traced allocations (tracemalloc), time:")
    rows = [("python + numpy + thermtool imports only", baseline),
            ("thermtool .npy reader (mapped, binned pages released)", reader),
            ("density(np.load(mmap_mode='r')) (every mapped page stays)", mapped)]
    for label, (resident, traced, seconds, inside) in rows:
        extra = f"  {seconds:5.2f} s" + (f"  ({inside} points inside)" if inside else "")
        print(f"  {label:<62} {resident:7.1f} MB {traced:7.1f} MB{extra}")
    return reader[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-1e8", action="store_true", help="skip the 1e8-point memory run (writes 1.6 GB)")
    options = parser.parse_args()
    print(f"grid {SIZE[0]}x{SIZE[1]}, sigma {SIGMA:g}, {os.cpu_count()} CPUs; times are the best of several runs\n")
    with tempfile.TemporaryDirectory(prefix="thermtool-bench-", dir="/tmp") as folder:
        results = run_sizes(Path(folder))
        big = results[10_000_000]
        print(f"\n1e7 points from .npy: {big['thermtool .npy']:.3f} s (target <= {TIME_TARGET} s): "
              f"{'met' if big['thermtool .npy'] <= TIME_TARGET else 'MISSED'}")
        speedup = big["(b) histogram2d"] / big["thermtool .npy"]
        print(f"1e7 points, (b) histogram2d / thermtool .npy: {speedup:.1f}x (target >= {SPEEDUP_TARGET:g}x): "
              f"{'met' if speedup >= SPEEDUP_TARGET else 'MISSED'}")
        recipe = big["(c) bincount+cv2"] / big["thermtool .npy"]
        print(f"1e7 points, (c) bincount+cv2 / thermtool .npy: {recipe:.2f}x (target >= {RECIPE_TARGET:g}x): "
              f"{'met' if recipe >= RECIPE_TARGET else 'MISSED'}")
        array = big["(c) bincount+cv2"] / big["thermtool array"]
        print(f"1e7 points, (c) bincount+cv2 / thermtool array: {array:.2f}x")
        for name in ("(a) seed", "(a) seed + count"):
            print(f"1e7 points, {name} / thermtool .npy: {big[name] / big['thermtool .npy']:.1f}x")
        if not options.no_1e8:
            reader_mb = run_big(Path(folder))
            print(f"1e8 points peak memory: {reader_mb:.0f} MB (target < {MEMORY_TARGET_MB:g} MB): "
                  f"{'met' if reader_mb < MEMORY_TARGET_MB else 'MISSED'}")


if __name__ == "__main__":
    main()
