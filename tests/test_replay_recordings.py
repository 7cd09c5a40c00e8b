"""Real data in: replaying plain .npy stacks and one-frame-per-line recordings with --fps and --shape,
bounded CSV reading, and implausible frames skipped by watch."""

from __future__ import annotations

import itertools
import json
import os
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from thermtool.cli import run
from thermtool.errors import InputError
from thermtool.formats import csv as csv_format
from thermtool.formats import load_frame
from thermtool.frame import Frame
from thermtool.sensors.replay import ReplaySensor, parse_shape
from thermtool.watch import Watcher

CLIP = "realdata/peoplecounter_mlx90640/vertical__One_person_running_25c_09_54_05"


def _walk(count: int, shape: tuple[int, int] = (24, 32), seed: int = 2) -> np.ndarray:
    """A room at 21 C with a warm body crossing it from frame 12 to 30."""
    frames = 21.0 + np.random.default_rng(seed).normal(0.0, 0.2, (count, *shape)).astype(np.float32)
    for index in range(12, min(count, 31)):
        column = (index - 12) * (shape[1] - 4) // 18
        frames[index, shape[0] // 3:shape[0] // 3 + 6, column:column + 4] += 8.0
    return frames


def _events(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_flat_npy_stack_replays_as_frames_at_fps_without_pacing(tmp_path: Path) -> None:
    path = tmp_path / "flat.npy"
    np.save(path, _walk(20).reshape(20, -1))  # 20 x 768: the MLX90640 logger layout
    with ReplaySensor(str(path), fps=4.0) as sensor:
        frames = list(sensor)
        assert sensor._pacer.realtime is False  # as fast as it is read
    assert len(frames) == 20 and {f.shape for f in frames} == {(24, 32)}
    steps = {b.timestamp - a.timestamp for a, b in itertools.pairwise(frames)}
    assert steps == {timedelta(seconds=0.25)}
    assert ReplaySensor(str(path), fps=4.0, realtime=True)._pacer.realtime is True
    assert ReplaySensor(str(path))._pacer.realtime is True  # recorded pace stays the default without --fps


def test_csv_one_frame_per_line_with_known_and_given_shapes(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    flat = _walk(6, (12, 16)).reshape(6, -1)
    path.write_text("".join(",".join(f"{v:.2f}" for v in row) + "\n" for row in flat))
    frames = list(ReplaySensor(str(path), fps=2.0))
    assert [f.shape for f in frames] == [(12, 16)] * 6  # 192 values a row: an MLX90641
    assert np.allclose(frames[3].data, flat[3].reshape(12, 16), atol=0.01)
    assert [f.shape for f in ReplaySensor(str(path), shape="24x8")] == [(8, 24)] * 6
    with pytest.raises(InputError, match="--shape 32x24 needs rows of 768 values"):
        list(ReplaySensor(str(path), shape="32x24"))
    for bad in ("24", "0x32", "ax b", "24x32x2"):
        with pytest.raises(InputError, match="--shape"):
            parse_shape(bad)
    assert parse_shape(" 32X24 ") == (24, 32)


def test_watch_on_a_csv_recording_carries_the_recordings_times(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "walk.csv"
    path.write_text("".join(",".join(f"{v:.2f}" for v in row) + "\n" for row in _walk(40).reshape(40, -1)))
    assert run(["watch", "--sensor", f"replay:{path}", "--fps", "8", "--json"]) == 0
    events = _events(capsys.readouterr().out)
    start, end = events[0], events[-1]
    assert start["event"] == "start" and 12 <= start["frame"] <= 13 and start["t"] == start["frame"] / 8
    assert end["event"] == "end" and end["occupied"] is False and start["occupied"] is True
    stamps = [np.datetime64(e["time"][:26]) for e in (start, end)]
    assert (stamps[1] - stamps[0]) / np.timedelta64(1, "ms") == pytest.approx((end["t"] - start["t"]) * 1000)


def test_implausible_frames_are_counted_and_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = _walk(40)
    frames[:3] = -300.0  # garbage at the start of a recording: below absolute zero
    frames[20] = np.nan  # a NaN-flooded read
    frames[25, :, :9] = 900.0  # over a quarter of a frame far out of range
    frames[26, 0, 0] = 900.0  # one bad pixel: the frame is kept, the pixel treated as missing
    path = tmp_path / "garbage.npy"
    np.save(path, frames)
    assert run(["watch", "--sensor", f"replay:{path}", "--fps", "8", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "frame 0 is implausible" in err and "5 implausible frame(s) skipped" in err
    starts = [e for e in _events(out) if e["event"] == "start"]
    assert len(starts) == 1 and 12 <= starts[0]["frame"] + 3 <= 13  # not poisoned; frame counts frames watched
    watcher = Watcher()
    assert watcher.feed(Frame(np.full((24, 32), np.nan), "C")) == [] and watcher.skipped == 1


def test_csv_reading_is_bounded_and_fails_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.csv"
    path.write_text("1,2,3,4\n5,6,7,8\n9,10,11,12\n")
    assert load_frame(path).shape == (3, 4)
    cases = [("MAX_BYTES", 20, "MiB a CSV"), ("MAX_LINE_BYTES", 6, "big.csv:1: line longer"),
             ("MAX_ROW_VALUES", 3, "big.csv:1: more than 3 values"), ("MAX_VALUES", 10, "more than 10 values")]
    for name, value, message in cases:
        with monkeypatch.context() as patch:
            patch.setattr(csv_format, name, value)
            with pytest.raises(InputError, match=message):
                load_frame(path)
    one_line = tmp_path / "oneline.csv"
    one_line.write_bytes(b"1," * (csv_format.MAX_LINE_BYTES // 2 + 1))  # a 1 MiB line without a newline
    assert run(["watch", "--sensor", f"replay:{one_line}", "--fps", "8"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("thermtool: error:")]
    assert len(errors) == 1 and "line longer" in errors[0]


def test_watch_replays_a_real_clip_from_a_flat_csv(reference: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    clip = reference / f"{CLIP}.npy"
    if not clip.exists():
        pytest.skip(f"{CLIP}.npy is not in the reference data")
    frames = np.load(clip)
    path = tmp_path / "clip.csv"
    np.savetxt(path, frames.reshape(len(frames), -1), delimiter=",", fmt="%.2f")  # the N x 768 logger layout
    assert os.path.getsize(path) < 1 << 20
    assert run(["watch", "--sensor", f"replay:{path}", "--fps", "8", "--json"]) == 0
    labels = json.loads((reference / f"{CLIP}.labels.json").read_text())["num_people"]
    starts = [e["frame"] for e in _events(capsys.readouterr().out) if e["event"] == "start"]
    entries = [i for i in range(1, len(labels)) if labels[i] and not labels[i - 1]]
    assert len(starts) == len(entries) == 2
    assert all(abs(s - e) <= 1 for s, e in zip(starts, entries, strict=True))  # the labels lag a frame at times


def test_mlx90640_gives_nan_only_far_below_its_range(reference: Path) -> None:
    """The documented NaN case: a pixel whose formula has no real answer, on a real frame (kedziorno)."""
    from thermtool.sensors.mlx90640 import calibration

    folder = reference / "realdata/kedziorno_mlx90640_raw"
    if not (folder / "frame_00A8.npy").exists():
        pytest.skip("kedziorno_mlx90640_raw is not in the reference data")
    cal = calibration.extract_parameters(np.load(folder / "eeprom_00A8.npy"))
    frame = np.load(folder / "frame_00A8.npy")
    melexis = np.load(folder / "mcu_to_00A8.npy")
    usual = calibration.calculate_to(frame, cal, emissivity=0.95, out=np.full((24, 32), 99.0))
    assert np.argwhere(np.isnan(usual)).tolist() == [[23, 0]] and np.isnan(melexis[23, 0])
    assert np.nanmin(usual) < -90.0  # its neighbours read far below the -40 C the sensor is specified for
    low = calibration.calculate_to(frame, cal, emissivity=0.5, out=np.full((24, 32), 99.0))
    assert np.isnan(low).sum() == 26 and np.all(np.nan_to_num(usual[np.isnan(low)], nan=-273.0) < -27.0)
