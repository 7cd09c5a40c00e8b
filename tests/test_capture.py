"""The capture loop: names, sinks, throttling, end of stream, stop requests."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from thermtool import EndOfStream, Frame, InputError
from thermtool.capture import FileSink, RecordingSink, frame_name, make_sink, run_capture, start_folder
from thermtool.formats import load_frames
from thermtool.sensors.base import Sensor


class ListSensor(Sensor):
    """Frames from a list, one per `period` seconds of a fake clock."""

    kind = "list"

    def __init__(self, frames: list[Frame], clock: list[float], period: float) -> None:
        super().__init__()
        self.frames, self.clock, self.period = list(frames), clock, period

    def _read(self, timeout: float | None) -> Frame:
        if not self.frames:
            raise EndOfStream("done")
        self.clock[0] += self.period
        return self.frames.pop(0)


def _frames(n: int) -> list[Frame]:
    return [Frame(np.full((2, 2), float(i)), timestamp=1_700_000_000 + i * 0.125) for i in range(n)]


def test_frame_names_sort_by_time_and_sequence() -> None:
    t = datetime(2026, 11, 22, 0, 31, 7, 123456, tzinfo=timezone.utc)
    assert frame_name(t, 1, ".npy") == "20261122T003107.123456Z-000001.npy"
    assert frame_name(t, 2, ".npy") > frame_name(t, 1, ".npy")


def test_throttle_keeps_the_requested_rate() -> None:
    clock = [0.0]
    sensor = ListSensor(_frames(32), clock, 0.125)  # an 8 frames/s sensor
    kept: list[Frame] = []

    class Collect:
        def write(self, frame: Frame) -> list[Path]:
            kept.append(frame)
            return []

        def close(self) -> list[Path]:
            return []

    stats = run_capture(sensor, Collect(), rate=2.0, clock=lambda: clock[0])
    assert stats.frames == len(kept) == 8  # 4 s of frames at 2/s
    assert stats.skipped == 24
    gaps = np.diff([f.timestamp.timestamp() for f in kept])
    assert np.allclose(gaps, 0.5)


def test_count_stop_request_and_end_of_stream(tmp_path: Path) -> None:
    clock = [0.0]
    sink = make_sink(tmp_path, "npy")
    assert isinstance(sink, FileSink)
    assert run_capture(ListSensor(_frames(10), clock, 0.1), sink, count=3).frames == 3
    calls = iter([False, False, True])
    assert run_capture(ListSensor(_frames(10), clock, 0.1), sink, should_stop=lambda: next(calls)).frames == 2
    assert run_capture(ListSensor(_frames(4), clock, 0.1), sink).frames == 4
    assert len(list(tmp_path.glob("*.npy"))) == 9


def test_recording_sink_chunks_and_flushes_on_close(tmp_path: Path) -> None:
    sink = make_sink(tmp_path, "npz", chunk=4)
    assert isinstance(sink, RecordingSink)
    stats = run_capture(ListSensor(_frames(10), [0.0], 0.1), sink)
    assert stats.files == 3
    assert [f.data[0, 0] for f in load_frames(tmp_path)] == list(range(10))


def test_recording_sink_splits_on_shape_change(tmp_path: Path) -> None:
    sink = RecordingSink(tmp_path, chunk=10)
    sink.write(Frame(np.zeros((2, 2))))
    assert len(sink.write(Frame(np.zeros((3, 3))))) == 1
    assert len(sink.close()) == 1


def test_start_folder_refuses_a_file_and_a_second_capture(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="not a folder"):
        start_folder(tmp_path / "file", {})
    start_folder(tmp_path / "cap", {"x": 1})
    with pytest.raises(InputError, match="already holds"):
        start_folder(tmp_path / "cap", {})
