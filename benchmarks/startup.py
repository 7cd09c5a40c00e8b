"""Benchmark: whole-process times of short commands against plain scripts, measured in the same run.

Start-up dominates every short command (a cron snapshot, one render), so each is a fresh process,
interpreter start and imports included; runs alternate between the methods and the best of a few counts:

  python -c pass                    the interpreter alone
  thermtool --help                  target <= 0.15 s
  thermtool render one.npy          one 24x32 frame to a 640x480 PNG (bicubic, inferno, annotated)
  (a) numpy+cv2 render script       np.load, cv2.resize (cubic), scale to 0..255, applyColorMap, imwrite:
                                    a simpler render (no annotation); target: thermtool <= 2.0x this
  thermtool snapshot --sensor sim   one frame of the simulated camera to a PNG
  thermtool heatmap points.npy      1e5 points on a 1920x1080 grid, sigma 15, colour, PNG
  (b) numpy+cv2 heatmap script      np.load, bincount, cv2.GaussianBlur, applyColorMap, imwrite

Usage: python benchmarks/startup.py [--repeats N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HELP_TARGET = 0.15
RENDER_TARGET = 2.0

RENDER_SCRIPT = """
import sys
import cv2
import numpy as np
data = np.load(sys.argv[1])
big = cv2.resize(data, (640, 480), interpolation=cv2.INTER_CUBIC)
low, high = float(big.min()), float(big.max())
grey = np.clip((big - low) * (255.0 / (high - low)), 0, 255).astype(np.uint8)
cv2.imwrite(sys.argv[2], cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO))
"""

HEATMAP_SCRIPT = """
import sys
import cv2
import numpy as np
xy = np.load(sys.argv[1])
x, y = xy[:, 0].astype(np.intp), xy[:, 1].astype(np.intp)
inside = (x >= 0) & (x < 1920) & (y >= 0) & (y < 1080)
grid = np.bincount(y[inside] * 1920 + x[inside], minlength=1920 * 1080).reshape(1080, 1920).astype(np.float32)
blurred = cv2.GaussianBlur(grid, (0, 0), 15)
grey = (blurred * (255.0 / blurred.max())).astype(np.uint8)
cv2.imwrite(sys.argv[2], cv2.applyColorMap(grey, cv2.COLORMAP_JET))
"""


def timed(command: list[str], cwd: Path) -> float:
    """Wall-clock seconds of a whole process (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    options = parser.parse_args()
    python, tool = sys.executable, [sys.executable, "-m", "thermtool"]
    with tempfile.TemporaryDirectory(prefix="thermtool-startup-") as folder:
        work = Path(folder)
        rng = np.random.default_rng(0)
        np.save(work / "one.npy", (20 + 10 * rng.random((24, 32))).astype(np.float32))
        np.save(work / "points.npy", np.round(rng.normal((960, 540), (300, 200), (100_000, 2))))
        methods = {
            "python -c pass": [python, "-c", "pass"],
            "thermtool --help": [*tool, "--help"],
            "thermtool render one.npy": [*tool, "render", "one.npy", "-o", "one.png", "--force"],
            "(a) numpy+cv2 render script": [python, "-c", RENDER_SCRIPT, "one.npy", "plain.png"],
            "thermtool snapshot --sensor sim": [*tool, "snapshot", "--sensor", "sim", "--out", "snap.png",
                                                "--force"],
            "thermtool heatmap points.npy": [*tool, "heatmap", "points.npy", "-o", "heat.png", "--size",
                                             "1920x1080", "--force"],
            "(b) numpy+cv2 heatmap script": [python, "-c", HEATMAP_SCRIPT, "points.npy", "plainheat.png"],
        }
        times: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(options.repeats):
            for name, command in methods.items():
                times[name].append(timed(command, work))
    best = {name: min(values) for name, values in times.items()}
    print(f"whole-process times, best of {options.repeats} (runs interleaved; the machine may be loaded)\n")
    print(f"{'command':<34} {'time s':>7}")
    for name, seconds in best.items():
        print(f"{name:<34} {seconds:7.3f}")
    render_ratio = best["thermtool render one.npy"] / best["(a) numpy+cv2 render script"]
    heatmap_ratio = best["thermtool heatmap points.npy"] / best["(b) numpy+cv2 heatmap script"]
    snapshot_ratio = best["thermtool snapshot --sensor sim"] / best["(a) numpy+cv2 render script"]
    help_time = best["thermtool --help"]
    print(f"\nthermtool --help: {help_time:.3f} s (target <= {HELP_TARGET} s): "
          f"{'met' if help_time <= HELP_TARGET else 'MISSED'}")
    print(f"render one frame / (a): {render_ratio:.2f}x (target <= {RENDER_TARGET}x): "
          f"{'met' if render_ratio <= RENDER_TARGET else 'MISSED'}")
    print(f"snapshot --sensor sim / (a): {snapshot_ratio:.2f}x")
    print(f"heatmap 1e5 points / (b): {heatmap_ratio:.2f}x")


if __name__ == "__main__":
    main()
