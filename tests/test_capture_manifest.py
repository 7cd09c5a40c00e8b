"""Capture folders: one data file per frame plus a JSON-lines manifest; the --sync policies; both layouts read."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from thermtool import Frame, load_frame, open_sensor
from thermtool.capture import make_sink, run_capture
from thermtool.cli import run
from thermtool.formats import load_frames
from thermtool.formats.manifest import MANIFEST_NAME, FrameStore, parse_manifest
from thermtool.formats.npy import write as write_npy


def _frames(n: int) -> list[Frame]:
    return [Frame(np.full((3, 4), 20.0 + i), "F", 1_700_000_000 + i * 0.5, "test", {"i": i, "x": np.float32(1.5)})
            for i in range(n)]


def _capture(folder: Path, frames: list[Frame], fmt: str = "npy", **options: object) -> None:
    sink = make_sink(folder, fmt, **options)  # type: ignore[arg-type]
    for frame in frames:
        sink.write(frame)
    sink.close()


@pytest.mark.parametrize("fmt", ["npy", "tiff", "png16", "csv"])
def test_one_file_per_frame_and_metadata_in_the_manifest(tmp_path: Path, fmt: str) -> None:
    frames = _frames(3)
    _capture(tmp_path, frames, fmt)
    suffix = ".png" if fmt == "png16" else f".{fmt}"
    assert sorted(p.suffix for p in tmp_path.iterdir()) == sorted([".jsonl"] + [suffix] * 3)
    lines = (tmp_path / MANIFEST_NAME).read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["meta"] == {"i": 0, "x": 1.5}
    loaded = list(load_frames(tmp_path))
    assert [f.units for f in loaded] == ["F"] * 3 and [f.sensor for f in loaded] == ["test"] * 3
    assert [f.timestamp for f in loaded] == [f.timestamp for f in frames]
    np.testing.assert_allclose(loaded[2].data, frames[2].data, atol=0.01)
    one = load_frame(sorted(tmp_path.glob("2*"))[1])  # a single file of the folder finds its line too
    assert one.meta["i"] == 1 and one.units == "F"
    with open_sensor(f"replay:{tmp_path}", rate=1000) as replay:
        assert [replay.read().units for _ in range(3)] == ["F"] * 3


def test_old_sidecar_folders_and_sidecar_mode_read_the_same(tmp_path: Path) -> None:
    frames = _frames(2)
    old = tmp_path / "old"
    old.mkdir()
    for i, frame in enumerate(frames):
        write_npy(frame, old / f"f{i}.npy")  # a sidecar per frame, as captures wrote before
    rotated = tmp_path / "rotated"
    rotated.mkdir()
    _capture(rotated, frames, sidecars=True)
    assert not (rotated / MANIFEST_NAME).exists() and len(list(rotated.glob("*.json"))) == 2
    for folder in (old, rotated):
        assert [(f.units, f.meta["i"]) for f in load_frames(folder)] == [("F", 0), ("F", 1)]


def test_a_torn_last_line_and_lines_of_missing_files_are_ignored(tmp_path: Path) -> None:
    _capture(tmp_path, _frames(2))
    with (tmp_path / MANIFEST_NAME).open("a") as handle:
        handle.write('{"file": "gone.npy", "units": "K"}\n{"file": "half')
    records = parse_manifest((tmp_path / MANIFEST_NAME).read_text())
    assert len(records) == 3
    assert len(list(load_frames(tmp_path))) == 2


def test_a_non_finite_meta_value_is_written_as_null(tmp_path: Path) -> None:
    _capture(tmp_path, [Frame(np.zeros((2, 2)), meta={"bad": float("nan"), 3: "int key"})])
    record = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert record["meta"] == {"bad": None, "3": "int key"}


class _Syncs:
    """Counts fsync/fdatasync/syncfs calls while a capture runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real_fsync, real_fdatasync = os.fsync, os.fdatasync

        def counted(real):  # type: ignore[no-untyped-def]
            def call(fd: int) -> None:
                self.calls += 1
                real(fd)
            return call

        monkeypatch.setattr(os, "fsync", counted(real_fsync))
        monkeypatch.setattr(os, "fdatasync", counted(real_fdatasync))
        import thermtool.fileio as fileio

        real_syncfs = fileio.sync_filesystem

        def syncfs(folder: Path) -> bool:
            self.calls += 1
            return real_syncfs(folder)

        monkeypatch.setattr("thermtool.formats.manifest.sync_filesystem", syncfs)


def test_sync_policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncs = _Syncs(monkeypatch)
    clock = [0.0]
    counts = {}
    for policy in ("frame", "interval", "never"):
        folder = tmp_path / policy
        folder.mkdir()
        syncs.calls, clock[0] = 0, 0.0
        store = FrameStore(folder, policy, clock=lambda: clock[0])
        for i, frame in enumerate(_frames(20)):
            clock[0] = i * 0.25  # 4 frames a second for 5 seconds
            write_npy(frame, folder / f"{i:03d}.npy", store=store)
        during = syncs.calls
        store.close()
        counts[policy] = (during, syncs.calls - during)
    assert counts["frame"][0] >= 20 * 3 and counts["frame"][1] >= 1  # file, manifest, folder per frame
    assert 4 <= counts["interval"][0] <= 4 * 3 and counts["interval"][1] >= 1  # once a second, and at exit
    assert counts["never"] == (0, 0)
    for policy in counts:
        assert len(list(load_frames(tmp_path / policy))) == 20


def test_a_failed_interval_sync_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def full(folder: Path) -> bool:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("thermtool.formats.manifest.sync_filesystem", full)
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path), "--count", "3", "--rate", "32"]) == 1
    assert capsys.readouterr().err.strip().endswith("no space left on device")
    assert len(list(load_frames(tmp_path))) == 3


def test_capture_cli_sync_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path / "a"), "--count", "3", "--rate", "32",
                "--sync", "never"]) == 0
    assert json.loads((tmp_path / "a" / "capture.json").read_text())["sync"] == "never"
    assert len((tmp_path / "a" / MANIFEST_NAME).read_text().splitlines()) == 3
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path / "p"), "--count", "2", "--rate", "32",
                "--format", "png"]) == 0  # pictures: the frame's metadata goes to the manifest too
    assert len((tmp_path / "p" / MANIFEST_NAME).read_text().splitlines()) == 2
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path / "b"), "--sync", "sometimes"]) == 2
    assert "sometimes" in capsys.readouterr().err


def test_run_capture_closes_the_store_and_can_resume(tmp_path: Path) -> None:
    sink = make_sink(tmp_path, "npy", sync="interval")
    run_capture(_ListSensor(_frames(2)), sink)
    run_capture(_ListSensor(_frames(2)[1:]), sink)
    assert len((tmp_path / MANIFEST_NAME).read_text().splitlines()) == 3


class _ListSensor:
    def __init__(self, frames: list[Frame]) -> None:
        self.frames = list(frames)

    def read(self) -> Frame:
        from thermtool import EndOfStream

        if not self.frames:
            raise EndOfStream("done")
        return self.frames.pop(0)


@pytest.mark.parametrize("shape", [(24, 32), (1, 1), (120, 160)])
def test_npy_bytes_equal_numpy_save(shape: tuple[int, int]) -> None:
    import io

    from thermtool.formats.npy import encode

    data = np.random.default_rng(0).normal(size=shape)
    expected = io.BytesIO()
    np.save(expected, data.astype(np.float32))
    assert encode(data) == expected.getvalue() and encode(data.T.copy().T) == expected.getvalue()
