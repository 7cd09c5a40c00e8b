"""Benchmark: `thermtool capture` to .npy against a plain np.save + rename loop, whole processes, same run.

2,000 frames (24x32 float32) come from a .npy stack replayed as fast as it reads (a replayed stack has no
frame times, so nothing is paced). Each side is a fresh Python process, start-up and imports included:

  baseline         python -c: np.load the stack, then per frame np.save to a temporary name + os.rename
  thermtool --sync interval|never|frame   thermtool capture --sensor replay:stack.npy --count 2000

and the ratio of each thermtool run's frames/s to the baseline's (target: default policy >= 0.5x).
Runs alternate between the methods and the best of a few counts, so a burst of load from other programs
hits both sides alike. It runs on /tmp (a disk here) and on /dev/shm (tmpfs: file-system cost without the
disk, where fsync is free); --sync frame costs far more on an SD card, where an fsync takes 10-50 ms.

Usage: python benchmarks/capture.py [--frames N] [--repeats N] [--dir PATH ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET = 0.5

BASELINE = """
import os, sys
import numpy as np
stack = np.load(sys.argv[1])
out = sys.argv[2]
for i, frame in enumerate(stack):
    tmp = os.path.join(out, f".{i:06d}.npy.part")
    with open(tmp, "wb") as handle:
        np.save(handle, frame)
    os.rename(tmp, os.path.join(out, f"{i:06d}.npy"))
"""


def timed(command: list[str]) -> float:
    """Wall-clock seconds of a whole process."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(where: Path, frames: int, repeats: int) -> float:
    """Print one table for folder `where`; returns the default policy's ratio to the baseline."""
    with tempfile.TemporaryDirectory(prefix="thermtool-capture-", dir=where) as folder:
        root = Path(folder)
        stack = root / "stack.npy"
        rng = np.random.default_rng(0)
        np.save(stack, (20 + 5 * rng.random((frames, 24, 32))).astype(np.float32))
        out = root / "out"
        methods = {"np.save + rename loop": [sys.executable, "-c", BASELINE, str(stack), str(out)]}
        for policy in ("interval", "never", "frame"):
            methods[f"thermtool capture --sync {policy}"] = [
                sys.executable, "-m", "thermtool", "capture", "--sensor", f"replay:{stack}", "--out", str(out),
                "--count", str(frames), "--sync", policy]
        times: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(repeats):
            for name, command in methods.items():
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                times[name].append(timed(command))
    best = {name: min(values) for name, values in times.items()}
    baseline = best["np.save + rename loop"]
    print(f"\n{frames} frames of 24x32 float32 into {where}; whole processes, best of {repeats}")
    print(f"{'method':<34} {'time s':>8} {'frames/s':>10} {'x baseline':>11}")
    for name, seconds in best.items():
        print(f"{name:<34} {seconds:8.3f} {frames / seconds:10.0f} {baseline / seconds:10.2f}x")
    return baseline / best["thermtool capture --sync interval"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", type=Path, action="append",
                        help="where to write (repeatable; default /tmp and /dev/shm when present)")
    options = parser.parse_args()
    folders = options.dir or [p for p in (Path("/tmp"), Path("/dev/shm")) if p.is_dir()]
    ratios = {where: measure(where, options.frames, options.repeats) for where in folders}
    print()
    for where, ratio in ratios.items():
        verdict = "met" if ratio >= TARGET else "MISSED"
        print(f"{where}: capture (default --sync interval) / baseline: {ratio:.2f}x (target >= {TARGET}x): "
              f"{verdict}")


if __name__ == "__main__":
    main()
