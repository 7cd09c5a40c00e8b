"""open_sensor, the simulated cameras' scene model and replay pacing, on a fake clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thermtool import EndOfStream, Frame, InputError, UnknownNameError, open_sensor
from thermtool.formats.npz import write_recording
from thermtool.sensors import parse_spec
from thermtool.sensors.base import STOP_POLL_S
from thermtool.sensors.pacing import Pacer
from thermtool.sensors.scene import SKIN_C, Scene


class FakeClock:
    """A clock whose sleep advances time and records the sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_parse_spec() -> None:
    assert parse_spec("replay:frames/") == ("replay", "frames/")
    assert parse_spec("MLX90640:/dev/i2c-3") == ("mlx90640", "/dev/i2c-3")
    assert parse_spec("remote:ws://host:8000/ws") == ("remote", "ws://host:8000/ws")
    assert parse_spec("sim") == ("sim", None)
    with pytest.raises(InputError):
        parse_spec("  ")


def test_unknown_sensor_and_option() -> None:
    with pytest.raises(UnknownNameError, match=r"valid: .*sim"):
        open_sensor("flir-one")
    with pytest.raises(InputError, match="does not take --spi-hz"):
        open_sensor("sim", spi_hz=10_000_000)


def test_scene_has_warm_bodies_over_a_room() -> None:
    scene = Scene()
    image = scene.temperatures(3.0, (120, 160))
    assert image.shape == (120, 160)
    assert SKIN_C - 1.5 <= np.percentile(image, 99.9) <= 46
    assert 15 < np.median(image) < 25
    moved = scene.temperatures(8.0, (120, 160))
    assert np.abs(moved - image).max() > 5  # the bodies walk


def test_sim_is_reproducible_with_a_seed() -> None:
    a = [f.data for f in _take(open_sensor("sim", seed=3, realtime=False), 3)]
    b = [f.data for f in _take(open_sensor("sim", seed=3, realtime=False), 3)]
    c = [f.data for f in _take(open_sensor("sim", seed=4, realtime=False), 3)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_sim_noise_level() -> None:
    frames = _take(open_sensor("sim", seed=1, realtime=False, rate=32.0), 20)
    stack = np.stack([f.data for f in frames])
    # At 32 frames/s the scene barely moves in 0.6 s: the spread is the sensor noise.
    assert 0.08 < float(np.median(stack.std(axis=0))) < 0.25


def test_sim_lepton_shapes() -> None:
    assert _take(open_sensor("sim-lepton", realtime=False), 1)[0].shape == (120, 160)
    assert _take(open_sensor("sim-lepton:2", realtime=False), 1)[0].shape == (60, 80)
    with pytest.raises(InputError):
        open_sensor("sim-lepton:4")


def test_pacer_spaces_ticks_and_never_bursts() -> None:
    clock = FakeClock()
    pacer = Pacer(True, clock)

    def waited() -> float:
        start = clock.now
        pacer.wait(0.5)
        return clock.now - start

    assert waited() == 0
    assert waited() == pytest.approx(0.5)
    clock.now += 3.0  # the consumer was slow
    assert waited() == 0
    assert waited() == pytest.approx(0.5)  # no burst after a stall
    assert max(clock.sleeps) <= STOP_POLL_S  # slept in stop-aware slices


def _recording(tmp_path: Path, gaps: list[float]) -> Path:
    stamps = np.cumsum([1_700_000_000.0, *gaps])
    frames = [Frame(np.full((2, 3), float(i)), timestamp=float(t)) for i, t in enumerate(stamps)]
    return write_recording(frames, tmp_path / "rec.npz")


def test_replay_recorded_pace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _recording(tmp_path, [0.25, 0.5, 30.0])
    sensor = open_sensor(f"replay:{path}")
    clock = FakeClock()
    sensor._pacer = Pacer(True, clock)
    values = [f.data[0, 0] for f in sensor]
    assert values == [0, 1, 2, 3]
    assert sum(clock.sleeps) == pytest.approx(0.25 + 0.5 + 10.0)  # the 30 s gap capped at 10 s


def test_replay_fixed_rate_and_loop(tmp_path: Path) -> None:
    path = _recording(tmp_path, [5.0, 5.0])
    sensor = open_sensor(f"replay:{path}", rate=4.0, loop=True)
    clock = FakeClock()
    sensor._pacer = Pacer(True, clock)
    values = [sensor.read().data[0, 0] for _ in range(7)]
    assert values == [0, 1, 2, 0, 1, 2, 0]
    assert sum(clock.sleeps) == pytest.approx(6 * 0.25)
    assert sensor.info["passes"] == 2


def test_replay_end_of_stream_and_folder(tmp_path: Path) -> None:
    for i in range(3):
        Frame(np.full((2, 2), float(i))).save(tmp_path / f"{i}.npy")
    sensor = open_sensor(f"replay:{tmp_path}", realtime=False)
    with sensor:
        assert [sensor.read().data[0, 0] for _ in range(3)] == [0, 1, 2]
        with pytest.raises(EndOfStream):
            sensor.read()


def test_replay_bad_targets(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="needs a file"):
        open_sensor("replay")
    with pytest.raises(InputError, match="no such"):
        open_sensor(f"replay:{tmp_path / 'nope'}")
    with pytest.raises(InputError, match="rate"):
        open_sensor(f"replay:{tmp_path}", rate=0)


def _take(sensor: object, n: int) -> list[Frame]:
    with sensor:  # type: ignore[attr-defined]
        return [sensor.read() for _ in range(n)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["sim", "sim-lepton:2", "sim-mlx90641", "sim-amg88xx", "sim-uvc:purethermal"])
def test_a_seed_reproduces_the_frames_with_no_realtime(kind: str) -> None:
    """What `--seed` promises: on the virtual clock (`--no-realtime`) a seed gives the same frames every run."""
    def frames(seed: int) -> list[np.ndarray]:
        return [f.data for f in _take(open_sensor(kind, seed=seed, realtime=False), 2)]

    first, again, other = frames(5), frames(5), frames(6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])
