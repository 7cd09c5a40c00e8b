"""The watch detector on scripted scenes with known truth, on synthetic edge cases, and on a real Lepton sequence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from thermtool.errors import InputError
from thermtool.sensors.scenes import DriftScene, EmptyScene, HeaterScene, PersonScene, PetScene, ScriptedScene
from thermtool.sensors.simulated import SceneSource
from thermtool.watch import Box, Detector, DetectorConfig, Event

HAND = "lepton/heatmapper_lepton3_raw14_hand_f20-29.npy"


@dataclass
class Run:
    """Events of a scripted run, with the truth at the time of each frame."""

    events: list[Event]
    times: np.ndarray
    detector: Detector


def run_scene(scene: ScriptedScene, shape: tuple[int, int], rate: float, seconds: float, *, noise: float = 0.15,
              seed: int = 1, config: DetectorConfig | None = None) -> Run:
    source = SceneSource(shape, scene=scene, noise=noise, seed=seed)
    detector = Detector(config or DetectorConfig())
    times = np.arange(int(seconds * rate)) / rate
    events = [event for index, t in enumerate(times) for event in detector.step(source.sample(index, t), t)]
    return Run(events + detector.finish(), times, detector)


def entries(scene: ScriptedScene, shape: tuple[int, int], times: np.ndarray, min_area: int) -> list[int]:
    """Frame indices where a mover becomes big enough to detect (visible pixels >= min_area) after being absent."""
    visible = [any(target.pixels >= min_area for target in scene.truth(t, shape)) for t in times]
    return [i for i in range(len(times)) if visible[i] and (i == 0 or not visible[i - 1])]


@pytest.mark.parametrize("shape,rate", [((24, 32), 4.0), ((60, 80), 8.7), ((24, 32), 2.0), ((12, 16), 4.0),
                                        ((120, 160), 8.7)])
def test_every_person_pass_is_detected_within_two_frames(shape: tuple[int, int], rate: float) -> None:
    scene = PersonScene()
    run = run_scene(scene, shape, rate, 130.0)
    starts = [event.frame for event in run.events if event.kind == "start"]
    passes = entries(scene, shape, run.times, DetectorConfig().area_for(shape))
    assert len(passes) == 5
    assert len(starts) == len(passes)  # one object per pass, nothing else
    for entered, started in zip(passes, starts, strict=True):
        assert 0 <= started - entered <= 2
    kinds = [event.kind for event in run.events]
    assert kinds.count("end") == len(passes) and run.detector.active == 0


@pytest.mark.parametrize("shape,rate", [((24, 32), 4.0), ((60, 80), 8.7)])
def test_reported_boxes_overlap_the_truth(shape: tuple[int, int], rate: float) -> None:
    scene = PersonScene()
    run = run_scene(scene, shape, rate, 70.0, config=DetectorConfig(update_every=0.0))
    seen = [event for event in run.events if event.kind != "end"]
    assert len(seen) > 10
    for event in seen:
        (truth,) = scene.truth(event.t, shape)
        assert Box(*event.box).iou(truth.box) > 0.5
        assert event.peak == pytest.approx(scene.temperature, abs=1.0)
        assert event.area >= truth.pixels


@pytest.mark.parametrize("scene,noise,rate,shape", [
    (DriftScene(), 0.15, 1.0, (24, 32)), (DriftScene(), 0.5, 0.5, (24, 32)), (EmptyScene(), 0.3, 0.5, (24, 32)),
    (DriftScene(), 0.3, 1.0, (12, 16))])
def test_an_hour_of_noise_and_slow_drift_raises_no_event(scene: ScriptedScene, noise: float, rate: float,
                                                         shape: tuple[int, int]) -> None:
    run = run_scene(scene, shape, rate, 3600.0, noise=noise, seed=7)
    assert run.events == []


def test_a_heater_is_absorbed_without_a_standing_alarm() -> None:
    scene = HeaterScene()
    config = DetectorConfig(absorb_after=60.0)
    run = run_scene(scene, (24, 32), 1.0, 400.0, config=config)
    settled = scene.on_at + config.absorb_after + 30.0
    assert all(event.t < settled for event in run.events)
    starts = [event for event in run.events if event.kind == "start"]
    ends = [event for event in run.events if event.kind == "end"]
    assert len(starts) == len(ends) == 1  # the switch-on is news once, then it is part of the room
    assert ends[0].t < settled
    assert run.detector.active == 0


def test_the_pet_is_ignored_by_default_and_found_with_a_smaller_min_area() -> None:
    scene, shape = PetScene(), (60, 80)
    assert run_scene(scene, shape, 4.0, 60.0).events == []
    run = run_scene(scene, shape, 4.0, 60.0, config=DetectorConfig(min_area=12, update_every=0.0))
    starts = [event for event in run.events if event.kind == "start"]
    assert len(starts) == 1
    for event in run.events[:-1]:
        (truth,) = scene.truth(event.t, shape)
        assert Box(*event.box).intersection(truth.box) > 0


def _noisy(shape: tuple[int, int], count: int, seed: int = 3, noise: float = 0.1) -> np.ndarray:
    return 20.0 + np.random.default_rng(seed).normal(0.0, noise, (count, *shape))


def test_one_noisy_frame_starts_nothing_and_one_missed_frame_ends_nothing() -> None:
    frames = _noisy((24, 32), 40)
    frames[20, 5:9, 5:9] += 6.0  # one frame with a warm spot
    frames[30:, 10:15, 20:24] += 6.0  # a lasting object ...
    frames[34, 10:15, 20:24] -= 6.0  # ... that one frame does not show
    detector = Detector(DetectorConfig(warmup=2.0, min_area=4))
    events = [e for i, f in enumerate(frames) for e in detector.step(f, i * 0.25)]
    assert [(e.kind, e.frame) for e in events if e.kind != "update"] == [("start", 31)]
    eager = Detector(DetectorConfig(warmup=2.0, min_area=4, start_frames=1, end_frames=1))
    kinds = [(e.kind, e.frame) for i, f in enumerate(frames) for e in eager.step(f, i * 0.25)]
    assert kinds[:2] == [("start", 20), ("end", 21)]
    assert ("end", 34) in kinds


def test_no_event_during_warm_up() -> None:
    frames = _noisy((24, 32), 60)
    frames[10:, 8:14, 8:12] += 8.0  # someone is there from the second second on
    detector = Detector(DetectorConfig(warmup=8.0, min_area=4))
    events = [e for i, f in enumerate(frames) for e in detector.step(f, i * 0.25)]
    assert detector.warming_up is False
    assert events == []  # the background learned them in: still people are not movers


def test_the_whole_scene_warming_is_not_a_mover() -> None:
    frames = _noisy((24, 32), 80)
    frames[40:] += 4.0  # the sun comes out: every pixel at once
    frames += np.linspace(0.0, 3.0, 80)[:, None, None]  # and the room warms steadily
    detector = Detector(DetectorConfig(warmup=2.0, min_area=4))
    assert [e for i, f in enumerate(frames) for e in detector.step(f, i * 0.25)] == []


def test_the_background_does_not_learn_a_standing_person_until_absorb_after() -> None:
    frames = _noisy((24, 32), 400)
    frames[20:, 8:16, 10:14] += 5.0  # walks in and stands still
    times = np.arange(400) * 0.5
    detector = Detector(DetectorConfig(warmup=2.0, background_time=10.0, absorb_after=150.0))
    events = [e for f, t in zip(frames, times, strict=True) for e in detector.step(f, t)]
    kinds = [(e.kind, e.t) for e in events if e.kind != "update"]
    assert kinds[0] == ("start", 10.5)
    # Still present long after many background time constants; ended only once absorbed.
    assert kinds[1][0] == "end" and kinds[1][1] == pytest.approx(10.0 + 150.0 + 1.5, abs=1.0)
    assert len(kinds) == 2


def test_raw_counts_need_a_min_delta_and_fahrenheit_gets_a_converted_one() -> None:
    with pytest.raises(InputError, match="--min-delta"):
        Detector(DetectorConfig(), units="counts")
    assert Detector(DetectorConfig(), units="F").min_delta == pytest.approx(1.8)
    assert Detector(DetectorConfig(), units="K").min_delta == pytest.approx(1.0)
    assert Detector(DetectorConfig(min_delta=80.0), units="counts").min_delta == 80.0


def test_works_in_any_units_when_thresholds_are_in_those_units() -> None:
    celsius = _noisy((24, 32), 40)
    celsius[20:, 4:10, 4:8] += 5.0
    counts = 8192 + (celsius - 25.0) * 60.0  # a raw sensor with 60 counts per kelvin
    found = []
    for frames, min_delta in ((celsius, 1.5), (counts, 90.0)):
        detector = Detector(DetectorConfig(warmup=2.0, min_area=4, min_delta=min_delta), units="C")
        found.append([(e.kind, e.frame, e.box) for i, f in enumerate(frames) for e in detector.step(f, i * 0.25)])
    assert found[0] == found[1] and found[0][0][:2] == ("start", 21)


def test_dead_pixels_and_a_pixel_that_comes_alive() -> None:
    frames = _noisy((24, 32), 60)
    frames[:, 3, 3] = np.nan
    frames[:30, 20, 20] = np.nan
    frames[40:, 12:18, 12:16] += 5.0
    detector = Detector(DetectorConfig(warmup=2.0, min_area=4))
    events = [e for i, f in enumerate(frames) for e in detector.step(f, i * 0.25)]
    assert [(e.kind, e.frame) for e in events] == [("start", 41), ("update", 45), ("update", 49),
                                                    ("update", 53), ("update", 57)]


def test_frames_must_keep_their_shape() -> None:
    detector = Detector(DetectorConfig())
    detector.step(np.zeros((24, 32)), 0.0)
    with pytest.raises(InputError, match="shape changed"):
        detector.step(np.zeros((12, 16)), 1.0)
    with pytest.raises(InputError, match="2-D"):
        Detector().step(np.zeros(5), 0.0)


@pytest.mark.parametrize("settings", [{"k_sigma": 0}, {"warmup": -1}, {"min_area": 0}, {"start_frames": 0},
                                      {"min_delta": -1.0}, {"absorb_after": float("nan")},
                                      {"fov": 200.0}, {"min_angle": 0.0}, {"warmup": None, "fov": -5.0}])
def test_bad_settings_are_input_errors(settings: dict[str, float]) -> None:
    with pytest.raises(InputError):
        DetectorConfig(**settings)  # type: ignore[arg-type]


def test_min_area_is_an_angle_scaled_by_resolution_and_field_of_view() -> None:
    config = DetectorConfig()
    # 40 square degrees: MLX90640 and MLX90641 (110 deg), Lepton 2.x (51 deg), Lepton 3.x (57 deg).
    shapes = ((24, 32), (12, 16), (60, 80), (120, 160))
    assert [config.area_for(shape) for shape in shapes] == [3, 3, 98, 315]
    assert DetectorConfig(fov=55.0).area_for((24, 32)) == 14  # the narrow MLX90640: 4x the pixels per degree
    assert DetectorConfig(min_area=5).area_for((120, 160)) == 5
    assert DetectorConfig(min_angle=1.0).area_for((24, 32)) == 3


def test_a_real_lepton_hand_entering_triggers(reference: Path) -> None:
    path = reference / HAND
    if not path.exists():
        pytest.skip(f"{HAND} is not in the reference data")
    frames = np.load(path).astype(np.float64)  # raw 14-bit counts: thresholds in counts
    detector = Detector(DetectorConfig(min_delta=60.0, warmup=0.0), units="counts")
    events = [e for i, f in enumerate(frames) for e in detector.step(f, i / 8.7)]
    starts = [e for e in events if e.kind == "start"]
    assert starts and starts[0].frame <= 2
    hand = max(starts, key=lambda e: e.area)
    # The pixels the hand warmed since the first frame lie inside the reported box.
    warmed = frames[hand.frame] - frames[0] > 300
    rows, cols = np.nonzero(warmed)
    box = Box(*hand.box)
    inside = (cols >= box.x) & (cols < box.right) & (rows >= box.y) & (rows < box.bottom)
    assert inside.mean() > 0.9
    assert hand.delta > 500 and hand.peak > 3700
