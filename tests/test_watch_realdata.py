"""The watch detector with its defaults on real labelled recordings by others (../shared/reference/realdata),
and occupancy on synthetic frames: a still body is held, and ends when its pixels cool back."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pytest

from thermtool.watch import Detector, DetectorConfig
from thermtool.watch.scoring import Score, passes_of, score, spans_of

DOORWAY = "realdata/peoplecounter_mlx90640"
DEN = "realdata/rustill_mlx90641/warm-up"


def _folder(reference: Path, name: str) -> Path:
    path = reference / name
    if not path.parent.is_dir():
        pytest.skip(f"{name} is not in the reference data")
    return path


def _watch(frames: np.ndarray, times: np.ndarray, labels: list[int]) -> Score:
    detector = Detector()
    reported, events = [], []
    for data, t in zip(frames, times, strict=True):
        events += detector.step(data, float(t))
        reported.append(detector.active > 0)
    return score(labels, reported, spans_of(events + detector.finish(), len(frames)))


def test_doorway_passes_are_found_at_once_with_the_defaults(reference: Path) -> None:
    folder = _folder(reference, DOORWAY)
    scores = []
    for path in sorted(folder.glob("*labels.json")):
        record = json.loads(path.read_text())
        frames = np.load(folder / f"{path.name.split('.')[0]}.npy")
        scores.append(_watch(frames, np.arange(len(frames)) / 8.0, record.get("num_people", record.get("present"))))
    assert len(scores) == 11
    delays = [d for s in scores for d in s.delays]
    assert sum(s.found for s in scores) == sum(s.passes for s in scores) == 16
    assert statistics.median(delays) <= 1 and max(delays) <= 4
    hits, present = sum(s.hits for s in scores), sum(s.present_frames for s in scores)
    assert hits / present >= 0.90
    assert hits / (hits + sum(s.false_frames for s in scores)) >= 0.90
    assert sum(s.false_starts for s in scores) <= 1


def test_den_seated_person_stays_present_to_the_end(reference: Path) -> None:
    base = _folder(reference, DEN)
    frames, times = np.load(f"{base}.npy"), np.load(f"{base}.t.npy")
    labels = json.loads(Path(f"{base}.labels.json").read_text())["present"]
    s = _watch(frames, times, labels)
    entry = labels.index(1)
    assert s.false_starts == 0 and s.false_frames == 0  # the room warming up is nobody
    assert s.found == 1 and times[entry + s.delays[0]] - times[entry] <= 1.0
    assert s.recall >= 0.95  # not absorbed after ~105 s as before: held for the 2.5 minutes at the desk


def _room(count: int, seed: int = 5) -> np.ndarray:
    return 21.0 + np.random.default_rng(seed).normal(0.0, 0.2, (count, 24, 32))


def test_a_seated_body_dimmed_under_the_threshold_is_held_until_its_pixels_cool() -> None:
    frames = _room(600)
    for index in range(20, 400):
        left = 6 + (index // 40) % 2  # sits down, shifting a column every 20 s
        frames[index, 10:15, left:left + 4] += 3.0 if index < 60 or index % 4 == 0 else 1.0  # dim 3 frames in 4
    detector = Detector(DetectorConfig(background_time=5.0, absorb_after=30.0))
    counts, kinds = [], []
    for index, data in enumerate(frames):
        kinds += [(e.kind, e.frame) for e in detector.step(data, index * 0.5) if e.kind != "update"]
        counts.append(detector.active)
    # One object for 190 s, over 6 x --absorb-after and 38 background time constants; ended when it left.
    assert kinds == [("start", 21), ("end", 401)]
    assert all(counts[21:401]) and not any(counts[401:])


def test_a_motionless_warm_object_becomes_background_after_absorb_after() -> None:
    frames = _room(300)
    frames[20:, 10:15, 6:10] += 3.0
    detector = Detector(DetectorConfig(absorb_after=30.0))
    kinds = [(e.kind, e.frame) for index, data in enumerate(frames)
             for e in detector.step(data, index * 0.5) if e.kind != "update"]
    assert kinds == [("start", 21), ("end", 82)]  # still from frame 20 (10 s): absorbed at 40 s, gone 2 frames on


def test_passes_and_scores_from_labels() -> None:
    labels = [0, 0, 1, 1, -1, 0, 2, 2, 0, 0]
    assert passes_of(labels) == [(2, 3), (6, 7)]
    reported = [False, False, False, True, True, False, True, True, True, False]
    s = score(labels, reported, [(3, 4), (6, 8), (9, 9)])
    assert (s.passes, s.found, s.delays) == (2, 2, (1, 0))
    assert (s.hits, s.present_frames, s.false_frames, s.false_starts) == (3, 4, 1, 1)
    assert s.recall == 0.75 and s.precision == 0.75
    assert spans_of([], 5) == []
