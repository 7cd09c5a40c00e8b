"""The watch detector on real, labelled recordings by others, with its default settings only.

Doorway: 11 MLX90640 clips of aaron-c-zhao/PeopleCounter (1-3 people walking or running through a doorway,
some in thick coats and caps, seen from above and from the side) with per-frame labels: 7 by the authors,
4 by this project. The clips carry no frame times; they are replayed at 8 frames/s, the most a 16 Hz
chess-mode MLX90640 delivers. Den: paxswill/r-u-still-there's MLX90641 warm-up recording (16x12, 15.6
frames/s, 283 s, real frame times): lights just switched on, the author walks in at frame 2040 and works
at his computer to the end.

Printed per clip and in total: passes found, median and worst delay (frames), frame recall and precision,
false starts; for the den: false starts while empty, entry delay, recall while present. The data is
read from ../shared/reference/realdata (test use only, never copied into the project).

Run: python benchmarks/watch_realdata.py   (a few seconds)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from thermtool.watch import Detector, DetectorConfig
from thermtool.watch.scoring import Score, score, spans_of

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "reference" / "realdata"
DOORWAY = REALDATA / "peoplecounter_mlx90640"
DEN = REALDATA / "rustill_mlx90641" / "warm-up"
DOORWAY_FPS = 8.0


@dataclass(frozen=True)
class Run:
    """A recording watched with the default detector: its score and how long it took."""

    name: str
    score: Score
    frames: int
    seconds: float


def doorway_clips() -> list[tuple[str, np.ndarray, list[int]]]:
    """(name, frames, labels) of every labelled doorway clip; labels above 0 mean someone in view."""
    clips = []
    for path in sorted(DOORWAY.glob("*labels.json")):
        record = json.loads(path.read_text())
        labels = record["num_people"] if "num_people" in record else record["present"]
        name = path.name.split(".")[0]
        clips.append((name, np.load(DOORWAY / f"{name}.npy"), labels))
    return clips


def watch_recording(name: str, frames: np.ndarray, times: np.ndarray, labels: list[int],
                    config: DetectorConfig | None = None) -> Run:
    """Feed every frame to a fresh detector and score its per-frame presence against `labels`."""
    detector = Detector(config)
    reported, events = [], []
    start = time.perf_counter()
    for data, t in zip(frames, times, strict=True):
        events += detector.step(data, float(t))
        reported.append(detector.active > 0)
    events += detector.finish()
    seconds = time.perf_counter() - start
    return Run(name, score(labels, reported, spans_of(events, len(frames))), len(frames), seconds)


def watch_doorway(config: DetectorConfig | None = None) -> list[Run]:
    """Every labelled doorway clip at 8 frames/s."""
    return [watch_recording(name, frames, np.arange(len(frames)) / DOORWAY_FPS, labels, config)
            for name, frames, labels in doorway_clips()]


def watch_den(config: DetectorConfig | None = None) -> tuple[Run, float]:
    """The den recording with its real frame times; also the entry delay in seconds (inf if never found)."""
    frames, times = np.load(f"{DEN}.npy"), np.load(f"{DEN}.t.npy")
    labels = json.loads(Path(f"{DEN}.labels.json").read_text())["present"]
    run = watch_recording("den", frames, times, labels, config)
    entry = labels.index(1)
    delay = times[entry + run.score.delays[0]] - times[entry] if run.score.delays else float("inf")
    return run, float(delay)


def total(runs: list[Run]) -> Score:
    """The scores of several runs added up."""
    return Score(sum(r.score.passes for r in runs), sum(r.score.found for r in runs),
                 tuple(d for r in runs for d in r.score.delays), sum(r.score.present_frames for r in runs),
                 sum(r.score.hits for r in runs), sum(r.score.false_frames for r in runs),
                 sum(r.score.false_starts for r in runs))


def line(name: str, s: Score) -> str:
    """One row of the doorway table."""
    median = f"{statistics.median(s.delays):.1f}" if s.delays else "-"
    worst = str(max(s.delays)) if s.delays else "-"
    return (f"{name[:58]:<58} {s.found:>2}/{s.passes:<2} {median:>6} {worst:>5} "
            f"{s.recall:>6.2f} {s.precision:>6.2f} {s.false_starts:>5}")


def main() -> int:
    if not DOORWAY.is_dir() or not DEN.with_suffix(".npy").is_file():
        print(f"real recordings not found under {REALDATA}", file=sys.stderr)
        return 1
    runs = watch_doorway()
    print(f"Doorway, MLX90640 32x24 at {DOORWAY_FPS:g} frames/s, default settings")
    print(f"{'clip':<58} {'found':>5} {'median':>6} {'worst':>5} {'recall':>6} {'prec.':>6} {'false':>5}")
    for run in runs:
        print(line(run.name, run.score))
    doorway = total(runs)
    print(line("total", doorway))
    den, delay = watch_den()
    s = den.score
    print("\nDen, MLX90641 16x12, 15.6 frames/s (real times), default settings")
    print(f"false starts while empty {s.false_starts}, entry delay {s.delays[0] if s.delays else '-'} frame(s) "
          f"= {delay:.2f} s, recall while present {s.recall:.3f}, precision {s.precision:.3f}")
    old = DetectorConfig(min_delta=1.5, k_sigma=4.0, min_area=8, warmup=5.0, absorb_after=120.0, end_frames=3)
    before, (old_den, old_delay) = total(watch_doorway(old)), watch_den(replace(old, min_area=3))
    print("\nFor comparison, the settings before issue 16 (1.5 K, 4 sigma, 8 px (3 on 16x12), 5 s warm-up, "
          "120 s absorb, 3 end frames) on this detector:")
    print(line("doorway total", before))
    print(f"den: false starts while empty {old_den.score.false_starts}, entry delay {old_delay:.2f} s, "
          f"recall while present {old_den.score.recall:.3f}")
    print(f"ratios to those settings: doorway passes found {doorway.found / max(before.found, 1):.2f}x, "
          f"doorway frame recall {doorway.recall / max(before.recall, 1e-9):.2f}x, "
          f"den recall while present {s.recall / max(old_den.score.recall, 1e-9):.2f}x")
    frames = sum(r.frames for r in runs) + den.frames
    seconds = sum(r.seconds for r in runs) + den.seconds
    print(f"\n{frames} frames watched in {seconds:.2f} s ({frames / seconds:.0f} frames/s on this machine)")
    met = (doorway.found == doorway.passes and statistics.median(doorway.delays) <= 1 and max(doorway.delays) <= 4
           and doorway.recall >= 0.90 and doorway.precision >= 0.90 and doorway.false_starts <= 1
           and s.false_starts == 0 and delay <= 1.0 and s.recall >= 0.95)
    print("targets met" if met else "targets NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
